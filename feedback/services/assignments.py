"""Assigning an issue to its lead and co-handling departments, and their acknowledgement."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from feedback import states
from feedback.deadlines import DeadlineInputError
from feedback.errors import (
    InvalidInput,
)
from feedback.models import (
    Assignment,
    DeadlinePolicy,
    Department,
    Issue,
    Notification,
)
from feedback.services import notifications
from feedback.services.guards import lock_assignment, require_member, require_office
from feedback.services.ladder import schedule_steps
from feedback.workcalendar import deadline_for

# 检举控告: only these natures may name an accused unit (Issue constraint accusation_is_report_or_complaint).
ACCUSATION_NATURES = (Issue.Nature.REPORT, Issue.Nature.COMPLAINT)


def refuse_accused(issue: Issue, departments: Sequence[Department], *, field: str) -> None:
    """信访工作条例 art. 30: the accused unit must never receive the accusation it is accused in."""
    for dept in departments:
        if issue.accused_department_id is not None and dept.pk == issue.accused_department_id:
            raise InvalidInput(
                f"“{dept.name}”是本诉求的被举报单位，不能交由其办理（《信访工作条例》第三十条："
                "检举控告材料不得透露、转送给被检举控告的单位）。",
                field=field,
            )


def policy_for(channel: str, nature: str) -> DeadlinePolicy | None:
    policies = {p.nature: p for p in DeadlinePolicy.objects.filter(channel=channel, active=True)}
    return policies.get(nature) or policies.get("")


def check_departments(lead: Department, co: Sequence[Department]) -> None:
    if not lead.active:
        raise InvalidInput(f"主办单位“{lead.name}”已停用。", field="lead")
    if lead.kind == Department.Kind.OFFICE:
        raise InvalidInput("直通车办公室不能作为承办单位。", field="lead")
    seen = {lead.pk}
    for dept in co:
        if dept.pk == lead.pk:
            raise InvalidInput(f"协办单位“{dept.name}”与主办单位相同。", field="co")
        if dept.pk in seen:
            raise InvalidInput(f"协办单位“{dept.name}”重复。", field="co")
        if not dept.active:
            raise InvalidInput(f"协办单位“{dept.name}”已停用。", field="co")
        if dept.kind == Department.Kind.OFFICE:
            raise InvalidInput("直通车办公室不能作为承办单位。", field="co")
        seen.add(dept.pk)


@transaction.atomic
def assign_issue(
    *,
    actor: User | None,
    issue: Issue,
    lead: Department,
    co: Sequence[Department] = (),
    assigned_on: datetime.date | None = None,
    deadline_amount: int | None = None,
    deadline_unit: str | None = None,
    note: str = "",
) -> list[Assignment]:
    """Hand an issue to one lead department and any co-handling departments."""
    issue = Issue.objects.select_for_update().get(pk=issue.pk)
    require_office(actor, issue)
    check_departments(lead, co)
    refuse_accused(issue, [lead], field="lead")
    refuse_accused(issue, co, field="co")
    assigned_on = assigned_on or timezone.localdate()
    if assigned_on < issue.received_on:
        raise InvalidInput("交办日期不能早于受理日期。", field="assigned_on")
    if (deadline_amount is None) != (deadline_unit is None):
        raise InvalidInput("办理时限和时限单位需同时填写，或同时留空（按渠道默认时限）。", field="deadline_amount")
    policy = None
    if deadline_amount is None:
        policy = policy_for(issue.channel, issue.nature)
        if policy is None:
            raise InvalidInput("该渠道尚未设置默认办理时限，请填写时限。", field="deadline_amount")
        deadline_amount, deadline_unit = policy.amount, policy.unit
    if deadline_unit is None:
        raise InvalidInput("请选择办理时限的单位。", field="deadline_unit")
    try:
        deadline = deadline_for(assigned_on, deadline_amount, deadline_unit, policy_name=str(policy) if policy else "")
    except DeadlineInputError as exc:
        raise InvalidInput(str(exc), field="deadline_amount") from None
    states.move(issue, "assign", actor=actor, note=note or assign_note(lead, co, deadline.due_date))
    created = []
    for role, dept in [(Assignment.Role.LEAD, lead), *((Assignment.Role.CO, d) for d in co)]:
        assignment = Assignment.objects.create(
            issue=issue,
            department=dept,
            role=role,
            assigned_on=assigned_on,
            deadline_amount=deadline_amount,
            deadline_unit=deadline_unit,
            policy=policy,
            due_date=deadline.due_date,
            original_due_date=deadline.due_date,
            provisional=deadline.provisional,
        )
        states.record(issue, "assigned_to", actor=actor, assignment=assignment, note="；".join(deadline.explanation))
        schedule_steps(assignment)
        notifications.notify_department(
            assignment,
            Notification.Kind.ASSIGNED,
            title=f"新交办：{issue.title}",
            body=f"{issue.get_channel_display()}诉求 {issue.ref}“{issue.title}”已交由贵单位"
            f"{assignment.get_role_display()}，办理期限 {assignment.due_date:%Y年%m月%d日}。",
        )
        created.append(assignment)
    return created


def assign_note(lead: Department, co: Sequence[Department], due: datetime.date) -> str:
    parts = [f"主办：{lead.name}"]
    if co:
        parts.append("协办：" + "、".join(d.name for d in co))
    parts.append(f"期限：{due:%Y-%m-%d}")
    return "；".join(parts)


@transaction.atomic
def acknowledge_assignment(*, actor: User | None, assignment: Assignment) -> Assignment:
    """签收. A second acknowledgement is harmless (no-op)."""
    assignment = lock_assignment(assignment)
    require_member(actor, assignment)
    if assignment.status != Assignment.Status.PENDING:
        return assignment
    assignment.acknowledged_at = timezone.now()
    assignment.save(update_fields=["acknowledged_at"])
    states.move(assignment, "acknowledge", actor=actor)
    return assignment
