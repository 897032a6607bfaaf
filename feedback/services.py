"""The only write path of the core.

Every state change is a verb-first function here, called alike by HTML views, API
views, tasks, admin actions and commands. Each takes keyword-only arguments, runs in
one transaction, locks the rows it changes, and records history via ``states.move``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from feedback import notifications, states
from feedback.access import registrable_channels
from feedback.deadlines import Deadline, DeadlineInputError, LadderStep, WorkCalendar, compute_deadline, ladder
from feedback.documents.uploads import validate_reply_file
from feedback.errors import (
    ConcurrentChange,
    DuplicateReference,
    IllegalTransition,
    InvalidInput,
    NotPermitted,
    WorkflowError,
)
from feedback.figures import rollup
from feedback.ledger.parse import LedgerCheck, LedgerError, LedgerProblem, LedgerRow
from feedback.models import (
    Assignment,
    Bulletin,
    Category,
    Channel,
    DeadlinePolicy,
    DeadlineStep,
    DeadlineUnit,
    Department,
    ExportJob,
    ExtensionRequest,
    HistoryEntry,
    Issue,
    IssueQuerySet,
    Membership,
    Notification,
    Objection,
    Requester,
    SignedReply,
)
from feedback.workcalendar import deadline_for, load_calendar

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
                ref=ref, channel=channel, nature=nature, category=category, requester=who,
                title=title.strip(), content=content.strip(), received_on=received_on,
                onsite_answer=onsite_answer.strip(), registered_by=actor, accused_department=accused_department,
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
    **registration: object,
) -> Issue:
    """Register an issue and, when a lead department is given, assign it: both or neither."""
    issue = register_issue(actor=actor, accused_department=accused_department,  # type: ignore[arg-type]
                           **registration)
    if lead is not None:
        assign_issue(actor=actor, issue=issue, lead=lead, co=co, deadline_amount=deadline_amount,
                     deadline_unit=deadline_unit)
    elif co:
        raise InvalidInput("选择协办单位时必须同时选择主办单位。", field="lead")
    return issue


# 检举控告: only these natures may name an accused unit (Issue constraint accusation_is_report_or_complaint).
ACCUSATION_NATURES = (Issue.Nature.REPORT, Issue.Nature.COMPLAINT)


def _refuse_accused(issue: Issue, departments: Sequence[Department], *, field: str) -> None:
    """信访工作条例 art. 30: the accused unit must never receive the accusation it is accused in."""
    for dept in departments:
        if issue.accused_department_id is not None and dept.pk == issue.accused_department_id:
            raise InvalidInput(f"“{dept.name}”是本诉求的被举报单位，不能交由其办理（《信访工作条例》第三十条："
                               "检举控告材料不得透露、转送给被检举控告的单位）。", field=field)


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
    _refuse_accused(issue, [lead], field="lead")
    _refuse_accused(issue, co, field="co")
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
        schedule_steps(assignment)
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
    from feedback.access import is_member_of

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
    from feedback.access import can_manage_issue

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
    schedule_steps(assignment)  # answered: no more reminders
    # A withdrawn assignment (objection accepted) was replaced by another: it waits for nothing.
    if not issue.assignments.exclude(status__in=[Assignment.Status.ACCEPTED, Assignment.Status.WITHDRAWN]).exists():
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
    assignments = list(issue.assignments.live().select_for_update(of=("self",))
                       .select_related("department", "policy"))  # not those handed over after an objection
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
        schedule_steps(a)
        notifications.notify_department(
            a, Notification.Kind.REHANDLE, title=f"重办：{issue.title}",
            body=f"{issue.ref}“{issue.title}”需重新办理，理由：{reason.strip()}。"
                 f"新的办理期限 {a.due_date:%Y年%m月%d日}。")
    return chosen


# --- Objections (异议): "not ours", decided by the channel office ---------------------------------

# DOMAIN.md "Workflow": an objection to misrouting within 5 working days (信访工作条例 art. 31).
OBJECTION_WINDOW_WORKING_DAYS = 5


def objection_window_start(assignment: Assignment) -> datetime.date:
    """The day the department received the assignment: its assignment date, or, for an assignment
    handed over after an objection with the clock continued (it keeps the original assignment
    date), the day of that hand-over."""
    handed_over = (Objection.objects.filter(new_assignment=assignment)
                   .values_list("decided_at", flat=True).first())
    if handed_over is None:
        return assignment.assigned_on
    return max(assignment.assigned_on, timezone.localdate(handed_over))


def objection_last_day(assignment: Assignment, calendar: WorkCalendar | None = None) -> datetime.date:
    """The last day the department may object: the 5th working day after it received the assignment."""
    start = objection_window_start(assignment)
    calendar = calendar or load_calendar(start, start + datetime.timedelta(days=45))
    return compute_deadline(start, OBJECTION_WINDOW_WORKING_DAYS, DeadlineUnit.WORKING_DAY, calendar).due_date


def objection_refusal(assignment: Assignment, objections: Sequence[Objection], *, last_day: datetime.date,
                      today: datetime.date) -> WorkflowError | None:
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
        return InvalidInput(f"已超过提出异议的期限：异议须在收到交办后 {OBJECTION_WINDOW_WORKING_DAYS} 个工作日内提出，"
                            f"最后一天是 {last_day:%Y年%m月%d日}。请按交办要求办理，或与直通车办公室联系。")
    return None


def _check_handling_department(department: Department, *, field: str) -> None:
    if not department.active:
        raise InvalidInput(f"“{department.name}”已停用。", field=field)
    if department.kind == Department.Kind.OFFICE:
        raise InvalidInput("直通车办公室不能作为承办单位。", field=field)


def _office_members(channel: str) -> list:
    from django.contrib.auth import get_user_model

    return list(get_user_model().objects.filter(
        is_active=True, membership__department__channel=channel, membership__department__active=True))


@transaction.atomic
def raise_objection(*, actor: User | None, assignment: Assignment, reason: str,
                    suggested_department: Department | None = None) -> Objection:
    """异议: the assigned department says the issue is not its business. The assignment keeps its
    clock while the office decides: "not ours" never stops or closes anything by itself."""
    assignment = _lock_assignment(assignment)
    _require_member(actor, assignment)
    if not reason.strip():
        raise InvalidInput("请写明异议理由（为什么不属于本单位职责）。", field="reason")
    if suggested_department is not None:
        if suggested_department.pk == assignment.department_id:
            raise InvalidInput("建议改派单位不能是本单位。", field="suggested_department")
        _check_handling_department(suggested_department, field="suggested_department")
    refusal = objection_refusal(assignment, list(assignment.objections.all()),
                                last_day=objection_last_day(assignment), today=timezone.localdate())
    if refusal is not None:
        raise refusal
    try:
        with transaction.atomic():
            objection = Objection.objects.create(assignment=assignment, reason=reason.strip(),
                                                 suggested_department=suggested_department, raised_by=actor)
    except IntegrityError:
        # Two members of the department objecting at once: the partial unique index decides.
        raise ConcurrentChange("已有一份异议在等待直通车办公室决定，请勿重复提出。") from None
    issue = assignment.issue
    suggestion = f"；建议改派：{suggested_department.name}" if suggested_department else ""
    states.record(issue, "objection_raised", actor=actor, assignment=assignment,
                  note=f"{reason.strip()}{suggestion}")
    notifications.notify_users(
        assignment, f"objection_{objection.pk}", _office_members(issue.channel),
        title=f"异议待决定：{assignment.department.name}·{issue.title}",
        body=f"{assignment.department.name}对 {issue.ref}“{issue.title}”的交办提出异议：{reason.strip()}{suggestion}。"
             "请在诉求页面同意改派或驳回。")
    return objection


def _lock_pending_objection(objection: Objection, actor: User | None) -> tuple[Objection, Assignment]:
    objection = Objection.objects.select_for_update().get(pk=objection.pk)
    assignment = _lock_assignment(objection.assignment)
    _require_office(actor, assignment.issue)
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
        assignment, f"objection_{objection.pk}_decided", title=f"异议被驳回：{issue.title}",
        body=f"贵单位对 {issue.ref}“{issue.title}”的异议未被采纳，理由：{note.strip()}。"
             f"请按交办要求办理，办理期限 {assignment.due_date:%Y年%m月%d日}。")
    return objection


@transaction.atomic
def accept_objection(*, actor: User | None, objection: Objection, department: Department, clock: str,
                     note: str = "") -> Objection:
    """同意异议并改派: the objected assignment is withdrawn and ``department`` gets a new one with
    the same role. ``clock`` is the office's choice: ``continue`` keeps the assignment date and the
    due date (the time already used stays used), ``restart`` counts the same limit again from today."""
    objection, old = _lock_pending_objection(objection, actor)
    issue = Issue.objects.select_for_update().get(pk=old.issue_id)
    if clock not in Objection.Clock.values:
        raise InvalidInput("请选择改派后的办理期限：continue（沿用原期限）或 restart（从今天重新起算）。",
                           field="clock")
    if department.pk == old.department_id:
        raise InvalidInput("改派单位不能是提出异议的单位；如认为应由该单位办理，请驳回异议。", field="department")
    _check_handling_department(department, field="department")
    _refuse_accused(issue, [department], field="department")
    if issue.assignments.live().filter(department=department).exists():
        raise InvalidInput(f"“{department.name}”已是本诉求的承办单位，不能重复交办。", field="department")
    today = timezone.localdate()
    if clock == Objection.Clock.RESTART:
        try:
            deadline = deadline_for(today, old.deadline_amount, old.deadline_unit,
                                    policy_name=str(old.policy) if old.policy else "")
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
        issue=issue, department=department, role=old.role, assigned_on=assigned_on,
        deadline_amount=old.deadline_amount, deadline_unit=old.deadline_unit, policy=old.policy,
        due_date=due_date, original_due_date=original_due_date, provisional=provisional,
    )
    states.record(issue, "assigned_to", actor=actor, assignment=new,
                  note=f"因{old.department.name}异议成立改派；{explanation}")
    schedule_steps(new)
    objection.status = Objection.Status.ACCEPTED
    objection.decided_by, objection.decided_at, objection.decision_note = actor, timezone.now(), note.strip()
    objection.clock, objection.new_assignment = clock, new
    objection.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "clock", "new_assignment"])
    states.record(issue, "objection_accepted", actor=actor, assignment=old,
                  note=f"{reason}；{Objection.Clock(clock).label}，办理期限 {new.due_date:%Y-%m-%d}")
    notifications.notify_department(
        old, f"objection_{objection.pk}_decided", title=f"异议已同意：{issue.title}",
        body=f"贵单位对 {issue.ref}“{issue.title}”的异议已被采纳，该事项已改派{department.name}，贵单位无需再办理。")
    notifications.notify_department(
        new, Notification.Kind.ASSIGNED, title=f"新交办：{issue.title}",
        body=f"{issue.get_channel_display()}诉求 {issue.ref}“{issue.title}”经{old.department.name}提出异议后改由贵单位"
             f"{new.get_role_display()}，办理期限 {new.due_date:%Y年%m月%d日}。")
    return objection


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


def schedule_steps(assignment: Assignment, *, calendar: WorkCalendar | None = None) -> None:
    """Write the assignment's ladder as pending DeadlineStep rows: the steps of the current deadline
    version not taken yet, at their moments. Called whenever the deadline is set or changes, the
    calendar under it changes, or the assignment leaves or re-enters the workflow.

    Pending rows of any version are replaced, so the sweep's queue never holds a stale step; taken
    rows stay as the record. Steps whose moment has already passed are written too: the next sweep
    takes them, which is what lets a sweep after an outage catch up.
    """
    DeadlineStep.objects.filter(assignment=assignment, taken_at__isnull=True).delete()
    if not assignment.is_open:
        return  # out of the workflow: no more reminders or escalation
    taken = set(DeadlineStep.objects.filter(assignment=assignment, deadline_version=assignment.deadline_version)
                .values_list("step", flat=True))
    DeadlineStep.objects.bulk_create([
        DeadlineStep(assignment=assignment, step=s.step, deadline_version=assignment.deadline_version,
                     due_date=assignment.due_date, scheduled_for=step_moment(s))
        for s in _ladder_for(assignment, calendar) if s.step not in taken
    ])


def due_steps_sql(now: datetime.datetime, batch: int) -> tuple[str, list[object]]:
    """The ids of up to ``batch`` pending steps whose moment has come, oldest first, locked with
    their assignment. Reads the partial index ``deadlinestep_pending_idx``, so the cost follows
    the due rows, not the table. (SQL because the ORM locks a joined table only for rows it
    builds models of, and the sweep builds none.)"""
    step, assignment = DeadlineStep._meta.db_table, Assignment._meta.db_table
    open_statuses = ", ".join(["%s"] * len(Assignment.OPEN_STATUSES))
    # FOR NO KEY UPDATE of the assignment: a service changing it (FOR UPDATE) is skipped, never
    # waited for, so the sweep cannot deadlock with a service that locks the assignment and then
    # replaces its pending steps; the foreign-key checks of new rows pointing at it (KEY SHARE)
    # do not block it.
    lock = " FOR NO KEY UPDATE OF s, a SKIP LOCKED" if connection.vendor == "postgresql" else ""
    sql = (f"SELECT s.id FROM {step} s JOIN {assignment} a ON a.id = s.assignment_id "  # noqa: S608
           f"WHERE s.taken_at IS NULL AND s.scheduled_for <= %s AND a.status IN ({open_statuses}) "
           f"ORDER BY s.scheduled_for, s.id LIMIT %s{lock}")
    moment = DeadlineStep._meta.get_field("scheduled_for").get_db_prep_value(now, connection)
    return sql, [moment, *Assignment.OPEN_STATUSES, batch]


def take_due_steps(*, now: datetime.datetime, batch: int) -> tuple[int, list[tuple[int, str]]]:
    """The sweep's take pass for one batch (``feedback.sweeps``, which holds the transaction):
    select the due steps, claim them and mark the assignments of claimed "overdue" steps overdue.
    Returns how many due steps were selected and the (assignment id, step) of those this call
    took. Set-based: no model is built."""
    select, params = due_steps_sql(now, batch)
    if connection.vendor == "postgresql":
        # One statement, one round trip: no id list goes to Python and back.
        step, assignment = DeadlineStep._meta.db_table, Assignment._meta.db_table
        moment = DeadlineStep._meta.get_field("taken_at").get_db_prep_save(now, connection)
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH due AS ({select}), "  # noqa: S608
                f"taken AS (UPDATE {step} SET taken_at = %s FROM due WHERE {step}.id = due.id "
                f"AND {step}.taken_at IS NULL RETURNING {step}.assignment_id, {step}.step), "
                f"marked AS (UPDATE {assignment} SET overdue_at = %s FROM taken "
                f"WHERE {assignment}.id = taken.assignment_id AND taken.step = %s "
                f"AND {assignment}.overdue_at IS NULL) "
                "SELECT (SELECT count(*) FROM due), assignment_id, step FROM taken",
                [*params, moment, moment, DeadlineStep.Step.OVERDUE])
            rows = cursor.fetchall()
        # No row: nothing was due (what the select locked, the claim always takes).
        return (rows[0][0] if rows else 0), [(assignment_id, step) for _, assignment_id, step in rows]
    with connection.cursor() as cursor:
        cursor.execute(select, params)
        due = [pk for (pk,) in cursor.fetchall()]
    taken = claim_steps(due, "taken_at", now)
    overdue = [assignment_id for _, assignment_id, step in taken if step == DeadlineStep.Step.OVERDUE]
    if overdue:
        Assignment.objects.filter(pk__in=overdue, overdue_at__isnull=True).update(overdue_at=now)
    return len(due), [(assignment_id, step) for _, assignment_id, step in taken]


def announce_due_steps(*, now: datetime.datetime, batch: int) -> tuple[int, int]:
    """The sweep's announce pass for one batch (``feedback.sweeps``, which holds the transaction):
    claim up to ``batch`` steps taken and not yet announced and announce them. Returns how many
    were waiting (unlocked) and how many this call announced."""
    waiting = list(DeadlineStep.objects.filter(taken_at__isnull=False, announced_at__isnull=True)
                   .select_for_update(skip_locked=True, no_key=True, of=("self",))
                   .order_by("taken_at", "id").values_list("pk", flat=True)[:batch])
    claimed = claim_steps(waiting, "announced_at", now)
    if claimed:
        announce_steps(list(DeadlineStep.objects.filter(pk__in=[pk for pk, _, _ in claimed])
                            .select_related("assignment__issue", "assignment__department")
                            .order_by("assignment_id", "scheduled_for")), now)
    return len(waiting), len(claimed)


def claim_steps(ids: list[int], column: str, now: datetime.datetime) -> list[tuple[int, int, str]]:
    """``UPDATE … SET column = now WHERE id IN ids AND column IS NULL RETURNING id, assignment_id,
    step``: the rows this statement changed, and only those, belong to the caller (the ORM's
    ``update()`` cannot say which rows it changed, hence the SQL)."""
    if not ids:
        return []
    table = DeadlineStep._meta.db_table
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = %s WHERE id IN ({placeholders}) AND {column} IS NULL "  # noqa: S608
            "RETURNING id, assignment_id, step",
            [DeadlineStep._meta.get_field(column).get_db_prep_save(now, connection), *ids])
        return [tuple(row) for row in cursor.fetchall()]


def announce_steps(steps: list[DeadlineStep], now: datetime.datetime) -> None:
    """History rows and notifications for steps the sweep has just taken and this caller has
    claimed (``feedback.sweeps.announce_steps``), one bulk insert each.

    ``steps`` come with their assignment, issue and department loaded.
    """
    from django.contrib.auth import get_user_model

    from feedback.access import GROUP_NAMES, Role

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
    # After an outage one sweep may take several steps of one assignment at once. A reminder
    # overtaken by a later step that had also come when it was taken is recorded but not sent:
    # nobody needs "half the time has passed" next to "overdue".
    overtaken = _overtaken_reminders(steps)
    history, notes = [], {}
    for s in steps:
        a, issue = s.assignment, s.assignment.issue
        label, due = STEP_LABELS[s.step], f"{s.due_date:%Y年%m月%d日}"
        stale = s.pk in overtaken
        note = f"{label}：办理期限 {due}" + ("（补记，已被后续步骤取代，未发送）" if stale else "")
        history.append(HistoryEntry(issue=issue, assignment=a, action=f"deadline_{s.step}", note=note, at=s.taken_at))
        if stale:
            continue
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


def _overtaken_reminders(steps: list[DeadlineStep]) -> set[int]:
    """Ids of the reminders among ``steps`` that a later step of the same deadline had already
    reached when the reminder was taken (one query for the whole batch)."""
    reminders = [s for s in steps if s.step.startswith("remind")]
    if not reminders:
        return set()
    moments: dict[tuple[int, int], list[datetime.datetime]] = {}
    for assignment_id, version, scheduled_for in DeadlineStep.objects.filter(
            assignment__in={s.assignment_id for s in reminders}).values_list(
            "assignment_id", "deadline_version", "scheduled_for"):
        moments.setdefault((assignment_id, version), []).append(scheduled_for)
    return {s.pk for s in reminders
            if any(s.scheduled_for < m <= s.taken_at for m in moments[(s.assignment_id, s.deadline_version)])}


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
        schedule_steps(a, calendar=calendar)
        note = f"工作日历更新，办理期限由 {old_due:%Y-%m-%d} 调整为 {a.due_date:%Y-%m-%d}"
        states.record(a.issue, "deadline_recomputed", actor=actor, assignment=a, note=note)
        if new_due != old_due:
            notifications.notify_department(a, "deadline_recomputed", title=f"办理期限调整：{a.issue.title}",
                                            body=f"{a.issue.ref}：{note}。")
        changed += 1
    return changed


# --- Ledger import (台账导入): historical issues from a checked ledger (feedback.ledger.parse) ----------
#
# Rows still open go through register_issue and assign_issue, exactly as a clerk's registration
# (assigned on ``received_on``; the department is told; the deadline ladder takes over). Rows
# answered long ago need states the normal services refuse to reach — an accepted written reply
# without the scan of the letter — and come in thousands (a year's ledger), so they are written
# set-based: a fixed number of INSERTs per file instead of ~35 queries a row (bench/import_ledger.py).
# Their status moves are replayed against the state machine's own tables (states.ISSUE_MOVES /
# ASSIGNMENT_MOVES, which raise IllegalTransition as states.move does) and each leaves the history
# row states.move would write, noted "导入：…". Nothing is announced for them: a ledger of closed
# cases would flood the departments' bells.

# Where a service's complaint lands in the ledger's columns (``row N: column: reason``).
LEDGER_COLUMN_OF_FIELD = {
    "requester_name": "requester", "requester_phone": "requester_phone", "lead": "departments",
    "co": "departments", "assigned_on": "received_on", "followed_up_on": "satisfaction",
}
LEDGER_BATCH = 500


@dataclass(frozen=True)
class LedgerImport:
    created: list[str]  # refs, in file order
    present: list[str]  # refs already in the database, skipped


@transaction.atomic
def import_ledger(*, actor: User | None, ledger: LedgerCheck) -> LedgerImport:
    """Import a checked ledger in one transaction: every row or none. A ref already in the database
    is skipped (the ref is the key: importing a file twice creates nothing new).

    A service that refuses a row (a department retired since the check, a ref registered by someone
    else meanwhile) rolls back the whole file and is reported as that row's problem (LedgerError).
    """
    if not ledger.ok:
        raise LedgerError(ledger.problems)
    present = _present_refs(ledger.rows)
    new = [r for r in ledger.rows if r.ref not in present]
    calendar = _ledger_calendar(new)
    _import_answered(actor=actor, rows=[r for r in new if r.replied_on], calendar=calendar)
    for row in new:
        if not row.replied_on:
            try:
                _import_open(actor=actor, row=row, calendar=calendar)
            except WorkflowError as exc:
                raise _ledger_problem(row, exc) from None
    return LedgerImport(created=[r.ref for r in new], present=[r.ref for r in ledger.rows if r.ref in present])


@transaction.atomic(savepoint=False)
def import_ledger_issue(*, actor: User | None, row: LedgerRow,
                        calendar: WorkCalendar | None = None) -> Issue | None:
    """One ledger row: registered, assigned on ``received_on``, and brought to the state the ledger
    records (replies accepted on ``replied_on``, the follow-up rating, the closure on ``closed_on``).
    Returns None when the ref is already in the database."""
    if _present_refs([row]):
        return None
    if row.replied_on:
        (issue,) = _import_answered(actor=actor, rows=[row], calendar=calendar)
        return issue
    try:
        return _import_open(actor=actor, row=row, calendar=calendar)
    except WorkflowError as exc:
        raise _ledger_problem(row, exc) from None


def _ledger_problem(row: LedgerRow, exc: WorkflowError) -> LedgerError:
    """A service's refusal as the row's ``row N: column: reason``."""
    column = exc.field or ("channel" if isinstance(exc, NotPermitted) else "ref")
    return LedgerError([LedgerProblem(row.row, LEDGER_COLUMN_OF_FIELD.get(column, column), exc.message)])


def _present_refs(rows: Sequence[LedgerRow]) -> set[str]:
    """Refs of these rows already in the database; one used by another channel is an error."""
    by_ref = {r.ref: r for r in rows}
    refs, present, problems = list(by_ref), set(), []
    for start in range(0, len(refs), 900):  # under every database's parameter limit
        for ref, channel in Issue.objects.filter(ref__in=refs[start:start + 900]).values_list("ref", "channel"):
            if channel == by_ref[ref].channel:
                present.add(ref)
            else:
                reason = f"编号“{ref}”已被{Channel(channel).label}的诉求使用"
                problems.append(LedgerProblem(by_ref[ref].row, "ref", reason))
    if problems:
        raise LedgerError(problems)
    return present


def _ledger_calendar(rows: Sequence[LedgerRow]) -> WorkCalendar | None:
    """One calendar for the whole file instead of two queries per deadline and per ladder."""
    if not rows:
        return None
    longest = max([r.deadline_amount or 0 for r in rows]
                  + list(DeadlinePolicy.objects.filter(active=True).values_list("amount", flat=True)))
    first = min(r.received_on for r in rows)
    last = max(r.received_on for r in rows) + datetime.timedelta(days=longest * 3 + 45) + LADDER_SPAN
    return load_calendar(first, last)


def _import_open(*, actor: User | None, row: LedgerRow, calendar: WorkCalendar | None) -> Issue:
    """A row not yet answered: exactly a clerk's registration and assignment, dated ``received_on``."""
    issue = register_issue(
        actor=actor, channel=row.channel, category=row.category, title=row.title, content=row.content,
        received_on=row.received_on, ref=row.ref,
        requester=RequesterData(name=row.requester, phone=row.requester_phone, kind=row.requester_kind,
                                organization=row.requester_org),
    )
    if row.departments:
        lead, *co = row.departments
        deadline, _ = _ledger_deadline(row, policy_for(row.channel, issue.nature), calendar)
        assign_issue(actor=actor, issue=issue, lead=lead, co=co, assigned_on=row.received_on,
                     deadline_amount=row.deadline_amount, deadline_unit=row.deadline_unit,
                     note="导入：" + _assign_note(lead, co, deadline.due_date))
    return issue


