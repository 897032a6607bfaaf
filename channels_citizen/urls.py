from __future__ import annotations

from django.urls import path

from . import views

app_name = "channels_citizen"
urlpatterns = [
    path("", views.home, name="home"),
    path("weeks/<int:pk>/", views.week_detail, name="week_detail"),
    path("weeks/<int:pk>/confirm/", views.week_confirm, name="week_confirm"),
]
