"""``{{ text|tidy }}``: one punctuation mark where parts of a sentence met (feedback.wording)."""

from __future__ import annotations

from django import template

from feedback.wording import tidy as tidy_text

register = template.Library()


@register.filter
def tidy(text: object) -> str:
    return tidy_text(str(text or ""))