def _ledger_deadline(row: LedgerRow, policy: DeadlinePolicy | None,
                     calendar: WorkCalendar | None) -> tuple[Deadline, DeadlinePolicy | None]:
    """The row's deadline from ``received_on``: its own limit, else the channel's default policy."""
    amount, unit = row.deadline_amount, row.deadline_unit
    if amount is None or unit is None:
        if policy is None:
            raise InvalidInput("该渠道尚未设置默认办理时限，请填写时限。", field="deadline_amount")
        amount, unit = policy.amount, policy.unit
    else:
        policy = None
    calendar = calendar or load_calendar(row.received_on, row.received_on + datetime.timedelta(days=amount * 3 + 45))
    try:
        return compute_deadline(row.received_on, amount, unit, calendar,
                                policy_name=str(policy) if policy else ""), policy
    except DeadlineInputError as exc:
        raise InvalidInput(str(exc), field="deadline_amount") from None


def _replay(status: str, action: str, *, issue: bool) -> tuple[str, str]:
    """One status move checked against the state machine's table: (from, to), or IllegalTransition."""
    step = (states.ISSUE_MOVES if issue else states.ASSIGNMENT_MOVES)[action]
    if status not in step.sources:
        raise IllegalTransition(f"不能{step.label}。")
    return status, step.target


