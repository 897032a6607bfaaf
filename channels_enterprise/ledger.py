"""The 政企 side of the round-trip ledger (feedback.ledger): the enterprise day an issue was raised at.

The date is the key (an enterprise day is unique by date and by month); a day recorded by the
import takes the ledger's date, which must not clash with another day of the same month.
docs/ledger-format.md, docs/decisions/0660.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from feedback.channels import SessionLink

from .models import Enterprise, EnterpriseDay, EnterpriseIntake

NAME_MAX = EnterpriseIntake._meta.get_field("enterprise_name").max_length


def ledger_sessions(issue_ids: Any) -> dict[int, tuple[str, datetime.date]]:
    return {
        issue_id: (f"{month:%Y年%m月}企业家日", held_on)
        for issue_id, month, held_on in EnterpriseIntake.objects.filter(
            issue_id__in=issue_ids, day__isnull=False
        ).values_list("issue_id", "day__month", "day__held_on")
    }


def link_ledger_sessions(links: list[SessionLink]) -> list[tuple[int, str]]:
    """Re-link to the enterprise day held that date, or record one for that month."""
    days = {d.held_on: d for d in EnterpriseDay.objects.filter(held_on__in={link.day for link in links})}
    missing = {link.day for link in links} - days.keys()
    taken = {d.month: d for d in EnterpriseDay.objects.filter(month__in={day.replace(day=1) for day in missing})}
    problems = []
    first_of_month: dict[datetime.date, datetime.date] = {}
    for link in links:
        other = taken.get(link.day.replace(day=1)) if link.day in missing else None
        if other is not None:
            problems.append(
                (
                    link.row,
                    f"{other}是 {other.held_on:%Y-%m-%d}，与会议日期 {link.day:%Y-%m-%d} 不符（每月只有一个企业家日）",
                )
            )
        elif link.day in missing and first_of_month.setdefault(link.day.replace(day=1), link.day) != link.day:
            seen = first_of_month[link.day.replace(day=1)]
            problems.append(
                (link.row, f"会议日期 {link.day:%Y-%m-%d} 与同月的 {seen:%Y-%m-%d} 不同（每月只有一个企业家日）")
            )
    if problems:
        return problems
    today = timezone.localdate()
    for day in sorted(missing):
        days[day] = EnterpriseDay.objects.create(
            month=day.replace(day=1), held_on=day, note="台账导入补录", recorded_on=today if day < today else None
        )
    names = {link.organization or link.requester for link in links}
    enterprises: dict[str, Enterprise] = {}
    for enterprise in Enterprise.objects.filter(name__in=names).order_by("-id"):
        enterprises[enterprise.name] = enterprise  # a name registered twice: the oldest
    EnterpriseIntake.objects.bulk_create(
        [
            EnterpriseIntake(
                issue_id=link.issue_id,
                day=days[link.day],
                enterprise=enterprises.get(link.organization or link.requester),
                enterprise_name=(link.organization or link.requester)[:NAME_MAX],
            )
            for link in links
        ]
    )
    return []
