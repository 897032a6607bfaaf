from __future__ import annotations

from typing import Any

from django.contrib import admin

from .models import Forum, NetIntake, PublicSubmission


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Forum)
class ForumAdmin(ReadOnlyAdmin):
    """Read-only here (issue 13 §6): forums are planned and recorded on the channel's pages
    (/net/forums/), through channels_net.services.plan_forum / record_forum, which check the dates,
    the leaders and the representatives."""

    list_display = ["title", "held_on", "collect_from", "collect_until", "place", "chair_title"]
    search_fields = ["title", "place"]
    date_hierarchy = "held_on"


@admin.register(NetIntake)
class NetIntakeAdmin(ReadOnlyAdmin):
    """Written with the issue (channels_net.services.record_forum_requests / accept_submission)."""

    list_display = ["issue", "forum", "handle"]
    list_select_related = ["issue", "forum"]


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

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