def _import_answered(*, actor: User | None, rows: Sequence[LedgerRow],
                     calendar: WorkCalendar | None) -> list[Issue]:
    """Rows the ledger says were answered (``replied_on``), set-based; see the section's comment.
    Everything is built and checked in memory first, then inserted table by table."""
    if not rows:
        return []
    problems = [p for row in rows for p in _answered_problems(actor, row)]
    if problems:
        raise LedgerError(problems)
    policies = {channel: policy_for(channel, Issue.Nature.SUGGESTION) for channel in {r.channel for r in rows}}
    deadlines: dict[tuple[object, ...], tuple[Deadline, DeadlinePolicy | None]] = {}
    requesters = _ledger_requesters(rows)
    issues: list[Issue] = []
    assignments: list[Assignment] = []
    history: list[HistoryEntry] = []
    for row in rows:
        try:
            key = (row.channel, row.received_on, row.deadline_amount, row.deadline_unit)
            if key not in deadlines:
                deadlines[key] = _ledger_deadline(row, policies[row.channel], calendar)
            deadline, policy = deadlines[key]
            status = Issue.Status.FOLLOWED_UP if row.satisfaction else Issue.Status.REPLIED
            issue = Issue(
                ref=row.ref, channel=row.channel, category=row.category, requester=requesters[_requester_key(row)],
                title=row.title, content=row.content, received_on=row.received_on, registered_by=actor,
                status=Issue.Status.CLOSED if row.closed_on else status, satisfaction=row.satisfaction,
                followed_up_on=(row.closed_on or row.replied_on) if row.satisfaction else None,
                closed_on=row.closed_on,
            )
            roles = [Assignment.Role.LEAD] + [Assignment.Role.CO] * (len(row.departments) - 1)
            mine = [Assignment(issue=issue, department=dept, role=role, assigned_on=row.received_on,
                               deadline_amount=deadline.amount, deadline_unit=deadline.unit, policy=policy,
                               due_date=deadline.due_date, original_due_date=deadline.due_date,
                               provisional=deadline.provisional, status=Assignment.Status.ACCEPTED,
                               replied_on=row.replied_on)
                    for role, dept in zip(roles, row.departments, strict=True)]
            history.extend(_answered_history(actor, row, issue, mine, deadline))
        except WorkflowError as exc:
            raise _ledger_problem(row, exc) from None
        issues.append(issue)
        assignments.extend(mine)
    # Unsaved objects given as foreign keys take their ids at insert time (bulk_create prepares them).
    Requester.objects.bulk_create([r for r in requesters.values() if r.pk is None], batch_size=LEDGER_BATCH)
    _bulk_insert_issues(issues, rows)
    Assignment.objects.bulk_create(assignments, batch_size=LEDGER_BATCH)
    HistoryEntry.objects.bulk_create(history, batch_size=1000)
    # The inserts marked their rollup keys (migration 0008's triggers); the history rows were not
    # written through states, so sum the keys here, in the import's transaction (set-based).
    rollup.refresh()
    return issues


