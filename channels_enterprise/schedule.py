"""When the enterprise day falls (pure: dates and a WorkCalendar in, dates out, no ORM).

The 23rd of each month, a date the entrepreneurs chose; when the 23rd is not a working day, the
next working day. The notice goes out on the 3rd working day before it (莆田 practice, domain-rules §1.6).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from feedback.deadlines import WorkCalendar, next_workday

DAY_OF_MONTH = 23
NOTICE_WORKING_DAYS = 3


@dataclass(frozen=True)
class PlannedDay:
    month: datetime.date  # the 1st of the month
    held_on: datetime.date
    notice_on: datetime.date
    provisional: bool  # the calendar of a year involved is not loaded: Monday–Friday was assumed


def previous_workdays(day: datetime.date, count: int, calendar: WorkCalendar) -> datetime.date:
    for _ in range(count):
        day -= datetime.timedelta(days=1)
        while not calendar.is_workday(day):
            day -= datetime.timedelta(days=1)
    return day


def plan_month(year: int, month: int, calendar: WorkCalendar) -> PlannedDay:
    the_23rd = datetime.date(year, month, DAY_OF_MONTH)
    held_on = the_23rd if calendar.is_workday(the_23rd) else next_workday(the_23rd, calendar)
    notice_on = previous_workdays(held_on, NOTICE_WORKING_DAYS, calendar)
    provisional = not all(calendar.is_known(d) for d in (the_23rd, held_on, notice_on))
    return PlannedDay(datetime.date(year, month, 1), held_on, notice_on, provisional)


def months_ahead(today: datetime.date, count: int) -> list[tuple[int, int]]:
    """This month and the ``count`` months after it, as (year, month)."""
    out = []
    year, month = today.year, today.month
    for _ in range(count + 1):
        out.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out
