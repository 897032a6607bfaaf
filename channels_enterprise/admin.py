"""The admin never bypasses the channel's rules: registry records and a day's duty are saved
through channels_enterprise.services (the form checks with the same functions first, so a refusal
shows on the field); the dates are the scheduler's and read-only; problems and 三长会诊 are entered
on the channel's pages and only shown here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.http import HttpRequest

from feedback.errors import WorkflowError

from . import services
from .creditcode import normalise
from .forms import LeaderMultipleChoiceField, leaders_queryset
from .models import Consultation, Enterprise, EnterpriseDay, EnterpriseDayChange, EnterpriseIntake, EnterpriseLog


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _raise_on_field(form: forms.ModelForm, exc: WorkflowError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


class EnterpriseAdminForm(forms.ModelForm):
    class Meta:
        model = Enterprise
        fields = ["name", "credit_code", "park", "sector", "contact_name", "contact_phone", "active"]

    def clean_credit_code(self) -> str:
        # Normalised before the model's own checks (the format constraint wants upper case).
        return normalise(self.cleaned_data["credit_code"])

    def data_for_service(self) -> services.EnterpriseData:
        d = self.cleaned_data
        return services.EnterpriseData(
            name=d.get("name") or "",
            credit_code=d.get("credit_code") or "",
            park=d.get("park") or "",
            sector=d.get("sector") or "",
            contact_name=d.get("contact_name") or "",
            contact_phone=d.get("contact_phone") or "",
            active=bool(d.get("active")),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors:
            try:
                services.clean_enterprise(self.data_for_service(), exclude_pk=self.instance.pk)
            except WorkflowError as exc:
                _raise_on_field(self, exc)
        return data


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    form = EnterpriseAdminForm
    list_display = ["name", "credit_code", "park", "sector", "contact_name", "masked_phone", "active"]
    list_filter = ["active", "park"]
    search_fields = ["name", "credit_code"]
    readonly_fields = ["created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and services.can_manage(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and services.can_manage(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # taken off the register (在册 unticked), never deleted

    @admin.display(description="联系电话")
    def masked_phone(self, obj: Enterprise) -> str:
        return obj.masked_phone

    def save_model(self, request: HttpRequest, obj: Enterprise, form: Any, change: bool) -> None:
        # Through the service (checks again, records the change); ``obj`` itself is not saved here.
        data = form.data_for_service()
        if change:
            saved = services.update_enterprise(actor=request.user, enterprise=obj, data=data)
        else:
            saved = services.register_enterprise(
                actor=request.user,
                name=data.name,
                credit_code=data.credit_code,
                park=data.park,
                sector=data.sector,
                contact_name=data.contact_name,
                contact_phone=data.contact_phone,
            )
        obj.pk = saved.pk
        obj.refresh_from_db()


class EnterpriseDayAdminForm(forms.ModelForm):
    leaders = LeaderMultipleChoiceField(
        label="带队县领导", queryset=None, required=False, widget=FilteredSelectMultiple("带队县领导", False)
    )

    class Meta:
        model = EnterpriseDay
        fields = ["place", "note", "leaders", "departments", "enterprises"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["leaders"].queryset = leaders_queryset()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        try:
            services.check_duty(
                leaders=list(data.get("leaders") or []),
                departments=list(data.get("departments") or []),
                enterprises=list(data.get("enterprises") or []),
            )
        except WorkflowError as exc:
            _raise_on_field(self, exc)
        return data


@admin.register(EnterpriseDay)
class EnterpriseDayAdmin(admin.ModelAdmin):
    form = EnterpriseDayAdminForm
    list_display = ["held_on", "recorded_on", "place", "provisional", "notice_on", "noticed_at", "held_at"]
    date_hierarchy = "held_on"
    filter_horizontal = ["departments", "enterprises"]
    # Dates are the scheduler's (channels_enterprise.services.schedule_enterprise_days); the held
    # mark is channels_enterprise.services.mark_day_held's (the day's page).
    readonly_fields = [
        "month",
        "held_on",
        "recorded_on",
        "provisional",
        "notice_on",
        "noticed_at",
        "held_at",
        "held_by",
        "summary",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created by the scheduler (one a month) or 补录 on the channel's page (services.record_past_day)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and services.can_manage(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: EnterpriseDay, form: Any, change: bool) -> None:
        pass  # saved with its duty in save_related, through the service

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        d = form.cleaned_data
        services.set_day_duty(
            actor=request.user,
            day=form.instance,
            leaders=list(d["leaders"]),
            departments=list(d["departments"]),
            enterprises=list(d["enterprises"]),
            place=d.get("place") or "",
            note=d.get("note") or "",
        )


@admin.register(EnterpriseIntake)
class EnterpriseIntakeAdmin(ReadOnlyAdmin):
    """Entered through the day's batch intake (channels_enterprise.services.raise_problems)."""

    list_display = ["issue", "day", "enterprise_name"]
    search_fields = ["enterprise_name", "issue__ref"]


@admin.register(Consultation)
class ConsultationAdmin(ReadOnlyAdmin):
    """Recorded on the problem's page (channels_enterprise.services.record_consultation, which checks the dates)."""

    list_display = ["held_on", "intake", "outcome"]


@admin.register(EnterpriseLog)
class EnterpriseLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "enterprise", "action", "actor"]
    list_filter = ["action"]


@admin.register(EnterpriseDayChange)
class EnterpriseDayChangeAdmin(ReadOnlyAdmin):
    # Written only by the scheduler (services.reschedule_enterprise_days).
    list_display = ["at", "day", "action", "held_on_before", "held_on_after", "corrected_notice", "reason"]
    list_filter = ["action"]