def _answered_problems(actor: User | None, row: LedgerRow) -> list[LedgerProblem]:
    """What register_issue, assign_issue, accept_reply, record_follow_up and close_issue would refuse."""
    try:
        if actor is not None and row.channel not in registrable_channels(actor):
            raise NotPermitted(f"您不能登记{Channel(row.channel).label}的诉求。")
        if not row.category.active:
            raise InvalidInput(f"分类“{row.category.name}”已停用。", field="category")
        if not row.title.strip() or not row.content.strip() or not row.requester.strip():
            raise InvalidInput("标题、诉求内容和诉求人不能为空。", field="title")
        if not row.departments:
            raise InvalidInput("有书面回复日期的诉求必须有承办单位。", field="lead")
        lead, *co = row.departments
        _check_departments(lead, co)
        today = timezone.localdate()
        assert row.replied_on is not None
        for field, day in (("received_on", row.received_on), ("replied_on", row.replied_on),
                           ("closed_on", row.closed_on)):
            if day is not None and day > today:
                raise InvalidInput("日期不能晚于今天。", field=field)
        if row.replied_on < row.received_on:
            raise InvalidInput("书面回复日期不能早于受理日期。", field="replied_on")
        if row.closed_on is not None and row.closed_on < row.replied_on:
            raise InvalidInput("办结日期不能早于书面回复日期。", field="closed_on")
        if row.satisfaction and row.satisfaction not in Issue.Satisfaction.values:
            raise InvalidInput("回访结果无效。", field="satisfaction")
    except WorkflowError as exc:
        return _ledger_problem(row, exc).problems
    return []


