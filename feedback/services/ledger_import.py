"""Importing a checked ledger (see ``feedback.ledger.parse``) all or nothing."""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from feedback import channels, states
from feedback.access import registrable_channels
from feedback.deadlines import Deadline, DeadlineInputError, WorkCalendar, compute_deadline
from feedback.errors import (
    IllegalTransition,
    InvalidInput,
    NotPermitted,
    WorkflowError,
)
from feedback.ledger.parse import LedgerCheck, LedgerError, LedgerProblem, LedgerRow, iter_checked, read_table
from feedback.ledger.statements import unprepared
from feedback.models import (
    Assignment,
    Channel,
    DeadlinePolicy,
    DeadlineStep,
    ExtensionRequest,
    HistoryEntry,
    Issue,
    Objection,
    Requester,
    SignedReply,
)
from feedback.services.assignments import assign_issue, assign_note, check_departments, policy_for
from feedback.services.intake import RequesterData, register_issue
from feedback.services.ladder import LADDER_SPAN, schedule_steps, settle_passed_steps
from feedback.workcalendar import load_calendar

# Where a service's complaint lands in the ledger's columns (``row N: column: reason``).
LEDGER_COLUMN_OF_FIELD = {
    "requester_name": "requester",
    "requester_phone": "requester_phone",
    "lead": "departments",
    "co": "departments",
    "assigned_on": "received_on",
    "followed_up_on": "satisfaction",
}


