"""Counts kept by triggers as rows to add up (migrations 0800 and 0810, decision 0800).

The ledger shows its total on every load ("共 N 条"), the inbox a count on each tab. Counted, the
ledger's total was an index-only scan of a channel's every issue (42 ms of PostgreSQL's time at 333,000
issues a channel), the inbox's counts a scan of a busy department's 65,000 assignments (~10 ms), each
growing with the data. Added up from the tallies, they are a handful of rows whatever the data:

* ``IssueTally``: issues per channel;
* ``AssignmentTally``: assignments per department, channel (the issue's) and status.

The triggers add rows; nothing else writes the tallies but the nightly task (``feedback.tasks.
keep_tallies``) and ``rebuild_stats_rollup``: ``rebuild`` sets a tally from a count if it ever
disagrees (``check``), then ``fold`` replaces each key's rows by their sum.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Model, Sum

from feedback.models import Assignment, AssignmentTally, Issue, IssueTally

# Each tally: its model, its key's columns, and the counted table's rows grouped by the same key.
KEYS: dict[type[Model], tuple[str, ...]] = {
    IssueTally: ("channel",),
    AssignmentTally: ("department_id", "channel", "status"),
}


def total(channels: Iterable[str] | None = None) -> int:
    """The number of issues of these channels (all of them with ``None``): ``Issue.objects.filter(
    channel__in=channels).count()``, without counting them."""
    rows = IssueTally.objects.all() if channels is None else IssueTally.objects.filter(channel__in=list(channels))
    return rows.aggregate(n=Sum("n"))["n"] or 0


def per_status(department_id: int, channel: str = "") -> dict[str, int]:
    """The department's assignments (of ``channel``'s issues if given) per status: ``Assignment.objects.
    filter(department=…)`` grouped by status and counted, without counting them (statuses at 0 left out)."""
    rows = AssignmentTally.objects.filter(department_id=department_id)
    if channel:
        rows = rows.filter(channel=channel)
    grouped = rows.order_by().values_list("status").annotate(total=Sum("n"))
    return {status: n for status, n in grouped if n}


def kept(model: type[Model]) -> dict[tuple[Any, ...], int]:
    """A tally's rows added up per key (keys at 0 left out)."""
    key = KEYS[model]
    rows = model._default_manager.order_by().values_list(*key).annotate(total=Sum("n"))  # type: ignore[attr-defined]
    return {tuple(row[:-1]): row[-1] for row in rows if row[-1]}


def counted(model: type[Model]) -> dict[tuple[Any, ...], int]:
    """What a tally must add up to: the counted table's rows per key, counted."""
    if model is IssueTally:
        rows = Issue.objects.order_by().values_list("channel").annotate(n=Count("id"))
    else:
        rows = (
            Assignment.objects.order_by()
            .annotate(key_channel=F("issue__channel"))
            .values_list("department_id", "key_channel", "status")
            .annotate(n=Count("id"))
        )
    return {tuple(row[:-1]): row[-1] for row in rows}


def check() -> dict[str, dict[tuple[Any, ...], tuple[int, int]]]:
    """Per tally (by table name), the keys whose rows differ from a count: key → (tally, counted).
    Empty when the tallies are right, as they always are unless their triggers were dropped or disabled."""
    wrong = {}
    for model in KEYS:
        have, live = kept(model), counted(model)
        differ = {
            k: (have.get(k, 0), live.get(k, 0)) for k in have.keys() | live.keys() if have.get(k, 0) != live.get(k, 0)
        }
        if differ:
            wrong[model._meta.db_table] = differ
    return wrong


@transaction.atomic
def fold() -> int:
    """Replace each key's rows by one row of their sum; returns the rows removed. Rows inserted meanwhile
    by other transactions are not seen, so not deleted: they stay to be added up."""
    removed = 0
    for model, key in KEYS.items():
        manager = model._default_manager  # type: ignore[attr-defined]
        rows = list(manager.select_for_update().values_list("pk", *key, "n"))
        sums: dict[tuple[Any, ...], int] = {}
        for _pk, *k, n in rows:
            sums[tuple(k)] = sums.get(tuple(k), 0) + n
        if len(rows) == len(sums):
            continue
        manager.filter(pk__in=[row[0] for row in rows]).delete()
        manager.bulk_create(model(**dict(zip(key, k, strict=True)), n=n) for k, n in sums.items() if n)
        removed += len(rows) - sum(1 for n in sums.values() if n)
    return removed


@transaction.atomic
def rebuild() -> dict[str, dict[tuple[Any, ...], tuple[int, int]]]:
    """Set a tally that differs from a count of its table again, with writes to the issues and the
    assignments held off meanwhile (on PostgreSQL: the tables locked against writes, reads go on);
    returns what ``check`` found wrong."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE feedback_issue, feedback_assignment IN SHARE MODE")
    wrong = check()
    for model, key in KEYS.items():
        if model._meta.db_table in wrong:
            manager = model._default_manager  # type: ignore[attr-defined]
            manager.all().delete()
            manager.bulk_create(model(**dict(zip(key, k, strict=True)), n=n) for k, n in counted(model).items())
    return wrong