def _answered_history(actor: User | None, row: LedgerRow, issue: Issue, assignments: list[Assignment],
                      deadline: Deadline) -> list[HistoryEntry]:
    """The history rows the per-row path would write, in its order, each move checked against the table."""
    assert row.replied_on is not None
    entries = [HistoryEntry(issue=issue, actor=actor, action="register",
                            note=f"{issue.get_channel_display()}：{issue.title}")]

    def moved(action: str, status: str, note: str, assignment: Assignment | None = None) -> str:
        before, after = _replay(status, action, issue=assignment is None)
        entries.append(HistoryEntry(issue=issue, assignment=assignment, actor=actor, action=action,
                                    from_status=before, to_status=after, note=note))
        return after

    lead, *co = row.departments
    status = moved("assign", Issue.Status.REGISTERED, "导入：" + _assign_note(lead, co, deadline.due_date))
    explanation = "；".join(deadline.explanation)
    for a in assignments:
        entries.append(HistoryEntry(issue=issue, assignment=a, actor=actor, action="assigned_to", note=explanation))
    replied = f"导入：书面回复日期 {row.replied_on:%Y-%m-%d}"
    for a in assignments:
        step = moved("submit_reply", Assignment.Status.PENDING, f"{replied}（台账未附回复函扫描件）", a)
        moved("accept_reply", step, replied, a)
    status = moved("all_replied", status, replied)
    if row.satisfaction:
        status = moved("follow_up", status, f"导入：{Issue.Satisfaction(row.satisfaction).label}")
    if row.closed_on:
        moved("close", status, f"导入：办结日期 {row.closed_on:%Y-%m-%d}")
    return entries


