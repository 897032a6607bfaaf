"""The working calendar as stored in the database (never chinesecalendar at request time)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from feedback.compiled import CompiledQuery
from feedback.deadlines import Deadline, WorkCalendar, compute_deadline
from feedback.models import CalendarDay, CalendarYear

HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def _years(first: int, last: int) -> QuerySet[Any]:
    return CalendarYear.objects.filter(year__gte=first, year__lte=last).values_list("year", flat=True)


def _days(first: datetime.date, last: datetime.date) -> QuerySet[Any]:
    # national first, county second: the later assignment wins.
    return (
        CalendarDay.objects.filter(date__gte=first, date__lte=last)
        .order_by("-source", "date")
        .values_list("date", "is_workday", "name")
    )


# Compiled once per process (feedback.compiled): every page with a deadline on it reads the calendar.
YEARS, DAYS = CompiledQuery(_years, first=int, last=int), CompiledQuery(_days, first=datetime.date, last=datetime.date)


def load_calendar(first: datetime.date, last: datetime.date) -> WorkCalendar:
    """The calendar for a span of dates, in two queries; county rows win over national ones."""
    years = frozenset(YEARS.fetch(first=first.year, last=last.year))
    overrides = {day: (is_workday, name) for day, is_workday, name in DAYS.fetch(first=first, last=last)}
    return WorkCalendar(known_years=years, overrides=overrides)


def deadline_for(start: datetime.date, amount: int, unit: str, *, policy_name: str = "") -> Deadline:
    # A limit of N days never reaches further than ~N*2 + a month of holidays; read that span once.
    horizon = start + datetime.timedelta(days=amount * 3 + 45)
    calendar = load_calendar(start, horizon)
    return compute_deadline(start, amount, unit, calendar, policy_name=policy_name)


@transaction.atomic
def seed_from_chinesecalendar() -> list[int]:
    """Copy chinesecalendar's years into our tables (idempotent). Returns the years added."""
    from chinese_calendar import constants

    days: dict[datetime.date, tuple[bool, str]] = {}
    for day, holiday in constants.holidays.items():
        days[day] = (False, HOLIDAY_NAMES.get(_holiday_name(holiday), "节假日"))
    for day, holiday in constants.workdays.items():
        days[day] = (True, f"{HOLIDAY_NAMES.get(_holiday_name(holiday), '节假日')}调休上班")
    years = sorted({d.year for d in days})
    existing = set(CalendarYear.objects.filter(year__in=years).values_list("year", flat=True))
    new_years = [y for y in years if y not in existing]
    CalendarDay.objects.bulk_create(
        [
            CalendarDay(date=d, is_workday=w, name=n, source=CalendarDay.Source.NATIONAL)
            for d, (w, n) in sorted(days.items())
            if d.year in new_years
        ],
        ignore_conflicts=True,
    )
    CalendarYear.objects.bulk_create(
        [CalendarYear(year=y, source="chinesecalendar（国务院办公厅节假日安排）") for y in new_years],
        ignore_conflicts=True,
    )
    return new_years


def _holiday_name(holiday: object) -> str:
    return getattr(holiday, "value", None) or str(holiday)
