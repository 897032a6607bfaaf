from __future__ import annotations

from django.contrib import admin

from .models import CitizenIntake, NoMeetingWeek


@admin.register(NoMeetingWeek)
class NoMeetingWeekAdmin(admin.ModelAdmin):
    list_display = ["month", "starts_on", "ends_on", "confirmed"]


@admin.register(CitizenIntake)
class CitizenIntakeAdmin(admin.ModelAdmin):
    list_display = ["issue", "week", "township"]
    raw_id_fields = ["issue"]