def _requester_key(row: LedgerRow) -> tuple[str, str]:
    # CONTRACT.md: by phone when one is given, otherwise by name (as find_or_create_requester).
    return ("phone", row.requester_phone) if row.requester_phone else ("name", row.requester.strip())


def _ledger_requesters(rows: Sequence[LedgerRow]) -> dict[tuple[str, str], Requester]:
    """find_or_create_requester for a whole file: the oldest match wins; new ones as the first row has them."""
    keys = {_requester_key(r) for r in rows}
    phones = sorted(v for k, v in keys if k == "phone")
    names = sorted(v for k, v in keys if k == "name")
    found: dict[tuple[str, str], Requester] = {}
    for start in range(0, len(phones), 900):
        for who in Requester.objects.filter(phone__in=phones[start:start + 900]).order_by("-id"):
            found[("phone", who.phone)] = who  # descending: the oldest is written last and wins
    for start in range(0, len(names), 900):
        for who in Requester.objects.filter(phone="", name__in=names[start:start + 900]).order_by("-id"):
            found[("name", who.name)] = who
    new: dict[tuple[str, str], Requester] = {}
    for row in rows:
        key = _requester_key(row)
        if key not in found and key not in new:
            new[key] = Requester(name=row.requester.strip(), phone=row.requester_phone, kind=row.requester_kind,
                                 organization=row.requester_org.strip())
    return {**found, **new}  # the new ones are inserted by the caller, once every row has been built


