"""The only write path of the core.

Every state change is a verb-first function here, called alike by HTML views, API
views, tasks, admin actions and commands. Each takes keyword-only arguments, runs in
one transaction, locks the rows it changes, and records history via ``states.move``.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from . import notifications, states
from .access import registrable_channels
from .deadlines import DeadlineInputError, LadderStep, WorkCalendar, compute_deadline, ladder
from .errors import ConcurrentChange, DuplicateReference, IllegalTransition, InvalidInput, NotPermitted
from .models import (
    Assignment,
    Category,
    Channel,
    DeadlinePolicy,
    DeadlineStep,
    Department,
    ExtensionRequest,
    HistoryEntry,
    Issue,
    Membership,
    Notification,
    Requester,
    SignedReply,
)
from .uploads import validate_reply_file
from .workcalendar import deadline_for, load_calendar

User = AbstractBaseUser
REF_PREFIX = {Channel.NET: "ZW", Channel.ENTERPRISE: "ZQ", Channel.CITIZEN: "ZM"}


@dataclass(frozen=True)
class RequesterData:
    name: str
    phone: str = ""
    kind: str = Requester.Kind.PERSON
    organization: str = ""


def find_or_create_requester(data: RequesterData) -> Requester:
    """CONTRACT.md: a requester is identified by phone when given, otherwise by name."""
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
    prefix = f"{REF_PREFIX[channel]}{received_on:%Y}"
    last = (Issue.objects.filter(ref__startswith=prefix, ref__regex=rf"^{prefix}-\d{{5}}$")
            .order_by("-ref").values_list("ref", flat=True).first())
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
    ref = (ref or "").strip() or next_reference(channel, received_on)
    if Issue.objects.filter(ref=ref).exists():
        raise DuplicateReference(f"编号“{ref}”已存在，请勿重复登记。", field="ref")
    who = find_or_create_requester(requester)
    try:
        with transaction.atomic():
            issue = Issue.objects.create(
                ref=ref, channel=channel, nature=nature, category=category, requester=who,
                title=title.strip(), content=content.strip(), received_on=received_on,
                onsite_answer=onsite_answer.strip(), registered_by=actor,
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
    **registration: object,
) -> Issue:
    """Register an issue and, when a lead department is given, assign it: both or neither."""
    issue = register_issue(actor=actor, **registration)  # type: ignore[arg-type]
    if lead is not None:
        assign_issue(actor=actor, issue=issue, lead=lead, co=co, deadline_amount=deadline_amount,
                     deadline_unit=deadline_unit)
    elif co:
        raise InvalidInput("选择协办单位时必须同时选择主办单位。", field="lead")
    return issue


def policy_for(channel: str, nature: str) -> DeadlinePolicy | None:
    policies = {p.nature: p for p in DeadlinePolicy.objects.filter(channel=channel, active=True)}
    return policies.get(nature) or policies.get("")


def _check_departments(lead: Department, co: Sequence[Department]) -> None:
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
    _require_office(actor, issue)
    _check_departments(lead, co)
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
    try:
        deadline = deadline_for(assigned_on, deadline_amount, deadline_unit,
                                policy_name=str(policy) if policy else "")
    except DeadlineInputError as exc:
        raise InvalidInput(str(exc), field="deadline_amount") from None
    states.move(issue, "assign", actor=actor, note=note or _assign_note(lead, co, deadline.due_date))
    created = []
    for role, dept in [(Assignment.Role.LEAD, lead), *((Assignment.Role.CO, d) for d in co)]:
        assignment = Assignment.objects.create(
            issue=issue, department=dept, role=role, assigned_on=assigned_on,
            deadline_amount=deadline_amount, deadline_unit=deadline_unit, policy=policy,
            due_date=deadline.due_date, original_due_date=deadline.due_date, provisional=deadline.provisional,
        )
        states.record(issue, "assigned_to", actor=actor, assignment=assignment,
                      note="；".join(deadline.explanation))
        schedule_next_step(assignment)
        notifications.notify_department(
            assignment, Notification.Kind.ASSIGNED, title=f"新交办：{issue.title}",
            body=f"{issue.get_channel_display()}诉求 {issue.ref}“{issue.title}”已交由贵单位"
                 f"{assignment.get_role_display()}，办理期限 {assignment.due_date:%Y年%m月%d日}。")
        created.append(assignment)
    return created


def _assign_note(lead: Department, co: Sequence[Department], due: datetime.date) -> str:
    parts = [f"主办：{lead.name}"]
    if co:
        parts.append("协办：" + "、".join(d.name for d in co))
    parts.append(f"期限：{due:%Y-%m-%d}")
    return "；".join(parts)


def _lock_assignment(assignment: Assignment) -> Assignment:
    return Assignment.objects.select_for_update().select_related("issue", "department").get(pk=assignment.pk)


def _require_member(actor: User | None, assignment: Assignment) -> None:
    from .access import is_member_of

    if actor is not None and not is_member_of(actor, assignment.department):
        raise NotPermitted("只有承办单位的人员可以执行此操作。")


@transaction.atomic
def acknowledge_assignment(*, actor: User | None, assignment: Assignment) -> Assignment:
    """签收. A second acknowledgement is harmless (no-op)."""
    assignment = _lock_assignment(assignment)
    _require_member(actor, assignment)
    if assignment.status != Assignment.Status.PENDING:
        return assignment
    assignment.acknowledged_at = timezone.now()
    assignment.save(update_fields=["acknowledged_at"])
    states.move(assignment, "acknowledge", actor=actor)
    return assignment


@transaction.atomic
def submit_reply(
    *,
    actor: User | None,
    assignment: Assignment,
    file: UploadedFile,
    signer_name: str,
    signer_title: str,
    signed_on: datetime.date,
    result: str,
    summary: str,
) -> SignedReply:
    """Upload the stamped, signed letter. The file is checked before anything is stored."""
    _require_member(actor, assignment)  # who may reply does not change while we check the file
    checked = validate_reply_file(file)
    if result not in SignedReply.Result.values:
        raise InvalidInput("办理结果无效。", field="result")
    if not signer_name.strip():
        raise InvalidInput("请填写签发人姓名。", field="signer_name")
    if not signer_title.strip():
        raise InvalidInput("请填写签发人职务。", field="signer_title")
    if not summary.strip():
        raise InvalidInput("请填写答复摘要。", field="summary")
    assignment = _lock_assignment(assignment)
    _require_member(actor, assignment)
    if signed_on > timezone.localdate():
        raise InvalidInput("签发日期不能晚于今天。", field="signed_on")
    if signed_on < assignment.assigned_on:
        raise InvalidInput("签发日期不能早于交办日期。", field="signed_on")
    if assignment.status == Assignment.Status.SUBMITTED:
        raise ConcurrentChange("该交办已有一份回复在等待审核，请勿重复提交。")
    was_pending = assignment.status == Assignment.Status.PENDING
    if was_pending:
        assignment.acknowledged_at = timezone.now()
        assignment.save(update_fields=["acknowledged_at"])
    states.move(assignment, "submit_reply", actor=actor,
                note=f"{SignedReply.Result(result).label}：{summary.strip()[:200]}")
    version = (assignment.replies.order_by("-version").values_list("version", flat=True).first() or 0) + 1
    file.name = checked.safe_name
    reply = SignedReply(
        assignment=assignment, version=version, file=file, original_name=checked.safe_name,
        content_type=checked.content_type, size=checked.size, sha256=checked.sha256,
        signer_name=signer_name.strip(), signer_title=signer_title.strip(), signed_on=signed_on,
        result=result, summary=summary.strip(), submitted_by=actor,
    )
    try:
        with transaction.atomic():
            reply.save()
    except IntegrityError:
        # The file is written before the INSERT; don't leave it behind when the row loses.
        if reply.file.name:
            reply.file.storage.delete(reply.file.name)
        raise ConcurrentChange("该交办刚刚已有人提交了回复，请刷新后查看。") from None
    return reply


def _lock_reply(reply: SignedReply) -> SignedReply:
    return (SignedReply.objects.select_for_update()
            .select_related("assignment", "assignment__issue", "assignment__department").get(pk=reply.pk))


def _require_office(actor: User | None, issue: Issue) -> None:
    from .access import can_manage_issue

    if actor is not None and not can_manage_issue(actor, issue):
        raise NotPermitted("只有该渠道的直通车办公室可以执行此操作。")


@transaction.atomic
def accept_reply(*, actor: User | None, reply: SignedReply, note: str = "") -> SignedReply:
    """审核通过: the reply becomes immutable; when every assignment is answered the issue is replied."""
    reply = _lock_reply(reply)
    assignment = Assignment.objects.select_for_update().get(pk=reply.assignment_id)
    issue = Issue.objects.select_for_update().get(pk=assignment.issue_id)
    _require_office(actor, issue)
    if reply.review_status != SignedReply.Review.PENDING:
        if reply.review_status == SignedReply.Review.ACCEPTED:
            return reply
        raise IllegalTransition("该回复已被退回，不能再审核通过。")
    reply.review_status = SignedReply.Review.ACCEPTED
    reply.review_reason = note
    reply.reviewed_by = actor
    reply.reviewed_at = timezone.now()
    reply.save(update_fields=["review_status", "review_reason", "reviewed_by", "reviewed_at"])
    assignment.replied_on = reply.signed_on
    states.move(assignment, "accept_reply", actor=actor, note=note, also=("replied_on",))
    schedule_next_step(assignment)  # answered: no more reminders
    if not issue.assignments.exclude(status=Assignment.Status.ACCEPTED).exists():
        states.move(issue, "all_replied", actor=actor)
    return reply


@transaction.atomic
def return_reply(*, actor: User | None, reply: SignedReply, reason: str) -> SignedReply:
    """退回: the department must rework and submit a new version."""
    if not reason.strip():
        raise InvalidInput("退回时必须写明理由（如：未加盖公章、无负责人签字、未回应诉求）。", field="reason")
    reply = _lock_reply(reply)
    assignment = Assignment.objects.select_for_update().get(pk=reply.assignment_id)
    _require_office(actor, assignment.issue)
    if reply.review_status != SignedReply.Review.PENDING:
        raise IllegalTransition(f"该回复已{reply.get_review_status_display()}，不能退回。")
    reply.review_status = SignedReply.Review.RETURNED
    reply.review_reason = reason.strip()
    reply.reviewed_by = actor
    reply.reviewed_at = timezone.now()
    reply.save(update_fields=["review_status", "review_reason", "reviewed_by", "reviewed_at"])
    states.move(assignment, "return_reply", actor=actor, note=reason.strip())
    notifications.notify_department(
        assignment, f"{Notification.Kind.REPLY_RETURNED}-{reply.version}",
        title=f"回复被退回：{assignment.issue.title}",
        body=f"贵单位对 {assignment.issue.ref} 的第{reply.version}版书面回复被退回，理由：{reason.strip()}。"
             f"请重新办理并在 {assignment.due_date:%Y年%m月%d日} 前提交。")
    return reply


@transaction.atomic
def record_follow_up(*, actor: User | None, issue: Issue, satisfaction: str, comment: str = "",
                     on: datetime.date | None = None) -> Issue:
    """回访: the requester's rating."""
    if satisfaction not in Issue.Satisfaction.values:
        raise InvalidInput("请选择回访结果：满意、基本满意、不满意或未联系上。", field="satisfaction")
    issue = Issue.objects.select_for_update().get(pk=issue.pk)
    _require_office(actor, issue)
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise InvalidInput("回访日期不能晚于今天。", field="followed_up_on")
    issue.satisfaction = satisfaction
    issue.follow_up_comment = comment.strip()
    issue.followed_up_on = on
    label = Issue.Satisfaction(satisfaction).label
    states.move(issue, "follow_up", actor=actor, note=f"{label}：{comment.strip()}" if comment.strip() else label,
                also=("satisfaction", "follow_up_comment", "followed_up_on"))
    return issue


