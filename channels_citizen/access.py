"""Who may see and plan the 政民 channel's weeks, roster, visits and villages.

The core's rules (``feedback.access``) applied to the channel: the petitions bureau (信访局, the
政民 office) and administrators plan and record; county leaders read; departments and the other
channels' offices see none of it (their pages answer 404). Issues shown on these pages — cases
brought down, the case of the week, requests raised at a visit — are always fetched through
``feedback.access.issues_for``, so a department sees only issues assigned to it and an accused
unit never sees the accusation (信访工作条例 art. 30).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from feedback.access import Role, scope_of
from feedback.models import Channel

from .models import NoMeetingWeek, RosterEntry, Village, Visit


def can_plan(user: Any) -> bool:
    """The petitions bureau (信访局, the 政民 office) and administrators plan; leaders only read."""
    scope = scope_of(user)
    return scope.role == Role.ADMIN or (scope.role == Role.OFFICE and scope.channel == Channel.CITIZEN)


def can_read(user: Any) -> bool:
    return can_plan(user) or scope_of(user).role == Role.LEADER


def weeks_for(user: Any) -> QuerySet[NoMeetingWeek]:
    return NoMeetingWeek.objects.all() if can_read(user) else NoMeetingWeek.objects.none()


def roster_for(user: Any) -> QuerySet[RosterEntry]:
    return RosterEntry.objects.all() if can_read(user) else RosterEntry.objects.none()


def visits_for(user: Any) -> QuerySet[Visit]:
    return Visit.objects.all() if can_read(user) else Visit.objects.none()


def villages_for(user: Any) -> QuerySet[Village]:
    return Village.objects.all() if can_read(user) else Village.objects.none()
