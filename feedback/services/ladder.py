"""The deadline ladder: each assignment's stored steps (reminders, overdue, 催办, 督办, 通报) and
the set-based passes that take and announce them."""

# The announce SQL is assembled from table names and this module's constants; every value is a parameter.
# ruff: noqa: S608

from __future__ import annotations

import datetime
import string
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Field
from django.utils import timezone

from feedback.access import GROUP_NAMES, Role
from feedback.deadlines import LadderStep, WorkCalendar, ladder
from feedback.figures.bulletins import previous_month
from feedback.models import (
    Assignment,
    Bulletin,
    DeadlineStep,
    Department,
    HistoryEntry,
    Issue,
    Membership,
    Notification,
)
from feedback.services import notifications
from feedback.workcalendar import load_calendar

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
    taken = set(
        DeadlineStep.objects.filter(assignment=assignment, deadline_version=assignment.deadline_version).values_list(
            "step", flat=True
        )
    )
    DeadlineStep.objects.bulk_create(
        [
            DeadlineStep(
                assignment=assignment,
                step=s.step,
                deadline_version=assignment.deadline_version,
                due_date=assignment.due_date,
                scheduled_for=step_moment(s),
            )
            for s in _ladder_for(assignment, calendar)
            if s.step not in taken
        ]
    )


# Steps that stand for "overdue or worse": the current state they leave is 已超期.
ESCALATION = (
    DeadlineStep.Step.OVERDUE,
    DeadlineStep.Step.CHASE,
    DeadlineStep.Step.SUPERVISE,
    DeadlineStep.Step.BULLETIN,
)
PASSED_WHEN = {"import": "导入台账时", "calendar": "载入节假日安排重算期限时", "session": "补录活动登记时"}


def settle_passed_steps(assignments: list[Assignment], *, now: datetime.datetime, when: str = "import") -> int:
    """No old alarms (issue 13 §4). For assignments that enter the portal late — imported from a
    ledger, or whose deadline a calendar load moved — the pending steps whose moment has already
    passed are recorded, not announced: each becomes taken and announced at ``now`` with a history
    row "deadline_passed_before_import" (shown in the timeline), and the department hears the
    current state once: one 已超期 notice when the overdue step has passed (not four for overdue,
    催办, 督办 and 通报, which the portal never did), else the latest reminder. A passed overdue
    step marks the assignment overdue as the sweep would. Returns the number of steps settled.

    Called after ``schedule_steps`` in the same transaction, so the sweep never sees these rows
    pending (it locks the assignment's steps with SKIP LOCKED; ours are new and uncommitted)."""
    ids = [a.pk for a in assignments if a.is_open]
    if not ids:
        return 0
    steps = list(
        DeadlineStep.objects.filter(assignment__in=ids, taken_at__isnull=True, scheduled_for__lte=now)
        .select_related("assignment__issue", "assignment__department")
        .order_by("assignment_id", "scheduled_for", "id")
    )
    if not steps:
        return 0
    DeadlineStep.objects.filter(pk__in=[s.pk for s in steps]).update(taken_at=now, announced_at=now)
    overdue = {s.assignment_id for s in steps if s.step in ESCALATION}
    if overdue:
        Assignment.objects.filter(pk__in=overdue, overdue_at__isnull=True).update(overdue_at=now)
    where = PASSED_WHEN.get(when, when)
    HistoryEntry.objects.bulk_create(
        [
            HistoryEntry(
                issue=s.assignment.issue,
                assignment=s.assignment,
                action="deadline_passed_before_import",
                note=f"{STEP_LABELS[s.step]}（应于 {timezone.localtime(s.scheduled_for):%Y-%m-%d %H:%M}，"
                f"办理期限 {s.due_date:%Y-%m-%d}）：{where}已过，不再逐项提醒",
                at=now,
            )
            for s in steps
        ]
    )
    latest: dict[int, DeadlineStep] = {}
    for s in steps:  # ordered by moment: the last one per assignment is its current state
        latest[s.assignment_id] = s
    members: dict[int, list[int]] = {}
    for department_id, user_id in Membership.objects.filter(
        department__in={s.assignment.department_id for s in latest.values()}, user__is_active=True
    ).values_list("department_id", "user_id"):
        members.setdefault(department_id, []).append(user_id)
    notes = []
    for s in latest.values():
        a, issue = s.assignment, s.assignment.issue
        due = f"{s.due_date:%Y年%m月%d日}"
        kind: str
        if s.step in ESCALATION:
            kind, title = DeadlineStep.Step.OVERDUE, f"已超期：{issue.title}"
            body = f"{issue.ref}“{issue.title}”{where}已超过办理期限（{due}），请立即办理。"
        else:
            kind, title = s.step, f"{STEP_LABELS[s.step]}：{issue.title}"
            body = _step_body(s.step, issue, due)
        notes += [
            Notification(
                recipient_id=user_id,
                issue_id=issue.pk,
                assignment=a,
                kind=kind,
                deadline_version=s.deadline_version,
                title=title,
                body=body,
            )
            for user_id in members.get(a.department_id, [])
        ]
    Notification.objects.bulk_create(notes, ignore_conflicts=True)
    if notes:
        notifications.queue_after_commit()
    return len(steps)