LEDGER_BATCH = 500
ANSWERED_CHUNK = 10_000  # answered ledger rows built and inserted at a time
# Rows read, checked and written at a time by the import's second pass (decision 0720): the model
# instances, the ~12 history rows of each answered row and the chunk's LedgerRows live this long.
IMPORT_CHUNK = 5_000


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
    ``import_ledger_file`` does the same from the file's bytes without holding its rows.
    """
    if not ledger.ok:
        raise LedgerError(ledger.problems)
    writer = _LedgerWriter(actor)
    for start in range(0, len(ledger.rows), IMPORT_CHUNK):
        writer.write(ledger.rows[start : start + IMPORT_CHUNK])
    return writer.finish()


@unprepared
def import_ledger_file(
    *,
    actor: User | None,
    data: bytes,
    name: str = "",
    channels: Iterable[str] | None = None,
    today: datetime.date | None = None,
) -> LedgerImport:
    """The second pass of a ledger's import (decision 0720): after ``check_ledger(keep_rows=False)``
    found the file clean, read it again and write it ``IMPORT_CHUNK`` rows at a time in one
    transaction, so that memory holds one chunk, not the file (issue 16 goal 4: ≤ 400 MB for
    100,000 rows). Every row is checked again as it is read (the database may have changed since the
    first pass): a problem stops the writing, the rest of the file is still read and checked, and
    every problem found is raised as one LedgerError — the transaction rolls back: all or nothing."""
    check = LedgerCheck()
    problems: list[LedgerProblem] = []
    with transaction.atomic():
        writer = _LedgerWriter(actor)
        try:
            chunk: list[LedgerRow] = []
            for row in iter_checked(read_table(data, name), check, channels=channels, today=today):
                chunk.append(row)
                if len(chunk) == IMPORT_CHUNK:
                    writer.write(chunk, check_only=bool(check.problems))
                    chunk = []
            writer.write(chunk, check_only=bool(check.problems))
        except LedgerError as exc:  # the file itself, read again (it was read once already)
            problems += exc.problems
        # Every problem names the column by the file's own header (第 N 行 会议日期：…), as
        # check_ledger's do: the check's, the writer's and the channels' session hooks'.
        problems += check.problems + writer.problems
        if problems:
            raise LedgerError(
                [
                    p
                    if p.label or p.column not in check.labels
                    else LedgerProblem(p.row, p.column, p.reason, check.labels[p.column])
                    for p in problems
                ]
            )
        return writer.finish()


class _LedgerWriter:
    """Writes a ledger's rows chunk by chunk inside the caller's transaction. Once a chunk has a
    problem nothing more is written, but the later chunks are still checked (their refs, their
    answered rows), so that the clerk hears of every problem at once, as from one whole-file check."""

    def __init__(self, actor: User | None) -> None:
        self.actor = actor
        self.created: list[str] = []
        self.present: list[str] = []
        self.problems: list[LedgerProblem] = []

    def write(self, rows: Sequence[LedgerRow], *, check_only: bool = False) -> None:
        if not rows:
            return
        present, clashes = _split_present(rows)
        self.problems += clashes
        new = [r for r in rows if r.ref not in present]
        self.present += [r.ref for r in rows if r.ref in present]
        self.created += [r.ref for r in new]
        answered = [r for r in new if r.replied_on and r.detail is None]
        if check_only or self.problems:
            self.problems += [p for row in answered for p in _answered_problems(self.actor, row)]
            return
        try:
            self._write(new, answered)
        except LedgerError as exc:
            self.problems += exc.problems

    def _write(self, new: list[LedgerRow], answered: list[LedgerRow]) -> None:
        actor = self.actor
        calendar = _ledger_calendar(new)
        bulk = [r for r in new if r.detail is not None or r.replied_on]
        with rollup_marked_by_import([r.ref for r in bulk]):
            _import_detailed(actor=actor, rows=[r for r in new if r.detail is not None])
            _check_answered(actor, answered)  # every row's problems before anything is written
            # Built and inserted chunk by chunk: the model instances and the ~12 history rows of each
            # answered row are held for one chunk at a time, not the file (issue 16 goal 4: ≤ 400 MB).
            for start in range(0, len(answered), ANSWERED_CHUNK):
                chunk = answered[start : start + ANSWERED_CHUNK]
                _import_answered(actor=actor, rows=chunk, calendar=calendar, checked=True)
        for row in new:
            if not row.replied_on and row.detail is None:
                try:
                    _import_open(actor=actor, row=row, calendar=calendar)
                except WorkflowError as exc:
                    raise _ledger_problem(row, exc) from None
        link_sessions([r for r in new if r.session_date is not None], actor=actor)

    def finish(self) -> LedgerImport:
        if self.problems:
            raise LedgerError(self.problems)
        return LedgerImport(created=self.created, present=self.present)


@contextlib.contextmanager
def rollup_marked_by_import(refs: Sequence[str]) -> Iterator[None]:
    """Around the set-based inserts of a ledger's new issues (PostgreSQL): the rollup's triggers step
    aside (migration 0560) — one upsert per inserted issue, assignment and history row, ~2 million for
    100,000 rows — and the keys of the imported cohort are marked here in one statement instead, with
    ``requesters_changed`` as an inserted issue's trigger sets it. The same keys, so the refresh sums
    exactly what it would have (docs/decisions/0661). Transaction-local (``set_config(…, true)``) and
    switched back before the marking, so every other write of the transaction is marked as usual."""
    if connection.vendor != "postgresql" or not refs:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('feedback.rollup_marked_by_caller', 'on', true)")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('feedback.rollup_marked_by_caller', 'off', true)")
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO feedback_statsrollupdirtykey AS k (received_on, channel, category_id, requesters_changed)
                SELECT DISTINCT received_on, channel, category_id, true FROM feedback_issue WHERE ref = ANY(%s)
                ON CONFLICT (received_on, channel, category_id) DO UPDATE SET requesters_changed = true""",
            [list(refs)],
        )


def link_sessions(rows: Sequence[LedgerRow], *, actor: User | None = None) -> None:
    """Tie the imported issues of ``rows`` to the sessions their rows name (来源会议, 会议日期)
    through each channel's plugin (the core never imports a channel), which re-links to the
    session of that date or records it; any problem rolls the whole file back (the caller's
    transaction). One query for the ids, then a few per channel."""
    if not rows:
        return
    ids: dict[str, int] = {}
    refs = [r.ref for r in rows]
    for start in range(0, len(refs), 900):
        ids.update(Issue.objects.filter(ref__in=refs[start : start + 900]).values_list("ref", "pk"))
    problems: list[LedgerProblem] = []
    for channel in sorted({r.channel for r in rows}):
        plugin = channels.REGISTRY.get(channel)
        mine = [r for r in rows if r.channel == channel]
        if plugin is None or plugin.link_ledger_sessions is None:
            problems += [LedgerProblem(r.row, "session_name", "该渠道不记录来源会议") for r in mine]
            continue
        links = [
            channels.SessionLink(
                row=r.row,
                issue_id=ids[r.ref],
                name=r.session_name,
                day=r.session_date,  # type: ignore[arg-type]  # rows were filtered on it
                requester=r.requester,
                organization=r.requester_org,
            )
            for r in mine
        ]
        problems += [
            LedgerProblem(row, "session_date", reason)
            for row, reason in plugin.link_ledger_sessions(links, actor=actor)
        ]
    if problems:
        raise LedgerError(problems)


