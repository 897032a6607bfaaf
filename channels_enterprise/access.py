"""Who may see the enterprise channel's records (the rules of feedback.access, applied here).

County leaders, administrators and 经开区 read everything of the channel; only 经开区 and
administrators write (channels_enterprise.services.can_manage). Anyone else sees nothing (404).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from feedback.access import Role, scope_of
from feedback.models import Channel

from .models import Enterprise, EnterpriseDay, EnterpriseIntake


def can_read(user: Any) -> bool:
    scope = scope_of(user)
    return scope.role in (Role.ADMIN, Role.LEADER) or (scope.role == Role.OFFICE
                                                       and scope.channel == Channel.ENTERPRISE)


def enterprises_for(user: Any) -> QuerySet[Enterprise]:
    return Enterprise.objects.all() if can_read(user) else Enterprise.objects.none()


def days_for(user: Any) -> QuerySet[EnterpriseDay]:
    return EnterpriseDay.objects.all() if can_read(user) else EnterpriseDay.objects.none()


def intakes_for(user: Any) -> QuerySet[EnterpriseIntake]:
    return EnterpriseIntake.objects.all() if can_read(user) else EnterpriseIntake.objects.none()
