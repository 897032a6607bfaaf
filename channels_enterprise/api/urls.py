"""Routes of the enterprise channel's API, under /api/v1/enterprise/."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from . import views

app_name = "enterprise_api"

router = SimpleRouter()
router.register("enterprises", views.EnterpriseViewSet, basename="enterprise")
router.register("days", views.EnterpriseDayViewSet, basename="enterprise-day")
router.register("problems", views.ProblemViewSet, basename="enterprise-problem")

urlpatterns = router.urls
