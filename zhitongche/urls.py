from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("zhitongche.api_router")),
    path("net/", include("channels_net.urls")),
    path("public/", include("channels_net.public_urls")),
    path("enterprise/", include("channels_enterprise.urls")),
    path("citizen/", include("channels_citizen.urls")),
    path("", include("feedback.urls")),
]
