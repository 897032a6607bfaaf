from __future__ import annotations

import hashlib
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from feedback.access import Role, scope_of
from feedback.calendar_notice import FIRST_YEAR, LAST_YEAR, SOURCE_MAX, NoticeError, base_is_workday, parse_notice
from feedback.deadlines import WEEKDAYS
from feedback.errors import WorkflowError
from feedback.models import (
    Assignment,
    CalendarDay,
    CalendarYear,
    Category,
    DeadlinePolicy,
    DeadlineStep,
    Department,
    ExtensionRequest,
    HistoryEntry,
    Issue,
    Membership,
    Notification,
    Objection,
    SignedReply,
)
from feedback.security.admin import ChinesePermissionsMixin
from feedback.security.events import record_event
from feedback.services.calendar import delete_county_day, load_year, save_county_day
from feedback.services.departments import reactivate_department, retire_department
from feedback.states import action_label

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
    """停用 goes through feedback.services.departments (refused while the department has open
    assignments); the change form shows 启用 read-only, so no save can flip it around the service."""

    list_display = ["code", "name", "short_names", "kind", "channel", "active", "sort_order"]
    list_filter = ["kind", "active"]
    search_fields = ["code", "name", "short_names"]

    def get_readonly_fields(self, request: HttpRequest, obj: Department | None = None) -> list[str]:
        return ["active"] if obj is not None else []

    @admin.action(description="停用所选单位（有未办结交办的单位不能停用）")
    def retire(self, request: HttpRequest, queryset: QuerySet) -> None:
        done = 0
        for department in queryset.order_by("sort_order", "code"):
            try:
                retire_department(actor=request.user, department=department)
            except WorkflowError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                continue
            done += 1
            if department.active:  # it was active: a real change, an audit event (a repeat is none)
                record_event("department_retired", request=request, object_type="department", object_id=department.code)
        if done:
            self.message_user(request, f"已停用 {done} 个单位。", messages.SUCCESS)

    @admin.action(description="重新启用所选单位")
    def reactivate(self, request: HttpRequest, queryset: QuerySet) -> None:
        for department in queryset:
            reactivate_department(actor=request.user, department=department)
            record_event("department_reactivated", request=request, object_type="department", object_id=department.code)
        self.message_user(request, f"已启用 {queryset.count()} 个单位。", messages.SUCCESS)


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


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(ReadOnlyAdmin):
    list_display = ["assignment", "current_due_date", "requested_due_date", "status", "requested_at"]
    list_filter = ["status"]
    list_select_related = ["assignment__issue", "assignment__department"]


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyAdmin):
    list_display = ["assignment", "status", "raised_at", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["assignment__issue", "assignment__department"]


@admin.register(DeadlineStep)
class DeadlineStepAdmin(ReadOnlyAdmin):
    list_display = ["assignment", "step", "deadline_version", "scheduled_for", "taken_at", "announced_at"]
    list_filter = ["step"]
    list_select_related = ["assignment__issue", "assignment__department"]


def notification_kind_label(kind: str) -> str:
    """新交办, 超期, 催办 …: a notice's kind as the timeline names the same event (never the code)."""
    if kind in Notification.Kind.values:
        return str(Notification.Kind(kind).label)
    for action in (f"deadline_{kind}", kind):
        label = action_label(action)
        if label != action:
            return label
    return kind


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "recipient",
        "kind_label",
        "title",
        "read_at",
        "email_status",
        "email_attempts",
        "email_next_attempt_at",
        "emailed_at",
    ]
    list_filter = ["email_status"]
    list_select_related = ["recipient"]
    fields = [
        "recipient",
        "issue",
        "assignment",
        "kind_label",
        "title",
        "body",
        "created_at",
        "read_at",
        "email_status",
        "email_attempts",
        "email_error",
        "email_next_attempt_at",
        "emailed_at",
    ]
    readonly_fields = ["kind_label"]

    @admin.display(description="类型")
    def kind_label(self, obj: Notification) -> str:
        return notification_kind_label(obj.kind)


@admin.register(SignedReply)
class SignedReplyAdmin(ReadOnlyAdmin):
    list_display = ["assignment", "version", "signer_name", "signed_on", "result", "review_status"]
    list_select_related = ["assignment__issue", "assignment__department"]


