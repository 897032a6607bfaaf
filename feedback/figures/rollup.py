"""The statistics rollup: the figures of ``feedback.figures.statistics`` summed per key, and kept exact.

A key is (day received, channel, category): every cohort filter but the department selects whole
keys. The department tables add the department (per day, and per month for long periods), and are
also kept summed over the categories (per day or month, channel and department: decision 0750) for
the tables over every category. Each
rollup row holds its key's figures *judged at the end of time*: every reply, closure and
re-handling counts as happened, every unreplied assignment as overdue. They are the key's figures
at ``as_of`` but for the open assignments not yet due then, as soon as ``as_of`` is on or after the
key's last event (``last_event_on``: its latest accepted reply, closure or re-handling): the key is
*settled*. (``last_open_due_on`` covers what the correction below cannot see: an unreplied
assignment that is not open, or whose original due date is later than its current one; normally
NULL.) A query for ``as_of`` therefore, in one statement (one snapshot):

* sums the rollup rows of the keys settled at ``as_of`` — for ``as_of`` today, every key but those
  changed outside the services since the last refresh;
* takes off, for those keys, the open assignments due on or after ``as_of`` (not overdue yet): a
  range of the partial index ``assignment_open_due_idx``, a few thousand rows at most;
* computes the other keys live from the issue and assignment tables, with the very SQL the rollup
  rows are built with (``_per_issue``), judged at ``as_of`` instead of the end of time — for an
  ``as_of`` in the past, the keys with a reply, closure or re-handling after it.

Usually no key of the window is live (``as_of`` today, nothing marked). A small query asks that
first; the statement then leaves out every test against the live keys and the live part — PostgreSQL
parses and plans it in a third of the time, which is most of a short period's cost — and counts the
live keys again in its own snapshot (``RECHECK``): if a key was marked in between, the full statement
runs. The figures are always those of one snapshot.

Distinct requesters cannot be summed: they are counted live, index-only (``issue_stats_requester_idx``
for a short period, ``issue_requester_received_idx`` for a long one: already in requester order).
Nothing is approximated: an ``as_of`` in the past only makes more keys live (as slow as before the
rollup, never wrong).

Keeping it current. Triggers (migration 0008) add a key to ``StatsRollupDirtyKey`` on every write
that can move a figure: an issue's key, closure, rating or 未能回访 (migration 0500); an assignment's issue, department,
withdrawal, due dates or reply date; a re-handling (history ``reopen`` / ``return_reply``).
Whoever writes — the services, the admin, a raw UPDATE — a marked key is read live until
``refresh`` sums it again. ``states.move`` and ``states.record`` (every service writes its history
row through them) call ``refresh`` in the same transaction, as does the ledger import; the nightly
``rebuild_stats_rollup`` sums whatever is left (an admin edit) and checks every row.

Concurrency (PostgreSQL). The trigger's ``ON CONFLICT … DO UPDATE`` keeps the key's mark
row-locked until the writer commits (a second writer of the key waits there), and ``refresh``
claims the marks nobody else holds by deleting them (``FOR UPDATE SKIP LOCKED``): two transactions
never sum one key at once, and the later one's statements see the earlier one's commit. The month
rows and the rows over the categories, summed from the daily rows of many keys, are serialised
per month and channel with an advisory lock; the rebuild locks the rollup tables. The rollup
tables have no foreign-key constraints (see ``models.StatsFigures``): their deferred checks closed
a circle of waits with the services' row locks.
"""

# The SQL below is assembled from this module's constants only; every value is a query parameter.
# ruff: noqa: S608

from __future__ import annotations

import datetime
import functools
import hashlib
import itertools
import logging
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from pyroaring import BitMap

from feedback.models import (
    Assignment,
    StatsChannelDepartmentMonthRollup,
    StatsChannelDepartmentRollup,
    StatsDepartmentMonthRollup,
    StatsDepartmentRollup,
    StatsGeneration,
    StatsMonthRequesters,
    StatsMonthRollup,
    StatsOpenDue,
    StatsRequesterSet,
    StatsRollup,
    StatsRollupDirtyKey,
)

ISSUES = "feedback_issue"
ASSIGNMENTS = "feedback_assignment"
HISTORY = "feedback_historyentry"
DEPARTMENTS = "feedback_department"
DAY = StatsRollup._meta.db_table
DEPT_DAY = StatsDepartmentRollup._meta.db_table
DEPT_MONTH = StatsDepartmentMonthRollup._meta.db_table
CHANNEL_DEPT_DAY = StatsChannelDepartmentRollup._meta.db_table
CHANNEL_DEPT_MONTH = StatsChannelDepartmentMonthRollup._meta.db_table
MONTH = StatsMonthRollup._meta.db_table
OPEN_DUE = StatsOpenDue._meta.db_table
REQUESTERS = StatsMonthRequesters._meta.db_table
DIRTY = StatsRollupDirtyKey._meta.db_table
SETS = StatsRequesterSet._meta.db_table

# The open statuses, as in the condition of assignment_open_due_idx (PostgreSQL then reads that
# partial index). Migration 0008's triggers spell them too: a new open status needs a migration.
OPEN = "(" + ", ".join(f"'{status}'" for status in Assignment.OPEN_STATUSES) + ")"
# The end of time: a date the databases can still add a day to.
END_OF_TIME = datetime.date(9999, 12, 30)
# Claimed keys are summed in batches of this many (each key is three query parameters).
BATCH = 2000

Key = tuple[datetime.date, str, int]  # (received_on, channel, category_id)

# --- the figures, as SQL over per-issue rows ``p`` and assignment rows ``a`` -----------------------------

ISSUE_COLUMNS = (
    "issues",
    "closed",
    "followed_up",
    "rated",
    "satisfied",
    "dissatisfied",
    "unreachable",
    "follow_up_skipped",
    "rehandled",
    "assigned_issues",
    "replied",
)
ASSIGNMENT_COLUMNS = (
    "assignments",
    "assignments_replied",
    "on_time",
    "late",
    "overdue_open",
    "on_time_original",
    "late_original",
    "overdue_open_original",
)
COUNT_COLUMNS = ISSUE_COLUMNS + ASSIGNMENT_COLUMNS
OWN_COLUMNS = tuple(f"own_{c}" for c in ASSIGNMENT_COLUMNS)
DATE_COLUMNS = ("last_event_on", "last_open_due_on")

ISSUE_SUMS = (
    "COUNT(*)",
    "SUM(p.closed)",
    "SUM(p.followed_up)",
    "SUM(p.rated)",
    "SUM(p.satisfied)",
    "SUM(p.dissatisfied)",
    "SUM(p.unreachable)",
    "SUM(p.follow_up_skipped)",
    "SUM(p.rehandled)",
    "SUM(CASE WHEN p.assignments > 0 THEN 1 ELSE 0 END)",
    # replied: at least one assignment, all of them replied
    "SUM(CASE WHEN p.assignments > 0 AND p.assignments_replied = p.assignments THEN 1 ELSE 0 END)",
)
ASSIGNMENT_SUMS = tuple(f"SUM(p.{c})" for c in ASSIGNMENT_COLUMNS)
FINAL_DATES = ("MAX(p.last_event)", "MAX(p.last_open_due)")

# One assignment ``a`` at the end of ``%(as_of)s`` (statistics.py's rules), as 0/1.
_REPLIED = "a.replied_on <= %(as_of)s"
_UNREPLIED = "(a.replied_on IS NULL OR a.replied_on > %(as_of)s)"
ASSIGNMENT_FLAGS = (
    "1",
    f"CASE WHEN {_REPLIED} THEN 1 ELSE 0 END",
    f"CASE WHEN {_REPLIED} AND a.replied_on <= a.due_date THEN 1 ELSE 0 END",
    f"CASE WHEN {_REPLIED} AND a.replied_on > a.due_date THEN 1 ELSE 0 END",
    f"CASE WHEN {_UNREPLIED} AND a.due_date < %(as_of)s THEN 1 ELSE 0 END",
    f"CASE WHEN {_REPLIED} AND a.replied_on <= a.original_due_date THEN 1 ELSE 0 END",
    f"CASE WHEN {_REPLIED} AND a.replied_on > a.original_due_date THEN 1 ELSE 0 END",
    f"CASE WHEN {_UNREPLIED} AND a.original_due_date < %(as_of)s THEN 1 ELSE 0 END",
)
OWN_SUMS = ("COUNT(*)", *(f"SUM({flag})" for flag in ASSIGNMENT_FLAGS[1:]))


