"""How many issues each channel holds, read from the tally the triggers keep (migration 0800, decision 0800).

The ledger shows its total on every load ("共 N 条"). Counted, that total was an index-only scan of a
channel's every issue: 42 ms of PostgreSQL's time at 333,000 issues a channel, growing with the data.
Added up from the tally, it is a handful of rows whatever the number of issues.

The triggers add rows; nothing else writes the tally but the nightly task (``feedback.tasks.
keep_issue_tally``): ``rebuild`` sets it from a count of the issues if it ever disagrees (``check``),
then ``fold`` replaces each channel's rows by their sum.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Count, Sum

from feedback.models import Issue, IssueTally


def total(channels: Iterable[str] | None = None) -> int:
    """The number of issues of these channels (all of them with ``None``): ``Issue.objects.filter(
    channel__in=channels).count()``, without counting them."""
    rows = IssueTally.objects.all() if channels is None else IssueTally.objects.filter(channel__in=list(channels))
    return rows.aggregate(n=Sum("n"))["n"] or 0


def per_channel() -> dict[str, int]:
    """Each channel's total from the tally (channels whose rows add up to 0 left out)."""
    rows = IssueTally.objects.order_by().values_list("channel").annotate(total=Sum("n"))
    return {channel: n for channel, n in rows if n}


def counted() -> dict[str, int]:
    """Each channel's issues counted: what the tally must add up to."""
    return dict(Issue.objects.order_by().values_list("channel").annotate(n=Count("id")))


@transaction.atomic
def fold() -> int:
    """Replace each channel's rows by one row of their sum; returns the rows removed. Rows inserted
    meanwhile by other transactions are not seen, so not deleted: they stay to be added up."""
    rows = list(IssueTally.objects.select_for_update().values_list("pk", "channel", "n"))
    sums: dict[str, int] = {}
    for _, channel, n in rows:
        sums[channel] = sums.get(channel, 0) + n
    if len(rows) == len(sums):
        return 0
    IssueTally.objects.filter(pk__in=[pk for pk, _, _ in rows]).delete()
    IssueTally.objects.bulk_create(IssueTally(channel=c, n=n) for c, n in sums.items() if n)
    return len(rows) - sum(1 for n in sums.values() if n)


def check() -> dict[str, tuple[int, int]]:
    """The channels whose tally differs from a count of their issues: channel → (tally, counted).
    Empty when the tally is right, as it always is unless its triggers were dropped or disabled."""
    kept, live = per_channel(), counted()
    return {c: (kept.get(c, 0), live.get(c, 0)) for c in kept.keys() | live.keys() if kept.get(c, 0) != live.get(c, 0)}


@transaction.atomic
def rebuild() -> dict[str, tuple[int, int]]:
    """Set the tally from a count of the issues, with writes to the issues held off meanwhile (on
    PostgreSQL: the table locked against writes, reads go on); returns what ``check`` found wrong."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE feedback_issue IN SHARE MODE")
    wrong = check()
    if wrong:
        IssueTally.objects.all().delete()
        IssueTally.objects.bulk_create(IssueTally(channel=c, n=n) for c, n in counted().items())
    return wrong
