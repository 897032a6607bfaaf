"""The deadline sweep: beat runs it every five minutes (``feedback.tasks.sweep_deadlines``).

Deadline state lives in the database, never in broker ETAs. Each assignment stores the
moment of its next step (``next_check_at``); the sweep takes every row whose moment has
come (``<= now``: level-triggered, so a sweep after hours of outage catches up on
everything it missed) and lets ``services`` take the due steps. Exactly-once comes from
the database, not from the scheduler:

- one sweep at a time: a transaction-scoped advisory lock on PostgreSQL (a second beat,
  or a sweep that overlaps the previous one, returns at once having done nothing);
- rows claimed with ``SELECT … FOR NO KEY UPDATE SKIP LOCKED``: a row someone is
  changing right now is left for the next sweep instead of waiting for it;
- each step is a ``DeadlineStep`` row unique on (assignment, step, deadline version) and
  each notification is unique on (recipient, assignment, kind, deadline version), so a
  rerun after a crash between commit and acknowledgement takes nothing twice.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from . import services
from .models import Assignment
from .workcalendar import load_calendar

# Key of the advisory lock that keeps sweeps from overlapping (any constant unique in the
# database; these are the bytes of "ztSW").
SWEEP_LOCK_ID = 0x7A74_5357


@dataclass
class SweepResult:
    examined: int = 0  # assignments whose next step had come
    steps: Counter[str] = field(default_factory=Counter)  # steps taken, by kind
    locked_out: bool = False  # another sweep was running: this one did nothing

    def as_dict(self) -> dict[str, object]:
        return {"examined": self.examined, "steps": dict(self.steps), "locked_out": self.locked_out}


def due_assignments(now: datetime.datetime) -> QuerySet[Assignment]:
    """Rows whose next step has come, oldest first. Reads ``assignment_next_check_idx``
    (partial: only rows with a step still to take), so the cost follows the due rows,
    not the table. Must be evaluated inside a transaction (it locks what it returns)."""
    # no_key: FOR NO KEY UPDATE still excludes every service that locks the row (they take
    # FOR UPDATE), but does not skip a row merely because another transaction holds KEY SHARE
    # on it, as the foreign-key check of a new history or notification row pointing at it does.
    return (Assignment.objects.filter(next_check_at__lte=now)
            .select_for_update(skip_locked=True, no_key=True, of=("self",))
            .select_related("issue", "department")
            .order_by("next_check_at"))


def sweep_deadlines(now: datetime.datetime | None = None, batch: int = 500) -> SweepResult:
    """Take every due step of every assignment, ``batch`` rows per transaction.

    Each batch commits on its own so row locks are held briefly and the work done
    survives a crash of the worker later in the sweep.
    """
    now = now or timezone.now()
    result = SweepResult()
    stuck: set[int] = set()
    while True:
        with transaction.atomic():
            if not _take_sweep_lock():
                result.locked_out = result.examined == 0
                return result
            due = due_assignments(now).exclude(pk__in=stuck) if stuck else due_assignments(now)
            rows = list(due[:batch])
            if not rows:
                return result
            # One calendar for the whole batch: two queries instead of two per row.
            calendar = load_calendar(min(a.assigned_on for a in rows),
                                     max(a.due_date for a in rows) + services.LADDER_SPAN)
            for steps in services.advance_deadlines(assignments=rows, now=now, calendar=calendar).values():
                result.steps.update(steps)
            # Cannot happen with a consistent ladder; but never let one row spin the loop.
            stuck.update(a.pk for a in rows if a.next_check_at is not None and a.next_check_at <= now)
            result.examined += len(rows)
        if len(rows) < batch:
            # The rest, if any, was locked by someone else: the next sweep takes it.
            return result


def _take_sweep_lock() -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite: the database-wide write lock already serialises sweeps
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SWEEP_LOCK_ID])
        return bool(cursor.fetchone()[0])
