"""How the portal's sentences are put together from parts (a template and what a user typed)."""

from __future__ import annotations

import re

# A reason typed as "太远了。" placed before the notice's own "。" or "；" gave "太远了。。" and "太远了。；".
# Of a run of sentence marks the last one is the notice's own: the ones before it go.
_DOUBLED = re.compile(r"[。；，,;.!！?？]+(?=[。；，])")


def tidy(text: str) -> str:
    """One punctuation mark where parts of a sentence met: 。。 → 。, 。； → ；."""
    return _DOUBLED.sub("", text)
