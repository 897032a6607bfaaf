"""One id per request: in every log line, on the response (``X-Request-ID``) and on error pages.

nginx generates ``$request_id`` and passes it as ``X-Request-ID`` (deploy/nginx/zhitongche.conf), so
the nginx access log, the gunicorn access log and the portal's own log lines of one request carry
the same id; a clerk who reads it off an error page lets the operator find the request at once.
Without a proxy the portal makes its own. An incoming id is kept only from a trusted proxy
(``TRUSTED_PROXIES``, as for the client's address: a client reaching gunicorn directly could
otherwise point an investigation at someone else's lines) and only if it looks like one (no
arbitrary text in the logs).
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_current: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def current() -> str:
    """The id of the request being served in this thread, ``-`` outside a request."""
    return _current.get()


def new_id(incoming: str | None) -> str:
    if incoming and _VALID.match(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from_proxy = request.META.get("REMOTE_ADDR") in settings.TRUSTED_PROXIES
        request_id = new_id(request.META.get("HTTP_X_REQUEST_ID") if from_proxy else None)
        request.request_id = request_id  # type: ignore[attr-defined]
        token = _current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` to every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current()
        return True


def context(request: HttpRequest) -> dict[str, str]:
    """Template context: ``request_id`` for the error pages and the footer."""
    return {"request_id": getattr(request, "request_id", current())}
