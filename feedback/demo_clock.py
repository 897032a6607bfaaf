"""The demo's clock: each seeded step runs through the services as at the moment it happened.

The demo tells months of work (an issue received in September, assigned, acknowledged, replied,
accepted, followed up, closed). Every service stamps its history row, the reply's ``submitted_at``,
the notices and the audit rows with the current time, and the history is append-only in the
database (docs/decisions/0003), so the times cannot be corrected afterwards: the demo travels the
process clock to each step's moment instead (time-machine, decision 0650). Only ``seed_demo`` uses
it; no request, task or command of the running portal does.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

from django.conf import settings

_started: list[datetime.datetime] = []  # the real time when the seeding began (a stack: reentrant)


def local_moment(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """``day`` at ``hour:minute`` on the county's clock (Asia/Shanghai)."""
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=ZoneInfo(settings.TIME_ZONE))


@contextmanager
def seeding() -> Iterator[datetime.datetime]:
    """Mark the real time the seeding starts: no step is stamped after it. Yields that time."""
    _started.append(datetime.datetime.now(datetime.UTC))
    try:
        yield _started[-1]
    finally:
        _started.pop()


@contextmanager
def happened_at(moment: datetime.datetime) -> Iterator[datetime.datetime]:
    """Run the block as at ``moment``, never later than the time the seeding started (or, outside
    ``seeding()``, than now): a step dated today happens now. The clock stands still inside the
    block, so one step's rows share a time. Yields the moment used."""
    # Imported here: the channels' demo modules are loaded at start-up, the clock is only moved here.
    import time_machine

    limit = _started[-1] if _started else datetime.datetime.now(datetime.UTC)
    when = min(moment, limit)
    with time_machine.travel(when, tick=False):
        yield when