@transaction.atomic
def close_issue(*, actor: User | None, issue: Issue, on: datetime.date | None = None, note: str = "") -> Issue:
    """办结."""
    issue = Issue.objects.select_for_update().get(pk=issue.pk)
    _require_office(actor, issue)
    on = on or timezone.localdate()
    if on < issue.received_on:
        raise InvalidInput("办结日期不能早于受理日期。", field="closed_on")
    if on > timezone.localdate():
        raise InvalidInput("办结日期不能晚于今天。", field="closed_on")
    if issue.status == Issue.Status.CLOSED:
        return issue
    issue.closed_on = on
    states.move(issue, "close", actor=actor, note=note or f"办结日期 {on:%Y-%m-%d}", also=("closed_on",))
    return issue


@transaction.atomic
def reopen_issue(
    *,
    actor: User | None,
    issue: Issue,
    reason: str,
    departments: Sequence[Department] | None = None,
    deadline_amount: int | None = None,
    deadline_unit: str | None = None,
) -> list[Assignment]:
    """重办: the requester is dissatisfied and the office agrees; chosen assignments start a new clock."""
    if not reason.strip():
        raise InvalidInput("重办必须写明理由。", field="reason")
    issue = Issue.objects.select_for_update().get(pk=issue.pk)
    _require_office(actor, issue)
    assignments = list(issue.assignments.select_for_update(of=("self",)).select_related("department", "policy"))
    if departments:
        wanted = {d.pk for d in departments}
        chosen = [a for a in assignments if a.department_id in wanted]
        if len(chosen) != len(wanted):
            raise InvalidInput("重办单位必须是原承办单位。", field="departments")
    else:
        chosen = [a for a in assignments if a.role == Assignment.Role.LEAD]
    today = timezone.localdate()
    # The earlier rating stays in the history; the issue waits for a new one.
    issue.closed_on = None
    issue.satisfaction = ""
    issue.followed_up_on = None
    issue.follow_up_comment = ""
    states.move(issue, "reopen", actor=actor, note=reason.strip(),
                also=("closed_on", "satisfaction", "followed_up_on", "follow_up_comment"))
    for a in chosen:
        amount = deadline_amount or a.deadline_amount
        unit = deadline_unit or a.deadline_unit
        try:
            deadline = deadline_for(today, amount, unit)
        except DeadlineInputError as exc:
            raise InvalidInput(str(exc), field="deadline_amount") from None
        a.assigned_on, a.deadline_amount, a.deadline_unit = today, amount, unit
        a.due_date = a.original_due_date = deadline.due_date
        a.provisional = deadline.provisional
        a.deadline_version += 1
        a.replied_on = None
        states.move(a, "rehandle", actor=actor, note=f"{reason.strip()}；新期限 {deadline.due_date:%Y-%m-%d}",
                    also=("assigned_on", "deadline_amount", "deadline_unit", "due_date", "original_due_date",
                          "provisional", "deadline_version", "replied_on"))
        schedule_next_step(a)
        notifications.notify_department(
            a, Notification.Kind.REHANDLE, title=f"重办：{issue.title}",
            body=f"{issue.ref}“{issue.title}”需重新办理，理由：{reason.strip()}。"
                 f"新的办理期限 {a.due_date:%Y年%m月%d日}。")
    return chosen


