"""Routes of the 政民 channel's API, included under /api/v1/citizen/."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

app_name = "citizen_api"

router = SimpleRouter()
router.register("weeks", views.WeekViewSet, basename="week")
router.register("visits", views.VisitViewSet, basename="visit")
router.register("villages", views.VillageViewSet, basename="village")

urlpatterns = [
    path("visit-sync/", views.VisitSyncView.as_view(), name="visit-sync"),
    path("offline-pack/", views.OfflinePackView.as_view(), name="offline-pack"),
    *router.urls,
]
