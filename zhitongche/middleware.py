"""Request-level protections (issue 15, parts 7 and 8). The request id is ``zhitongche.requestid``'s.

- ``BadParameterMiddleware``: a NUL byte or an oversized value in the query string answers 400 before any
  view runs. PostgreSQL refuses NUL in text (``ValueError`` deep in psycopg → 500 before this), and no list
  of the portal needs a parameter longer than a search box. Form bodies are left to the forms and
  serializers, whose CharFields already refuse NUL (ProhibitNullCharactersValidator).
- ``SessionTimeoutMiddleware``: idle timeout (30 min) and absolute lifetime (12 h) of a login session.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

from feedback.security.signals import IDLE_KEY, LOGIN_KEY

from .errors import error_response

# Longest query-string value any list takes (a search box is 100 characters at most, a date 10).
MAX_PARAM_CHARS = 1000
MAX_PARAMS = 100


def _bad_query(request: HttpRequest) -> bool:
    raw = request.META.get("QUERY_STRING", "")
    if not raw:
        return False
    try:
        query = request.GET
    except Exception:  # too many fields (TooManyFieldsSent) or undecodable
        return True
    if len(query) > MAX_PARAMS:
        return True
    return any(
        len(key) > MAX_PARAM_CHARS or "\x00" in key or any(len(v) > MAX_PARAM_CHARS or "\x00" in v for v in values)
        for key, values in query.lists()
    )


class BadParameterMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or _bad_query(request):
            return error_response(request, 400)
        return self.get_response(request)


# The session is written at most once a minute to move the idle clock, not on every request.
TOUCH_SECONDS = 60


class SessionTimeoutMiddleware:
    """After AuthenticationMiddleware. A session idle for SESSION_IDLE_SECONDS, or older than
    SESSION_ABSOLUTE_SECONDS since login, is ended; the next page asks for the password again."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            idle = int(getattr(settings, "SESSION_IDLE_SECONDS", 1800))
            absolute = int(getattr(settings, "SESSION_ABSOLUTE_SECONDS", 12 * 3600))
            # Both keys are written at login (feedback.security.signals), so an ordinary request within a
            # minute of the last one reads the session and writes nothing.
            seen = request.session.get(IDLE_KEY)
            login_at = request.session.get(LOGIN_KEY)
            if login_at is None:  # a session from before this middleware existed
                request.session[LOGIN_KEY] = login_at = now
            if (seen is not None and now - seen > idle) or now - login_at > absolute:
                logout(request)
                if request.path.startswith("/api/"):
                    return error_response(request, 403)
                return redirect_to_login(request.get_full_path())
            if seen is None or now - seen > TOUCH_SECONDS:
                request.session[IDLE_KEY] = now
        return self.get_response(request)