@transaction.atomic(savepoint=False)
def import_ledger_issue(*, actor: User | None, row: LedgerRow, calendar: WorkCalendar | None = None) -> Issue | None:
    """One ledger row: registered, assigned on ``received_on``, and brought to the state the ledger
    records (replies accepted on ``replied_on``, the follow-up rating, the closure on ``closed_on``).
    Returns None when the ref is already in the database."""
    if _present_refs([row]):
        return None
    if row.detail is not None:
        (issue,) = _import_detailed(actor=actor, rows=[row])
    elif row.replied_on:
        (issue,) = _import_answered(actor=actor, rows=[row], calendar=calendar)
    else:
        try:
            issue = _import_open(actor=actor, row=row, calendar=calendar)
        except WorkflowError as exc:
            raise _ledger_problem(row, exc) from None
    link_sessions([row] if row.session_date is not None else [], actor=actor)
    return issue


def _ledger_problem(row: LedgerRow, exc: WorkflowError) -> LedgerError:
    """A service's refusal as the row's ``row N: column: reason``."""
    column = exc.field or ("channel" if isinstance(exc, NotPermitted) else "ref")
    return LedgerError([LedgerProblem(row.row, LEDGER_COLUMN_OF_FIELD.get(column, column), exc.message)])


def _present_refs(rows: Sequence[LedgerRow]) -> set[str]:
    """Refs of these rows already in the database; one used by another channel is an error."""
    present, problems = _split_present(rows)
    if problems:
        raise LedgerError(problems)
    return present


def _split_present(rows: Sequence[LedgerRow]) -> tuple[set[str], list[LedgerProblem]]:
    """Refs of these rows already in the database, and a problem for each used by another channel."""
    by_ref = {r.ref: r for r in rows}
    refs, present, problems = list(by_ref), set(), []
    for start in range(0, len(refs), 900):  # under every database's parameter limit
        for ref, channel in Issue.objects.filter(ref__in=refs[start : start + 900]).values_list("ref", "channel"):
            if channel == by_ref[ref].channel:
                present.add(ref)
            else:
                reason = f"编号“{ref}”已被{Channel(channel).label}的诉求使用"
                problems.append(LedgerProblem(by_ref[ref].row, "ref", reason))
    return present, problems


def _ledger_calendar(rows: Sequence[LedgerRow]) -> WorkCalendar | None:
    """One calendar for the whole file instead of two queries per deadline and per ladder."""
    if not rows:
        return None
    longest = max(
        [r.deadline_amount or 0 for r in rows]
        + list(DeadlinePolicy.objects.filter(active=True).values_list("amount", flat=True))
    )
    first = min(r.received_on for r in rows)
    last = max(r.received_on for r in rows) + datetime.timedelta(days=longest * 3 + 45) + LADDER_SPAN
    return load_calendar(first, last)


def _import_open(*, actor: User | None, row: LedgerRow, calendar: WorkCalendar | None) -> Issue:
    """A row not yet answered: exactly a clerk's registration and assignment, dated ``received_on``."""
    issue = register_issue(
        actor=actor,
        channel=row.channel,
        category=row.category,
        title=row.title,
        content=row.content,
        received_on=row.received_on,
        ref=row.ref,
        requester=RequesterData(
            name=row.requester, phone=row.requester_phone, kind=row.requester_kind, organization=row.requester_org
        ),
    )
    if row.departments:
        lead, *co = row.departments
        deadline, _ = _ledger_deadline(row, policy_for(row.channel, issue.nature), calendar)
        assignments = assign_issue(
            actor=actor,
            issue=issue,
            lead=lead,
            co=co,
            assigned_on=row.received_on,
            deadline_amount=row.deadline_amount,
            deadline_unit=row.deadline_unit,
            note="导入：" + assign_note(lead, co, deadline.due_date),
        )
        # No old alarms (issue 13 §4): the ladder steps already past when the ledger is imported
        # are recorded as such; the department hears the current state once (e.g. one 已超期).
        settle_passed_steps(assignments, now=timezone.now())
    return issue