def _select(expressions: Sequence[str], names: Sequence[str]) -> str:
    return ", ".join(f"{e} AS {n}" for e, n in zip(expressions, names, strict=True))


# --- SQL dialect ------------------------------------------------------------------------------------------


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _date(value: datetime.date) -> Any:
    return connection.ops.adapt_datefield_value(value)


def _as_date(value: Any) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def _month(column: str) -> str:
    """The first day of the (date) column's month. On PostgreSQL through ``timestamp``: a date given
    to DATE_TRUNC as it is becomes a ``timestamptz``, truncated in the session's time zone at ~1 µs
    a row (issue 16: a month table's 8,000 open assignments grouped in 9-15 ms, 3-6 ms this way)."""
    if _postgres():
        return f"CAST(DATE_TRUNC('month', CAST({column} AS timestamp)) AS date)"
    return f"strftime('%%Y-%%m-01', {column})"


def _year(column: str) -> str:
    """The first day of the column's year."""
    if _postgres():
        return f"CAST(DATE_TRUNC('year', {column}) AS date)"
    return f"strftime('%%Y-01-01', {column})"


def _next_month(column: str) -> str:
    if _postgres():
        return f"CAST({column} + INTERVAL '1 month' AS date)"
    return f"date({column}, '+1 month')"


_NEVER = "'0001-01-01'"


def _greatest(*values: str) -> str:
    """The latest of some dates, NULLs ignored (NULL when all are)."""
    if _postgres():
        return f"GREATEST({', '.join(values)})"
    return f"NULLIF(MAX({', '.join(f'COALESCE({v}, {_NEVER})' for v in values)}), {_NEVER})"


def _local_date(column: str, params: dict[str, Any]) -> str:
    """The local date (TIME_ZONE) of a timestamp: statistics judges a history row by
    ``at < the end of as_of`` in local time."""
    sql, values = connection.ops.datetime_cast_date_sql(column, (), timezone.get_current_timezone_name())
    for n, value in enumerate(values):
        params[f"tz{n}"] = value
        sql = sql.replace("%s", f"%(tz{n})s", 1)
    return sql


def _same(a: str, b: str) -> str:
    return f"{a} IS NOT DISTINCT FROM {b}" if _postgres() else f"{a} IS {b}"


def _and(conditions: Sequence[str]) -> str:
    return " AND ".join(conditions) if conditions else "1 = 1"


