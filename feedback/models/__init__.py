"""The shared core: Issue → Assignment → SignedReply, with an append-only history.

The core knows a channel only as ``Issue.channel``; channel apps keep their own
session models and link to ``Issue`` one-to-one.
"""

from __future__ import annotations

from feedback.models.calendar import CalendarDay, CalendarYear
from feedback.models.handling import (
    Assignment,
    AssignmentQuerySet,
    AssignmentTally,
    DeadlinePolicy,
    DeadlineStep,
    ExtensionRequest,
    Objection,
    SignedReply,
    reply_upload_to,
)
from feedback.models.issues import HistoryEntry, Issue, IssueQuerySet, IssueTally, Requester
from feedback.models.notifications import Notification
from feedback.models.publishing import Bulletin, ExportJob
from feedback.models.reference import Category, Channel, DeadlineUnit, Department, Membership
from feedback.models.security import AuditEvent, RateLimitHit
from feedback.models.statistics import (
    StatsChannelDepartmentMonthRollup,
    StatsChannelDepartmentRollup,
    StatsCounts,
    StatsDepartmentCounts,
    StatsDepartmentMonthRollup,
    StatsDepartmentRollup,
    StatsGeneration,
    StatsMonthRequesters,
    StatsMonthRollup,
    StatsOpenDue,
    StatsRequesterSet,
    StatsRollup,
    StatsRollupDirtyKey,
)

__all__ = [
    "Assignment",
    "AssignmentQuerySet",
    "AssignmentTally",
    "AuditEvent",
    "Bulletin",
    "CalendarDay",
    "CalendarYear",
    "Category",
    "Channel",
    "DeadlinePolicy",
    "DeadlineStep",
    "DeadlineUnit",
    "Department",
    "ExportJob",
    "ExtensionRequest",
    "HistoryEntry",
    "Issue",
    "IssueQuerySet",
    "IssueTally",
    "Membership",
    "Notification",
    "Objection",
    "RateLimitHit",
    "Requester",
    "SignedReply",
    "StatsChannelDepartmentMonthRollup",
    "StatsChannelDepartmentRollup",
    "StatsCounts",
    "StatsDepartmentCounts",
    "StatsDepartmentMonthRollup",
    "StatsDepartmentRollup",
    "StatsGeneration",
    "StatsMonthRequesters",
    "StatsMonthRollup",
    "StatsOpenDue",
    "StatsRequesterSet",
    "StatsRollup",
    "StatsRollupDirtyKey",
    "reply_upload_to",
]
