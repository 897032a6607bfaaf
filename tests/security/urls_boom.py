"""The portal's URLs plus one view that fails, for the 500 page test."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from zhitongche.urls import handler400, handler403, handler404, handler500  # noqa: F401
from zhitongche.urls import urlpatterns as portal


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret-settings-text SECRET_KEY leaked?")


urlpatterns = [path("boom/", boom), path("api/v1/boom/", boom), *portal]
