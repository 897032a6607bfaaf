"""The enterprise days as the common calendar and the leader attendance figures read them
(feedback.channels: ``sessions`` and ``attendance``)."""

from __future__ import annotations

import datetime

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from feedback.channels import SessionEntry
from feedback.models import Channel

from .models import EnterpriseDay


def sessions(start: datetime.date, end: datetime.date) -> list[SessionEntry]:
    days = (
        EnterpriseDay.objects.filter(held_on__gte=start, held_on__lte=end)
        .order_by("held_on")
        .prefetch_related("leaders")
    )
    return [
        SessionEntry(
            channel=Channel.ENTERPRISE,
            title=str(day),
            starts_on=day.held_on,
            ends_on=day.held_on,
            place=day.place,
            leaders=[u.get_full_name() or u.get_username() for u in day.leaders.all()],
            url=reverse("channels_enterprise:day_detail", args=[day.pk]),
            provisional=day.provisional,
        )
        for day in days
    ]


def attendance(year: int) -> dict[int, int]:
    """Enterprise days led per county leader in ``year``, counting days already held."""
    today = timezone.localdate()
    rows = (
        EnterpriseDay.leaders.through.objects.filter(
            enterpriseday__held_on__year=year, enterpriseday__held_on__lte=today
        )
        .values("user_id")
        .annotate(n=Count("enterpriseday_id"))
    )
    return {row["user_id"]: row["n"] for row in rows}
