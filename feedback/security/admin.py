"""The audit chain in the admin, read-only (assessors and administrators read it; nobody edits it)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from feedback.models.security import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("id", "at", "action", "actor", "ip", "object_type", "object_id", "request_id")
    list_filter = ("action",)
    search_fields = ("actor", "ip", "object_id", "request_id")
    date_hierarchy = "at"

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
