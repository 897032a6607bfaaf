from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .access import scope_of


def portal(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"scope": scope_of(user)}
