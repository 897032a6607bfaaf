"""The 政民 side of the round-trip ledger (feedback.ledger): the no-meeting week (无会周) an issue
was raised in, named by the week and dated by its first day.

The month is the key (one week a month); a week recorded by the import starts on the ledger's date
and ends on the month's default last day (or that date). The visit, township and village of the
intake are not carried yet. docs/ledger-format.md, docs/decisions/0660.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from feedback.channels import SessionLink

from .models import CitizenIntake, NoMeetingWeek
from .services import default_week


def ledger_sessions(issue_ids: Any) -> dict[int, tuple[str, datetime.date]]:
    return {
        issue_id: (f"{month:%Y年%m月}无会周", starts_on)
        for issue_id, month, starts_on in CitizenIntake.objects.filter(
            issue_id__in=issue_ids, week__isnull=False
        ).values_list("issue_id", "week__month", "week__starts_on")
    }


def link_ledger_sessions(links: list[SessionLink]) -> list[tuple[int, str]]:
    """Re-link to the month's week starting that date, or record the week."""
    weeks = {w.month: w for w in NoMeetingWeek.objects.filter(month__in={link.day.replace(day=1) for link in links})}
    problems = [
        (
            link.row,
            f"{week}从 {week.starts_on:%Y-%m-%d} 开始，与会议日期 {link.day:%Y-%m-%d} 不符（每月只有一个无会周）",
        )
        for link in links
        if (week := weeks.get(link.day.replace(day=1))) is not None and week.starts_on != link.day
    ]
    first_of_month: dict[datetime.date, datetime.date] = {}
    for link in links:
        seen = first_of_month.setdefault(link.day.replace(day=1), link.day)
        if link.day.replace(day=1) not in weeks and seen != link.day:
            problems.append(
                (link.row, f"会议日期 {link.day:%Y-%m-%d} 与同月的 {seen:%Y-%m-%d} 不同（每月只有一个无会周）")
            )
    if problems:
        return problems
    today = timezone.localdate()
    for link in links:
        month = link.day.replace(day=1)
        if month not in weeks:
            default = default_week(month)
            weeks[month] = NoMeetingWeek.objects.create(
                month=month,
                starts_on=link.day,
                ends_on=max(link.day, default.ends_on),
                provisional=default.provisional,
                recorded_on=today if max(link.day, default.ends_on) < today else None,
            )
    CitizenIntake.objects.bulk_create(
        [CitizenIntake(issue_id=link.issue_id, week=weeks[link.day.replace(day=1)]) for link in links]
    )
    return []
