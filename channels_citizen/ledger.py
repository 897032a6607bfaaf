"""The 政民 side of the round-trip ledger (feedback.ledger): the no-meeting week (无会周) an issue
was raised in, named by the week and dated by its first day.

The month is the key (one week a month); a week recorded by the import starts on the ledger's date
and ends on the month's default last day (or that date). The visit, township and village of the
intake are not carried yet. docs/ledger-format.md, docs/decisions/0660.
"""

from __future__ import annotations

import datetime
from typing import Any

from feedback.channels import SessionLink
from feedback.errors import BatchRejected, WorkflowError

from .models import CitizenIntake
from .services import record_weeks


def ledger_sessions(issue_ids: Any) -> dict[int, tuple[str, datetime.date]]:
    return {
        issue_id: (f"{month:%Y年%m月}无会周", starts_on)
        for issue_id, month, starts_on in CitizenIntake.objects.filter(
            issue_id__in=issue_ids, week__isnull=False
        ).values_list("issue_id", "week__month", "week__starts_on")
    }


def link_ledger_sessions(links: list[SessionLink], *, actor: Any = None) -> list[tuple[int, str]]:
    """Re-link to the month's week starting that date, or record the week: the rules and their
    messages are ``services.record_weeks``'s (the bulk form of ``plan_week``)."""
    try:
        weeks = record_weeks(actor=actor, starts=[link.day for link in links])
    except BatchRejected as refused:
        return [(links[index].row, error.message) for index, error in refused.rows.items()]
    except WorkflowError as exc:  # NotPermitted: every row of the channel
        return [(link.row, exc.message) for link in links]
    CitizenIntake.objects.bulk_create(
        [CitizenIntake(issue_id=link.issue_id, week=week) for link, week in zip(links, weeks, strict=True)]
    )
    return []
