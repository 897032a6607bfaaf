from __future__ import annotations

import datetime

from django.utils import timezone

from feedback.workcalendar import load_calendar

from .models import NoMeetingWeek


def seed_demo_sessions() -> int:
    """No-meeting weeks of the last 11 months: the last five working days of each (idempotent)."""
    today = timezone.localdate()
    calendar = load_calendar(today - datetime.timedelta(days=400), today + datetime.timedelta(days=40))
    created = 0
    first = today.replace(day=1)
    for _ in range(11):
        last_of_previous = first - datetime.timedelta(days=1)
        first = last_of_previous.replace(day=1)
        days: list[datetime.date] = []
        day = last_of_previous
        while len(days) < 5:
            if calendar.is_workday(day):
                days.append(day)
            day -= datetime.timedelta(days=1)
        _, new = NoMeetingWeek.objects.get_or_create(
            month=first, defaults={"starts_on": days[-1], "ends_on": days[0], "confirmed": True}
        )
        created += new
    return created
