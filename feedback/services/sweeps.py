"""The deadline sweep: beat runs it every five minutes (``feedback.tasks.sweep_deadlines``).

Deadline state lives in the database, never in broker ETAs. The ladder of every open assignment
is stored as DeadlineStep rows written when its deadline is set (``services.schedule_steps``):
the pending ones (``taken_at`` NULL) are the sweep's queue, read through the partial index
``deadlinestep_pending_idx``. A sweep works in two passes, each level-triggered (everything
whose moment has come, ``<= now``), so a sweep after hours of outage catches up on everything
it missed:

The loop, the transactions and the lock are here; each batch's writes are services
(``services.take_due_steps``, ``services.announce_due_steps``).

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
- each batch of the take pass holds a transaction-scoped advisory lock on PostgreSQL: a second
  beat, or a sweep that overlaps the previous one, that finds a batch running returns at once
  having done nothing (an optimisation; the claims above are what make it safe). The lock is
  transaction-scoped because PgBouncer in transaction mode keeps no session (docs/scaling.md), so
  two sweeps may still alternate between batches, each taking different steps.

A crash between the passes leaves steps taken and not announced: the next sweep announces them.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from feedback import services

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
        return {
            "examined": self.examined,
            "steps": dict(self.steps),
            "announced": self.announced,
            "locked_out": self.locked_out,
        }


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
            due, taken = services.take_due_steps(now=now, batch=batch)
        result.steps.update(step for _, step in taken)
        assignments.update(assignment_id for assignment_id, _ in taken)
        if due < batch:
            break  # the rest, if any, was locked by someone else: the next sweep takes it
    result.examined = len(assignments)
    return result


def announce_steps(now: datetime.datetime | None = None, batch: int = 2000) -> int:
    """Write the history and notifications of every step taken and not yet announced; returns how
    many steps were announced. Safe beside another sweep: each step is claimed once."""
    now = now or timezone.now()
    announced = 0
    while True:
        with transaction.atomic():
            waiting, claimed = services.announce_due_steps(now=now, batch=batch)
        announced += claimed
        if waiting < batch:
            return announced


def _take_sweep_lock() -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite: the database-wide write lock already serialises sweeps
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SWEEP_LOCK_ID])
        return bool(cursor.fetchone()[0])
