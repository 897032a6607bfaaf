"""Routes of the core's API, included under /api/v1/ by zhitongche/api_router.py."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

app_name = "api"

router = SimpleRouter()
router.register("assignments", views.AssignmentViewSet, basename="assignment")
router.register("replies", views.ReplyViewSet, basename="reply")
router.register("extensions", views.ExtensionViewSet, basename="extension")
router.register("issues", views.IssueViewSet, basename="issue")
router.register("departments", views.DepartmentViewSet, basename="department")
router.register("categories", views.CategoryViewSet, basename="category")

urlpatterns = [
    path("deadlines/preview/", views.DeadlinePreviewView.as_view(), name="deadline-preview"),
    *router.urls,
]
