from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import (
    Assignment,
    CalendarDay,
    CalendarYear,
    Category,
    DeadlinePolicy,
    Department,
    HistoryEntry,
    Issue,
    Membership,
    SignedReply,
)

admin.site.site_header = "直通车管理后台"
admin.site.site_title = "直通车"
admin.site.index_title = "系统管理"


class RetireInsteadOfDelete(admin.ModelAdmin):
    """Departments and categories are retired (停用), never deleted: issues keep pointing at them."""

    actions = ["retire", "reactivate"]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="停用所选项")
    def retire(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.message_user(request, f"已停用 {queryset.update(active=False)} 项。")

    @admin.action(description="重新启用所选项")
    def reactivate(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.message_user(request, f"已启用 {queryset.update(active=True)} 项。")


@admin.register(Department)
class DepartmentAdmin(RetireInsteadOfDelete):
    list_display = ["code", "name", "kind", "channel", "active", "sort_order"]
    list_filter = ["kind", "active"]
    search_fields = ["code", "name"]


@admin.register(Category)
class CategoryAdmin(RetireInsteadOfDelete):
    list_display = ["code", "name", "parent", "active", "sort_order"]
    list_filter = ["active", "parent"]
    search_fields = ["code", "name"]


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "channel", "nature", "amount", "unit", "extension_max_amount", "active"]
    list_filter = ["channel", "active"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by the workflow are changed only through services, never in the admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Issue)
class IssueAdmin(ReadOnlyAdmin):
    list_display = ["ref", "channel", "title", "status", "received_on"]
    list_filter = ["channel", "status", "nature"]
    search_fields = ["ref", "title"]
    date_hierarchy = "received_on"


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ["issue", "department", "role", "status", "due_date", "provisional"]
    list_filter = ["status", "role", "provisional"]
    list_select_related = ["issue", "department"]


@admin.register(SignedReply)
class SignedReplyAdmin(ReadOnlyAdmin):
    list_display = ["assignment", "version", "signer_name", "signed_on", "result", "review_status"]
    list_select_related = ["assignment__issue", "assignment__department"]


@admin.register(HistoryEntry)
class HistoryEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "issue", "action", "from_status", "to_status", "actor"]
    list_select_related = ["issue", "actor"]


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ["year", "source", "loaded_at"]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "is_workday", "name", "source"]
    list_filter = ["source", "is_workday"]
    date_hierarchy = "date"


class MembershipInline(admin.StackedInline):
    model = Membership
    can_delete = False
    fk_name = "user"


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "first_name", "department", "is_active", "is_superuser"]
    list_select_related = ["membership__department"]

    @admin.display(description="单位")
    def department(self, obj: object) -> str:
        membership = getattr(obj, "membership", None)
        return membership.department.name if membership else "—"
