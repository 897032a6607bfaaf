"""Who may see and plan the net channel's forums (the core's rules in ``feedback.access``, applied here)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from feedback.access import Role, can_register, registrable_channels, scope_of
from feedback.models import Channel

from .models import Forum, PublicSubmission


def can_manage_forums(user: Any) -> bool:
    """Plan forums and enter their requests: 网信办 or an administrator."""
    return can_register(user) and Channel.NET in registrable_channels(user)


def can_read_forums(user: Any) -> bool:
    """Leaders follow the forums they attend; other channels' offices and departments do not see them."""
    return scope_of(user).role == Role.LEADER or can_manage_forums(user)


def forums_for(user: Any) -> QuerySet[Forum]:
    return Forum.objects.all() if can_read_forums(user) else Forum.objects.none()


def can_triage_submissions(user: Any) -> bool:
    """Accept, merge or decline suggestions sent through the public portal: 网信办 or an administrator."""
    return can_manage_forums(user)


def submissions_for(user: Any) -> QuerySet[PublicSubmission]:
    return PublicSubmission.objects.all() if can_triage_submissions(user) else PublicSubmission.objects.none()
