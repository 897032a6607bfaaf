"""The admin never bypasses the workflow (issue 13 §6): every registered model is classified, the
workflow records are read-only or saved through a service, and retiring a department is a service
that refuses while it has open assignments."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.contrib.messages import get_messages
from django.test import RequestFactory
from django.urls import reverse

from feedback.errors import NotPermitted
from feedback.models import Department
from feedback.services.departments import DepartmentHasOpenWork, retire_department
from tests.conftest import make_user
from tests.factories import assigned

pytestmark = pytest.mark.django_db

# Records the workflow writes: nobody adds, changes or deletes them in the admin.
READ_ONLY = {
    "feedback.Issue",
    "feedback.Assignment",
    "feedback.SignedReply",
    "feedback.HistoryEntry",
    "feedback.ExtensionRequest",
    "feedback.Objection",
    "feedback.DeadlineStep",
    "feedback.Notification",
    "feedback.AuditEvent",
    "channels_net.Forum",
    "channels_net.NetIntake",
    "channels_net.PublicSubmission",
    "channels_enterprise.EnterpriseIntake",
    "channels_enterprise.Consultation",
    "channels_enterprise.EnterpriseLog",
    "channels_enterprise.EnterpriseDayChange",
}
# Workflow records the admin may change, but only through the channel's service (or only fields
# no rule guards): never added or deleted here.
THROUGH_SERVICES = {
    "channels_enterprise.EnterpriseDay": "save_related → services.set_day_duty",
    "channels_enterprise.Enterprise": "save_model → services.update_enterprise / register_enterprise",
    "channels_citizen.NoMeetingWeek": "dates read-only; action → services.confirm_week",
    "channels_citizen.Visit": "every checked field read-only; only the notes",
    "channels_citizen.CitizenIntake": "every field read-only",
    "channels_citizen.Village": "every field read-only (services.add_village / rename on /citizen/villages/)",
    "feedback.Department": "active read-only on the form; actions → services.retire_department",
}
# Reference data and accounts, which administrators edit directly (docs/operations.md).
REFERENCE = {
    "feedback.Category",
    "feedback.DeadlinePolicy",
    "feedback.CalendarYear",
    "feedback.CalendarDay",
    "auth.User",
    "auth.Group",
    "authtoken.TokenProxy",
    "axes.AccessAttempt",
    "axes.AccessLog",
    "axes.AccessFailureLog",
    "otp_static.StaticDevice",
    "otp_totp.TOTPDevice",
}
# Fields of a THROUGH_SERVICES model that no rule guards and the change form may edit.
FREE_FIELDS = {
    "channels_citizen.Visit": {"notes"},
    "channels_enterprise.EnterpriseDay": {"place", "note", "leaders", "departments", "enterprises"},
    "channels_enterprise.Enterprise": {
        "name",
        "credit_code",
        "park",
        "sector",
        "contact_name",
        "contact_phone",
        "active",
    },
    "feedback.Department": {"code", "name", "short_names", "kind", "channel", "sort_order"},
}


@pytest.fixture
def root(reference: None) -> Any:
    return make_user("root", superuser=True)


def request_as(user: Any) -> Any:
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def registry() -> dict[str, ModelAdmin]:
    return {model._meta.label: model_admin for model, model_admin in admin.site._registry.items()}


def test_every_registered_admin_is_classified() -> None:
    unclassified = set(registry()) - READ_ONLY - set(THROUGH_SERVICES) - REFERENCE
    assert not unclassified, f"classify these admins (read-only, through services, or reference): {unclassified}"
    assert (READ_ONLY | set(THROUGH_SERVICES)) <= set(registry())


@pytest.mark.parametrize("label", sorted(READ_ONLY))
def test_workflow_records_are_read_only_in_the_admin(root: Any, label: str) -> None:
    model_admin = registry()[label]
    request = request_as(root)
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


@pytest.mark.parametrize("label", sorted(THROUGH_SERVICES))
def test_workflow_records_changed_in_the_admin_go_through_services(root: Any, label: str) -> None:
    model_admin = registry()[label]
    request = request_as(root)
    assert not model_admin.has_delete_permission(request)
    model = model_admin.model
    instance = model()
    instance.pk = 1  # a change form, not an add form
    shown = set(model_admin.get_fields(request, instance))
    editable = shown - set(model_admin.get_readonly_fields(request, instance))
    saves_through_service = (
        type(model_admin).save_model is not ModelAdmin.save_model
        or type(model_admin).save_related is not ModelAdmin.save_related
    )
    assert editable <= FREE_FIELDS.get(label, set()) or saves_through_service, (
        f"{label}: {sorted(editable)} editable and saved by ModelAdmin.save_model, around the services"
    )
    if label in {"channels_citizen.NoMeetingWeek", "channels_citizen.CitizenIntake", "channels_citizen.Village"}:
        assert not editable


def test_a_department_with_open_assignments_is_not_retired_and_the_refusal_names_them(netoffice, root) -> None:
    first, _ = assigned(netoffice, title="天桥")
    second, _ = assigned(netoffice, title="路灯", lead="jyj", co=("zjj",))
    zjj = Department.objects.get(code="zjj")
    with pytest.raises(DepartmentHasOpenWork) as refused:
        retire_department(actor=root, department=zjj)
    assert refused.value.refs == sorted([first.ref, second.ref])
    assert first.ref in refused.value.message and second.ref in refused.value.message
    assert "改派" in refused.value.message and "2 件" in refused.value.message
    zjj.refresh_from_db()
    assert zjj.active


def test_a_department_without_open_work_is_retired_and_only_by_an_administrator(netoffice, root) -> None:
    sthj = Department.objects.get(code="sthj")
    with pytest.raises(NotPermitted):
        retire_department(actor=netoffice, department=sthj)
    retire_department(actor=root, department=sthj)
    sthj.refresh_from_db()
    assert not sthj.active
    retire_department(actor=root, department=sthj)  # a repeat is harmless


def test_the_admin_action_retires_through_the_service(client, netoffice, root) -> None:
    issue, _ = assigned(netoffice, title="天桥")
    client.force_login(root)
    ids = list(Department.objects.filter(code__in=["zjj", "sthj"]).values_list("pk", flat=True))
    response = client.post(
        reverse("admin:feedback_department_changelist"),
        {"action": "retire", "_selected_action": ids},
        follow=True,
    )
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(issue.ref in t and "不能停用县住房和城乡建设局" in t for t in texts), texts
    assert any("已停用 1 个单位" in t for t in texts), texts
    assert dict(Department.objects.filter(pk__in=ids).values_list("code", "active")) == {"zjj": True, "sthj": False}
    # the one real change is an audit event; the refused one and a repeat are none
    from feedback.models.security import AuditEvent

    client.post(reverse("admin:feedback_department_changelist"), {"action": "retire", "_selected_action": ids})
    events = AuditEvent.objects.filter(action__startswith="department_")
    assert list(events.values_list("action", "object_id", "actor")) == [("department_retired", "sthj", root.username)]
    client.post(
        reverse("admin:feedback_department_changelist"),
        {"action": "reactivate", "_selected_action": [Department.objects.get(code="sthj").pk]},
    )
    assert events.filter(action="department_reactivated").count() == 1


def test_the_department_change_form_cannot_flip_active_around_the_service(client, netoffice, root) -> None:
    assigned(netoffice, title="天桥")
    zjj = Department.objects.get(code="zjj")
    client.force_login(root)
    url = reverse("admin:feedback_department_change", args=[zjj.pk])
    page = client.get(url).content.decode()
    assert 'name="active"' not in page
    client.post(
        url,
        {
            "code": zjj.code,
            "name": zjj.name,
            "short_names": zjj.short_names,
            "kind": zjj.kind,
            "channel": zjj.channel,
            "sort_order": zjj.sort_order,
            "active": "",
        },
    )
    zjj.refresh_from_db()
    assert zjj.active