def _bulk_insert_issues(issues: list[Issue], rows: Sequence[LedgerRow]) -> None:
    try:
        with transaction.atomic():
            for start in range(0, len(issues), LEDGER_BATCH):
                Issue.objects.bulk_create(issues[start:start + LEDGER_BATCH])
    except IntegrityError:
        # Someone registered one of these refs since the check: the unique index decides; say which.
        taken = set(Issue.objects.filter(ref__in=[r.ref for r in rows]).values_list("ref", flat=True))
        raise LedgerError([LedgerProblem(r.row, "ref", f"编号“{r.ref}”刚刚已被登记，请重新导入")
                           for r in rows if r.ref in taken] or
                          [LedgerProblem(rows[0].row, "ref", "写入时发生冲突，请重新导入")]) from None


# --- Monthly bulletins (月度通报): drafted at month end, frozen once published (feedback.bulletins) ---


def _bulletin_scope(actor: User | None, channel: str) -> None:
    from feedback.bulletins import can_publish

    if channel and channel not in Channel.values:
        raise InvalidInput(f"未知渠道：{channel}", field="channel")
    if actor is not None and not can_publish(actor, channel):
        raise NotPermitted("只有管理员或本渠道的直通车办公室可以生成和发布通报。")


@transaction.atomic
def draft_bulletin(*, actor: User | None, month: datetime.date, channel: str = "") -> Bulletin:
    """Create the month's bulletin as a draft, or recompute an existing draft; ``actor=None`` is the
    month-end task. A published bulletin is never recomputed (IllegalTransition)."""
    from feedback.bulletins import compute_figures

    _bulletin_scope(actor, channel)
    month = month.replace(day=1)
    if month > timezone.localdate():
        raise InvalidInput("不能为尚未开始的月份生成通报。", field="month")
    # The unique key (month, channel) decides between two drafters; the row lock orders them.
    bulletin, _ = Bulletin.objects.get_or_create(month=month, channel=channel)
    bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
    if bulletin.status == Bulletin.Status.PUBLISHED:
        raise IllegalTransition(f"{bulletin}已发布，数据已冻结，不能重新计算。")
    bulletin.figures = compute_figures(month, channel)
    bulletin.computed_at = timezone.now()
    bulletin.save(update_fields=["figures", "computed_at"])
    return bulletin


@transaction.atomic
def publish_bulletin(*, actor: User | None, bulletin: Bulletin) -> Bulletin:
    """Recompute the draft one last time and freeze it: from now on its figures never change."""
    from feedback.bulletins import compute_figures

    _bulletin_scope(actor, bulletin.channel)
    bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
    if bulletin.status == Bulletin.Status.PUBLISHED:
        raise IllegalTransition(f"{bulletin}已于{timezone.localtime(bulletin.published_at):%Y-%m-%d %H:%M}发布。")
    now = timezone.now()
    bulletin.figures = compute_figures(bulletin.month, bulletin.channel)
    bulletin.computed_at = now
    bulletin.status = Bulletin.Status.PUBLISHED
    bulletin.published_at = now
    bulletin.published_by = actor if getattr(actor, "pk", None) else None
    bulletin.save(update_fields=["figures", "computed_at", "status", "published_at", "published_by"])
    return bulletin


