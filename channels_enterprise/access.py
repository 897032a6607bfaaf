"""Who may see the enterprise channel's records (the rules of feedback.access, applied here).

County leaders, administrators and 经开区 read everything of the channel; only 经开区 and
administrators write (channels_enterprise.services.can_manage). A department sees the problems
(and their 三长会诊) of the issues it may see in the core, i.e. those assigned to it; the registry
and the days stay with the channel. Anyone else sees nothing (404).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from feedback.access import Role, issues_for, scope_of
from feedback.models import Channel

from .models import Consultation, Enterprise, EnterpriseDay, EnterpriseIntake


def can_read(user: Any) -> bool:
    scope = scope_of(user)
    return scope.role in (Role.ADMIN, Role.LEADER) or (
        scope.role == Role.OFFICE and scope.channel == Channel.ENTERPRISE
    )


def can_read_problems(user: Any) -> bool:
    return can_read(user) or scope_of(user).role == Role.DEPARTMENT


def enterprises_for(user: Any) -> QuerySet[Enterprise]:
    return Enterprise.objects.all() if can_read(user) else Enterprise.objects.none()


def days_for(user: Any) -> QuerySet[EnterpriseDay]:
    return EnterpriseDay.objects.all() if can_read(user) else EnterpriseDay.objects.none()


def intakes_for(user: Any) -> QuerySet[EnterpriseIntake]:
    if can_read(user):
        return EnterpriseIntake.objects.all()
    if scope_of(user).role == Role.DEPARTMENT:
        # The core decides which issues a department sees (its assignments, never an accusation
        # against it); the channel adds nothing to that.
        return EnterpriseIntake.objects.filter(issue__in=issues_for(user).filter(channel=Channel.ENTERPRISE))
    return EnterpriseIntake.objects.none()


def consultations_for(user: Any) -> QuerySet[Consultation]:
    if can_read(user):
        return Consultation.objects.all()
    return Consultation.objects.filter(intake__in=intakes_for(user))
