"""``{% pii_masked as masked %}``: whether this user's pages have personal numbers masked (issue 15)."""

from __future__ import annotations

from typing import Any

from django import template

from feedback.security.masking import needs_masking

register = template.Library()


@register.simple_tag(takes_context=True)
def pii_masked(context: dict[str, Any]) -> bool:
    request = context.get("request")
    return request is not None and needs_masking(getattr(request, "user", None))
