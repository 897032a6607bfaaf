from __future__ import annotations

from django.urls import path

from . import views

app_name = "channels_net"
urlpatterns = [
    path("", views.home, name="home"),
    path("forums/new/", views.forum_edit, name="forum_create"),
    path("forums/<int:pk>/", views.forum_detail, name="forum_detail"),
    path("forums/<int:pk>/edit/", views.forum_edit, name="forum_edit"),
    path("forums/<int:pk>/intake/", views.forum_intake, name="forum_intake"),
    path("submissions/", views.submission_list, name="submission_list"),
    path("submissions/<int:pk>/<str:action>/", views.submission_decide, name="submission_decide"),
]