@admin.register(HistoryEntry)
class HistoryEntryAdmin(ReadOnlyAdmin):
    """The timeline's rows, named as the issue page names them (登记, 签收 …), not by their codes."""

    list_display = ["at", "issue", "action_name", "from_name", "to_name", "actor"]
    list_select_related = ["issue", "assignment", "actor"]
    fields = ["at", "issue", "assignment", "actor", "action_name", "from_name", "to_name", "note"]
    readonly_fields = ["action_name", "from_name", "to_name"]

    @admin.display(description="操作")
    def action_name(self, obj: HistoryEntry) -> str:
        return action_label(obj.action)

    @admin.display(description="原状态")
    def from_name(self, obj: HistoryEntry) -> str:
        return self._status_name(obj, obj.from_status)

    @admin.display(description="新状态")
    def to_name(self, obj: HistoryEntry) -> str:
        return self._status_name(obj, obj.to_status)

    @staticmethod
    def _status_name(obj: HistoryEntry, status: str) -> str:
        if not status:
            return "—"
        statuses = Assignment.Status if obj.assignment_id else Issue.Status
        return str(statuses(status).label) if status in statuses.values else status


# --- the working calendar (docs/operations.md "每年更新节假日安排") -------------------------------------


def is_calendar_admin(request: HttpRequest) -> bool:
    """Only administrators (superuser or 系统管理员) touch the calendar: it moves every deadline."""
    return request.user.is_active and request.user.is_staff and scope_of(request.user).role == Role.ADMIN


