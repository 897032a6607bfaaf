"""What the 政民 channel tells the core's common calendar and leader attendance (feedback.channels)."""

from __future__ import annotations

import datetime

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from feedback.channels import SessionEntry
from feedback.models import Channel

from .models import NoMeetingWeek, RosterEntry


def week_sessions(start: datetime.date, end: datetime.date) -> list[SessionEntry]:
    """The no-meeting weeks overlapping [start, end], with the leaders on their roster. Two queries."""
    weeks = (
        NoMeetingWeek.objects.filter(starts_on__lte=end, ends_on__gte=start)
        .order_by("starts_on")
        .prefetch_related("roster__leader", "roster__township")
    )
    return [
        SessionEntry(
            channel=Channel.CITIZEN,
            title=str(week),
            starts_on=week.starts_on,
            ends_on=week.ends_on,
            place="、".join(r.township.name for r in week.roster.all()),
            leaders=[r.leader.get_full_name() or r.leader.get_username() for r in week.roster.all()],
            url=reverse("channels_citizen:week_detail", args=[week.pk]),
            provisional=week.provisional and not week.confirmed,
        )
        for week in weeks
    ]


def week_attendance(year: int) -> dict[int, int]:
    """Per county leader, the no-meeting weeks of ``year`` they were rostered for and that have begun."""
    today = timezone.localdate()
    rows = (
        RosterEntry.objects.filter(week__starts_on__year=year, week__starts_on__lte=today)
        .values("leader")
        .annotate(weeks=Count("week", distinct=True))
    )
    return {row["leader"]: row["weeks"] for row in rows}
