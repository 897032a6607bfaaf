from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from feedback.errors import WorkflowError

from . import services
from .models import CitizenIntake, CourtyardMeeting, NoMeetingWeek, RosterEntry, Village, Visit


class RosterInline(admin.TabularInline):
    model = RosterEntry
    extra = 0
    fields = ["leader", "township"]
    readonly_fields = ["leader", "township"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # through channels_citizen.services.add_roster_entry (API), which checks the leader


@admin.register(NoMeetingWeek)
class NoMeetingWeekAdmin(admin.ModelAdmin):
    list_display = ["month", "starts_on", "ends_on", "confirmed", "provisional"]
    list_filter = ["confirmed", "provisional"]
    readonly_fields = ["confirmed", "confirmed_by", "confirmed_at", "provisional"]
    inlines = [RosterInline]
    actions = ["confirm_weeks"]

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
    list_filter = ["township", "active"]
    search_fields = ["name"]


class CourtyardInline(admin.TabularInline):
    model = CourtyardMeeting
    extra = 0


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ["held_on", "kind", "township", "village", "leader", "lawyer_present"]
    list_filter = ["kind", "township"]
    raw_id_fields = ["cases"]
    inlines = [CourtyardInline]


@admin.register(CitizenIntake)
class CitizenIntakeAdmin(admin.ModelAdmin):
    list_display = ["issue", "week", "township", "village"]
    raw_id_fields = ["issue"]
