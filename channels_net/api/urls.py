"""Routes of the net channel's API, included under /api/v1/net/ by zhitongche/api_router.py."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from . import views

app_name = "net_api"

router = SimpleRouter()
router.register("forums", views.ForumViewSet, basename="forum")
router.register("submissions", views.SubmissionViewSet, basename="submission")

urlpatterns = router.urls