def _ledger_deadline(
    row: LedgerRow, policy: DeadlinePolicy | None, calendar: WorkCalendar | None
) -> tuple[Deadline, DeadlinePolicy | None]:
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
        return compute_deadline(
            row.received_on, amount, unit, calendar, policy_name=str(policy) if policy else ""
        ), policy
    except DeadlineInputError as exc:
        raise InvalidInput(str(exc), field="deadline_amount") from None


def _replay(status: str, action: str, *, issue: bool) -> tuple[str, str]:
    """One status move checked against the state machine's table: (from, to), or IllegalTransition."""
    step = (states.ISSUE_MOVES if issue else states.ASSIGNMENT_MOVES)[action]
    if status not in step.sources:
        raise IllegalTransition(f"不能{step.label}。")
    return status, step.target


def _check_answered(actor: User | None, rows: Sequence[LedgerRow]) -> None:
    problems = [p for row in rows for p in _answered_problems(actor, row)]
    if problems:
        raise LedgerError(problems)


def _import_answered(
    *, actor: User | None, rows: Sequence[LedgerRow], calendar: WorkCalendar | None, checked: bool = False
) -> list[Issue]:
    """Rows the ledger says were answered (``replied_on``), set-based; see the section's comment.
    Everything is built and checked in memory first, then inserted table by table. ``checked``: the
    caller ran ``_check_answered`` over the whole file already."""
    if not rows:
        return []
    if not checked:
        _check_answered(actor, rows)
    policies = {channel: policy_for(channel, Issue.Nature.SUGGESTION) for channel in {r.channel for r in rows}}
    deadlines: dict[tuple[object, ...], tuple[Deadline, DeadlinePolicy | None]] = {}
    requesters = _ledger_requesters(rows)
    issues: list[Issue] = []
    assignments: list[Assignment] = []
    history: list[HistoryRow] = []
    for row in rows:
        try:
            key = (row.channel, row.received_on, row.deadline_amount, row.deadline_unit)
            if key not in deadlines:
                deadlines[key] = _ledger_deadline(row, policies[row.channel], calendar)
            deadline, policy = deadlines[key]
            status = Issue.Status.FOLLOWED_UP if row.satisfaction else Issue.Status.REPLIED
            issue = Issue(
                ref=row.ref,
                channel=row.channel,
                category=row.category,
                requester=requesters[_requester_key(row)],
                title=row.title,
                content=row.content,
                received_on=row.received_on,
                registered_by=actor,
                status=Issue.Status.CLOSED if row.closed_on else status,
                satisfaction=row.satisfaction,
                followed_up_on=(row.closed_on or row.replied_on) if row.satisfaction else None,
                closed_on=row.closed_on,
            )
            roles = [Assignment.Role.LEAD] + [Assignment.Role.CO] * (len(row.departments) - 1)
            mine = [
                Assignment(
                    issue=issue,
                    department=dept,
                    role=role,
                    assigned_on=row.received_on,
                    deadline_amount=deadline.amount,
                    deadline_unit=deadline.unit,
                    policy=policy,
                    due_date=deadline.due_date,
                    original_due_date=deadline.due_date,
                    provisional=deadline.provisional,
                    status=Assignment.Status.ACCEPTED,
                    replied_on=row.replied_on,
                )
                for role, dept in zip(roles, row.departments, strict=True)
            ]
            history.extend(_answered_history(row, issue, mine, deadline))
        except WorkflowError as exc:
            raise _ledger_problem(row, exc) from None
        issues.append(issue)
        assignments.extend(mine)
    # Unsaved objects given as foreign keys take their ids at insert time (bulk_create prepares them).
    Requester.objects.bulk_create([r for r in requesters.values() if r.pk is None], batch_size=LEDGER_BATCH)
    _bulk_insert_issues(issues, rows)
    Assignment.objects.bulk_create(assignments, batch_size=LEDGER_BATCH)
    insert_history(history, actor=actor)
    # The inserts' rollup keys are marked (migration 0008's triggers, or rollup_marked_by_import around
    # a whole file): the figures read them live until the minute's refresh sums them.
    return issues


