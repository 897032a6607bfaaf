"""Objections to an assignment (异议) within five working days, and the office's decision."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from feedback import states
from feedback.deadlines import DeadlineInputError, WorkCalendar, compute_deadline
from feedback.errors import (
    ConcurrentChange,
    IllegalTransition,
    InvalidInput,
    WorkflowError,
)
from feedback.models import (
    Assignment,
    DeadlineUnit,
    Department,
    ExtensionRequest,
    Issue,
    Notification,
    Objection,
)
from feedback.services import notifications
from feedback.services.assignments import refuse_accused
from feedback.services.guards import (
    check_handling_department,
    lock_assignment,
    office_members,
    require_member,
    require_office,
)
from feedback.services.ladder import schedule_steps
from feedback.workcalendar import deadline_for, load_calendar

# DOMAIN.md "Workflow": an objection to misrouting within 5 working days (信访工作条例 art. 31).
OBJECTION_WINDOW_WORKING_DAYS = 5


def objection_window_start(assignment: Assignment) -> datetime.date:
    """The day the department received the assignment: its assignment date, or, for an assignment
    handed over after an objection with the clock continued (it keeps the original assignment
    date), the day of that hand-over."""
    handed_over = Objection.objects.filter(new_assignment=assignment).values_list("decided_at", flat=True).first()
    if handed_over is None:
        return assignment.assigned_on
    return max(assignment.assigned_on, timezone.localdate(handed_over))


def objection_last_day(assignment: Assignment, calendar: WorkCalendar | None = None) -> datetime.date:
    """The last day the department may object: the 5th working day after it received the assignment."""
    start = objection_window_start(assignment)
    calendar = calendar or load_calendar(start, start + datetime.timedelta(days=45))
    return compute_deadline(start, OBJECTION_WINDOW_WORKING_DAYS, DeadlineUnit.WORKING_DAY, calendar).due_date


def objection_refusal(
    assignment: Assignment, objections: Sequence[Objection], *, last_day: datetime.date, today: datetime.date
) -> WorkflowError | None:
    """Why the department may not object now (None: it may). Shared by the service and the page,
    so the form is offered exactly when the service would accept it."""
    if assignment.status not in states.ASSIGNMENT_MOVES["withdraw"].sources:
        return IllegalTransition(f"当前状态为“{assignment.get_status_display()}”，不能提出异议。")
    statuses = {o.status for o in objections}
    if Objection.Status.PENDING in statuses:
        return ConcurrentChange("已有一份异议在等待直通车办公室决定，请勿重复提出。")
    if Objection.Status.REJECTED in statuses:
        return IllegalTransition("本单位对该交办的异议已被驳回，请按交办要求办理。")
    if today > last_day:
        return InvalidInput(
            f"已超过提出异议的期限：异议须在收到交办后 {OBJECTION_WINDOW_WORKING_DAYS} 个工作日内提出，"
            f"最后一天是 {last_day:%Y年%m月%d日}。请按交办要求办理，或与直通车办公室联系。"
        )
    return None


@transaction.atomic
def raise_objection(
    *, actor: User | None, assignment: Assignment, reason: str, suggested_department: Department | None = None
) -> Objection:
    """异议: the assigned department says the issue is not its business. The assignment keeps its
    clock while the office decides: "not ours" never stops or closes anything by itself."""
    assignment = lock_assignment(assignment)
    require_member(actor, assignment)
    if not reason.strip():
        raise InvalidInput("请写明异议理由（为什么不属于本单位职责）。", field="reason")
    if suggested_department is not None:
        if suggested_department.pk == assignment.department_id:
            raise InvalidInput("建议改派单位不能是本单位。", field="suggested_department")
        check_handling_department(suggested_department, field="suggested_department")
    refusal = objection_refusal(
        assignment,
        list(assignment.objections.all()),
        last_day=objection_last_day(assignment),
        today=timezone.localdate(),
    )
    if refusal is not None:
        raise refusal
    try:
        with transaction.atomic():
            objection = Objection.objects.create(
                assignment=assignment, reason=reason.strip(), suggested_department=suggested_department, raised_by=actor
            )
    except IntegrityError:
        # Two members of the department objecting at once: the partial unique index decides.
        raise ConcurrentChange("已有一份异议在等待直通车办公室决定，请勿重复提出。") from None
    issue = assignment.issue
    suggestion = f"；建议改派：{suggested_department.name}" if suggested_department else ""
    states.record(issue, "objection_raised", actor=actor, assignment=assignment, note=f"{reason.strip()}{suggestion}")
    notifications.notify_users(
        assignment,
        f"objection_{objection.pk}",
        office_members(issue.channel),
        title=f"异议待决定：{assignment.department.name}·{issue.title}",
        body=f"{assignment.department.name}对 {issue.ref}“{issue.title}”的交办提出异议：{reason.strip()}{suggestion}。"
        "请在诉求页面同意改派或驳回。",
    )
    return objection


def _lock_pending_objection(objection: Objection, actor: User | None) -> tuple[Objection, Assignment]:
    objection = Objection.objects.select_for_update().get(pk=objection.pk)
    assignment = lock_assignment(objection.assignment)
    require_office(actor, assignment.issue)
    if objection.status != Objection.Status.PENDING:
        raise IllegalTransition(f"该异议已{objection.get_status_display()}，不能再次决定。")
    return objection, assignment


@transaction.atomic
def reject_objection(*, actor: User | None, objection: Objection, note: str) -> Objection:
    """驳回异议: the department must handle the issue, on its original clock."""
    objection, assignment = _lock_pending_objection(objection, actor)
    if not note.strip():
        raise InvalidInput("驳回异议时请写明理由。", field="note")
    objection.status = Objection.Status.REJECTED
    objection.decided_by, objection.decided_at, objection.decision_note = actor, timezone.now(), note.strip()
    objection.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    issue = assignment.issue
    states.record(issue, "objection_rejected", actor=actor, assignment=assignment, note=note.strip())
    notifications.notify_department(
        assignment,
        f"objection_{objection.pk}_decided",
        title=f"异议被驳回：{issue.title}",
        body=f"贵单位对 {issue.ref}“{issue.title}”的异议未被采纳，理由：{note.strip()}。"
        f"请按交办要求办理，办理期限 {assignment.due_date:%Y年%m月%d日}。",
    )
    return objection


@transaction.atomic
def accept_objection(
    *, actor: User | None, objection: Objection, department: Department, clock: str, note: str = ""
) -> Objection:
    """同意异议并改派: the objected assignment is withdrawn and ``department`` gets a new one with
    the same role. ``clock`` is the office's choice: ``continue`` keeps the assignment date and the
    due date (the time already used stays used), ``restart`` counts the same limit again from today."""
    objection, old = _lock_pending_objection(objection, actor)
    issue = Issue.objects.select_for_update().get(pk=old.issue_id)
    if clock not in Objection.Clock.values:
        raise InvalidInput(
            "请选择改派后的办理期限：continue（沿用原期限）或 restart（从今天重新起算）。", field="clock"
        )
    if department.pk == old.department_id:
        raise InvalidInput("改派单位不能是提出异议的单位；如认为应由该单位办理，请驳回异议。", field="department")
    check_handling_department(department, field="department")
    refuse_accused(issue, [department], field="department")
    if issue.assignments.live().filter(department=department).exists():
        raise InvalidInput(f"“{department.name}”已是本诉求的承办单位，不能重复交办。", field="department")
    today = timezone.localdate()
    if clock == Objection.Clock.RESTART:
        try:
            deadline = deadline_for(
                today, old.deadline_amount, old.deadline_unit, policy_name=str(old.policy) if old.policy else ""
            )
        except DeadlineInputError as exc:
            raise InvalidInput(str(exc), field="clock") from None
        assigned_on, due_date, original_due_date = today, deadline.due_date, deadline.due_date
        provisional, explanation = deadline.provisional, "；".join(deadline.explanation)
    else:
        assigned_on, due_date, original_due_date = old.assigned_on, old.due_date, old.original_due_date
        provisional = old.provisional
        explanation = f"异议改派，沿用原办理期限 {old.due_date:%Y-%m-%d}（原交办日期 {old.assigned_on:%Y-%m-%d}）"
    reason = f"异议成立，改派{department.name}" + (f"：{note.strip()}" if note.strip() else "")
    states.move(old, "withdraw", actor=actor, note=reason)
    schedule_steps(old)  # out of the workflow: no more reminders or escalation
    for pending in old.extensions.select_for_update().filter(status=ExtensionRequest.Status.PENDING):
        pending.status, pending.decided_by, pending.decided_at = ExtensionRequest.Status.REJECTED, actor, timezone.now()
        pending.decision_note = "交办已退回改派，延期申请不再审批。"
        pending.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    new = Assignment.objects.create(
        issue=issue,
        department=department,
        role=old.role,
        assigned_on=assigned_on,
        deadline_amount=old.deadline_amount,
        deadline_unit=old.deadline_unit,
        policy=old.policy,
        due_date=due_date,
        original_due_date=original_due_date,
        provisional=provisional,
    )
    states.record(
        issue, "assigned_to", actor=actor, assignment=new, note=f"因{old.department.name}异议成立改派；{explanation}"
    )
    schedule_steps(new)
    objection.status = Objection.Status.ACCEPTED
    objection.decided_by, objection.decided_at, objection.decision_note = actor, timezone.now(), note.strip()
    objection.clock, objection.new_assignment = clock, new
    objection.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "clock", "new_assignment"])
    states.record(
        issue,
        "objection_accepted",
        actor=actor,
        assignment=old,
        note=f"{reason}；{Objection.Clock(clock).label}，办理期限 {new.due_date:%Y-%m-%d}",
    )
    notifications.notify_department(
        old,
        f"objection_{objection.pk}_decided",
        title=f"异议已同意：{issue.title}",
        body=f"贵单位对 {issue.ref}“{issue.title}”的异议已被采纳，该事项已改派{department.name}，贵单位无需再办理。",
    )
    notifications.notify_department(
        new,
        Notification.Kind.ASSIGNED,
        title=f"新交办：{issue.title}",
        body=f"{issue.get_channel_display()}诉求 {issue.ref}“{issue.title}”经{old.department.name}提出异议后改由贵单位"
        f"{new.get_role_display()}，办理期限 {new.due_date:%Y年%m月%d日}。",
    )
    return objection


# --- Deadline enforcement: the ladder, extensions and calendar changes ------------------------------
