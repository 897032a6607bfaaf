"""The Django admin of the 政民 channel: a window onto the records, never a way around the services.

Every field a service checks (the week's dates within its month and around its visits, a visit's
date inside its week, an active county leader, a township that is one, a village of that township,
cases brought down from the 政民 channel, a courtyard meeting with people at it) is read-only here,
and nothing is added here: planning and recording happen on the channel's pages (/citizen/) or the
API, both through ``channels_citizen.services``. What stays editable is what no rule guards (a
visit's notes). Confirming a week is an admin action that calls the service.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from feedback.errors import WorkflowError

from . import services
from .models import CitizenIntake, CourtyardMeeting, NoMeetingWeek, RosterEntry, Village, Visit


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RosterInline(ReadOnlyInline):
    model = RosterEntry
    fields = ["leader", "township"]
    readonly_fields = ["leader", "township"]


@admin.register(NoMeetingWeek)
class NoMeetingWeekAdmin(admin.ModelAdmin):
    list_display = ["month", "starts_on", "ends_on", "confirmed", "provisional"]
    list_filter = ["confirmed", "provisional"]
    # Dates move only through services.confirm_week (within the month, around recorded visits).
    readonly_fields = [
        "month",
        "starts_on",
        "ends_on",
        "confirmed",
        "confirmed_by",
        "confirmed_at",
        "provisional",
        "recorded_on",
        "case_of_week",
    ]
    inlines = [RosterInline]
    actions = ["confirm_weeks"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # services.plan_week: the page /citizen/weeks/ or the API

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # visits and requests point at it

    @admin.action(description="确认所选无会周（按当前日期）")
    def confirm_weeks(self, request: HttpRequest, queryset: QuerySet[NoMeetingWeek]) -> None:
        done = 0
        for week in queryset:
            try:
                services.confirm_week(actor=request.user, week=week)
                done += 1
            except WorkflowError as exc:
                self.message_user(request, f"{week}：{exc.message}", messages.ERROR)
        if done:
            self.message_user(request, f"已确认 {done} 个无会周。", messages.SUCCESS)


@admin.register(Village)
class VillageAdmin(admin.ModelAdmin):
    list_display = ["name", "township", "active"]
    list_select_related = ["township"]
    list_filter = ["township", "active"]
    search_fields = ["name"]
    readonly_fields = ["township", "name", "active"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # services.add_village: /citizen/villages/

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # villages are retired, never deleted


class CourtyardInline(ReadOnlyInline):
    model = CourtyardMeeting
    fields = ["place", "attendance", "outcome"]
    readonly_fields = ["place", "attendance", "outcome"]


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ["held_on", "kind", "township", "village", "leader", "lawyer_present"]
    list_filter = ["kind", "township"]
    list_select_related = ["township", "village", "village__township", "leader"]
    fields = [
        "week",
        "kind",
        "township",
        "village",
        "held_on",
        "recorded_on",
        "leader",
        "lawyer_present",
        "lawyer_name",
        "cases",
        "created_by",
        "notes",
    ]
    readonly_fields = [
        "week",
        "kind",
        "township",
        "village",
        "held_on",
        "recorded_on",
        "leader",
        "lawyer_present",
        "lawyer_name",
        "cases",
        "created_by",
    ]
    inlines = [CourtyardInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # services.record_visit: /citizen/weeks/<id>/visits/new/

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CitizenIntake)
class CitizenIntakeAdmin(admin.ModelAdmin):
    list_display = ["issue", "week", "visit", "township", "village"]
    list_select_related = [
        "issue",
        "week",
        "visit",
        "visit__township",
        "visit__village",
        "visit__village__township",
        "township",
        "village",
        "village__township",
    ]
    readonly_fields = ["issue", "week", "visit", "township", "village"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # services.record_visit_requests / register_citizen_issue

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
