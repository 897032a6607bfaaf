"""Routes of the core's API, included under /api/v1/ by zhitongche/api_router.py."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from feedback.api import similar, stats, views

app_name = "api"

router = SimpleRouter()
router.register("assignments", views.AssignmentViewSet, basename="assignment")
router.register("replies", views.ReplyViewSet, basename="reply")
router.register("extensions", views.ExtensionViewSet, basename="extension")
router.register("objections", views.ObjectionViewSet, basename="objection")
router.register("issues", views.IssueViewSet, basename="issue")
router.register("departments", views.DepartmentViewSet, basename="department")
router.register("categories", views.CategoryViewSet, basename="category")

urlpatterns = [
    path("deadlines/preview/", views.DeadlinePreviewView.as_view(), name="deadline-preview"),
    path("stats/summary/", stats.SummaryView.as_view(), name="stats-summary"),
    path("stats/departments/", stats.DepartmentStatsView.as_view(), name="stats-departments"),
    path("stats/categories/", stats.CategoryStatsView.as_view(), name="stats-categories"),
    path("stats/townships/", stats.TownshipStatsView.as_view(), name="stats-townships"),
    path("stats/months/", stats.MonthStatsView.as_view(), name="stats-months"),
    # The records behind each figure (``lists`` of the stats answers); before the routers' issues/<pk>/.
    path("issues/figures/<str:figure>/", stats.IssueFigureList.as_view(), name="issue-figures"),
    path("issues/similar/", similar.SimilarIssuesView.as_view(), name="issue-similar"),
    path("issues/similar/batch/", similar.SimilarRowsView.as_view(), name="issue-similar-batch"),
    path("assignments/figures/<str:figure>/", stats.AssignmentFigureList.as_view(), name="assignment-figures"),
    *router.urls,
]