# --- Deadline enforcement: the ladder, extensions and calendar changes ------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")
STEP_LABELS = dict(DeadlineStep.Step.choices)
# The ladder of one assignment ends with the bulletin about two months after the due date.
LADDER_SPAN = datetime.timedelta(days=75)


def step_moment(step: LadderStep) -> datetime.datetime:
    return datetime.datetime.combine(step.day, datetime.time(step.hour), tzinfo=SHANGHAI)


def _ladder_for(assignment: Assignment, calendar: WorkCalendar | None = None) -> list[LadderStep]:
    calendar = calendar or load_calendar(assignment.assigned_on, assignment.due_date + LADDER_SPAN)
    return ladder(assignment.assigned_on, assignment.due_date, calendar)


def schedule_next_step(assignment: Assignment, *, calendar: WorkCalendar | None = None,
                       now: datetime.datetime | None = None) -> None:
    """Store the next step of the ladder not yet taken (for this deadline version) on the row.

    Steps already due are left for the sweep: ``next_check_at`` may be in the past, which is
    exactly what makes a sweep after an outage catch up.
    """
    if not assignment.is_open:
        assignment.next_step, assignment.next_check_at = "", None
    else:
        taken = set(assignment.steps.filter(deadline_version=assignment.deadline_version)
                    .values_list("step", flat=True)) if assignment.pk else set()
        upcoming = [s for s in _ladder_for(assignment, calendar) if s.step not in taken]
        assignment.next_step = upcoming[0].step if upcoming else ""
        assignment.next_check_at = step_moment(upcoming[0]) if upcoming else None
    assignment.save(update_fields=["next_step", "next_check_at"])


