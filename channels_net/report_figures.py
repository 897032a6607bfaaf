"""What the 政网 channel tells the county's report (feedback.channels ``report_figures``/``report_items``):
the netizen forums (网民座谈会) county leaders chaired or attended.

A forum held in the period with a chair (主持领导) or at least one attending leader (出席领导) counts as
one session: the county party secretary (or the county head standing in) leads it face to face with
the netizens, which is how the county's report counts the 政网 channel's share of its sessions.

Who sees it: the forums' readers (``access.can_read_forums``: 网信办, county leaders, administrators).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.urls import reverse

from feedback.channels import LEADER_SESSIONS, ReportFigure, ReportItem
from feedback.models import Channel

from .access import can_read_forums, forums_for
from .models import Forum

FORUMS_FORMULA = "政网直通车：日期在区间内、有县级领导主持或出席的网民座谈会，每场计1场"


def _led_forums(user: Any, start: datetime.date, end: datetime.date) -> QuerySet[Forum]:
    attended = Forum.leaders.through.objects.filter(forum=OuterRef("pk"))
    return forums_for(user).filter(Q(chair__isnull=False) | Q(Exists(attended)), held_on__gte=start, held_on__lte=end)


def report_figures(user: Any, start: datetime.date, end: datetime.date) -> list[ReportFigure]:
    """One query."""
    if not can_read_forums(user):
        return []
    forums = _led_forums(user, start, end).count()
    return [ReportFigure(LEADER_SESSIONS, Channel.NET, "网民座谈会", forums, "场", FORUMS_FORMULA)]


def _name(user: Any) -> str:
    return user.get_full_name() or user.get_username()


def report_items(user: Any, line: str, start: datetime.date, end: datetime.date) -> list[ReportItem]:
    if line != LEADER_SESSIONS or not can_read_forums(user):
        return []
    leaders = Prefetch("leaders", queryset=get_user_model().objects.order_by("username"))
    forums = _led_forums(user, start, end).select_related("chair").prefetch_related(leaders).order_by("held_on", "id")
    rows = []
    for forum in forums:
        # The chair first, then the other leaders present (as the common calendar lists them).
        people = [_name(forum.chair)] if forum.chair else []
        people += [_name(u) for u in forum.leaders.all() if u.pk != forum.chair_id]
        rows.append(
            ReportItem(
                channel=Channel.NET,
                title=forum.title,
                day=forum.held_on,
                place=forum.place,
                people=people,
                url=reverse("channels_net:forum_detail", args=[forum.pk]),
            )
        )
    return rows