def due_steps_sql(now: datetime.datetime, batch: int) -> tuple[str, list[Any]]:
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
    sql = (
        f"SELECT s.id FROM {step} s JOIN {assignment} a ON a.id = s.assignment_id "
        f"WHERE s.taken_at IS NULL AND s.scheduled_for <= %s AND a.status IN ({open_statuses}) "
        f"ORDER BY s.scheduled_for, s.id LIMIT %s{lock}"
    )
    moment = DeadlineStep._meta.get_field("scheduled_for").get_db_prep_value(now, connection)
    return sql, [moment, *Assignment.OPEN_STATUSES, batch]


def take_due_steps(*, now: datetime.datetime, batch: int) -> tuple[int, list[tuple[int, str]]]:
    """The sweep's take pass for one batch (``feedback.services.sweeps``, which holds the transaction):
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
                f"WITH due AS ({select}), "
                f"taken AS (UPDATE {step} SET taken_at = %s FROM due WHERE {step}.id = due.id "
                f"AND {step}.taken_at IS NULL RETURNING {step}.assignment_id, {step}.step), "
                f"marked AS (UPDATE {assignment} SET overdue_at = %s FROM taken "
                f"WHERE {assignment}.id = taken.assignment_id AND taken.step = %s "
                f"AND {assignment}.overdue_at IS NULL) "
                "SELECT (SELECT count(*) FROM due), assignment_id, step FROM taken",
                [*params, moment, moment, DeadlineStep.Step.OVERDUE],
            )
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
    """The sweep's announce pass for one batch (``feedback.services.sweeps``, which holds the transaction):
    claim up to ``batch`` steps taken and not yet announced and announce them. Returns how many
    were waiting (unlocked) and how many this call announced."""
    waiting = list(
        DeadlineStep.objects.filter(taken_at__isnull=False, announced_at__isnull=True)
        .select_for_update(skip_locked=True, no_key=True, of=("self",))
        .order_by("taken_at", "id")
        .values_list("pk", flat=True)[:batch]
    )
    claimed = claim_steps(waiting, "announced_at", now)
    if claimed:
        announce_steps(
            [pk for pk, _, _ in claimed],
            bulletins=[pk for pk, _, step in claimed if step == DeadlineStep.Step.BULLETIN],
        )
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
            f"UPDATE {table} SET {column} = %s WHERE id IN ({placeholders}) AND {column} IS NULL "
            "RETURNING id, assignment_id, step",
            [cast("Field[Any, Any]", DeadlineStep._meta.get_field(column)).get_db_prep_save(now, connection), *ids],
        )
        return [tuple(row) for row in cursor.fetchall()]


def announce_steps(step_ids: list[int], *, bulletins: list[int] | None = None) -> int:
    """History rows and notifications for steps the sweep has just taken and this caller has
    claimed (``feedback.services.sweeps.announce_steps``): two ``INSERT … SELECT`` statements, the
    text built by the database, so the cost of a batch is that of writing its rows (bench/sweep.py;
    docs/decisions/0681). ``bulletins``: those of the steps that are bulletin steps, when the caller
    knows them (the claim returns each step's kind): saves looking them up. Returns how many
    notifications were written.

    After an outage one sweep may take several steps of one assignment at once. A reminder
    overtaken by a later step that had also come when it was taken is recorded but not sent:
    nobody needs "half the time has passed" next to "overdue". Supervision (督办) also goes to the
    county leaders and to the office that runs the channel; a person gets one notice per
    assignment and step, the first step's, the supervision title before the department's."""
    unlisted = _missing_from_published_bulletin(step_ids if bulletins is None else bulletins)
    params: dict[str, Any] = {}

    def p(value: Any) -> str:
        """A query parameter (named: the SQL is assembled out of order)."""
        name = f"p{len(params)}"
        params[name] = value
        return f"%({name})s"

    def steps() -> str:
        """The claimed steps as ``b``, with what their texts need."""
        return _claimed_steps(step_ids, unlisted, p)

    history = f"""{steps()}
        INSERT INTO {HistoryEntry._meta.db_table} (issue_id, assignment_id, actor_id, at, action, from_status,
            to_status, note)
        SELECT b.issue_id, b.assignment_id, NULL, b.taken_at, {p("deadline_")} || b.step, '', '',
            CASE WHEN b.bulletin IS NOT NULL
                 THEN {_concat(UNLISTED_NOTE, p)}
                 ELSE b.label || {p("：办理期限 ")} || b.due
                      || CASE WHEN b.stale = 1 THEN {p("（补记，已被后续步骤取代，未发送）")} ELSE '' END END
        FROM b ORDER BY b.assignment_id, b.scheduled_for, b.id"""
    with connection.cursor() as cursor:
        cursor.execute(history, params)
    params.clear()
    users, member = get_user_model()._meta.db_table, Membership._meta.db_table
    groups = get_user_model().groups.through._meta.db_table
    notices_steps = steps()
    escalated = f"{p('督办：')} || b.department_name || {p('·')} || b.title"
    supervise = p(DeadlineStep.Step.SUPERVISE)
    bodies = " ".join(
        f"WHEN b.step LIKE {p(kind + '%' if kind == 'remind' else kind)} THEN {_concat(text, p)}"
        for kind, text in STEP_BODIES.items()
    )
    notices = f"""{notices_steps},
        r AS (
            SELECT b.id AS step_id, m.user_id, 1 AS priority, b.label || {p("：")} || b.title AS title
            FROM b JOIN {member} m ON m.department_id = b.department_id
            JOIN {users} u ON u.id = m.user_id AND u.is_active WHERE b.stale = 0
            UNION ALL
            SELECT b.id, g.user_id, 0, {escalated} FROM b
            JOIN {groups} g ON g.group_id IN (SELECT id FROM auth_group WHERE name = {p(GROUP_NAMES[Role.LEADER])})
            JOIN {users} u ON u.id = g.user_id AND u.is_active WHERE b.step = {supervise} AND b.stale = 0
            UNION ALL
            SELECT b.id, m.user_id, 0, {escalated} FROM b
            JOIN {Department._meta.db_table} o ON o.channel = b.channel
            JOIN {member} m ON m.department_id = o.id
            JOIN {users} u ON u.id = m.user_id AND u.is_active WHERE b.step = {supervise} AND b.stale = 0),
        ranked AS (
            SELECT r.user_id, r.title AS notice_title, r.priority, b.*, ROW_NUMBER() OVER (
                PARTITION BY r.user_id, b.assignment_id, b.step ORDER BY b.scheduled_for, b.id, r.priority) AS n
            FROM r JOIN b ON b.id = r.step_id)
        INSERT {"" if connection.vendor == "postgresql" else "OR IGNORE "}INTO {Notification._meta.db_table}
            (recipient_id, issue_id, assignment_id, kind, deadline_version, title, body, created_at,
             email_status, email_attempts, email_error)
        SELECT b.user_id, b.issue_id, b.assignment_id, b.step, b.deadline_version, b.notice_title,
            CASE WHEN b.bulletin IS NOT NULL THEN {_concat(UNLISTED_BODY, p)} {bodies} END,
            {p(connection.ops.adapt_datetimefield_value(timezone.now()))}, {p(Notification.EmailStatus.PENDING)}, 0, ''
        FROM ranked b WHERE b.n = 1
        ORDER BY b.assignment_id, b.scheduled_for, b.id, b.priority
        {"ON CONFLICT DO NOTHING" if connection.vendor == "postgresql" else ""}"""
    # A notification that already exists (the same step for the same person) hits its unique key.
    with connection.cursor() as cursor:
        cursor.execute(notices, params)
        written: int = cursor.rowcount
    if written:
        notifications.queue_after_commit()
    return written


def _claimed_steps(step_ids: list[int], unlisted: dict[int, str], p: Any) -> str:
    if unlisted:
        rows = " UNION ALL ".join(
            f"SELECT CAST({p(pk)} AS integer) AS step_id, CAST({p(text)} AS text) AS bulletin"
            for pk, text in unlisted.items()
        )
    else:
        rows = "SELECT CAST(NULL AS integer) AS step_id, CAST(NULL AS text) AS bulletin WHERE 1 = 0"
    label = "CASE s.step " + " ".join(f"WHEN {p(k)} THEN {p(v)}" for k, v in STEP_LABELS.items()) + " END"
    if connection.vendor == "postgresql":
        due = """to_char(s.due_date, 'YYYY"年"MM"月"DD"日"')"""
    else:
        due = "strftime('%%Y年%%m月%%d日', s.due_date)"
    step, assignment, issue = DeadlineStep._meta.db_table, Assignment._meta.db_table, Issue._meta.db_table
    return f"""WITH b AS (
        SELECT s.id, s.step, s.assignment_id, s.deadline_version, s.taken_at, s.scheduled_for, a.department_id,
               a.issue_id, i.ref, i.title, i.channel, d.name AS department_name, {due} AS due, u.bulletin,
               CASE WHEN u.bulletin IS NOT NULL THEN {p("超期未办结")} ELSE {label} END AS label,
               CASE WHEN s.step LIKE 'remind%%' AND EXISTS (
                   SELECT 1 FROM {step} m WHERE m.assignment_id = s.assignment_id
                   AND m.deadline_version = s.deadline_version
                   AND m.scheduled_for > s.scheduled_for AND m.scheduled_for <= s.taken_at) THEN 1 ELSE 0 END AS stale
        FROM {step} s JOIN {assignment} a ON a.id = s.assignment_id JOIN {issue} i ON i.id = a.issue_id
        JOIN {Department._meta.db_table} d ON d.id = a.department_id LEFT JOIN ({rows}) u ON u.step_id = s.id
        WHERE s.id IN ({", ".join(p(pk) for pk in step_ids)}))"""


# The texts of the notices and history notes, with the columns of ``b`` in braces (``_concat``).
STEP_BODIES = {
    "remind": "{ref}“{title}”的办理期限为 {due}，请抓紧办理并按时提交书面回复。",
    DeadlineStep.Step.OVERDUE: "{ref}“{title}”已超过办理期限（{due}），请立即办理。",
    DeadlineStep.Step.CHASE: "催办通知：{ref}“{title}”已超期，请于收到通知后尽快提交盖章签字的书面回复。",
    DeadlineStep.Step.SUPERVISE: "督办通知：{ref}“{title}”超期未办，已提请县领导督办。",
    DeadlineStep.Step.BULLETIN: "{ref}“{title}”超期未办结，已列入月度通报。",
}
UNLISTED_BODY = "{ref}“{title}”超期未办结。{bulletin}已发布，未列入该期通报；请立即办理。"
UNLISTED_NOTE = "超期未办结：办理期限 {due}（{bulletin}已发布，未列入该期通报）"


def _concat(template: str, p: Any) -> str:
    """``template`` as SQL: its text as parameters, ``{name}`` as the column ``b.name``."""
    parts = []
    for text, name, _, _ in string.Formatter().parse(template):
        if text:
            parts.append(p(text))
        if name:
            parts.append(f"b.{name}")
    return " || ".join(parts)


def _missing_from_published_bulletin(step_ids: list[int]) -> dict[int, str]:
    """Bulletin steps whose month's bulletin (of the issue's channel, or the all-channel one) is
    already published without listing the assignment — a sweep after an outage, or a step moved
    by a calendar load. Their notice must not say "已列入月度通报" (issue 13 §4): a frozen
    bulletin is never said to contain an item it does not contain. Maps step id → "YYYY年M月通报"."""
    if not step_ids:
        return {}
    wanted = list(
        DeadlineStep.objects.filter(pk__in=step_ids, step=DeadlineStep.Step.BULLETIN).select_related(
            "assignment__issue", "assignment__department"
        )
    )
    if not wanted:
        return {}
    months = {previous_month(timezone.localtime(s.scheduled_for).date()) for s in wanted}
    published: dict[tuple[datetime.date, str], set[tuple[int, str]]] = {}
    for month, channel, figures in Bulletin.objects.filter(
        month__in=months, status=Bulletin.Status.PUBLISHED
    ).values_list("month", "channel", "figures"):
        published[(month, channel)] = {
            (row.get("issue_id"), row.get("department")) for row in figures.get("listed", [])
        }
    missing = {}
    for s in wanted:
        month = previous_month(timezone.localtime(s.scheduled_for).date())
        key = (s.assignment.issue_id, s.assignment.department.name)
        for channel in (s.assignment.issue.channel, ""):
            listed = published.get((month, channel))
            if listed is not None and key not in listed:
                missing[s.pk] = f"{month.year}年{month.month}月{'' if channel else '全县'}月度通报"
                break
    return missing


def _step_body(step: str, issue: Issue, due: str) -> str:
    template = STEP_BODIES["remind" if step.startswith("remind") else step]
    return template.format(ref=issue.ref, title=issue.title, due=due)