class CalendarAdminPermissions(admin.ModelAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_calendar_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return is_calendar_admin(request)


class NoticeForm(forms.Form):
    year = forms.IntegerField(label="年份", min_value=FIRST_YEAR, max_value=LAST_YEAR)
    source = forms.CharField(
        label="来源",
        max_length=SOURCE_MAX,
        required=False,
        help_text="例如：国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕×号）",
    )
    text = forms.CharField(
        label="通知内容",
        required=False,
        widget=forms.Textarea(attrs={"rows": 16, "cols": 60}),
        help_text="每行一个日期：2027-01-01,休,元旦 或 2027-02-07,班,春节调休上班；"
        "类型可写 休/休息/rest 或 班/上班/work；# 开头为注释。",
    )
    file = forms.FileField(label="或上传文件", required=False, help_text="UTF-8 文本或 CSV，内容格式同上")
    digest = forms.CharField(required=False, widget=forms.HiddenInput)

    MAX_FILE_BYTES = 64 * 1024

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload = data.get("file")
        if upload:
            if upload.size > self.MAX_FILE_BYTES:
                raise forms.ValidationError("文件太大：节假日通知通常只有几十行。")
            raw = upload.read()
            try:
                data["text"] = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError("文件不是 UTF-8 编码，请另存为 UTF-8 后再上传，或直接粘贴内容。") from None
        if not (data.get("text") or "").strip():
            raise forms.ValidationError("请粘贴通知内容或上传文件。")
        if data.get("year") is not None:
            try:
                data["days"] = parse_notice(data["text"], year=data["year"])
            except NoticeError as exc:
                raise forms.ValidationError(exc.errors) from None
        return data


def notice_digest(year: int, text: str) -> str:
    """What the administrator previewed; the load is refused if the text changed since."""
    # Browsers send a textarea back with CRLF line ends; an uploaded file may have LF.
    normal = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return hashlib.sha256(f"{year}\n{normal}".encode()).hexdigest()


@admin.register(CalendarYear)
class CalendarYearAdmin(CalendarAdminPermissions):
    list_display = ["year", "source", "loaded_at"]
    ordering = ["-year"]

    # A year is added or replaced only by loading a notice: that also writes its days and
    # recomputes the deadlines. Deleting a year would silently make deadlines provisional.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        return [
            path("load/", self.admin_site.admin_view(self.load_notice_view), name="feedback_calendaryear_load"),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra = {**(extra_context or {}), "can_load_notice": is_calendar_admin(request)}
        return super().changelist_view(request, extra)

    def load_notice_view(self, request: HttpRequest) -> HttpResponse:
        if not is_calendar_admin(request):
            raise PermissionDenied
        next_year = timezone.localdate().year + 1
        form = NoticeForm(request.POST or None, request.FILES or None, initial={"year": next_year})
        preview = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            digest = notice_digest(data["year"], data["text"])
            if "_confirm" in request.POST and data.get("digest") == digest:
                result = load_year(actor=request.user, year=data["year"], lines=data["text"], source=data["source"])
                self.message_user(
                    request,
                    (
                        f"已载入{result.year}年节假日安排：休息日 {result.rest_days} 天、"
                        f"调休上班日 {result.work_days} 天"
                        f"（替换原有 {result.replaced} 条）；重新计算了 {result.recomputed} 项交办的办理期限。"
                    ),
                    messages.SUCCESS,
                )
                return redirect("admin:feedback_calendaryear_changelist")
            if "_confirm" in request.POST:
                self.message_user(request, "通知内容在预览后有改动，请核对下面的预览后再确认。", messages.WARNING)
            # Keep what was uploaded in the text box, so the confirmation does not need the file again.
            form = NoticeForm(
                initial={"year": data["year"], "source": data["source"], "text": data["text"], "digest": digest}
            )
            year = data["year"]
            preview = {
                "year": year,
                "days": data["days"],
                "rest": sum(not d.is_workday for d in data["days"]),
                "work": sum(d.is_workday for d in data["days"]),
                "loaded": CalendarYear.objects.filter(year=year).first(),
                "existing": CalendarDay.objects.filter(source=CalendarDay.Source.NATIONAL, date__year=year).count(),
                "county": CalendarDay.objects.filter(source=CalendarDay.Source.COUNTY, date__year=year).count(),
            }
        context = {
            **self.admin_site.each_context(request),
            "title": "载入国务院节假日安排",
            "opts": self.model._meta,
            "form": form,
            "preview": preview,
        }
        return TemplateResponse(request, "admin/feedback/calendaryear/load_notice.html", context)


class CountyDayForm(forms.ModelForm):
    is_workday = forms.TypedChoiceField(
        label="本县安排",
        coerce=lambda value: value == "True",
        widget=forms.RadioSelect,
        choices=[(False, "休息（本县放假、停止办公）"), (True, "上班（本县调休上班）")],
    )

    class Meta:
        model = CalendarDay
        fields = ["date", "is_workday", "name"]
        labels = {"name": "名称或原因"}
        help_texts = {"name": "例如：瑶族盘王节、应急停止办公"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "name" in self.fields:  # absent when a national row is only shown
            self.fields["name"].required = True

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        day, is_workday = data.get("date"), data.get("is_workday")
        if day is None or is_workday is None:
            return data
        clash = CalendarDay.objects.filter(date=day, source=CalendarDay.Source.COUNTY).exclude(pk=self.instance.pk)
        if clash.exists():
            self.add_error("date", f"{day:%Y-%m-%d} 已有本县调整，请修改原记录。")
        elif base_is_workday(day) == is_workday:
            state = "工作日" if is_workday else "休息日"
            self.add_error("is_workday", f"{day:%Y-%m-%d} 按国务院安排本来就是{state}，无需调整。")
        return data


@admin.register(CalendarDay)
class CalendarDayAdmin(CalendarAdminPermissions):
    """National rows (seed or notice) are read-only here; the county adds its own overrides,
    and every change recomputes the open deadlines of that year."""

    form = CountyDayForm
    list_display = ["date", "weekday", "is_workday", "name", "source"]
    list_filter = ["source", "is_workday"]
    search_fields = ["name"]
    date_hierarchy = "date"
    ordering = ["-date"]

    @admin.display(description="星期")
    def weekday(self, obj: CalendarDay) -> str:
        return f"周{WEEKDAYS[obj.date.weekday()]}"

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # Bulk delete would skip delete_model and could take national rows: delete one at a time.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_calendar_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: CalendarDay | None = None) -> bool:
        return is_calendar_admin(request) and (obj is None or obj.source == CalendarDay.Source.COUNTY)

    def has_delete_permission(self, request: HttpRequest, obj: CalendarDay | None = None) -> bool:
        return is_calendar_admin(request) and (obj is None or obj.source == CalendarDay.Source.COUNTY)

    def get_readonly_fields(self, request: HttpRequest, obj: CalendarDay | None = None) -> list[str]:
        if obj is not None and obj.source != CalendarDay.Source.COUNTY:
            return ["date", "is_workday", "name", "source"]
        return []

    def get_fields(self, request: HttpRequest, obj: CalendarDay | None = None) -> list[str]:
        if obj is not None and obj.source != CalendarDay.Source.COUNTY:
            return ["date", "is_workday", "name", "source"]
        return ["date", "is_workday", "name"]

    def save_model(self, request: HttpRequest, obj: CalendarDay, form: forms.ModelForm, change: bool) -> None:
        previous = form.initial.get("date") if change else None
        changed = save_county_day(actor=request.user, day=obj, previous_date=previous)
        self._report(request, obj.date.year, changed)

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        changed = delete_county_day(actor=request.user, day=obj)
        self._report(request, obj.date.year, changed)

    def _report(self, request: HttpRequest, year: int, changed: int) -> None:
        self.message_user(request, f"已按本县调整重新计算 {year} 年前后的办理期限：{changed} 项交办的期限有变化。")


class MembershipInline(admin.StackedInline):
    model = Membership
    can_delete = False
    fk_name = "user"


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class PortalUserAdmin(ChinesePermissionsMixin, UserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "first_name", "department", "is_active", "is_superuser"]
    list_select_related = ["membership__department"]

    @admin.display(description="单位")
    def department(self, obj: object) -> str:
        membership = getattr(obj, "membership", None)
        return membership.department.name if membership else "—"
