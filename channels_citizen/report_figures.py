"""What the 政民 channel tells the county's report (feedback.channels ``report_figures``/``report_items``):
the visits county leaders led and the villages without petitions (无访村).

* 县级领导带队场次: each recorded visit (乡镇集中接访 or 进村走访) with its leading county leader
  (``Visit.leader``, 带队县领导) and held in the period counts as one session. A roster entry is a
  plan, not a visit: only what was recorded counts.
* 无访村: ``services.quiet_villages``' definition over an arbitrary period instead of a calendar year —
  an active village is 无访 when no 政民 issue naming it as the petitioner's village
  (``CitizenIntake.village``) was received in the period. Every 政民 issue is a petition that reached
  county level, so one is enough to make the village 有访. Over a whole year this is exactly the
  channel page's yearly figure.

Who sees them: the channel's readers (``access.can_read``: 县信访局, county leaders, administrators).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.urls import reverse

from feedback.channels import LEADER_SESSIONS, QUIET_VILLAGES, ReportFigure, ReportItem
from feedback.models import Channel

from .access import can_read, villages_for, visits_for
from .models import CitizenIntake, Visit
from .services import recorded_in

VISITS_FORMULA = "政民直通车：登记了带队县领导、接访日期在区间内的接访活动（乡镇集中接访、进村走访），每次活动计1场"
# A period in which the channel recorded nothing (before the portal was used) is no evidence of quiet.
UNRECORDED = "注意：区间内政民直通车没有任何诉求和接访记录，此数不能说明这些村无访。"
QUIET_FORMULA = (
    "启用的村中，区间内没有受理任何政民直通车诉求（按信访人所在村）的村数；政民直通车诉求均为到县及以上的信访"
)


def _led_visits(user: Any, start: datetime.date, end: datetime.date) -> QuerySet[Visit]:
    return visits_for(user).filter(leader__isnull=False, held_on__gte=start, held_on__lte=end)


def _quiet(start: datetime.date, end: datetime.date) -> Q:
    petitioned = CitizenIntake.objects.filter(
        village=OuterRef("pk"),
        issue__channel=Channel.CITIZEN,
        issue__received_on__gte=start,
        issue__received_on__lte=end,
    )
    return ~Q(Exists(petitioned))


def report_figures(user: Any, start: datetime.date, end: datetime.date) -> list[ReportFigure]:
    """Three or four queries."""
    if not can_read(user):
        return []
    villages = (
        villages_for(user)
        .filter(active=True)
        .aggregate(total=Count("pk"), quiet=Count("pk", filter=_quiet(start, end)))
    )
    visits = _led_visits(user, start, end).count()
    quiet_formula = QUIET_FORMULA if recorded_in(start, end) else f"{UNRECORDED}{QUIET_FORMULA}"
    return [
        ReportFigure(LEADER_SESSIONS, Channel.CITIZEN, "集中接访和进村走访", visits, "场", VISITS_FORMULA),
        ReportFigure(
            QUIET_VILLAGES,
            Channel.CITIZEN,
            "无访村",
            villages["quiet"],
            "个",
            quiet_formula,
            total=villages["total"],
            total_label="启用的村",
        ),
    ]


def _name(user: Any) -> str:
    return user.get_full_name() or user.get_username()


def report_items(user: Any, line: str, start: datetime.date, end: datetime.date) -> list[ReportItem]:
    if not can_read(user):
        return []
    if line == LEADER_SESSIONS:
        visits = (
            _led_visits(user, start, end)
            .select_related("township", "village__township", "leader")
            .order_by("held_on", "id")
        )
        return [
            ReportItem(
                channel=Channel.CITIZEN,
                title=visit.get_kind_display(),
                day=visit.held_on,
                place=str(visit.village or visit.township),
                people=[_name(visit.leader)],
                url=reverse("channels_citizen:visit_detail", args=[visit.pk]),
            )
            for visit in visits
        ]
    if line == QUIET_VILLAGES:
        quiet = (
            villages_for(user)
            .filter(_quiet(start, end), active=True)
            .select_related("township")
            .order_by("township__sort_order", "township__code", "name")
        )
        return [
            ReportItem(channel=Channel.CITIZEN, title=village.name, place=village.township.name) for village in quiet
        ]
    return []
