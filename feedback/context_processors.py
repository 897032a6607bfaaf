from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from feedback.access import scope_of
from feedback.calendar_notice import warning_for
from feedback.models import Notification


def portal(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True).count()
    return {
        "scope": scope_of(user),
        "unread_notifications": unread,
        # Administrators only (no query for anyone else): next year's holidays not loaded yet.
        "calendar_warning": warning_for(user),
    }
