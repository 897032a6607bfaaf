from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("zhitongche.api_router")),
    path("net/", include("channels_net.urls")),
    path("enterprise/", include("channels_enterprise.urls")),
    path("citizen/", include("channels_citizen.urls")),
    path("", include("feedback.urls")),
]
