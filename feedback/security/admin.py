"""The security records in the admin, in Chinese, read-only where nobody may edit them.

* the audit chain (assessors and administrators read it; nobody edits it);
* the second-factor devices of django-otp: listed and deleted (a lost phone: docs/security.md),
  never edited here — enrolment is /accounts/otp/setup/. django-otp names its fields in plain
  English strings that no catalogue translates, so the columns and the read-only form are ours;
* permissions named in Chinese wherever the admin lists them (users and groups).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group, Permission
from django.db.models import ManyToManyField
from django.http import HttpRequest
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from feedback.models.security import AuditEvent
from feedback.security.events import ACTIONS, record_event

PERMISSION_VERBS = {"add": "添加", "change": "修改", "delete": "删除", "view": "查看"}


def permission_label(permission: Permission) -> str:
    """ "诉求办理 | 诉求 | 可修改诉求" instead of Django's stored "feedback | 诉求 | Can change 诉求"."""
    model = permission.content_type.model_class()
    verb, _, rest = permission.codename.partition("_")
    if model is None:
        return permission.name
    meta = model._meta
    app = meta.app_config.verbose_name
    if verb in PERMISSION_VERBS and rest == meta.model_name:
        name = f"可{PERMISSION_VERBS[verb]}{meta.verbose_name}"
    else:
        name = permission.name
    return f"{app} | {meta.verbose_name} | {name}"


class ChinesePermissionField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Permission) -> str:  # type: ignore[override]
        return permission_label(obj)


class ChinesePermissionsMixin:
    """For the user and group admins: the permission picker speaks Chinese."""

    def formfield_for_manytomany(self, db_field: ManyToManyField, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name in {"permissions", "user_permissions"}:
            kwargs["form_class"] = ChinesePermissionField
            kwargs["queryset"] = Permission.objects.select_related("content_type")
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]


admin.site.unregister(Group)


@admin.register(Group)
class PortalGroupAdmin(ChinesePermissionsMixin, GroupAdmin):
    pass


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("id", "at", "action_name", "actor", "ip", "object_type", "object_id", "request_id")
    list_filter = ("action",)
    search_fields = ("actor", "ip", "object_id", "request_id")
    date_hierarchy = "at"
    fields = ("at", "actor_id", "actor", "ip", "request_id", "action_name", "object_type", "object_id", "detail")
    readonly_fields = ("action_name",)

    @admin.display(description="事件", ordering="action")
    def action_name(self, obj: AuditEvent) -> str:
        return ACTIONS.get(obj.action, obj.action)

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class SecondFactorDeviceAdmin(admin.ModelAdmin):
    """Listed and deleted only: a device is made by its owner at /accounts/otp/setup/."""

    list_display = ("owner", "device_name", "is_confirmed", "created", "last_used")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__first_name")
    search_help_text = "按用户名或姓名搜索"
    fields = ("owner", "device_name", "is_confirmed", "created", "last_used")
    readonly_fields = fields

    @admin.display(description="用户", ordering="user__username")
    def owner(self, obj: Any) -> str:
        user = obj.user
        return f"{user.first_name}（{user.username}）" if user.first_name else user.username

    @admin.display(description="名称")
    def device_name(self, obj: Any) -> str:
        return obj.name

    @admin.display(description="已启用", boolean=True)
    def is_confirmed(self, obj: Any) -> bool:
        return bool(obj.confirmed)

    @admin.display(description="创建时间", ordering="created_at")
    def created(self, obj: Any) -> Any:
        return obj.created_at or "—"

    @admin.display(description="最近使用", ordering="last_used_at")
    def last_used(self, obj: Any) -> Any:
        return obj.last_used_at or "—"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, SecondFactorDeviceAdmin)


class AuditedTokenAdmin(TokenAdmin):
    """An API token issued or revoked by an administrator is an audit event, as on the token page."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            record_event("token_issued", request=request, object_type="user", object_id=obj.user_id)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        user_id = obj.user_id
        super().delete_model(request, obj)
        record_event("token_revoked", request=request, object_type="user", object_id=user_id)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        user_ids = list(queryset.values_list("user_id", flat=True))
        super().delete_queryset(request, queryset)
        for user_id in user_ids:
            record_event("token_revoked", request=request, object_type="user", object_id=user_id)


if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)
admin.site.register(TokenProxy, AuditedTokenAdmin)
