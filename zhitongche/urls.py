from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin, the API docs)."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


urlpatterns = [
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("api/v1/", include("zhitongche.api_router")),
    path("net/", include("channels_net.urls")),
    path("public/", include("channels_net.public_urls")),
    path("public/captcha/", include("captcha.urls")),  # the portal serves its own captcha images
    path("enterprise/", include("channels_enterprise.urls")),
    path("citizen/", include("channels_citizen.urls")),
    path("", include("feedback.urls")),
]

# Chinese error pages with the request id, never Django's (issue 15).
handler400 = "zhitongche.errors.bad_request"
handler403 = "zhitongche.errors.permission_denied"
handler404 = "zhitongche.errors.page_not_found"
handler500 = "zhitongche.errors.server_error"
