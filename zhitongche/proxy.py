"""The client's address behind a trusted reverse proxy.

The portal reads ``REMOTE_ADDR`` only (the public portal's rate limit, django-axes), because
``X-Forwarded-For`` is whatever the client wrote. Behind nginx, ``REMOTE_ADDR`` is nginx itself, so
every citizen would share one rate-limit bucket. nginx sets ``X-Real-IP $remote_addr``
(deploy/nginx/zhitongche.conf); this middleware believes it only when the request comes from an
address listed in ``TRUSTED_PROXIES``, so a client reaching gunicorn directly cannot forge it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def _valid_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


class TrustedProxyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.trusted = frozenset(settings.TRUSTED_PROXIES)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.trusted and request.META.get("REMOTE_ADDR") in self.trusted:
            real = request.META.get("HTTP_X_REAL_IP", "").strip()
            if _valid_ip(real):
                request.META["REMOTE_ADDR"] = real
        return self.get_response(request)
