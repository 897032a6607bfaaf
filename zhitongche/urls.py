from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path

from . import metrics, tokens


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin, the API docs)."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


urlpatterns = [
    path("favicon.ico", favicon),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("account/tokens/", tokens.token_page, name="api_tokens"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("zhitongche.api_router")),
    path("net/", include("channels_net.urls")),
    path("public/", include("channels_net.public_urls")),
    path("enterprise/", include("channels_enterprise.urls")),
    path("citizen/", include("channels_citizen.urls")),
    path("", include("feedback.urls")),
]

# The 500 page names the request id (zhitongche.requestid) without touching the database.
handler500 = "zhitongche.errorpages.server_error"
