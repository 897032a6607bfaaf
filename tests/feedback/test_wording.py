"""Notices put together from a template and what a user typed carry one punctuation mark, not two."""

from __future__ import annotations

from feedback.wording import tidy


def test_a_reason_ending_in_a_full_stop_does_not_double_the_notices_own() -> None:
    assert tidy("书面回复被退回，理由：未盖章。。请重新办理。") == "书面回复被退回，理由：未盖章。请重新办理。"
    assert tidy("异议：不属于本单位职责。；建议改派：县交通局。") == "异议：不属于本单位职责；建议改派：县交通局。"
    assert tidy("理由：太远了.。") == "理由：太远了。"


def test_sentences_that_are_right_are_left_alone() -> None:
    for text in ("办理期限 2026年11月13日。", "共 1,000 件；其中超期 3 件。", "是否为 县教育局？", "等等……"):
        assert tidy(text) == text