@transaction.atomic
def advance_deadline(*, assignment: Assignment, now: datetime.datetime,
                     calendar: WorkCalendar | None = None) -> list[str]:
    """Take every step of the ladder that is due by ``now`` and not yet taken; return their names.

    The caller has locked the row. One row of :func:`advance_deadlines`.
    """
    return advance_deadlines(assignments=[assignment], now=now, calendar=calendar)[assignment.pk]


@transaction.atomic
def advance_deadlines(*, assignments: Sequence[Assignment], now: datetime.datetime,
                      calendar: WorkCalendar | None = None) -> dict[int, list[str]]:
    """Take every due step not yet taken (for the current deadline version) of each assignment,
    record it, tell the people concerned and store the next step. Returns the steps taken, in
    ladder order, per assignment id.

    The caller (the sweep) has locked the rows and loaded ``issue`` and ``department`` with them.
    Each step is claimed by inserting its DeadlineStep row, unique on (assignment, step,
    deadline_version), with ON CONFLICT DO NOTHING: only what this call inserted is acted on, so
    a rerun, or two sweeps that ever overlapped, takes nothing twice. The work is set-based — a
    fixed number of queries however many rows — because the sweep must keep up with a county's
    whole backlog after an outage (bench/sweep.py).
    """
    rows = list(assignments)
    taken: dict[int, list[str]] = {a.pk: [] for a in rows}
    live = [a for a in rows if a.is_open]
    if live and calendar is None:
        calendar = load_calendar(min(a.assigned_on for a in live), max(a.due_date for a in live) + LADDER_SPAN)
    ladders: dict[tuple[datetime.date, datetime.date], list[LadderStep]] = {}
    for a in live:  # rows assigned together share a ladder: compute it once
        key = (a.assigned_on, a.due_date)
        if key not in ladders:
            ladders[key] = ladder(a.assigned_on, a.due_date, calendar)
    done: dict[int, set[str]] = {a.pk: set() for a in live}
    version = {a.pk: a.deadline_version for a in live}
    for assignment_id, step, step_version in DeadlineStep.objects.filter(assignment__in=live).values_list(
            "assignment_id", "step", "deadline_version"):
        if step_version == version[assignment_id]:
            done[assignment_id].add(step)
    wanted = [DeadlineStep(assignment=a, step=s.step, deadline_version=a.deadline_version, due_date=a.due_date,
                           scheduled_for=step_moment(s), taken_at=now)
              for a in live for s in ladders[(a.assigned_on, a.due_date)]
              if s.step not in done[a.pk] and step_moment(s) <= now]
    claimed = _claim_steps(wanted)
    acted = [s for s in wanted if (s.assignment_id, s.step) in claimed]
    if acted:
        _act_on_steps(acted, now)
    for s in wanted:  # claimed here or, in a race, by someone else: taken either way
        done[s.assignment_id].add(s.step)
    for s in acted:
        taken[s.assignment_id].append(s.step)
    changed = []
    for a in rows:
        upcoming = (next((s for s in ladders[(a.assigned_on, a.due_date)] if s.step not in done[a.pk]), None)
                    if a.is_open else None)
        next_step, next_check_at = (upcoming.step, step_moment(upcoming)) if upcoming else ("", None)
        if (next_step, next_check_at) != (a.next_step, a.next_check_at) or taken[a.pk]:
            a.next_step, a.next_check_at = next_step, next_check_at
            changed.append(a)
    _store_next_steps(changed)
    return taken


