from __future__ import annotations

from django.contrib import admin

from .models import Forum, NetIntake, PublicSubmission


@admin.register(Forum)
class ForumAdmin(admin.ModelAdmin):
    list_display = ["title", "held_on", "collect_from", "collect_until", "place", "chair_title"]
    search_fields = ["title", "place"]
    date_hierarchy = "held_on"


@admin.register(NetIntake)
class NetIntakeAdmin(admin.ModelAdmin):
    list_display = ["issue", "forum", "handle"]
    raw_id_fields = ["issue"]


@admin.register(PublicSubmission)
class PublicSubmissionAdmin(admin.ModelAdmin):
    """Read-only here: accepting, merging, declining and publishing go through channels_net.services
    (the triage page /net/submissions/)."""

    list_display = [
        "code",
        "submitted_at",
        "category",
        "status",
        "issue",
        "merged_into",
        "consent_to_publish",
        "published_at",
    ]
    list_select_related = ["category", "issue", "merged_into"]
    list_filter = ["status", "consent_to_publish"]
    search_fields = ["code"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
