from __future__ import annotations

from django.urls import path

from . import views

app_name = "channels_citizen"
urlpatterns = [
    path("", views.home, name="home"),
]
