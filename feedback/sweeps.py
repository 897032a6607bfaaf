"""The deadline sweep: beat runs it every five minutes (``feedback.tasks.sweep_deadlines``).

Deadline state lives in the database, never in broker ETAs. The ladder of every open assignment
is stored as DeadlineStep rows written when its deadline is set (``services.schedule_steps``):
the pending ones (``taken_at`` NULL) are the sweep's queue, read through the partial index
``deadlinestep_pending_idx``. A sweep works in two passes, each level-triggered (everything
whose moment has come, ``<= now``), so a sweep after hours of outage catches up on everything
it missed:

1. **take** (``take_due_steps``): set-based, a fixed number of statements per batch and no
   Python per row — mark the due steps taken and their assignments overdue where the step is
   "overdue". This is the part that must keep up with a county's whole backlog
   (bench/sweep.py).
2. **announce** (``announce_steps``): for the steps taken and not yet announced, write the
   history rows and the notifications (``services.announce_steps``) and queue the emails
   after commit.

Exactly-once comes from the database, not from the scheduler:

- rows are claimed with ``SELECT … FOR NO KEY UPDATE SKIP LOCKED`` (a row someone is changing
  right now is left for the next sweep instead of waiting for it) and then by a conditional
  ``UPDATE … WHERE taken_at IS NULL`` (or ``announced_at IS NULL``) whose result alone is acted
  on: a step taken or announced by someone else in between is not taken or announced again;
- each step is unique on (assignment, step, deadline version) and each notification on
  (recipient, assignment, kind, deadline version);
- the take pass also holds a transaction-scoped advisory lock on PostgreSQL: a second beat, or a
  sweep that overlaps the previous one, returns at once having done nothing (an optimisation;
  the claims above are what make it safe).

A crash between the passes leaves steps taken and not announced: the next sweep announces them.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from . import services
from .models import Assignment, DeadlineStep

# Key of the advisory lock that keeps sweeps from overlapping (any constant unique in the
# database; these are the bytes of "ztSW").
SWEEP_LOCK_ID = 0x7A74_5357


@dataclass
class SweepResult:
    examined: int = 0  # assignments with a step taken by this sweep
    steps: Counter[str] = field(default_factory=Counter)  # steps taken, by kind
    announced: int = 0  # steps whose history and notifications this sweep wrote
    locked_out: bool = False  # another sweep was running: this one took nothing

    def as_dict(self) -> dict[str, object]:
        return {"examined": self.examined, "steps": dict(self.steps), "announced": self.announced,
                "locked_out": self.locked_out}


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


def sweep_deadlines(now: datetime.datetime | None = None, batch: int = 2000) -> SweepResult:
    """Take every due step, then announce every step taken and not yet announced."""
    now = now or timezone.now()
    result = take_due_steps(now, batch=batch)
    result.announced = announce_steps(now, batch=batch)
    return result


def take_due_steps(now: datetime.datetime, batch: int = 2000) -> SweepResult:
    """Mark every due step taken (and the assignment overdue for the "overdue" step), ``batch``
    steps per transaction: each batch commits on its own, so row locks are held briefly and the
    work done survives a crash of the worker later in the sweep."""
    result = SweepResult()
    assignments: set[int] = set()
    while True:
        with transaction.atomic():
            if not _take_sweep_lock():
                result.locked_out = not result.steps
                break
            due, taken = _take_batch(now, batch)
        result.steps.update(step for _, step in taken)
        assignments.update(assignment_id for assignment_id, _ in taken)
        if due < batch:
            break  # the rest, if any, was locked by someone else: the next sweep takes it
    result.examined = len(assignments)
    return result


def _take_batch(now: datetime.datetime, batch: int) -> tuple[int, list[tuple[int, str]]]:
    """Select, claim and mark one batch; returns how many due steps were selected and the
    (assignment id, step) of those this call took."""
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
    taken = _claim(due, "taken_at", now)
    overdue = [assignment_id for _, assignment_id, step in taken if step == DeadlineStep.Step.OVERDUE]
    if overdue:
        Assignment.objects.filter(pk__in=overdue, overdue_at__isnull=True).update(overdue_at=now)
    return len(due), [(assignment_id, step) for _, assignment_id, step in taken]


def announce_steps(now: datetime.datetime | None = None, batch: int = 2000) -> int:
    """Write the history and notifications of every step taken and not yet announced; returns how
    many steps were announced. Safe beside another sweep: each step is claimed once."""
    now = now or timezone.now()
    announced = 0
    while True:
        with transaction.atomic():
            waiting = list(DeadlineStep.objects.filter(taken_at__isnull=False, announced_at__isnull=True)
                           .select_for_update(skip_locked=True, no_key=True, of=("self",))
                           .order_by("taken_at", "id").values_list("pk", flat=True)[:batch])
            claimed = _claim(waiting, "announced_at", now)
            if claimed:
                steps = list(DeadlineStep.objects.filter(pk__in=[pk for pk, _, _ in claimed])
                             .select_related("assignment__issue", "assignment__department")
                             .order_by("assignment_id", "scheduled_for"))
                services.announce_steps(steps, now)
        announced += len(claimed)
        if len(waiting) < batch:
            return announced


def _claim(ids: list[int], column: str, now: datetime.datetime) -> list[tuple[int, int, str]]:
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


def _take_sweep_lock() -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite: the database-wide write lock already serialises sweeps
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SWEEP_LOCK_ID])
        return bool(cursor.fetchone()[0])
