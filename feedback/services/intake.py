"""Registering issues and their requesters."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from feedback import states
from feedback.access import registrable_channels
from feedback.errors import (
    DuplicateReference,
    InvalidInput,
    NotPermitted,
)
from feedback.models import (
    Category,
    Channel,
    Department,
    Issue,
    Requester,
)
from feedback.services.assignments import ACCUSATION_NATURES, assign_issue
from feedback.services.ladder import settle_passed_steps

REF_PREFIX = {Channel.NET: "ZW", Channel.ENTERPRISE: "ZQ", Channel.CITIZEN: "ZM"}


@dataclass(frozen=True)
class RequesterData:
    name: str
    phone: str = ""
    kind: str = Requester.Kind.PERSON
    organization: str = ""


def find_or_create_requester(data: RequesterData) -> Requester:
    """docs/api.md: a requester is identified by phone when given, otherwise by name."""
    name = data.name.strip()
    phone = data.phone.strip().replace(" ", "").replace("-", "")
    if not name:
        raise InvalidInput("请填写诉求人姓名或网名。", field="requester_name")
    if phone and not (phone.isdigit() and 7 <= len(phone) <= 15):
        raise InvalidInput("联系电话格式不正确，应为 7–15 位数字。", field="requester_phone")
    if phone:
        found = Requester.objects.filter(phone=phone).order_by("id").first()
    else:
        found = Requester.objects.filter(phone="", name=name).order_by("id").first()
    if found:
        return found
    return Requester.objects.create(name=name, phone=phone, kind=data.kind, organization=data.organization.strip())


def next_reference(channel: str, received_on: datetime.date) -> str:
    prefix = f"{REF_PREFIX[Channel(channel)]}{received_on:%Y}"
    last = (
        Issue.objects.filter(ref__startswith=prefix, ref__regex=rf"^{prefix}-\d{{5}}$")
        .order_by("-ref")
        .values_list("ref", flat=True)
        .first()
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}-{number:05d}"


@transaction.atomic
def register_issue(
    *,
    actor: User | None,
    channel: str,
    category: Category,
    requester: RequesterData,
    title: str,
    content: str,
    received_on: datetime.date,
    nature: str = Issue.Nature.SUGGESTION,
    onsite_answer: str = "",
    ref: str | None = None,
    accused_department: Department | None = None,
) -> Issue:
    if channel not in Channel.values:
        raise InvalidInput(f"未知渠道：{channel}", field="channel")
    if actor is not None and channel not in registrable_channels(actor):
        raise NotPermitted(f"您不能登记{Channel(channel).label}的诉求。")
    if nature not in Issue.Nature.values:
        raise InvalidInput(f"未知诉求性质：{nature}", field="nature")
    if not category.active:
        raise InvalidInput(f"分类“{category.name}”已停用。", field="category")
    if not title.strip():
        raise InvalidInput("请填写标题。", field="title")
    if not content.strip():
        raise InvalidInput("请填写诉求内容。", field="content")
    if received_on > timezone.localdate():
        raise InvalidInput("受理日期不能晚于今天。", field="received_on")
    if accused_department is not None and nature not in ACCUSATION_NATURES:
        raise InvalidInput("只有举报、投诉类诉求可以填写被举报单位。", field="accused_department")
    if accused_department is not None and accused_department.kind == Department.Kind.OFFICE:
        raise InvalidInput("直通车办公室不能作为被举报单位登记，请报纪检监察机关处理。", field="accused_department")
    ref = (ref or "").strip() or next_reference(channel, received_on)
    if Issue.objects.filter(ref=ref).exists():
        raise DuplicateReference(f"编号“{ref}”已存在，请勿重复登记。", field="ref")
    who = find_or_create_requester(requester)
    try:
        with transaction.atomic():
            issue = Issue.objects.create(
                ref=ref,
                channel=channel,
                nature=nature,
                category=category,
                requester=who,
                title=title.strip(),
                content=content.strip(),
                received_on=received_on,
                onsite_answer=onsite_answer.strip(),
                registered_by=actor,
                accused_department=accused_department,
            )
    except IntegrityError:
        # Two clerks registering the same reference at once: the unique index decides.
        raise DuplicateReference(f"编号“{ref}”已存在，请勿重复登记。", field="ref") from None
    states.record(issue, "register", actor=actor, note=f"{issue.get_channel_display()}：{issue.title}")
    return issue


@transaction.atomic
def register_and_assign_issue(
    *,
    actor: User | None,
    lead: Department | None = None,
    co: Sequence[Department] = (),
    deadline_amount: int | None = None,
    deadline_unit: str | None = None,
    accused_department: Department | None = None,
    assigned_on: datetime.date | None = None,
    **registration: Any,
) -> Issue:
    """Register an issue and, when a lead department is given, assign it: both or neither.

    ``assigned_on`` in the past (a session recorded afterwards, issue 13 §3): the ladder steps
    already past are recorded, not announced, and the department hears the current state once."""
    issue = register_issue(actor=actor, accused_department=accused_department, **registration)
    if lead is not None:
        assignments = assign_issue(
            actor=actor,
            issue=issue,
            lead=lead,
            co=co,
            deadline_amount=deadline_amount,
            deadline_unit=deadline_unit,
            assigned_on=assigned_on,
        )
        if assigned_on is not None and assigned_on < timezone.localdate():
            settle_passed_steps(assignments, now=timezone.now(), when="session")
    elif co:
        raise InvalidInput("选择协办单位时必须同时选择主办单位。", field="lead")
    return issue
