"""Extension requests (延期) and their decision."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from feedback import states
from feedback.deadlines import WorkCalendar, compute_deadline
from feedback.errors import (
    ConcurrentChange,
    IllegalTransition,
    InvalidInput,
)
from feedback.models import (
    Assignment,
    Channel,
    ExtensionRequest,
)
from feedback.services import notifications
from feedback.services.assignments import policy_for
from feedback.services.guards import lock_assignment, require_member, require_office
from feedback.services.ladder import schedule_steps
from feedback.workcalendar import load_calendar


def extension_limit(assignment: Assignment, calendar: WorkCalendar | None = None) -> datetime.date | None:
    """The latest date an extension may reach under the assignment's policy (None: no extension allowed)."""
    policy = assignment.policy or policy_for(assignment.issue.channel, assignment.issue.nature)
    if policy is None or policy.extension_max_amount == 0:
        return None
    calendar = calendar or load_calendar(
        assignment.original_due_date, assignment.original_due_date + datetime.timedelta(days=120)
    )
    return compute_deadline(
        assignment.original_due_date, policy.extension_max_amount, policy.extension_unit, calendar
    ).due_date


@transaction.atomic
def request_extension(
    *, actor: User | None, assignment: Assignment, requested_due_date: datetime.date, reason: str
) -> ExtensionRequest:
    """延期申请 by the assigned department: before the due date, within the policy's limit."""
    assignment = lock_assignment(assignment)
    require_member(actor, assignment)
    if not reason.strip():
        raise InvalidInput("请写明延期理由。", field="reason")
    if not assignment.is_open:
        raise IllegalTransition(f"当前状态为“{assignment.get_status_display()}”，不能申请延期。")
    if timezone.localdate() > assignment.due_date:
        raise InvalidInput(
            f"已超过办理期限（{assignment.due_date:%Y-%m-%d}），不能再申请延期，请尽快办理。",
            field="requested_due_date",
        )
    if requested_due_date <= assignment.due_date:
        raise InvalidInput("申请延至的日期必须晚于当前办理期限。", field="requested_due_date")
    limit = extension_limit(assignment)
    if limit is None:
        raise InvalidInput("该类诉求的办理时限规则不允许延期。", field="requested_due_date")
    if requested_due_date > limit:
        raise InvalidInput(f"超出规定的最长延期：最晚可延至 {limit:%Y-%m-%d}。", field="requested_due_date")
    if (
        assignment.issue.channel == Channel.CITIZEN
        and assignment.extensions.filter(status=ExtensionRequest.Status.APPROVED).exists()
    ):
        raise InvalidInput("信访事项只能延期一次（《信访工作条例》第三十四条）。", field="requested_due_date")
    if assignment.extensions.filter(status=ExtensionRequest.Status.PENDING).exists():
        raise ConcurrentChange("已有一份延期申请在等待审批。")
    request = ExtensionRequest.objects.create(
        assignment=assignment,
        reason=reason.strip(),
        current_due_date=assignment.due_date,
        requested_due_date=requested_due_date,
        requested_by=actor,
    )
    states.record(
        assignment.issue,
        "extension_requested",
        actor=actor,
        assignment=assignment,
        note=f"申请延至 {requested_due_date:%Y-%m-%d}：{reason.strip()}",
    )
    return request


@transaction.atomic
def decide_extension(
    *, actor: User | None, request: ExtensionRequest, approve: bool, note: str = ""
) -> ExtensionRequest:
    """The channel office approves (new due date, a new deadline version) or rejects (with a reason)."""
    request = ExtensionRequest.objects.select_for_update().get(pk=request.pk)
    assignment = lock_assignment(request.assignment)
    require_office(actor, assignment.issue)
    if request.status != ExtensionRequest.Status.PENDING:
        raise IllegalTransition(f"该延期申请已{request.get_status_display()}。")
    if approve and not assignment.is_open:
        raise IllegalTransition(f"该交办当前状态为“{assignment.get_status_display()}”，无需再延期。")
    if not approve and not note.strip():
        raise InvalidInput("不批准延期时请写明理由。", field="note")
    request.status = ExtensionRequest.Status.APPROVED if approve else ExtensionRequest.Status.REJECTED
    request.decided_by, request.decided_at, request.decision_note = actor, timezone.now(), note.strip()
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    if approve:
        assignment.due_date = request.requested_due_date
        assignment.deadline_version += 1
        assignment.save(update_fields=["due_date", "deadline_version"])
        schedule_steps(assignment)
    verdict = "批准" if approve else "不批准"
    detail = f"{verdict}延期至 {request.requested_due_date:%Y-%m-%d}"
    states.record(
        assignment.issue,
        "extension_decided",
        actor=actor,
        assignment=assignment,
        note=f"{detail}：{note.strip()}" if note.strip() else detail,
    )
    notifications.notify_department(
        assignment,
        f"extension_{request.pk}",
        title=f"延期申请{verdict}：{assignment.issue.title}",
        body=f"贵单位对 {assignment.issue.ref} 的延期申请已{verdict}。"
        f"当前办理期限 {assignment.due_date:%Y年%m月%d日}。",
    )
    return request