def _issue_status(row: LedgerRow) -> str:
    """The exported status, else what the data says."""
    if row.status:
        return row.status
    assert row.detail is not None
    counted = [a for a in row.detail if a.status != Assignment.Status.WITHDRAWN]
    if row.closed_on:
        return Issue.Status.CLOSED
    if not counted:
        return Issue.Status.REGISTERED
    if any(a.replied_on is None for a in counted):
        return Issue.Status.ASSIGNED
    return Issue.Status.FOLLOWED_UP if row.satisfaction else Issue.Status.REPLIED


def _noon(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def _import_detailed(*, actor: User | None, rows: Sequence[LedgerRow]) -> list[Issue]:
    """Rows of a round-trip workbook (sheet 交办明细 present): the issue and its assignments exactly as
    exported — status, dates, due dates before and after extensions, acknowledgement, accepted-reply
    date, withdrawn assignments — and the first re-handling as a history row on its day, so that every
    figure of the statistics API comes out as it was. Set-based like ``_import_answered``; the open
    assignments get their reminder ladder (``schedule_steps``) as after an assignment."""
    if not rows:
        return []
    requesters = _ledger_requesters(rows)
    issues: list[Issue] = []
    assignments: list[Assignment] = []
    history: list[HistoryRow] = []
    letters: list[SignedReply] = []
    others: list[ExtensionRequest | Objection | DeadlineStep] = []
    for row in rows:
        if actor is not None and row.channel not in registrable_channels(actor):
            raise _ledger_problem(row, NotPermitted(f"您不能登记{Channel(row.channel).label}的诉求。"))
        assert row.detail is not None
        issue = Issue(
            ref=row.ref,
            channel=row.channel,
            category=row.category,
            requester=requesters[_requester_key(row)],
            title=row.title,
            content=row.content,
            received_on=row.received_on,
            registered_by=actor,
            nature=row.nature or Issue.Nature.SUGGESTION,
            accused_department=row.accused_department,
            status=_issue_status(row),
            satisfaction=row.satisfaction,
            followed_up_on=row.followed_up_on or ((row.closed_on or row.replied_on) if row.satisfaction else None),
            follow_up_skipped=row.follow_up_skipped,
            follow_up_skip_note=row.follow_up_skip_note,
            closed_on=row.closed_on,
            onsite_answer=row.onsite_answer,
            follow_up_comment=row.follow_up_comment,
        )
        issues.append(issue)
        history.append(
            HistoryRow(
                issue,
                None,
                "register",
                note=f"导入（导出的台账）：{issue.get_channel_display()}：{issue.title}",
                at=_noon(row.received_on),
            )
        )
        mine: list[Assignment] = []
        for d in row.detail:
            a = Assignment(
                issue=issue,
                department=d.department,
                role=d.role,
                status=d.status,
                assigned_on=d.assigned_on,
                deadline_amount=d.deadline_amount,
                deadline_unit=d.deadline_unit,
                due_date=d.due_date,
                original_due_date=d.original_due_date,
                provisional=d.provisional,
                acknowledged_at=_noon(d.acknowledged_on) if d.acknowledged_on else None,
                replied_on=d.replied_on,
                deadline_version=d.deadline_version,
            )
            assignments.append(a)
            mine.append(a)
            history.append(
                HistoryRow(issue, a, "assigned_to", note=f"导入：交办{d.department.name}", at=_noon(d.assigned_on))
            )
        letters.extend(_reply_letters(actor, row, mine))
        others.extend(_assignment_records(actor, row, mine))
        if row.rehandled_on:
            # The figures count an issue as re-handled from its first reopen or returned reply.
            history.append(
                HistoryRow(issue, None, "reopen", note="导入：台账记录的（最早）重办日期", at=_noon(row.rehandled_on))
            )
    Requester.objects.bulk_create([r for r in requesters.values() if r.pk is None], batch_size=LEDGER_BATCH)
    _bulk_insert_issues(issues, rows)
    try:
        with transaction.atomic():
            Assignment.objects.bulk_create(assignments, batch_size=LEDGER_BATCH)
    except IntegrityError:
        raise LedgerError(
            [
                LedgerProblem(
                    rows[0].row,
                    "departments",
                    "交办明细与数据库的约束冲突（同一单位两个有效交办、两个主办，或期限不晚于交办日期）",
                )
            ]
        ) from None
    try:
        with transaction.atomic():
            SignedReply.objects.bulk_create(letters, batch_size=LEDGER_BATCH)
            ExtensionRequest.objects.bulk_create(
                [r for r in others if isinstance(r, ExtensionRequest)], batch_size=LEDGER_BATCH
            )
            Objection.objects.bulk_create([r for r in others if isinstance(r, Objection)], batch_size=LEDGER_BATCH)
            # The steps already taken, before the open assignments' ladders: schedule_steps skips them.
            DeadlineStep.objects.bulk_create(
                [r for r in others if isinstance(r, DeadlineStep)], batch_size=LEDGER_BATCH
            )
    except IntegrityError:
        raise LedgerError(
            [
                LedgerProblem(
                    rows[0].row,
                    "departments",
                    "回复函、延期申请或异议与数据库的约束冲突（版本重复、同一交办两份待审批的申请，或记录自相矛盾）",
                )
            ]
        ) from None
    insert_history(history, actor=actor)
    open_ones = [a for a in assignments if a.status in Assignment.OPEN_STATUSES]
    for a in open_ones:
        schedule_steps(a)
    # No old alarms (issue 13 §4): steps already past are recorded, the current state told once.
    settle_passed_steps(open_ones, now=timezone.now())
    return issues


def _reply_letters(actor: User | None, row: LedgerRow, assignments: list[Assignment]) -> list[SignedReply]:
    """Sheet 回复函's rows of this issue as replies to its assignments (the ``ordinal``-th of 交办明细).
    The scan is linked by its stored path: the file itself comes back with the backup, not the workbook."""
    return [
        SignedReply(
            assignment=assignments[r.ordinal - 1],
            version=r.version,
            file=r.file,
            original_name=r.original_name,
            content_type=r.content_type,
            size=r.size,
            sha256=r.sha256,
            signer_name=r.signer_name,
            signer_title=r.signer_title,
            signed_on=r.signed_on,
            result=r.result,
            summary=r.summary,
            review_status=r.review_status,
            review_reason=r.review_reason,
            submitted_by=actor,
            submitted_at=r.submitted_at,
            reviewed_by=actor if r.reviewed_at else None,
            reviewed_at=r.reviewed_at,
        )
        for r in row.replies
    ]


def _assignment_records(
    actor: User | None, row: LedgerRow, assignments: list[Assignment]
) -> list[ExtensionRequest | Objection | DeadlineStep]:
    """Sheets 延期申请, 催办督办 and 异议 for this issue: the requests, the steps of the reminder and
    escalation ladder already taken, and the objections, on its assignments (the ordinals of
    交办明细); who asked and who decided is the importing user (not exported)."""
    made: list[ExtensionRequest | Objection | DeadlineStep] = []
    for record in row.records:
        values = dict(record.values)
        values["assignment"] = assignments[values["assignment"] - 1]
        if record.kind == "step":
            made.append(DeadlineStep(**values))
        elif record.kind == "objection":
            new = values.get("new_assignment")
            values["new_assignment"] = assignments[new - 1] if new else None
            made.append(Objection(raised_by=actor, decided_by=actor if values["decided_at"] else None, **values))
        else:
            made.append(
                ExtensionRequest(requested_by=actor, decided_by=actor if values["decided_at"] else None, **values)
            )
    return made


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
        check_departments(lead, co)
        today = timezone.localdate()
        assert row.replied_on is not None
        for field, day in (
            ("received_on", row.received_on),
            ("replied_on", row.replied_on),
            ("closed_on", row.closed_on),
        ):
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


class HistoryRow(NamedTuple):
    """A history row to insert, its issue and assignment not saved yet when it is built (their ids
    are read at insert time); ``at`` None is the moment of the import."""

    issue: Issue
    assignment: Assignment | None
    action: str
    from_status: str = ""
    to_status: str = ""
    note: str = ""
    at: datetime.datetime | None = None


HISTORY_COPY = (
    "COPY feedback_historyentry (issue_id, assignment_id, actor_id, at, action, from_status, to_status, note)"
    " FROM STDIN"
)


def insert_history(rows: Sequence[HistoryRow], *, actor: User | None) -> None:
    """Append ``rows`` to the history in one statement: on PostgreSQL a ``COPY`` of plain tuples (no
    model instance per row: at 100,000 ledger rows that is 1.2 million history rows, bench/README.md),
    elsewhere ``bulk_create``. The history's triggers (append-only, the rollup's re-handling mark)
    run for COPY as for INSERT."""
    if not rows:
        return
    now = timezone.now()
    actor_id = actor.pk if actor is not None else None
    if connection.vendor != "postgresql":
        HistoryEntry.objects.bulk_create(
            [
                HistoryEntry(
                    issue=r.issue,
                    assignment=r.assignment,
                    actor_id=actor_id,
                    at=r.at or now,
                    action=r.action,
                    from_status=r.from_status,
                    to_status=r.to_status,
                    note=r.note,
                )
                for r in rows
            ],
            batch_size=1000,
        )
        return
    with connection.cursor() as cursor, cursor.cursor.copy(HISTORY_COPY) as copy:
        for r in rows:
            copy.write_row(
                (
                    r.issue.pk,
                    r.assignment.pk if r.assignment is not None else None,
                    actor_id,
                    r.at or now,
                    r.action,
                    r.from_status,
                    r.to_status,
                    r.note,
                )
            )


def _answered_history(
    row: LedgerRow, issue: Issue, assignments: list[Assignment], deadline: Deadline
) -> list[HistoryRow]:
    """The history rows the per-row path would write, in its order, each move checked against the table."""
    assert row.replied_on is not None
    entries = [HistoryRow(issue, None, "register", note=f"{issue.get_channel_display()}：{issue.title}")]

    def moved(action: str, status: str, note: str, assignment: Assignment | None = None) -> str:
        before, after = _replay(status, action, issue=assignment is None)
        entries.append(HistoryRow(issue, assignment, action, before, after, note))
        return after

    lead, *co = row.departments
    status = moved("assign", Issue.Status.REGISTERED, "导入：" + assign_note(lead, co, deadline.due_date))
    explanation = "；".join(deadline.explanation)
    for a in assignments:
        entries.append(HistoryRow(issue, a, "assigned_to", note=explanation))
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
    # docs/ledger-format.md: by phone when one is given, otherwise by name (as find_or_create_requester).
    return ("phone", row.requester_phone) if row.requester_phone else ("name", row.requester.strip())


def _ledger_requesters(rows: Sequence[LedgerRow]) -> dict[tuple[str, str], Requester]:
    """find_or_create_requester for a whole file: the oldest match wins; new ones as the first row has them."""
    keys = {_requester_key(r) for r in rows}
    phones = sorted(v for k, v in keys if k == "phone")
    names = sorted(v for k, v in keys if k == "name")
    found: dict[tuple[str, str], Requester] = {}
    for start in range(0, len(phones), 900):
        for who in Requester.objects.filter(phone__in=phones[start : start + 900]).order_by("-id"):
            found[("phone", who.phone)] = who  # descending: the oldest is written last and wins
    for start in range(0, len(names), 900):
        for who in Requester.objects.filter(phone="", name__in=names[start : start + 900]).order_by("-id"):
            found[("name", who.name)] = who
    new: dict[tuple[str, str], Requester] = {}
    for row in rows:
        key = _requester_key(row)
        if key not in found and key not in new:
            new[key] = Requester(
                name=row.requester.strip(),
                phone=row.requester_phone,
                kind=row.requester_kind,
                organization=row.requester_org.strip(),
            )
    return {**found, **new}  # the new ones are inserted by the caller, once every row has been built


def _bulk_insert_issues(issues: list[Issue], rows: Sequence[LedgerRow]) -> None:
    try:
        with transaction.atomic():
            for start in range(0, len(issues), LEDGER_BATCH):
                Issue.objects.bulk_create(issues[start : start + LEDGER_BATCH])
    except IntegrityError:
        # Someone registered one of these refs since the check: the unique index decides; say which.
        taken = set(Issue.objects.filter(ref__in=[r.ref for r in rows]).values_list("ref", flat=True))
        raise LedgerError(
            [LedgerProblem(r.row, "ref", f"编号“{r.ref}”刚刚已被登记，请重新导入") for r in rows if r.ref in taken]
            or [LedgerProblem(rows[0].row, "ref", "写入时发生冲突，请重新导入")]
        ) from None


# --- Monthly bulletins (月度通报): drafted at month end, frozen once published (feedback.bulletins) ---
