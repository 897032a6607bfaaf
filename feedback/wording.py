"""How the portal's sentences are put together from parts (a template and what a user typed)."""

from __future__ import annotations

import re

# A reason typed as "太远了。" placed before the notice's own "。" or "；" gave "太远了。。" and "太远了。；".
# Of a run of sentence marks the last one is the notice's own: the ones before it go.
_DOUBLED = re.compile(r"[。；，,;.!！?？]+(?=[。；，])")


def tidy(text: str) -> str:
    """One punctuation mark where parts of a sentence met: 。。 → 。, 。； → ；."""
    return _DOUBLED.sub("", text)


# Where a title taken from the content may end: after a sentence, else after a clause.
_SENTENCE_END = "。！？；!?;"
_CLAUSE_END = "，、：,:"
_WORD = re.compile(r"[0-9A-Za-z]")


def title_from(content: str, limit: int) -> str:
    """A title for an issue registered without one (issue 13 §3): the content's start, never cut in
    the middle of a word. Within ``limit`` characters it ends at the last sentence mark (。！？；),
    else at the last clause mark (，、：) past a third of the limit, the mark itself left out;
    otherwise it is cut and ends with "…" — before a Latin word or a number that would be split."""
    text = " ".join(content.split())
    if len(text) <= limit:
        return text.rstrip(_SENTENCE_END + _CLAUSE_END) or text
    window = text[:limit]
    for marks in (_SENTENCE_END, _CLAUSE_END):
        end = max(window.rfind(mark) for mark in marks)
        if end >= max(limit // 3, 1):
            return window[:end]
    cut = limit - 1  # room for "…"
    if _WORD.match(text[cut - 1]) and _WORD.match(text[cut]):
        start = cut
        while start > 0 and _WORD.match(text[start - 1]):
            start -= 1
        if start > 0:
            cut = start
    return text[:cut].rstrip() + "…"
