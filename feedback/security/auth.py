"""The one authentication backend every login goes through: portal, /admin/login/, API session login.

Issue 15 found the demo ``admin`` / ``zhitongche-demo`` refused on the portal's login form but accepted on
/admin/login/: the check lived in one form. Here it lives in the backend, so no login path can skip it.
The same backend slows password spraying: failures are counted per client IP across usernames, from
django-axes' own rows in the database (so the throttle works with Redis down).
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet, Sum
from django.http import HttpRequest
from django.utils import timezone

from feedback.compiled import CompiledQuery
from feedback.passwords import DEMO_PASSWORD

log = logging.getLogger("zhitongche.security")

# Failures from one IP, all usernames together, within the axes cool-off window. Higher than the per-
# account limit (5) because a county office reaches the portal through one NAT address: 30 honest typos
# in 15 minutes from a whole office is unlikely; 53 guesses over 23 accounts (the probe) is not honest.
DEFAULT_IP_FAILURE_LIMIT = 30


def is_demo_password_refused(password: str | None) -> bool:
    return password == DEMO_PASSWORD and not settings.DEBUG


def ip_failure_limit() -> int:
    return int(getattr(settings, "LOGIN_IP_FAILURE_LIMIT", DEFAULT_IP_FAILURE_LIMIT))


def failures_from_ip(ip: str) -> int:
    from axes.models import AccessAttempt

    window = datetime.timedelta(hours=float(getattr(settings, "AXES_COOLOFF_TIME", 0.25) or 0.25))
    total = AccessAttempt.objects.filter(ip_address=ip, attempt_time__gte=timezone.now() - window).aggregate(
        total=Sum("failures_since_start")
    )["total"]
    return int(total or 0)


class PortalBackend(ModelBackend):
    """ModelBackend, plus: the demo password never opens an account when DEBUG is off, and an IP that
    has failed too often recently is refused whatever the username (answered by axes with 429)."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        if is_demo_password_refused(password):
            log.warning("demo password refused for %r", username)
            from feedback.security.events import record_event

            record_event("login_demo_password_refused", request=request, detail={"username": str(username)[:150]})
            return None
        if request is not None and getattr(settings, "AXES_ENABLED", True):
            ip = getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR", "")
            if ip and failures_from_ip(ip) >= ip_failure_limit():
                log.warning("login refused: %s failures from %s", ip_failure_limit(), ip)
                # axes' middleware answers a request marked like this with its lockout page (429), and
                # its failure handler does not count the attempt (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_
                # LOCKOUT = False): a throttled IP cannot prolong its own throttle.
                request.axes_locked_out = True  # type: ignore[attr-defined]
                request.axes_credentials = {"username": username}  # type: ignore[attr-defined]
                raise PermissionDenied("too many failures from this address")
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_user(self, user_id: Any) -> Any:
        """The session's user with its membership, department and role groups in the same query (every
        page asks ``access.scope_of`` for them: three statements), and the bell's unread count (the
        ``portal`` context processor's statement on every page)."""
        try:
            user = SESSION_USER.first(pk=int(user_id))
        except (TypeError, ValueError):
            return None
        return user if user is not None and self.user_can_authenticate(user) else None


def _session_user(pk: int) -> QuerySet[Any]:
    from feedback.access import role_group_flags
    from feedback.context_processors import unread_annotation

    return (
        get_user_model()
        ._default_manager.select_related("membership__department")
        .annotate(**role_group_flags(), **unread_annotation())
        .filter(pk=pk)
    )


# Built and compiled once per process (feedback.compiled): building the three subqueries' expressions and
# compiling the statement cost ~0.6 ms of CPU on every request (bench/README.md, "Stop 28" and "Stop 30").
# Every request still reads the user, its groups and its count afresh.
SESSION_USER = CompiledQuery(_session_user, pk=int)
