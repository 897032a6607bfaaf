from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest

from feedback.access import scope_of
from feedback.calendar_notice import warning_for
from feedback.models import Notification

# The session's user is read with the bell's count (feedback.security.auth.PortalBackend.get_user): one
# statement fewer on every page. A GET writes nothing, so the count read at its start is the count when
# the page is drawn; a page drawn after a write (a POST's form errors) counts again.
UNREAD = "zt_unread_notifications"


def unread_annotation() -> dict[str, Coalesce]:
    """An annotation for a User queryset: the user's unread notifications."""
    unread = (
        Notification.objects.filter(recipient=OuterRef("pk"), read_at__isnull=True)
        .order_by()
        .values("recipient")
        .annotate(n=Count("*"))
        .values("n")
    )
    return {UNREAD: Coalesce(Subquery(unread, output_field=IntegerField()), Value(0))}


def unread_count(request: HttpRequest, user: Any) -> int:
    if request.method in ("GET", "HEAD") and hasattr(user, UNREAD):
        return int(getattr(user, UNREAD))
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def portal(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    unread = unread_count(request, user)
    return {
        "scope": scope_of(user),
        "unread_notifications": unread,
        # Administrators only (no query for anyone else): next year's holidays not loaded yet.
        "calendar_warning": warning_for(user),
    }
