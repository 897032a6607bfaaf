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


def test_a_title_taken_from_the_content_ends_at_the_last_sentence_mark_within_the_limit() -> None:
    from feedback.wording import title_from

    content = "学校门口车流量大。建议修建人行天桥，方便学生上下学，并安排交警值守。"
    assert title_from(content, 20) == "学校门口车流量大"
    # No sentence end within the limit: the last clause mark past a third of it.
    assert (
        title_from("建议在老街修建公共厕所，方便赶集的群众，另外请清理垃圾", 20)
        == "建议在老街修建公共厕所，方便赶集的群众"
    )


def test_a_title_without_a_mark_to_end_at_is_cut_and_ends_with_an_ellipsis() -> None:
    from feedback.wording import title_from

    title = title_from("希望县里尽快解决江口镇到县城的公交车班次太少的问题", 12)
    assert title == "希望县里尽快解决江口镇…" and len(title) == 12
    # A mark too early (before a third of the limit) is not used: the title would say nothing.
    assert title_from("你好，希望县里尽快解决江口镇到县城的公交车班次太少的问题", 12) == "你好，希望县里尽快解决…"


def test_a_title_is_never_cut_inside_a_latin_word_or_a_number() -> None:
    from feedback.wording import title_from

    assert title_from("申请开通 G207 国道公交线路并增加班次", 8) == "申请开通…"
    assert title_from("申请开通G207国道公交线路并增加班次", 7) == "申请开通…"
    assert title_from("请处理 12345 热线转来的问题", 9) == "请处理…"


def test_a_short_content_is_its_own_title_without_a_trailing_mark() -> None:
    from feedback.wording import title_from

    assert title_from("路灯不亮。", 30) == "路灯不亮"
    assert title_from("  路灯\n不亮  ", 30) == "路灯 不亮"
    assert title_from("。", 30) == "。"