def draft_month_end_bulletins(*, today: datetime.date | None = None) -> list[Bulletin]:
    """The month-end task: draft last month's bulletins (all channels, then each channel) that do not
    exist yet. Idempotent: an existing one, draft or published, is left as it is."""
    from feedback.bulletins import previous_month

    month = previous_month(today or timezone.localdate())
    existing = set(Bulletin.objects.filter(month=month).values_list("channel", flat=True))
    made = []
    for channel in ["", *Channel.values]:
        if channel in existing:
            continue
        try:
            made.append(draft_bulletin(actor=None, month=month, channel=channel))
        except IntegrityError:  # drafted meanwhile by someone else: theirs stands
            continue
    return made


# --- Large ledger exports (导出任务): built by a worker, shown with progress, downloaded by the owner --

EXPORT_SYNC_LIMIT = 2000  # up to this many rows the issue list exports at once, in the request
EXPORT_CHUNK = 1000
EXPORT_MAX_ROWS = 200_000
EXPORT_CATCH_UP_AFTER = datetime.timedelta(minutes=1)
# CELERY_TASK_TIME_LIMIT is 300 s: a job still "running" well after that lost its worker.
EXPORT_STALE_AFTER = datetime.timedelta(minutes=15)


def request_export(*, actor: User, params: dict[str, str]) -> ExportJob:
    """Store the job, then ask a worker for it once the row is committed. With the broker down the
    row stays queued and ``run_queued_exports`` (beat, every minute) picks it up."""
    job = ExportJob.objects.create(user=actor, params={k: v for k, v in params.items() if k != "page"})
    transaction.on_commit(lambda: _queue_export(job.pk))
    return job


def _queue_export(job_id: int) -> None:
    import logging

    from feedback.tasks import build_export

    try:
        build_export.delay(job_id)
    except Exception:
        logging.getLogger(__name__).warning("broker unavailable; export %s waits for the catch-up run", job_id,
                                            exc_info=True)


def _claim_export(job_id: int) -> bool:
    """Queued → running by a conditional UPDATE: of two workers (or a worker and the catch-up, or a
    redelivered message) exactly one changes the row and builds the file."""
    return ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED).update(
        status=ExportJob.Status.RUNNING, started_at=timezone.now(), progress=0) == 1


def run_export(*, job_id: int) -> ExportJob | None:
    """Build the job's workbook if this call claims it; ``None`` when another run has it or it is gone."""
    import os
    import secrets
    from pathlib import Path

    from django.conf import settings

    from feedback.forms import IssueFilterForm
    from feedback.ledger.export import issues_workbook
    from feedback.views import filtered_issues

    if not _claim_export(job_id):
        return None
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    try:
        form = IssueFilterForm(job.params)
        data = form.cleaned_data if form.is_valid() else {}
        # The owner's scope as it is now: a user who lost access since asking gets only what they see.
        issues = filtered_issues(job.user, data)
        total = min(issues.count(), EXPORT_MAX_ROWS)
        ExportJob.objects.filter(pk=job_id).update(total=total)
        content = issues_workbook(_chunks_with_progress(job_id, issues, total))
        relative = f"exports/{job_id}-{secrets.token_hex(8)}.xlsx"
        target = Path(settings.MEDIA_ROOT) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        partial.write_bytes(content)
        os.replace(partial, target)  # the download never sees half a file
        ExportJob.objects.filter(pk=job_id).update(status=ExportJob.Status.DONE, progress=100, file=relative,
                                                   finished_at=timezone.now())
    except Exception as exc:
        ExportJob.objects.filter(pk=job_id).update(status=ExportJob.Status.FAILED, error=str(exc)[:2000],
                                                   finished_at=timezone.now())
        raise
    job.refresh_from_db()
    return job


def _chunks_with_progress(job_id: int, issues: IssueQuerySet, total: int) -> Iterator[Issue]:
    """The issues in the list's order, chunk by chunk (each with its assignments prefetched), reporting
    progress after each chunk. The ids are read once up front: a row registered meanwhile neither
    shifts a chunk nor appears twice."""
    ids = list(issues.values_list("pk", flat=True)[:total])
    base = issues.model.objects.select_related("category", "requester").prefetch_related("assignments__department")
    for start in range(0, len(ids), EXPORT_CHUNK):
        part = ids[start:start + EXPORT_CHUNK]
        rows = base.in_bulk(part)
        yield from (rows[pk] for pk in part if pk in rows)
        done = start + len(part)
        ExportJob.objects.filter(pk=job_id).update(progress=min(99, done * 100 // max(len(ids), 1)))


def run_queued_exports(*, now: datetime.datetime | None = None, limit: int = 5) -> int:
    """The catch-up: jobs queued for over a minute (their message was lost with the broker down) and
    jobs left running by a dead worker, oldest first. Each is claimed again before it is built."""
    now = now or timezone.now()
    # A stale running job goes back to queued only if it is still the same stale row (conditional UPDATE).
    ExportJob.objects.filter(status=ExportJob.Status.RUNNING, started_at__lt=now - EXPORT_STALE_AFTER).update(
        status=ExportJob.Status.QUEUED)
    built = 0
    for job_id in ExportJob.objects.filter(status=ExportJob.Status.QUEUED,
                                           created_at__lt=now - EXPORT_CATCH_UP_AFTER).order_by(
            "created_at").values_list("pk", flat=True)[:limit]:
        if run_export(job_id=job_id) is not None:
            built += 1
    return built
