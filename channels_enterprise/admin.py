from __future__ import annotations

from django.contrib import admin

from .models import EnterpriseDay, EnterpriseIntake


@admin.register(EnterpriseDay)
class EnterpriseDayAdmin(admin.ModelAdmin):
    list_display = ["held_on", "place", "leaders"]
    date_hierarchy = "held_on"


@admin.register(EnterpriseIntake)
class EnterpriseIntakeAdmin(admin.ModelAdmin):
    list_display = ["issue", "day", "enterprise"]
    search_fields = ["enterprise"]
    raw_id_fields = ["issue"]
