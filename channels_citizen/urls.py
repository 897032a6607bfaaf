from __future__ import annotations

from django.urls import path

from . import views

app_name = "channels_citizen"
urlpatterns = [
    path("", views.home, name="home"),
    path("weeks/", views.week_list, name="week_list"),
    path("weeks/plan/", views.week_plan, name="week_plan"),
    path("weeks/<int:pk>/", views.week_detail, name="week_detail"),
    path("weeks/<int:pk>/confirm/", views.week_confirm, name="week_confirm"),
    path("weeks/<int:pk>/case-of-week/", views.week_case, name="week_case"),
    path("weeks/<int:pk>/roster/new/", views.roster_create, name="roster_create"),
    path("roster/<int:pk>/edit/", views.roster_edit, name="roster_edit"),
    path("roster/<int:pk>/delete/", views.roster_delete, name="roster_delete"),
    path("weeks/<int:pk>/visits/new/", views.visit_create, name="visit_create"),
    path("visits/<int:pk>/", views.visit_detail, name="visit_detail"),
    path("visits/<int:pk>/edit/", views.visit_edit, name="visit_edit"),
    path("visits/<int:pk>/courtyard-meetings/", views.courtyard_create, name="courtyard_create"),
    path("visits/<int:pk>/intake/", views.visit_intake, name="visit_intake"),
    path("villages/", views.village_list, name="village_list"),
    path("villages/<int:pk>/edit/", views.village_edit, name="village_edit"),
    path("offline/", views.offline_page, name="offline_page"),
    path("offline/sw.js", views.service_worker, name="offline_sw"),
    path("offline/manifest.webmanifest", views.offline_manifest, name="offline_manifest"),
    path("photos/<int:pk>/", views.photo_download, name="photo_download"),
]
