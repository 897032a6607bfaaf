from __future__ import annotations

from django.contrib import admin

from .models import Forum, NetIntake


@admin.register(Forum)
class ForumAdmin(admin.ModelAdmin):
    list_display = ["title", "held_on", "place", "chair"]
    search_fields = ["title", "place"]
    date_hierarchy = "held_on"


@admin.register(NetIntake)
class NetIntakeAdmin(admin.ModelAdmin):
    list_display = ["issue", "forum", "handle"]
    raw_id_fields = ["issue"]
