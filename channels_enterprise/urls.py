from __future__ import annotations

from django.urls import path

from . import views

app_name = "channels_enterprise"
urlpatterns = [
    path("", views.home, name="home"),
    path("enterprises/", views.enterprise_list, name="enterprise_list"),
    path("enterprises/export.xlsx", views.enterprise_export, name="enterprise_export"),
    path("enterprises/new/", views.enterprise_create, name="enterprise_create"),
    path("enterprises/<int:pk>/", views.enterprise_detail, name="enterprise_detail"),
    path("enterprises/<int:pk>/edit/", views.enterprise_edit, name="enterprise_edit"),
    path("enterprises/<int:pk>/phone/", views.enterprise_phone, name="enterprise_phone"),
    path("days/", views.day_list, name="day_list"),
    path("days/schedule/", views.day_schedule, name="day_schedule"),
    path("days/record/", views.day_record, name="day_record"),
    path("days/<int:pk>/", views.day_detail, name="day_detail"),
    path("days/<int:pk>/duty/", views.day_duty, name="day_duty"),
    path("days/<int:pk>/held/", views.day_held, name="day_held"),
    path("days/<int:pk>/problems/new/", views.day_intake, name="day_intake"),
    path("problems/", views.problem_list, name="problem_list"),
    path("problems/<int:pk>/consultation/", views.consultation_create, name="consultation_create"),
    path("consultations/", views.consultation_list, name="consultation_list"),
    path("consultations/<int:pk>/held/", views.consultation_held, name="consultation_held"),
]
