from __future__ import annotations

from django.urls import path

from . import views

app_name = "channels_net"
urlpatterns = [
    path("", views.home, name="home"),
    path("submissions/", views.submission_list, name="submission_list"),
    path("submissions/<int:pk>/<str:action>/", views.submission_decide, name="submission_decide"),
]
