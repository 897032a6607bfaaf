"""The net channel's forums as the common calendar sees them (registered in apps.py)."""

from __future__ import annotations

import datetime

from django.db.models import Count, Prefetch
from django.urls import reverse
from django.utils import timezone

from feedback.channels import SessionEntry
from feedback.models import Channel

from .models import Forum


def _name(user: object) -> str:
    return user.get_full_name() or user.get_username()  # type: ignore[attr-defined]


def forum_sessions(start: datetime.date, end: datetime.date) -> list[SessionEntry]:
    from django.contrib.auth import get_user_model

    forums = (
        Forum.objects.filter(held_on__range=(start, end))
        .order_by("held_on")
        .select_related("chair")
        .prefetch_related(Prefetch("leaders", queryset=get_user_model().objects.order_by("username")))
    )
    entries = []
    for forum in forums:
        leaders = [_name(forum.chair)] if forum.chair else []
        leaders += [_name(u) for u in forum.leaders.all() if u.pk != forum.chair_id]
        entries.append(
            SessionEntry(
                channel=Channel.NET,
                title=forum.title,
                starts_on=forum.held_on,
                ends_on=forum.held_on,
                place=forum.place,
                leaders=leaders,
                url=reverse("channels_net:forum_detail", args=[forum.pk]),
            )
        )
    return entries


def forum_attendance(year: int) -> dict[int, int]:
    """Forums held in the year (up to today) per attending leader; the chair is among the leaders."""
    through = Forum.leaders.through
    rows = (
        through.objects.filter(forum__held_on__year=year, forum__held_on__lte=timezone.localdate())
        .values("user_id")
        .annotate(n=Count("forum_id", distinct=True))
    )
    return {row["user_id"]: row["n"] for row in rows}