def _execute(sql: str, params: dict[str, Any] | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _fetch(sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [col[0] for col in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# --- the figures of each issue, at as_of or at the end of time -------------------------------------------


def _per_issue(where: str, params: dict[str, Any], *, as_of: datetime.date | None, join: str = "") -> str:
    """One row per issue of ``feedback_issue i`` (``join`` and ``where`` narrow them): its own 0/1
    figures and its counted assignments' counts at the end of ``as_of``; with ``as_of=None`` at the
    end of time, with the dates until which they are not final (``last_event``, ``last_open_due``)."""
    params["as_of"] = _date(END_OF_TIME if as_of is None else as_of)
    if as_of is None:
        rehandled_on = (
            f"(SELECT MAX({_local_date('h.at', params)}) FROM {HISTORY} h WHERE h.issue_id = i.id"
            " AND h.action IN ('reopen', 'return_reply'))"
        )
        rehandled = f"""CASE WHEN {rehandled_on} IS NULL THEN 0 ELSE 1 END AS rehandled,
            {_greatest("MAX(a.replied_on)", "i.closed_on", rehandled_on)} AS last_event,
            MAX(CASE WHEN a.id IS NULL OR a.replied_on IS NOT NULL THEN NULL
                WHEN a.status IN {OPEN} THEN (CASE WHEN a.original_due_date > a.due_date THEN a.original_due_date END)
                WHEN a.due_date >= a.original_due_date THEN a.due_date ELSE a.original_due_date END) AS last_open_due"""
    else:
        params["end"] = connection.ops.adapt_datetimefield_value(
            timezone.make_aware(datetime.datetime.combine(as_of + datetime.timedelta(days=1), datetime.time.min))
        )
        rehandled = f"""CASE WHEN EXISTS (SELECT 1 FROM {HISTORY} h WHERE h.issue_id = i.id
                AND h.action IN ('reopen', 'return_reply') AND h.at < %(end)s) THEN 1 ELSE 0 END AS rehandled"""
    counts = _select(
        ["COUNT(a.id)", *(f"SUM(CASE WHEN a.id IS NULL THEN 0 ELSE {flag} END)" for flag in ASSIGNMENT_FLAGS[1:])],
        ASSIGNMENT_COLUMNS,
    )
    return f"""
        SELECT i.id AS issue_id, i.received_on, i.channel, i.category_id,
            CASE WHEN i.closed_on <= %(as_of)s THEN 1 ELSE 0 END AS closed,
            CASE WHEN i.satisfaction <> '' THEN 1 ELSE 0 END AS followed_up,
            CASE WHEN i.satisfaction IN ('satisfied', 'basically', 'dissatisfied') THEN 1 ELSE 0 END AS rated,
            CASE WHEN i.satisfaction IN ('satisfied', 'basically') THEN 1 ELSE 0 END AS satisfied,
            CASE WHEN i.satisfaction = 'dissatisfied' THEN 1 ELSE 0 END AS dissatisfied,
            CASE WHEN i.satisfaction = 'unreachable' THEN 1 ELSE 0 END AS unreachable,
            CASE WHEN i.follow_up_skipped <> '' THEN 1 ELSE 0 END AS follow_up_skipped,
            {rehandled}, {counts}
        FROM {ISSUES} i {join}
        LEFT JOIN {ASSIGNMENTS} a ON a.issue_id = i.id AND a.status <> 'withdrawn'
        WHERE {where}
        GROUP BY i.id"""


# --- building rows ---------------------------------------------------------------------------------------


def _keys_in(
    keys: Sequence[Key] | None, alias: str, params: dict[str, Any], *, day: str = "", prefix: str = "k"
) -> str:
    """``(day, channel, category_id) IN (the keys)`` on ``alias`` (``day``: its received_on)."""
    if keys is None:
        return "1 = 1"
    values = []
    for n, (first, channel, category_id) in enumerate(keys):
        params[f"{prefix}{n}d"], params[f"{prefix}{n}c"], params[f"{prefix}{n}g"] = _date(first), channel, category_id
        values.append(f"(%({prefix}{n}d)s, %({prefix}{n}c)s, %({prefix}{n}g)s)")
    return f"({day or alias + '.received_on'}, {alias}.channel, {alias}.category_id) IN (VALUES {', '.join(values)})"


DAY_COLUMNS = ("received_on", "channel", "category_id", *COUNT_COLUMNS, *DATE_COLUMNS)
DEPT_DAY_COLUMNS = (
    "received_on",
    "channel",
    "category_id",
    "department_id",
    *COUNT_COLUMNS,
    *DATE_COLUMNS,
    *OWN_COLUMNS,
)
OPEN_DUE_COLUMNS = (
    "received_on",
    "channel",
    "category_id",
    "department_id",
    "due_date",
    "original_due_date",
    "assignments",
)


@dataclass(frozen=True)
class Level:
    """A pair of tables: per day, and their sums per month."""

    day: str
    month: str
    key: tuple[str, ...]  # the day table's key columns
    columns: tuple[str, ...]  # the day table's columns, key first

    @property
    def month_columns(self) -> tuple[str, ...]:
        return ("month", *self.columns[1:])


ISSUE_LEVEL = Level(DAY, MONTH, ("received_on", "channel", "category_id"), DAY_COLUMNS)
DEPARTMENT_LEVEL = Level(
    DEPT_DAY, DEPT_MONTH, ("received_on", "channel", "category_id", "department_id"), DEPT_DAY_COLUMNS
)
# The department level summed over the categories (decision 0750): no dates, read only when no key
# of the window is live.
CHANNEL_DEPARTMENT_LEVEL = Level(
    CHANNEL_DEPT_DAY,
    CHANNEL_DEPT_MONTH,
    ("received_on", "channel", "department_id"),
    ("received_on", "channel", "department_id", *COUNT_COLUMNS, *OWN_COLUMNS),
)


def _day_rows(keys: Sequence[Key] | None, params: dict[str, Any]) -> str:
    per_issue = _per_issue(_keys_in(keys, "i", params), params, as_of=None)
    sums = _select(
        ("p.received_on", "p.channel", "p.category_id", *ISSUE_SUMS, *ASSIGNMENT_SUMS, *FINAL_DATES), DAY_COLUMNS
    )
    return f"SELECT {sums} FROM ({per_issue}) p GROUP BY p.received_on, p.channel, p.category_id"


def _department_day_rows(keys: Sequence[Key] | None, params: dict[str, Any]) -> str:
    """Per department: the issues with a counted assignment to it (at most one per issue and
    department, so counting rows counts issues), all their assignments, and its own."""
    per_issue = _per_issue(_keys_in(keys, "i", params), params, as_of=None)
    sums = _select(
        (
            "p.received_on",
            "p.channel",
            "p.category_id",
            "a.department_id",
            *ISSUE_SUMS,
            *ASSIGNMENT_SUMS,
            *FINAL_DATES,
            *OWN_SUMS,
        ),
        DEPT_DAY_COLUMNS,
    )
    return f"""SELECT {sums} FROM ({per_issue}) p
        JOIN {ASSIGNMENTS} a ON a.issue_id = p.issue_id AND a.status <> 'withdrawn'
        GROUP BY p.received_on, p.channel, p.category_id, a.department_id"""


def _open_due_rows(keys: Sequence[Key] | None, params: dict[str, Any]) -> str:
    columns = ("i.received_on", "i.channel", "i.category_id", "a.department_id", "a.due_date", "a.original_due_date")
    return f"""SELECT {_select((*columns, "COUNT(*)"), OPEN_DUE_COLUMNS)}
        FROM {ISSUES} i JOIN {ASSIGNMENTS} a ON a.issue_id = i.id
        WHERE a.status IN {OPEN} AND {_keys_in(keys, "i", params)} GROUP BY {", ".join(columns)}"""


REQUESTER_COLUMNS = ("month", "channel", "category_id", "requesters")


def _requester_rows(months: Sequence[datetime.date] | None, params: dict[str, Any]) -> str:
    """Distinct requesters per month received: per (channel, category), per channel (category 0),
    per category (channel ''), and in all."""
    month = _month("i.received_on")
    where = "1 = 1"
    if months is not None:
        ranges = []
        for n, first in enumerate(months):
            params[f"r{n}a"], params[f"r{n}b"] = _date(first), _date(_next_month_date(first))
            ranges.append(f"(i.received_on >= %(r{n}a)s AND i.received_on < %(r{n}b)s)")
        where = " OR ".join(ranges)
    return "\nUNION ALL\n".join(
        f"""SELECT {month} AS month, {channel} AS channel, {category} AS category_id,
            COUNT(DISTINCT i.requester_id) AS requesters FROM {ISSUES} i WHERE {where}
            GROUP BY {", ".join([month, *(g for g in (channel, category) if g.startswith("i."))])}"""
        for channel, category in (
            ("i.channel", "i.category_id"),
            ("i.channel", "0"),
            ("''", "i.category_id"),
            ("''", "0"),
        )
    )


def _next_month_date(first: datetime.date) -> datetime.date:
    return (first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def _month_rows(level: Level, months: Sequence[Key] | None, params: dict[str, Any]) -> str:
    month = _month("r.received_on")
    where = "1 = 1"
    if months is not None:
        params["months_from"] = _date(min(m for m, _, _ in months))
        params["months_to"] = _date(max(m for m, _, _ in months) + datetime.timedelta(days=31))
        where = "r.received_on >= %(months_from)s AND r.received_on < %(months_to)s AND " + _keys_in(
            months, "r", params, day=month, prefix="m"
        )
    group = (month, *(f"r.{c}" for c in level.key[1:]))
    sums = [f"MAX(r.{c})" if c in DATE_COLUMNS else f"SUM(r.{c})" for c in level.columns[len(level.key) :]]
    return f"""SELECT {_select((*group, *sums), level.month_columns)} FROM {level.day} r WHERE {where}
        GROUP BY {", ".join(group)}"""


def _replace(keys: Sequence[Key]) -> None:
    """Sum these keys again: delete their rows, insert their aggregates (an emptied key has none),
    then the month rows of their months."""
    for table in (DAY, DEPT_DAY, OPEN_DUE):
        params: dict[str, Any] = {}
        _execute(f"DELETE FROM {table} WHERE {_keys_in(keys, table, params)}", params)
    for table, columns, rows in (
        (DAY, DAY_COLUMNS, _day_rows),
        (DEPT_DAY, DEPT_DAY_COLUMNS, _department_day_rows),
        (OPEN_DUE, OPEN_DUE_COLUMNS, _open_due_rows),
    ):
        params = {}
        _execute(f"INSERT INTO {table} ({', '.join(columns)}) {rows(keys, params)}", params)
    months = sorted({(day.replace(day=1), channel, category_id) for day, channel, category_id in keys})
    if _postgres():
        # Two transactions summing different days of one month would both rewrite its rows, and two
        # summing different categories of one day and channel its rows over the categories: one
        # transaction at a time per month and channel.
        _execute(
            "SELECT pg_advisory_xact_lock(hashtext('feedback_stats_month'), hashtext(k.key)) FROM"
            " (SELECT unnest(%(months)s::text[]) AS key ORDER BY 1) k",
            {"months": sorted({f"{m:%Y-%m}|{c}" for m, c, _ in months})},
        )
    for level in (ISSUE_LEVEL, DEPARTMENT_LEVEL):
        params = {}
        _execute(
            f"DELETE FROM {level.month} WHERE {_keys_in(months, level.month, params, day=f'{level.month}.month')}",
            params,
        )
        params = {}
        _execute(
            f"INSERT INTO {level.month} ({', '.join(level.month_columns)}) {_month_rows(level, months, params)}", params
        )
    _replace_over_categories(
        sorted({(day, channel) for day, channel, _ in keys}), sorted({(m, c) for m, c, _ in months})
    )


def _pairs_in(pairs: Sequence[tuple[datetime.date, str]], day: str, alias: str, params: dict[str, Any]) -> str:
    """``(day, channel) IN (the pairs)`` on ``alias``."""
    values = []
    for n, (first, channel) in enumerate(pairs):
        params[f"p{n}d"], params[f"p{n}c"] = _date(first), channel
        values.append(f"(%(p{n}d)s, %(p{n}c)s)")
    return f"({alias}.{day}, {alias}.channel) IN (VALUES {', '.join(values)})"


def _over_categories(target: Level, source: str, day: str, where: str) -> str:
    """The department rows of ``source`` summed over the categories per (``day``, channel,
    department), in the columns of ``target``'s table for that span."""
    columns = target.columns if day == "received_on" else target.month_columns
    sums = [f"SUM(r.{c})" for c in columns[3:]]
    group = (f"r.{day}", "r.channel", "r.department_id")
    return f"""SELECT {_select((*group, *sums), columns)} FROM {source} r WHERE {where}
        GROUP BY {", ".join(group)}"""


def _replace_over_categories(
    days: Sequence[tuple[datetime.date, str]], months: Sequence[tuple[datetime.date, str]]
) -> None:
    """Sum again the rows over the categories of these days and months (each with its channel) from
    the per-category department rows, just summed (the caller holds the months' advisory locks)."""
    level = CHANNEL_DEPARTMENT_LEVEL
    for table, source, day, pairs in (
        (level.day, DEPT_DAY, "received_on", days),
        (level.month, DEPT_MONTH, "month", months),
    ):
        params: dict[str, Any] = {}
        _execute(f"DELETE FROM {table} WHERE {_pairs_in(pairs, day, table, params)}", params)
        params = {}
        columns = level.columns if day == "received_on" else level.month_columns
        _execute(
            f"INSERT INTO {table} ({', '.join(columns)})"
            f" {_over_categories(level, source, day, _pairs_in(pairs, day, 'r', params))}",
            params,
        )


def _recount(months: Sequence[datetime.date]) -> None:
    """Count the distinct requesters of these months again (only when issues came, went or moved),
    and unite their years' sets again."""
    years = sorted({m.replace(month=1) for m in months})
    if _postgres():
        # Every key of the month shares its all-channels row, every month of a year its year's
        # sets: one transaction at a time per month and per year (the keys taken in one order).
        _execute(
            "SELECT pg_advisory_xact_lock(hashtext('feedback_stats_requesters'), hashtext(k.key)) FROM"
            " (SELECT unnest(%(keys)s::text[]) AS key ORDER BY 1) k",
            {"keys": [f"{m:%Y-%m}" for m in months] + [f"{y:%Y}" for y in years]},
        )
    params = {f"d{n}": _date(m) for n, m in enumerate(months)}
    _execute(f"DELETE FROM {REQUESTERS} WHERE {' OR '.join(f'month = %(d{n})s' for n in range(len(months)))}", params)
    params = {}
    _execute(f"INSERT INTO {REQUESTERS} ({', '.join(REQUESTER_COLUMNS)}) {_requester_rows(months, params)}", params)
    _write_sets(months, _requester_sets(months))
    _write_year_sets(years)


# --- the requester sets ------------------------------------------------------------------------------------

SetKey = tuple[str, datetime.date, str]  # (span, first day, channel; '' for every channel)
ALL_CHANNELS = ""


def _requester_sets(months: Sequence[datetime.date] | None) -> dict[SetKey, BitMap]:
    """The requesters of the issues received in these months (all with None): per day and per
    month (the union of its days), each per channel and for every channel. Read in (day, channel)
    order, as the index issue_stats_requester_idx holds them (index-only on PostgreSQL)."""
    params: dict[str, Any] = {}
    where = "1 = 1"
    if months is not None:
        ranges = []
        for n, first in enumerate(months):
            params[f"s{n}a"], params[f"s{n}b"] = _date(first), _date(_next_month_date(first))
            ranges.append(f"(i.received_on >= %(s{n}a)s AND i.received_on < %(s{n}b)s)")
        where = " OR ".join(ranges)
    sets: dict[SetKey, BitMap] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT i.received_on, i.channel, i.requester_id FROM {ISSUES} i WHERE {where}"
            " ORDER BY i.received_on, i.channel",
            params,
        )
        for (day, channel), rows in itertools.groupby(cursor.fetchall(), key=lambda row: (row[0], row[1])):
            day = _as_date(day)
            bits = BitMap(row[2] for row in rows)
            sets[("day", day, channel)] = bits
            for key in (("month", day.replace(day=1), channel), ("day", day, ALL_CHANNELS)):
                sets.setdefault(key, BitMap()).update(bits)
    for (span, first, channel), bits in list(sets.items()):
        if span == "month" and channel != ALL_CHANNELS:
            sets.setdefault(("month", first, ALL_CHANNELS), BitMap()).update(bits)
    return sets


def _year_sets(month_sets: Iterable[tuple[SetKey, BitMap]]) -> dict[SetKey, BitMap]:
    """Each year's sets (per channel and for every channel): the union of its months' sets."""
    years: dict[SetKey, BitMap] = {}
    for (span, first, channel), bits in month_sets:
        if span == "month":
            years.setdefault(("year", first.replace(month=1), channel), BitMap()).update(bits)
    return years


def _serialised(bits: BitMap) -> bytes:
    bits.run_optimize()
    return bytes(bits.serialize())


def _insert_sets(sets: Iterable[tuple[SetKey, BitMap]]) -> int:
    rows = [(span, _date(first), channel, len(bits), _serialised(bits)) for (span, first, channel), bits in sets]
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {SETS} (span, first, channel, requesters, bits) VALUES (%s, %s, %s, %s, %s)", rows
            )
    return len(rows)


def _write_sets(months: Sequence[datetime.date], sets: dict[SetKey, BitMap]) -> None:
    """Replace the sets of these months (the caller holds their advisory locks, see ``_recount``).
    A January's range holds its year's sets too: ``_write_year_sets`` writes them again next."""
    params: dict[str, Any] = {}
    ranges = []
    for n, first in enumerate(months):
        params[f"s{n}a"], params[f"s{n}b"] = _date(first), _date(_next_month_date(first))
        ranges.append(f"(first >= %(s{n}a)s AND first < %(s{n}b)s)")
    _execute(f"DELETE FROM {SETS} WHERE {' OR '.join(ranges)}", params)
    _insert_sets(sets.items())


def _write_year_sets(years: Sequence[datetime.date]) -> None:
    """Replace the sets of these years by the union of their months' sets as stored now (the caller
    holds the years' advisory locks: no other transaction writes a month of them meanwhile)."""
    params = {f"y{n}": _date(y) for n, y in enumerate(years)}
    spans = " OR ".join(f"first = %(y{n})s" for n in range(len(years)))
    _execute(f"DELETE FROM {SETS} WHERE span = 'year' AND ({spans})", params)
    params = {}
    ranges = []
    for n, year in enumerate(years):
        params[f"y{n}a"], params[f"y{n}b"] = _date(year), _date(year.replace(year=year.year + 1))
        ranges.append(f"(first >= %(y{n}a)s AND first < %(y{n}b)s)")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT first, channel, bits FROM {SETS} WHERE span = 'month' AND ({' OR '.join(ranges)})", params
        )
        months = [
            (("month", _as_date(first), channel), BitMap.deserialize(bytes(bits))) for first, channel, bits in cursor
        ]
    _insert_sets(_year_sets(months).items())


def _rebuild_sets() -> int:
    """Make the set table equal to the sets computed from scratch, writing only the rows that differ."""
    fresh = _requester_sets(None)
    fresh.update(_year_sets(fresh.items()))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, span, first, channel, requesters, bits FROM {SETS}")
        stored = {(span, _as_date(first), channel): (pk, n, bits) for pk, span, first, channel, n, bits in cursor}
    stale = [
        pk
        for key, (pk, n, bits) in stored.items()
        if key not in fresh or n != len(fresh[key]) or BitMap.deserialize(bytes(bits)) != fresh[key]
    ]
    for start in range(0, len(stale), BATCH):
        ids = stale[start : start + BATCH]
        _execute(f"DELETE FROM {SETS} WHERE id IN ({', '.join(str(int(pk)) for pk in ids)})")
    removed = set(stale)
    kept = {key for key, (pk, _, _) in stored.items() if pk not in removed}
    return len(stale) + _insert_sets((key, bits) for key, bits in fresh.items() if key not in kept)


def _claim() -> list[tuple[Key, bool]]:
    """Take the marks: each key with whether its issues came, went or changed requester. On
    PostgreSQL, not those another transaction holds (a writer not yet committed, which sums its
    own keys; another refresh): waiting for them could close a circle of waits."""
    skip = f" WHERE id IN (SELECT id FROM {DIRTY} FOR UPDATE SKIP LOCKED)" if _postgres() else ""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {DIRTY}{skip} RETURNING received_on, channel, category_id, requesters_changed")
        return [((_as_date(d), c, g), bool(moved)) for d, c, g, moved in cursor.fetchall()]


def refresh() -> int:
    """Sum again every key marked since it was last summed: the caller's own changes, and any left
    by writes outside the services. Returns how many keys. One query when nothing is marked
    (no savepoint: within a service it is part of the service's transaction, all or nothing)."""
    with transaction.atomic(savepoint=False):
        claimed = _claim()
        keys = [key for key, _ in claimed]
        for start in range(0, len(keys), BATCH):
            _replace(keys[start : start + BATCH])
        months = sorted({key[0].replace(day=1) for key, moved in claimed if moved})
        for start in range(0, len(months), 100):
            _recount(months[start : start + 100])
    return len(keys)


@dataclass(frozen=True)
class Rebuilt:
    keys: int  # rows of the daily table
    changed: int  # rows deleted or inserted in the three tables: 0 when the rollup was right


def _apply(table: str, columns: Sequence[str], keys: int, select: str, params: dict[str, Any]) -> int:
    """Make ``table`` equal to ``select``, writing only the rows that differ (the first ``keys``
    columns, never NULL, are compared with ``=`` so that the database can hash the anti-joins)."""
    fresh = f"fresh_{table}"
    _execute(f"DROP TABLE IF EXISTS {fresh}")
    _execute(f"DROP TABLE IF EXISTS new_{table}")
    _execute(f"CREATE TEMPORARY TABLE {fresh} AS {select}", params)
    if _postgres():
        _execute(f"ANALYZE {fresh}")
    same = " AND ".join(
        [f"t.{c} = f.{c}" for c in columns[:keys]] + [_same(f"t.{c}", f"f.{c}") for c in columns[keys:]]
    )
    deleted = _execute(
        f"DELETE FROM {table} WHERE id IN (SELECT t.id FROM {table} t WHERE NOT EXISTS ("
        f"SELECT 1 FROM {fresh} f WHERE {same}))"
    )
    # The new rows are picked before they are inserted: probing the table while inserting into it
    # would rescan the rows inserted so far (invisible, but scanned) when it was planned as empty.
    _execute(
        f"CREATE TEMPORARY TABLE new_{table} AS SELECT {', '.join(f'f.{c}' for c in columns)} FROM {fresh} f"
        f" WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {same})"
    )
    inserted = _execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM new_{table}")
    _execute(f"DROP TABLE {fresh}")
    _execute(f"DROP TABLE new_{table}")
    return deleted + inserted


def rebuild() -> Rebuilt:
    """Sum every key from scratch, set-based, and make the tables equal to the result writing only
    the rows that differ (so it doubles as a check: ``changed`` is 0 when the rollup was right).
    ``manage.py rebuild_stats_rollup``: after a restore or a bulk load that bypassed the triggers,
    and nightly (beat) for writes made outside the services."""
    with transaction.atomic():
        # Claim the marks first: a change committed after this is marked again, and read live.
        _claim()
        if _postgres():
            # Refreshes in other transactions wait for the rebuild instead of interleaving with it.
            _execute(
                f"LOCK TABLE {DAY}, {MONTH}, {DEPT_DAY}, {DEPT_MONTH}, {CHANNEL_DEPT_DAY}, {CHANNEL_DEPT_MONTH},"
                f" {OPEN_DUE}, {REQUESTERS}, {SETS} IN SHARE ROW EXCLUSIVE MODE"
            )
        changed = 0
        for table, columns, key, rows in (
            (DAY, DAY_COLUMNS, 3, _day_rows),
            (DEPT_DAY, DEPT_DAY_COLUMNS, 4, _department_day_rows),
            (OPEN_DUE, OPEN_DUE_COLUMNS, 6, _open_due_rows),
        ):
            params: dict[str, Any] = {}
            changed += _apply(table, columns, key, rows(None, params), params)
        for level in (ISSUE_LEVEL, DEPARTMENT_LEVEL):
            params = {}
            changed += _apply(
                level.month, level.month_columns, len(level.key), _month_rows(level, None, params), params
            )
        # From the department rows just made right: the same sums the refresh writes.
        over = CHANNEL_DEPARTMENT_LEVEL
        changed += _apply(over.day, over.columns, 3, _over_categories(over, DEPT_DAY, "received_on", "1 = 1"), {})
        changed += _apply(over.month, over.month_columns, 3, _over_categories(over, DEPT_MONTH, "month", "1 = 1"), {})
        params = {}
        changed += _apply(REQUESTERS, REQUESTER_COLUMNS, 3, _requester_rows(None, params), params)
        changed += _rebuild_sets()
        if changed:
            # Figures kept under the old state were computed from the rollup as it was (decision 0770).
            _execute(f"UPDATE {GENERATION} SET n = n + 1")
        keys = StatsRollup.objects.count()
    return Rebuilt(keys=keys, changed=changed)


# --- reading ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Cohort:
    """A cohort the rollup answers: whole keys, optionally only the issues with a counted assignment
    to one department, optionally without the issues accusing one department (access.py)."""

    channel: str = ""
    category_id: int | None = None
    department_id: int | None = None
    received_from: datetime.date | None = None
    received_to: datetime.date | None = None
    not_accusing: int | None = None


def _window(c: Cohort, alias: str, params: dict[str, Any], *, days: bool = True) -> list[str]:
    where = []
    if days and c.received_from is not None:
        where.append(f"{alias}.received_on >= %(received_from)s")
        params["received_from"] = _date(c.received_from)
    if days and c.received_to is not None:
        where.append(f"{alias}.received_on <= %(received_to)s")
        params["received_to"] = _date(c.received_to)
    if c.channel:
        where.append(f"{alias}.channel = %(channel)s")
        params["channel"] = c.channel
    if c.category_id is not None:
        where.append(f"{alias}.category_id = %(category_id)s")
        params["category_id"] = c.category_id
    return where


def _cohort(c: Cohort, params: dict[str, Any], alias: str = "i") -> str:
    """The cohort as a condition on the issue table (statistics.cohort on top of access.issues_for)."""
    where = _window(c, alias, params)
    if c.department_id is not None:
        where.append(
            f"EXISTS (SELECT 1 FROM {ASSIGNMENTS} d WHERE d.issue_id = {alias}.id"
            " AND d.department_id = %(department_id)s AND d.status <> 'withdrawn')"
        )
        params["department_id"] = c.department_id
    if c.not_accusing is not None:
        where.append(f"({alias}.accused_department_id IS NULL OR {alias}.accused_department_id <> %(not_accusing)s)")
        params["not_accusing"] = c.not_accusing
    return _and(where)


def _live_keys(c: Cohort, as_of: datetime.date, params: dict[str, Any]) -> str:
    """The keys of the window to compute live: not settled at ``as_of``, marked, or holding an issue
    this cohort must not count (an accusation of the user's own department). Small for a recent
    ``as_of``: the last weeks' keys."""
    params["as_of_read"] = _date(as_of)
    sql = f"""
        SELECT r.received_on, r.channel, r.category_id FROM {DAY} r WHERE {_and(_window(c, "r", params))}
            AND NOT ((r.last_event_on IS NULL OR r.last_event_on <= %(as_of_read)s)
                     AND (r.last_open_due_on IS NULL OR r.last_open_due_on < %(as_of_read)s))
        UNION SELECT k.received_on, k.channel, k.category_id FROM {DIRTY} k WHERE {_and(_window(c, "k", params))}"""
    if c.not_accusing is not None:
        params["not_accusing"] = c.not_accusing
        sql += f"""
        UNION SELECT x.received_on, x.channel, x.category_id FROM {ISSUES} x
            WHERE x.accused_department_id = %(not_accusing)s AND {_and(_window(c, "x", params))}"""
    return sql


def live_keys(c: Cohort, as_of: datetime.date) -> list[Key]:
    """The keys of the cohort's window that a query for ``as_of`` computes live."""
    params: dict[str, Any] = {}
    rows = _fetch(f"SELECT l.received_on, l.channel, l.category_id FROM ({_live_keys(c, as_of, params)}) l", params)
    return sorted((_as_date(r["received_on"]), r["channel"], r["category_id"]) for r in rows)


def _settled(alias: str) -> str:
    return (
        f"NOT EXISTS (SELECT 1 FROM live l WHERE l.received_on = {alias}.received_on"
        f" AND l.channel = {alias}.channel AND l.category_id = {alias}.category_id)"
    )


LIVE_JOIN = "JOIN live l ON l.received_on = i.received_on AND l.channel = i.channel AND l.category_id = i.category_id"
# The live keys' days bound the issues to read: PostgreSQL cannot estimate how few keys are live
# (received_on and last_event_on are correlated) and would otherwise hash the whole cohort. NULL,
# so nothing is read, when no key is live.
LIVE_DAYS = (
    "i.received_on >= (SELECT MIN(received_on) FROM live) AND i.received_on <= (SELECT MAX(received_on) FROM live)"
)


def _whole_months(c: Cohort) -> tuple[datetime.date, datetime.date] | None:
    """The first days of the first and the last whole month in the window, None if there is none."""
    first = c.received_from or datetime.date(1, 1, 1)
    if first.day != 1:
        first = (first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    if c.received_to is None:
        last = datetime.date(9999, 11, 1)
    else:
        last = (c.received_to + datetime.timedelta(days=1)).replace(day=1) - datetime.timedelta(days=1)
        last = last.replace(day=1)
    return (first, last) if first <= last else None


def _ragged(c: Cohort) -> bool:
    """Whether the window has days outside its whole months (read from the daily rows): a window of
    whole months (a quarter, a year from January) has none, and its statement leaves that part out
    — PostgreSQL then plans it in less time (issue 16: the quarter)."""
    start, end = c.received_from, c.received_to
    return (start is not None and start.day != 1) or (end is not None and (end + datetime.timedelta(days=1)).day != 1)


def _ends(c: Cohort, column: str) -> list[tuple[datetime.date, str]]:
    """The window's ragged ends as separate ranges of ``column`` (the days before its first whole
    month, the days after its last), each bounded by the window on the other side, with the month
    it falls in: as one ``< whole_first OR >= whole_end`` PostgreSQL read the whole window's range
    of an index and filtered it (issue 16: a year's requesters, 183,000 of 200,000 index rows
    thrown away)."""
    start, end = c.received_from, c.received_to
    ends = []
    if start is not None and start.day != 1:
        ends.append((start.replace(day=1), f"{column} < %(whole_first)s"))
    if end is not None and (end + datetime.timedelta(days=1)).day != 1:
        ends.append((end.replace(day=1), f"{column} >= %(whole_end)s"))
    return ends


def _rows(
    level: Level,
    c: Cohort,
    params: dict[str, Any],
    *,
    townships: bool = False,
    live: bool = True,
    per_category: bool = False,
) -> str:
    """The rollup rows of the cohort's settled keys (``live`` in scope): the month rows of the whole
    months without a live key, the daily rows elsewhere (``received_on`` is a month row's first day).
    At the department level, only the cohort's department (if any), or only townships. With
    ``live=False`` (no key of the window is live) every key is settled: no test against ``live``,
    and a department cohort or table over every category reads the rows summed over them
    (``CHANNEL_DEPARTMENT_LEVEL``, decision 0750) unless the caller groups by category
    (``per_category``)."""
    if level is DEPARTMENT_LEVEL and not live and c.category_id is None and not per_category:
        level = CHANNEL_DEPARTMENT_LEVEL
    where = _window(c, "r", params, days=False)
    if level is not ISSUE_LEVEL and c.department_id is not None:
        where.append("r.department_id = %(department_id)s")
        params["department_id"] = c.department_id
    if townships:
        where.append(f"r.department_id IN (SELECT id FROM {DEPARTMENTS} WHERE kind = 'township')")
    days = _window(c, "r", params)
    columns = ", ".join(f"r.{x}" for x in level.columns[1:])
    months = _whole_months(c)
    settled = [_settled("r")] if live else []
    if months is None:
        return f"SELECT r.received_on, {columns} FROM {level.day} r WHERE {_and(where + days + settled)}"
    params["whole_first"], params["whole_last"] = _date(months[0]), _date(months[1])
    after = (
        (months[1].replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        if months[1].year < 9999
        else datetime.date(9999, 12, 31)
    )
    params["whole_end"] = _date(after)
    ends = "".join(
        f"""
        UNION ALL
        SELECT r.received_on, {columns} FROM {level.day} r WHERE {_and([*where, *days, *settled, end])}"""
        for _, end in _ends(c, "r.received_on")
    )
    if not live:
        return f"""
        SELECT r.month AS received_on, {columns} FROM {level.month} r
        WHERE {_and(where)} AND r.month >= %(whole_first)s AND r.month <= %(whole_last)s{ends}"""
    live_months = f"SELECT DISTINCT {_month('l.received_on')} AS month, l.channel, l.category_id FROM live l"
    return f"""
        SELECT r.month AS received_on, {columns} FROM {level.month} r
        WHERE {_and(where)} AND r.month >= %(whole_first)s AND r.month <= %(whole_last)s
            AND NOT EXISTS (SELECT 1 FROM ({live_months}) lm WHERE lm.month = r.month
                            AND lm.channel = r.channel AND lm.category_id = r.category_id){ends}
        UNION ALL
        SELECT r.received_on, {columns} FROM {level.day} r
        JOIN ({live_months}) lm ON lm.channel = r.channel AND lm.category_id = r.category_id
            AND r.received_on >= lm.month AND r.received_on < {_next_month("lm.month")}
        WHERE {_and(where + days)} AND {_settled("r")}
            AND lm.month >= %(whole_first)s AND lm.month <= %(whole_last)s"""


@dataclass(frozen=True)
class Open:
    """The open assignments of the cohort's settled keys not yet due at ``as_of``, which the rollup
    counts as overdue: ``source`` (FROM … WHERE …), the alias holding the issue's key columns, and
    each row's number of assignments."""

    source: str
    issue: str
    n: str


def _open_assignments(
    c: Cohort, cohort: str, params: dict[str, Any], *, townships: bool = False, live: bool = True
) -> Open:
    """From StatsOpenDue (a range of its index on due date and day received, read alone: decision
    0710), or, for one department's issues, from the assignments (a range of the partial index
    assignment_open_due_idx) and their issues.
    Only the settled keys' (every key's with ``live=False``)."""
    township = f"a.department_id IN (SELECT id FROM {DEPARTMENTS} WHERE kind = 'township')"
    if c.department_id is not None:
        return Open(
            f"""{ASSIGNMENTS} a JOIN {ISSUES} i ON i.id = a.issue_id
            WHERE a.status IN {OPEN} AND a.due_date >= %(as_of_read)s AND {cohort}"""
            + (f" AND {_settled('i')}" if live else "")
            + (f" AND {township}" if townships else ""),
            "i",
            "1",
        )
    where = [*_window(c, "a", params), "a.due_date >= %(as_of_read)s", *([_settled("a")] if live else [])]
    where += [township] if townships else []
    return Open(f"{OPEN_DUE} a WHERE {_and(where)}", "a", "a.assignments")


def _not_yet_due(columns: Sequence[str], n: str) -> str:
    """What the open assignments not yet due take off the rollup's counts (``columns`` order)."""
    minus = {
        "overdue_open": f"-SUM({n})",
        "overdue_open_original": f"-SUM(CASE WHEN a.original_due_date >= %(as_of_read)s THEN {n} ELSE 0 END)",
    }
    return _select([minus.get(c, "0") for c in columns], columns)


def _any_live(c: Cohort, as_of: datetime.date) -> bool:
    known = _KNOWN_LIVE.get()
    if known is not None:
        return known
    params: dict[str, Any] = {}
    return bool(_fetch(f"SELECT EXISTS ({_live_keys(c, as_of, params)}) AS live", params)[0]["live"])


# --- figures kept while their inputs are unchanged (decision 0770) ---------------------------------------

# Whether the cohort being computed has a live key, when ``kept`` has just asked (one statement fewer).
_KNOWN_LIVE: ContextVar[bool | None] = ContextVar("known_live", default=None)
# Set by a caller reading in one REPEATABLE READ snapshot (the dashboard): its figures are exactly those of
# the state it read, so it keeps them apart from those computed outside a snapshot (see ``kept``).
ONE_SNAPSHOT: ContextVar[bool] = ContextVar("one_snapshot", default=False)
GENERATION = StatsGeneration._meta.db_table
log = logging.getLogger(__name__)


def _state(c: Cohort, as_of: datetime.date) -> tuple[str | None, bool]:
    """The inputs' state (``token:n``; None without the row, or when this transaction has itself
    changed an input not yet counted in it) and whether a key of the window is live, in one
    statement (one snapshot)."""
    params: dict[str, Any] = {}
    marked = "current_setting('feedback.stats_marked', true) = 'on'" if _postgres() else "0"
    row = _fetch(
        f"SELECT (SELECT g.token || ':' || g.n FROM {GENERATION} g ORDER BY g.id LIMIT 1) AS state,"
        f" EXISTS ({_live_keys(c, as_of, params)}) AS live, {marked} AS marked",
        params,
    )[0]
    return (None if row["marked"] else row["state"]), bool(row["live"])


F = TypeVar("F", bound=Callable[..., Any])


def kept(function: F) -> F:
    """Keep ``function(cohort, as_of, **options)``'s figures in the cache under the inputs' state
    (StatsGeneration) for ``STATS_CACHE_SECONDS`` (0: off). Only a window with no live key is kept: its
    figures are then a function of the rollup tables, the departments and categories, ``as_of`` and
    the arguments, and any write that changes one of those moves the state (migration 0770). The
    state is read first, so a figure is never older than the state it is kept under; outside one
    snapshot it may be newer (a write committed between the two statements), which a reader in its
    own snapshot must not see beside its other reads: ONE_SNAPSHOT readers keep their own entries."""

    @functools.wraps(function)
    def wrapper(c: Cohort, as_of: datetime.date, **options: Any) -> Any:
        seconds = int(getattr(settings, "STATS_CACHE_SECONDS", 3600))
        if seconds <= 0:
            return function(c, as_of, **options)
        state, live = _state(c, as_of)
        token = _KNOWN_LIVE.set(live)
        try:
            if live or state is None:
                return function(c, as_of, **options)
            what = (state, ONE_SNAPSHOT.get(), function.__name__, c, as_of.isoformat(), sorted(options.items()))
            key = "figures:1:" + hashlib.sha256(repr(what).encode()).hexdigest()
            try:
                found = cache.get(key)
            except Exception:  # Redis down: computed as before
                log.warning("figures cache unavailable", exc_info=True)
                return function(c, as_of, **options)
            if found is not None:
                return found
            result = function(c, as_of, **options)
        finally:
            _KNOWN_LIVE.reset(token)
        try:
            cache.set(key, result, seconds)
        except Exception:
            log.warning("figures cache unavailable", exc_info=True)
        return result

    return cast(F, wrapper)


# The part of a statement built for a window without live keys that counts them again, in the
# statement's own snapshot: a key marked between the two statements sends the query to the full one.
RECHECK = "live_keys"


def _recheck(columns: Sequence[str]) -> str:
    return f"SELECT '{RECHECK}', NULL, COUNT(*), {', '.join('0' for _ in columns[1:])} FROM live"


def _figures(
    c: Cohort, as_of: datetime.date, statement: Callable[[bool], tuple[str, dict[str, Any]]], columns: Sequence[str]
) -> list[dict[str, Any]]:
    """The rows of ``statement(live)``. Usually no key of the window is live (nothing was marked,
    ``as_of`` is today): the statement then leaves out every test against the live keys and the
    live part: PostgreSQL parses and plans it in a third of the time (one quarter's departments at
    a million issues: 0.7 ms against 2.1, the whole statement 1.8 ms against 4.4). Whether a key
    is live is asked first (one small query) and asked again by the statement itself (``RECHECK``):
    the answer is always that of one snapshot."""
    if not _any_live(c, as_of):
        rows = _fetch(*statement(False))
        if not any(row[columns[0]] for row in rows if row["part"] == RECHECK):
            return [row for row in rows if row["part"] != RECHECK]
    return _fetch(*statement(True))


def _collect(rows: list[dict[str, Any]], columns: Sequence[str], key: Any) -> dict[Any, dict[str, int]]:
    """Add up the parts (rollup, open, live) per group; ``requesters`` comes from its own part."""
    result: dict[Any, dict[str, int]] = {}
    for row in rows:
        group = key(row["grp"])
        counts = result.setdefault(group, dict.fromkeys((*columns, "requesters"), 0))
        if row["part"] == "requesters":
            counts["requesters"] = int(row[columns[0]] or 0)
        else:
            for column in columns:
                counts[column] += int(row[column] or 0)
    return result


@kept
def issue_figures(
    c: Cohort, as_of: datetime.date, *, by: str | None = None, requesters: bool = True
) -> dict[Any, dict[str, int]]:
    """COUNT_COLUMNS and ``requesters`` (unless told not to: counted live, it is most of the time of
    a long period) of the cohort: for the whole cohort (``by=None``, one entry keyed None), per month
    of receipt (``by="month"``, keyed by its first day) or per category (``by="category"``, keyed by
    its id). One statement (two when a key is live, see ``_figures``)."""
    group = {"month": _month("{t}.received_on"), "category": "{t}.category_id"}.get(by or "")
    zeros = ", ".join(f"0 AS {x}" for x in COUNT_COLUMNS[1:])
    level = DEPARTMENT_LEVEL if c.department_id is not None else ISSUE_LEVEL
    # The cohorts the requester sets answer (per channel, every category, no department).
    with_sets = requesters and by is None and c.category_id is None and c.department_id is None
    with_sets = with_sets and c.not_accusing is None

    def statement(live: bool) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {}
        head = sql = f"WITH live AS ({_live_keys(c, as_of, params)})\n"
        cohort = _cohort(c, params)
        not_due = _open_assignments(c, cohort, params, live=live)
        parts = [
            (
                f"SELECT 'rollup' AS part, {{g}} AS grp, "
                f"{_select([f'SUM(r.{x})' for x in COUNT_COLUMNS], COUNT_COLUMNS)}"
                f" FROM ({_rows(level, c, params, live=live, per_category=by == 'category')}) r",
                "r",
            ),
            (f"SELECT 'open', {{g}}, {_not_yet_due(COUNT_COLUMNS, not_due.n)} FROM {not_due.source}", not_due.issue),
        ]
        if live:
            per_issue = _per_issue(f"{cohort} AND {LIVE_DAYS}", params, as_of=as_of, join=LIVE_JOIN)
            parts.append(
                (
                    f"SELECT 'live', {{g}}, {_select(ISSUE_SUMS + ASSIGNMENT_SUMS, COUNT_COLUMNS)}"
                    f" FROM ({per_issue}) p",
                    "p",
                )
            )
        sql += "\nUNION ALL\n".join(
            part.format(g=group.format(t=t) if group else "0") + (f" GROUP BY {group.format(t=t)}" if group else "")
            for part, t in parts
        )
        if not live:
            sql += "\nUNION ALL\n" + _recheck(COUNT_COLUMNS)
        whole = _whole_months(c)
        if with_sets:
            # Every part but the sets' has no bits: the union so far, wrapped, then the sets' rows.
            sets = _requester_set_parts(c, cohort, whole, params, zeros)
            return f"{head}SELECT x.*, NULL AS bits FROM ({sql[len(head) :]}) x\n{sets}", params
        if requesters and by == "month" and c.department_id is None and c.not_accusing is None:
            sql += "\nUNION ALL\n" + _month_requesters(c, cohort, whole, params, zeros)
        elif requesters:
            # Distinct requesters: grouped by requester first, which PostgreSQL reads in requester order
            # from issue_requester_received_idx for a long period (no sort, or a sort within each
            # requester), rather than COUNT(DISTINCT), which sorts everything.
            grp = (group or "0").format(t="i")
            distinct = (
                f"SELECT i.requester_id, {grp} AS grp FROM {ISSUES} i WHERE {cohort}"
                f" GROUP BY i.requester_id{', ' + grp if group else ''}"
            )
            sql += (
                f"\nUNION ALL\nSELECT 'requesters', {'d.grp' if group else '0'}, COUNT(*), {zeros}"
                f" FROM ({distinct}) d" + (" GROUP BY d.grp" if group else "")
            )
        return sql, params

    rows = _figures(c, as_of, statement, COUNT_COLUMNS)
    if not with_sets:
        return _collect(
            rows,
            COUNT_COLUMNS,
            (lambda g: _as_date(g)) if by == "month" else (lambda g: g) if by else (lambda g: None),
        )
    figures = _collect([r for r in rows if r["part"] not in SET_PARTS], COUNT_COLUMNS, lambda g: None)
    figures.setdefault(None, dict.fromkeys((*COUNT_COLUMNS, "requesters"), 0))["requesters"] = _count_requesters(rows)
    return figures


SET_PARTS = ("requester_set", "requester")


def _requester_set_parts(
    c: Cohort, cohort: str, whole: tuple[datetime.date, datetime.date] | None, params: dict[str, Any], zeros: str
) -> str:
    """The rows giving the cohort's distinct requesters: the sets (``requester_set``) of its whole
    years, of its other whole months and of its other days — the channel's, or the all-channels
    sets for a cohort of every channel — and, for the months with a key marked as having had issues
    come, go or change requester since the last refresh, the requesters themselves (``requester``),
    read live. A year with such a month is read as its other months' sets (its own is stale until
    the refresh). Only for a cohort of whole keys over every category (``with_sets``)."""
    month = _month("s.first")
    channel = " AND k.channel = %(channel)s" if c.channel else ""
    marked = f"SELECT DISTINCT {_month('k.received_on')} AS month FROM {DIRTY} k WHERE k.requesters_changed{channel}"
    params["set_channel"] = c.channel or ALL_CHANNELS
    days = ["s.channel = %(set_channel)s"]
    if c.received_from is not None:
        days.append("s.first >= %(received_from)s")
        params["received_from"] = _date(c.received_from)
    if c.received_to is not None:
        days.append("s.first <= %(received_to)s")
        params["received_to"] = _date(c.received_to)
    spans = f"s.span = 'day' AND {_and(days)}"
    if whole is not None:
        params["whole_first"], params["whole_last"] = _date(whole[0]), _date(whole[1])
        params["whole_end"] = _date(_next_month_date(whole[1]) if whole[1].year < 9999 else datetime.date(9999, 12, 31))
        month_sets = [
            "s.span = 'month'",
            "s.channel = %(set_channel)s",
            "s.first >= %(whole_first)s",
            "s.first <= %(whole_last)s",
        ]
        year_sets = ""
        years = _whole_years(whole)
        if years is not None:
            params["year_first"], params["year_last"] = _date(years[0]), _date(years[1])
            params["year_end"] = _date(years[1].replace(year=years[1].year + 1))
            broken = f"SELECT DISTINCT {_year('b.month')} FROM ({marked}) b"
            month_sets.append(
                f"(s.first < %(year_first)s OR s.first >= %(year_end)s OR {_year('s.first')} IN ({broken}))"
            )
            year_sets = (
                " OR (s.span = 'year' AND s.channel = %(set_channel)s AND s.first >= %(year_first)s"
                f" AND s.first <= %(year_last)s AND s.first NOT IN ({broken}))"
            )
        spans = f"({_and(month_sets)}){year_sets}" + (
            f" OR ({spans} AND (s.first < %(whole_first)s OR s.first >= %(whole_end)s))" if _ragged(c) else ""
        )
    return f"""UNION ALL
        SELECT 'requester_set', 0, 0, {zeros}, s.bits FROM {SETS} s
        WHERE ({spans}) AND {month} NOT IN ({marked})
        UNION ALL
        SELECT 'requester', 0, i.requester_id, {zeros}, NULL FROM {ISSUES} i
        JOIN ({marked}) m ON i.received_on >= m.month AND i.received_on < {_next_month("m.month")}
        WHERE {cohort} GROUP BY i.requester_id"""


def _whole_years(whole: tuple[datetime.date, datetime.date]) -> tuple[datetime.date, datetime.date] | None:
    """The first days of the first and the last whole year within these whole months, None if none."""
    start, end = whole[0], min(whole[1], datetime.date(9998, 12, 1))  # a year's end the databases can add to
    first = start.year if start.month == 1 else start.year + 1
    last = end.year if end.month == 12 else end.year - 1
    return (datetime.date(first, 1, 1), datetime.date(last, 1, 1)) if first <= last else None


def _count_requesters(rows: list[dict[str, Any]]) -> int:
    sets = [BitMap.deserialize(bytes(r["bits"])) for r in rows if r["part"] == "requester_set"]
    union = BitMap.union(*sets) if sets else BitMap()
    union.update(r[COUNT_COLUMNS[0]] for r in rows if r["part"] == "requester")
    return len(union)


def _month_requesters(
    c: Cohort, cohort: str, whole: tuple[datetime.date, datetime.date] | None, params: dict[str, Any], zeros: str
) -> str:
    """The distinct requesters per month: read from StatsMonthRequesters for the whole months with
    no marked key, counted live for the others (the window's partial months, marked months)."""
    params["rq_channel"], params["rq_category"] = c.channel, c.category_id or 0
    marked = f"SELECT DISTINCT {_month('k.received_on')} AS month FROM {DIRTY} k"
    month = _month("i.received_on")

    def counted(source: str, where: str) -> str:
        return f"""SELECT 'requesters', d.grp, COUNT(*), {zeros} FROM (
            SELECT i.requester_id, {month} AS grp FROM {source} WHERE {cohort} AND {where}
            GROUP BY i.requester_id, {month}) d GROUP BY d.grp"""

    # A partial month is one month: its requesters counted with COUNT(DISTINCT) and the month as a
    # constant, not grouped by (requester, month of each row), which PostgreSQL did 3-5 times slower
    # (the month computed per row, then a hash of both; issue 16: 19-28 ms against 4-7 for the
    # ~15,000 issues of a month's 28 days).
    # (SQLite keeps dates as text: a CAST to "date" there would make '2026-11-01' the number 2026.)
    constant = "CAST(%(rq_month{n})s AS date)" if _postgres() else "%(rq_month{n})s"
    partial = [
        f"""SELECT 'requesters', {constant.format(n=n)}, x.n, {zeros} FROM (
            SELECT COUNT(DISTINCT i.requester_id) AS n FROM {ISSUES} i WHERE {cohort} AND {where}) x
            WHERE x.n > 0"""
        for n, where in enumerate(_partial_months(c, whole, params))
    ]
    if whole is None:
        return "\nUNION ALL\n".join(partial)
    params["whole_first"], params["whole_last"] = _date(whole[0]), _date(whole[1])
    params["whole_end"] = _date(_next_month_date(whole[1]) if whole[1].year < 9999 else datetime.date(9999, 12, 31))
    return "\nUNION ALL\n".join(
        (
            f"""SELECT 'requesters', r.month, r.requesters, {zeros} FROM {REQUESTERS} r
            WHERE r.channel = %(rq_channel)s AND r.category_id = %(rq_category)s
            AND r.month >= %(whole_first)s AND r.month <= %(whole_last)s AND r.month NOT IN ({marked})""",
            *partial,
            counted(
                f"{ISSUES} i JOIN ({marked}) m ON i.received_on >= m.month AND i.received_on < "
                f"{_next_month('m.month')}",
                "m.month >= %(whole_first)s AND m.month <= %(whole_last)s",
            ),
        )
    )


def _partial_months(c: Cohort, whole: tuple[datetime.date, datetime.date] | None, params: dict[str, Any]) -> list[str]:
    """The window's days outside its whole months, one condition per month they fall in (that
    month's first day is the parameter ``rq_month<n>``): the ragged ends (``_ends``), or, for a
    window within two months, each month's part of it."""
    if whole is not None:
        parts = _ends(c, "i.received_on")
    else:  # no whole month: the window lies within two months at most
        first = (c.received_from or datetime.date.min).replace(day=1)
        last = (c.received_to or datetime.date.max).replace(day=1)
        params["rq_split"] = _date(last)
        parts = (
            [(first, "1 = 1")]
            if first == last
            else [(first, "i.received_on < %(rq_split)s"), (last, "i.received_on >= %(rq_split)s")]
        )
    for n, (month, _) in enumerate(parts):
        params[f"rq_month{n}"] = _date(month)
    return [where for _, where in parts]


@dataclass(frozen=True)
class Unit:
    """A department as a statistics table shows it, read by the figures' own statement."""

    id: int
    code: str
    name: str
    kind: str
    sort_order: int


@kept
def department_figures(
    c: Cohort, as_of: datetime.date, *, townships: bool = False, requesters: bool = True
) -> dict[Unit, dict[str, int]]:
    """Per department with counted assignments in the cohort: its own assignment counts
    (ASSIGNMENT_COLUMNS). With ``townships``, per township, also the figures of the cohort's issues
    assigned to it (ISSUE_COLUMNS, and ``requesters`` unless told not to: counted live, it is most of
    the statement's time). One statement (two when a key is live, see ``_figures``), which also
    reads the departments' names. Not for a cohort of one department's issues (the rollup does not
    hold its co-handlers' rows)."""
    assert c.department_id is None
    township = f" JOIN {DEPARTMENTS} t ON t.id = a.department_id AND t.kind = 'township'" if townships else ""
    columns = (ISSUE_COLUMNS if townships else ()) + ASSIGNMENT_COLUMNS
    rollup_sums = [f"SUM(r.{x})" for x in (ISSUE_COLUMNS if townships else ())] + [
        f"SUM(r.own_{x})" for x in ASSIGNMENT_COLUMNS
    ]
    live_sums = (ISSUE_SUMS if townships else ()) + OWN_SUMS

    def statement(live: bool) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {}
        sql = f"WITH live AS ({_live_keys(c, as_of, params)})\n"
        cohort = _cohort(c, params)
        not_due = _open_assignments(c, cohort, params, townships=townships, live=live)
        parts = [
            f"""SELECT 'rollup' AS part, r.department_id AS grp, {_select(rollup_sums, columns)}
                FROM ({_rows(DEPARTMENT_LEVEL, c, params, townships=townships, live=live)}) r
                GROUP BY r.department_id""",
            f"""SELECT 'open', a.department_id, {_not_yet_due(columns, not_due.n)} FROM {not_due.source}
                GROUP BY a.department_id""",
        ]
        if live:
            per_issue = _per_issue(f"{cohort} AND {LIVE_DAYS}", params, as_of=as_of, join=LIVE_JOIN)
            parts.append(f"""SELECT 'live', a.department_id, {_select(live_sums, columns)} FROM ({per_issue}) p
                JOIN {ASSIGNMENTS} a ON a.issue_id = p.issue_id AND a.status <> 'withdrawn'{township}
                GROUP BY a.department_id""")
        else:
            parts.append(_recheck(columns))
        if townships and requesters:
            zeros = ", ".join(f"0 AS {x}" for x in columns[1:])
            parts.append(f"""SELECT 'requesters', a.department_id, COUNT(DISTINCT i.requester_id), {zeros}
                FROM {ISSUES} i JOIN {ASSIGNMENTS} a ON a.issue_id = i.id AND a.status <> 'withdrawn'{township}
                WHERE {cohort} GROUP BY a.department_id""")
        return (
            sql
            + f""", f AS ({" UNION ALL ".join(parts)})
            SELECT f.*, d.code AS unit_code, d.name AS unit_name, d.kind AS unit_kind, d.sort_order AS unit_order
            FROM f LEFT JOIN {DEPARTMENTS} d ON d.id = f.grp""",
            params,
        )

    rows = _figures(c, as_of, statement, columns)
    units = {
        row["grp"]: Unit(row["grp"], row["unit_code"], row["unit_name"], row["unit_kind"], row["unit_order"])
        for row in rows
    }
    return {units[k]: v for k, v in _collect(rows, columns, lambda g: g).items() if v.get(columns[0])}