def _claim_steps(steps: list[DeadlineStep]) -> set[tuple[int, str]]:
    """Insert the steps; return the (assignment id, step) pairs this call inserted. A step someone
    already took hits the unique key and is not returned (the ORM's ignore_conflicts cannot say
    which rows it skipped, hence the SQL)."""
    if not steps:
        return set()
    columns = ["assignment", "step", "deadline_version", "due_date", "scheduled_for", "taken_at"]
    fields = [DeadlineStep._meta.get_field(name) for name in columns]
    claimed: set[tuple[int, str]] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(steps), 1000):  # SQLite allows 32,766 parameters per statement
            chunk = steps[start:start + 1000]
            placeholders = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * len(chunk))
            params = [f.get_db_prep_save(getattr(s, f.attname), connection) for s in chunk for f in fields]
            cursor.execute(
                f"INSERT INTO {DeadlineStep._meta.db_table} ({', '.join(f.column for f in fields)}) "  # noqa: S608
                f"VALUES {placeholders} ON CONFLICT (assignment_id, step, deadline_version) DO NOTHING "
                "RETURNING assignment_id, step", params)
            claimed.update((assignment_id, step) for assignment_id, step in cursor.fetchall())
    return claimed


def _store_next_steps(rows: list[Assignment]) -> None:
    """One UPDATE … FROM (VALUES …) for the whole batch. (``bulk_update`` builds a CASE per row and
    field and took two thirds of the sweep's time in bench/sweep.py.)"""
    if not rows:
        return
    table = Assignment._meta.db_table
    fields = [Assignment._meta.get_field(name) for name in ("id", "next_step", "next_check_at", "overdue_at")]
    # PostgreSQL types a VALUES column from its values; a column of NULLs would come out as text.
    cast = "::timestamptz" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 1000):
            chunk = rows[start:start + 1000]
            values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
            params = [f.get_db_prep_save(getattr(a, f.attname), connection) for a in chunk for f in fields]
            cursor.execute(
                f"UPDATE {table} SET next_step = v.column2, next_check_at = v.column3{cast}, "  # noqa: S608
                f"overdue_at = v.column4{cast} FROM (VALUES {values}) AS v WHERE {table}.id = v.column1", params)


