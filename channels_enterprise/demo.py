from __future__ import annotations

import datetime

from django.utils import timezone

from feedback.workcalendar import load_calendar

from .models import EnterpriseDay
from .schedule import plan_month


def seed_demo_sessions() -> int:
    """The enterprise days of the last 11 months: the 23rd or the next working day (idempotent)."""
    today = timezone.localdate()
    calendar = load_calendar(today - datetime.timedelta(days=400), today + datetime.timedelta(days=40))
    created = 0
    year, month = today.year, today.month
    for _ in range(11):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        plan = plan_month(year, month, calendar)
        _, new = EnterpriseDay.objects.get_or_create(
            month=plan.month, defaults={"held_on": plan.held_on, "notice_on": plan.notice_on,
                                        "provisional": plan.provisional, "place": "经开区企业服务中心",
                                        "note": "县长、分管副县长带队"})
        created += new
    return created
