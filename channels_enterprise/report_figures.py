"""What the 政企 channel tells the county's report (feedback.channels ``report_figures``/``report_items``):
the enterprise days (企业家日) county leaders led.

An enterprise day dated in the period, confirmed as held (``held_at``, ``services.mark_day_held``,
which requires a 带队县领导) and with at least one leader (``EnterpriseDay.leaders``) counts as one
session, however many leaders went: the day is one 现场办公 of the departments with the leaders, and
the report counts sessions, not leader attendances (those are on /calendar/attendance/). A day not
yet confirmed as held does not count, so the figure rises when 经开区 confirms it.

Who sees it: the channel's readers (``access.can_read``: 经开区, county leaders, administrators).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.urls import reverse

from feedback.channels import LEADER_SESSIONS, ReportFigure, ReportItem
from feedback.models import Channel

from . import access
from .models import EnterpriseDay

DAYS_FORMULA = "政企直通车：日期在区间内、已确认举行且安排了带队县领导的企业家日，每个企业家日计1场（不论几位领导）"


def _led_days(user: Any, start: datetime.date, end: datetime.date) -> QuerySet[EnterpriseDay]:
    led = EnterpriseDay.leaders.through.objects.filter(enterpriseday=OuterRef("pk"))
    return access.days_for(user).filter(Exists(led), held_at__isnull=False, held_on__gte=start, held_on__lte=end)


def report_figures(user: Any, start: datetime.date, end: datetime.date) -> list[ReportFigure]:
    """One query."""
    if not access.can_read(user):
        return []
    return [
        ReportFigure(
            LEADER_SESSIONS, Channel.ENTERPRISE, "企业家日", _led_days(user, start, end).count(), "场", DAYS_FORMULA
        )
    ]


def report_items(user: Any, line: str, start: datetime.date, end: datetime.date) -> list[ReportItem]:
    if line != LEADER_SESSIONS or not access.can_read(user):
        return []
    leaders = Prefetch("leaders", queryset=get_user_model().objects.order_by("username"))
    days = _led_days(user, start, end).prefetch_related(leaders).order_by("held_on", "id")
    return [
        ReportItem(
            channel=Channel.ENTERPRISE,
            title=str(day),
            day=day.held_on,
            place=day.place,
            people=[u.get_full_name() or u.get_username() for u in day.leaders.all()],
            url=reverse("channels_enterprise:day_detail", args=[day.pk]),
        )
        for day in days
    ]