def _act_on_steps(steps: list[DeadlineStep], now: datetime.datetime) -> None:
    """History rows, notifications and the overdue mark for steps just claimed (one bulk insert each)."""
    from django.contrib.auth import get_user_model

    from .access import GROUP_NAMES, Role

    members: dict[int, list[int]] = {}
    for department_id, user_id in Membership.objects.filter(
            department__in={s.assignment.department_id for s in steps}, user__is_active=True).values_list(
            "department_id", "user_id"):
        members.setdefault(department_id, []).append(user_id)
    # Supervision (督办) also goes to the county leaders and to the office that runs the channel.
    escalated: dict[str, list[int]] = {}
    if any(s.step == DeadlineStep.Step.SUPERVISE for s in steps):
        users = get_user_model().objects.filter(is_active=True)
        leaders = list(users.filter(groups__name=GROUP_NAMES[Role.LEADER]).values_list("pk", flat=True))
        office: dict[str, list[int]] = {}
        for user_id, channel in users.filter(membership__department__channel__in=Channel.values).values_list(
                "pk", "membership__department__channel"):
            office.setdefault(channel, []).append(user_id)
        escalated = {channel: leaders + office.get(channel, []) for channel in Channel.values}
    history, notes = [], {}
    for s in steps:
        a, issue = s.assignment, s.assignment.issue
        label, due = STEP_LABELS[s.step], f"{a.due_date:%Y年%m月%d日}"
        if s.step == DeadlineStep.Step.OVERDUE:
            a.overdue_at = now
        history.append(HistoryEntry(issue=issue, assignment=a, action=f"deadline_{s.step}",
                                    note=f"{label}：办理期限 {due}"))
        body = _step_body(s.step, issue, due)
        recipients = [(user_id, f"{label}：{issue.title}") for user_id in members.get(a.department_id, [])]
        if s.step == DeadlineStep.Step.SUPERVISE:
            title = f"督办：{a.department.name}·{issue.title}"
            recipients = [(user_id, title) for user_id in escalated[issue.channel]] + recipients
        for user_id, title in recipients:  # one per person and step: the first title wins
            notes.setdefault((user_id, a.pk, s.step), Notification(
                recipient_id=user_id, issue_id=issue.pk, assignment=a, kind=s.step,
                deadline_version=s.deadline_version, title=title, body=body))
    HistoryEntry.objects.bulk_create(history)
    # A notification that already exists (the same step for the same person) hits its unique key.
    Notification.objects.bulk_create(notes.values(), ignore_conflicts=True)
    if notes:
        notifications.queue_after_commit()


