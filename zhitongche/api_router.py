from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

# Swagger UI under the portal's strict CSP (settings.CSP_*): the split view serves the start-up
# script as a separate JavaScript response (?script) instead of an inline <script>, and the page's
# one inline <style> carries the request's nonce (settings.CSP_INCLUDE_NONCE_IN).
# There is no Redoc page: Redoc 2.x always tries to show a logo from cdn.redoc.ly (refused by
# img-src, or a request to the internet if allowed), injects its CSS as inline <style> before a
# nonce can reach it (style-src 'unsafe-inline'), and needs worker-src blob: for its search.
swagger = SpectacularSwaggerSplitView.as_view(
    url_name="api-schema", template_name="drf_spectacular/api_docs_swagger.html"
)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", swagger, name="api-docs"),
    # Every channel's API is mounted here, beside the core's: the core never names a channel.
    path("net/", include("channels_net.api.urls")),
    path("enterprise/", include("channels_enterprise.api.urls")),
    path("citizen/", include("channels_citizen.api.urls")),
    path("", include("feedback.api.urls")),
]
