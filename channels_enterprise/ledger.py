"""The 政企 side of the round-trip ledger (feedback.ledger): the enterprise day an issue was raised at.

The date is the key (an enterprise day is unique by date and by month); a day recorded by the
import takes the ledger's date, which must not clash with another day of the same month
(``services.record_days``).
docs/ledger-format.md, docs/decisions/0660.
"""

from __future__ import annotations

import datetime
from typing import Any

from feedback.channels import SessionLink
from feedback.errors import BatchRejected, WorkflowError

from .models import Enterprise, EnterpriseIntake
from .services import record_days

NAME_MAX = EnterpriseIntake._meta.get_field("enterprise_name").max_length


def ledger_sessions(issue_ids: Any) -> dict[int, tuple[str, datetime.date]]:
    return {
        issue_id: (f"{month:%Y年%m月}企业家日", held_on)
        for issue_id, month, held_on in EnterpriseIntake.objects.filter(
            issue_id__in=issue_ids, day__isnull=False
        ).values_list("issue_id", "day__month", "day__held_on")
    }


def link_ledger_sessions(links: list[SessionLink], *, actor: Any = None) -> list[tuple[int, str]]:
    """Re-link to the enterprise day held that date, or record one for that month: the rules and
    their messages are ``services.record_days``'s (the bulk form of 补录)."""
    try:
        days = record_days(actor=actor, days=[link.day for link in links])
    except BatchRejected as refused:
        return [(links[index].row, error.message) for index, error in refused.rows.items()]
    except WorkflowError as exc:  # NotPermitted: every row of the channel
        return [(link.row, exc.message) for link in links]
    names = {link.organization or link.requester for link in links}
    enterprises: dict[str, Enterprise] = {}
    for enterprise in Enterprise.objects.filter(name__in=names).order_by("-id"):
        enterprises[enterprise.name] = enterprise  # a name registered twice: the oldest
    EnterpriseIntake.objects.bulk_create(
        [
            EnterpriseIntake(
                issue_id=link.issue_id,
                day=day,
                enterprise=enterprises.get(link.organization or link.requester),
                enterprise_name=(link.organization or link.requester)[:NAME_MAX],
            )
            for link, day in zip(links, days, strict=True)
        ]
    )
    return []