def _step_body(step: str, issue: Issue, due: str) -> str:
    if step.startswith("remind"):
        return f"{issue.ref}“{issue.title}”的办理期限为 {due}，请抓紧办理并按时提交书面回复。"
    if step == DeadlineStep.Step.OVERDUE:
        return f"{issue.ref}“{issue.title}”已超过办理期限（{due}），请立即办理。"
    if step == DeadlineStep.Step.CHASE:
        return f"催办通知：{issue.ref}“{issue.title}”已超期，请于收到通知后尽快提交盖章签字的书面回复。"
    if step == DeadlineStep.Step.SUPERVISE:
        return f"督办通知：{issue.ref}“{issue.title}”超期未办，已提请县领导督办。"
    return f"{issue.ref}“{issue.title}”超期未办结，已列入月度通报。"


def extension_limit(assignment: Assignment, calendar: WorkCalendar | None = None) -> datetime.date | None:
    """The latest date an extension may reach under the assignment's policy (None: no extension allowed)."""
    policy = assignment.policy or policy_for(assignment.issue.channel, assignment.issue.nature)
    if policy is None or policy.extension_max_amount == 0:
        return None
    calendar = calendar or load_calendar(assignment.original_due_date,
                                         assignment.original_due_date + datetime.timedelta(days=120))
    return compute_deadline(assignment.original_due_date, policy.extension_max_amount, policy.extension_unit,
                            calendar).due_date


@transaction.atomic
def request_extension(*, actor: User | None, assignment: Assignment, requested_due_date: datetime.date,
                      reason: str) -> ExtensionRequest:
    """延期申请 by the assigned department: before the due date, within the policy's limit."""
    assignment = _lock_assignment(assignment)
    _require_member(actor, assignment)
    if not reason.strip():
        raise InvalidInput("请写明延期理由。", field="reason")
    if not assignment.is_open:
        raise IllegalTransition(f"当前状态为“{assignment.get_status_display()}”，不能申请延期。")
    if timezone.localdate() > assignment.due_date:
        raise InvalidInput(f"已超过办理期限（{assignment.due_date:%Y-%m-%d}），不能再申请延期，请尽快办理。",
                           field="requested_due_date")
    if requested_due_date <= assignment.due_date:
        raise InvalidInput("申请延至的日期必须晚于当前办理期限。", field="requested_due_date")
    limit = extension_limit(assignment)
    if limit is None:
        raise InvalidInput("该类诉求的办理时限规则不允许延期。", field="requested_due_date")
    if requested_due_date > limit:
        raise InvalidInput(f"超出规定的最长延期：最晚可延至 {limit:%Y-%m-%d}。", field="requested_due_date")
    if assignment.issue.channel == Channel.CITIZEN and assignment.extensions.filter(
            status=ExtensionRequest.Status.APPROVED).exists():
        raise InvalidInput("信访事项只能延期一次（《信访工作条例》第三十四条）。", field="requested_due_date")
    if assignment.extensions.filter(status=ExtensionRequest.Status.PENDING).exists():
        raise ConcurrentChange("已有一份延期申请在等待审批。")
    request = ExtensionRequest.objects.create(
        assignment=assignment, reason=reason.strip(), current_due_date=assignment.due_date,
        requested_due_date=requested_due_date, requested_by=actor,
    )
    states.record(assignment.issue, "extension_requested", actor=actor, assignment=assignment,
                  note=f"申请延至 {requested_due_date:%Y-%m-%d}：{reason.strip()}")
    return request


@transaction.atomic
def decide_extension(*, actor: User | None, request: ExtensionRequest, approve: bool,
                     note: str = "") -> ExtensionRequest:
    """The channel office approves (new due date, a new deadline version) or rejects (with a reason)."""
    request = ExtensionRequest.objects.select_for_update().get(pk=request.pk)
    assignment = _lock_assignment(request.assignment)
    _require_office(actor, assignment.issue)
    if request.status != ExtensionRequest.Status.PENDING:
        raise IllegalTransition(f"该延期申请已{request.get_status_display()}。")
    if not approve and not note.strip():
        raise InvalidInput("不批准延期时请写明理由。", field="note")
    request.status = ExtensionRequest.Status.APPROVED if approve else ExtensionRequest.Status.REJECTED
    request.decided_by, request.decided_at, request.decision_note = actor, timezone.now(), note.strip()
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    if approve:
        assignment.due_date = request.requested_due_date
        assignment.deadline_version += 1
        assignment.save(update_fields=["due_date", "deadline_version"])
        schedule_next_step(assignment)
    verdict = "批准" if approve else "不批准"
    detail = f"{verdict}延期至 {request.requested_due_date:%Y-%m-%d}"
    states.record(assignment.issue, "extension_decided", actor=actor, assignment=assignment,
                  note=f"{detail}：{note.strip()}" if note.strip() else detail)
    notifications.notify_department(
        assignment, f"extension_{request.pk}", title=f"延期申请{verdict}：{assignment.issue.title}",
        body=f"贵单位对 {assignment.issue.ref} 的延期申请已{verdict}。"
             f"当前办理期限 {assignment.due_date:%Y年%m月%d日}。")
    return request


@transaction.atomic
def recompute_deadlines(*, actor: User | None, years: set[int]) -> int:
    """After a year's calendar was loaded or changed: recompute every open assignment whose
    deadline counts days in those years, record the change and tell the department.

    Extended due dates are the office's explicit decision and are left alone; their
    original due date is still recomputed for the on-time figures.
    """
    if not years:
        return 0
    first, last = datetime.date(min(years), 1, 1), datetime.date(max(years), 12, 31)
    candidates = (Assignment.objects.open().select_for_update(of=("self",))
                  .filter(due_date__gte=first - datetime.timedelta(days=400), assigned_on__lte=last)
                  .select_related("issue", "department", "policy"))
    calendar = load_calendar(first - datetime.timedelta(days=400), last + datetime.timedelta(days=400))
    changed = 0
    for a in candidates:
        deadline = compute_deadline(a.assigned_on, a.deadline_amount, a.deadline_unit, calendar)
        extended = a.due_date != a.original_due_date
        new_due = a.due_date if extended else deadline.due_date
        if (new_due, deadline.due_date, deadline.provisional) == (a.due_date, a.original_due_date, a.provisional):
            continue
        old_due = a.due_date
        a.original_due_date, a.provisional = deadline.due_date, deadline.provisional
        if new_due != old_due:
            a.due_date = new_due
            a.deadline_version += 1
        a.save(update_fields=["due_date", "original_due_date", "provisional", "deadline_version"])
        schedule_next_step(a, calendar=calendar)
        note = f"工作日历更新，办理期限由 {old_due:%Y-%m-%d} 调整为 {a.due_date:%Y-%m-%d}"
        states.record(a.issue, "deadline_recomputed", actor=actor, assignment=a, note=note)
        if new_due != old_due:
            notifications.notify_department(a, "deadline_recomputed", title=f"办理期限调整：{a.issue.title}",
                                            body=f"{a.issue.ref}：{note}。")
        changed += 1
    return changed
