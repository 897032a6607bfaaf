"""Writes to the working calendar and what follows from them: a State Council notice loaded for a
year, county overrides saved or deleted, deadlines computed again, administrators warned when next
year is missing."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from feedback import services, states
from feedback.access import GROUP_NAMES, Role
from feedback.calendar_notice import MISSING_KIND, SOURCE_MAX, missing_years, parse_notice, warning_text
from feedback.channels import announce_calendar_change
from feedback.deadlines import compute_deadline
from feedback.models import (
    Assignment,
    CalendarDay,
    CalendarYear,
    Notification,
)
from feedback.services import notifications
from feedback.services.ladder import schedule_steps, settle_passed_steps
from feedback.services.notifications import queue_after_commit
from feedback.workcalendar import load_calendar


@transaction.atomic
def recompute_deadlines(*, actor: User | None, years: set[int]) -> int:
    """After a year's calendar was loaded or changed: recompute every open assignment whose
    deadline counts days in those years, record the change and tell the department.

    Extended due dates are the office's explicit decision and are left alone; their
    original due date is still recomputed for the on-time figures.
    """
    if not years:
        return 0
    first, last = datetime.date(min(years), 1, 1), datetime.date(max(years), 12, 31)
    candidates = (
        Assignment.objects.open()
        .select_for_update(of=("self",))
        .filter(due_date__gte=first - datetime.timedelta(days=400), assigned_on__lte=last)
        .select_related("issue", "department", "policy")
    )
    calendar = load_calendar(first - datetime.timedelta(days=400), last + datetime.timedelta(days=400))
    changed = 0
    for a in candidates:
        deadline = compute_deadline(a.assigned_on, a.deadline_amount, a.deadline_unit, calendar)
        extended = a.due_date != a.original_due_date
        new_due = a.due_date if extended else deadline.due_date
        if (new_due, deadline.due_date, deadline.provisional) == (a.due_date, a.original_due_date, a.provisional):
            continue
        old_due = a.due_date
        a.original_due_date, a.provisional = deadline.due_date, deadline.provisional
        if new_due != old_due:
            a.due_date = new_due
            a.deadline_version += 1
        a.save(update_fields=["due_date", "original_due_date", "provisional", "deadline_version"])
        schedule_steps(a, calendar=calendar)
        # A new due date whose steps are already past: recorded, not announced one by one (§4).
        settle_passed_steps([a], now=timezone.now(), when="calendar")
        note = f"工作日历更新，办理期限由 {old_due:%Y-%m-%d} 调整为 {a.due_date:%Y-%m-%d}"
        states.record(a.issue, "deadline_recomputed", actor=actor, assignment=a, note=note)
        if new_due != old_due:
            notifications.notify_department(
                a, "deadline_recomputed", title=f"办理期限调整：{a.issue.title}", body=f"{a.issue.ref}：{note}。"
            )
        changed += 1
    return changed


# --- Ledger import (台账导入): historical issues from a checked ledger (feedback.ledger.parse) ----------
#
# Rows still open go through register_issue and assign_issue, exactly as a clerk's registration
# (assigned on ``received_on``; the department is told; the deadline ladder takes over). Rows
# answered long ago need states the normal services refuse to reach — an accepted written reply
# without the scan of the letter — and come in thousands (a year's ledger), so they are written
# set-based: a fixed number of INSERTs per file instead of ~35 queries a row (bench/import_ledger.py).
# Their status moves are replayed against the state machine's own tables (states.ISSUE_MOVES /
# ASSIGNMENT_MOVES, which raise IllegalTransition as states.move does) and each leaves the history
# row states.move would write, noted "导入：…". Nothing is announced for them: a ledger of closed
# cases would flood the departments' bells.


@dataclass(frozen=True)
class LoadResult:
    year: int
    rest_days: int
    work_days: int
    replaced: int  # national rows of that year that were there before
    recomputed: int  # open assignments whose deadline changed


# --- parsing (pure) ------------------------------------------------------------------------------


def load_year(*, actor: Any, year: int, lines: str | Iterable[str], source: str) -> LoadResult:
    """Replace the national rows of ``year`` with the notice, mark the year loaded and recompute
    every open deadline that counts days in it, in one transaction (all or nothing).

    County overrides of that year are kept: they still win over the new national rows.
    """
    days = parse_notice(lines, year=year)
    source = (source.strip() or f"国务院办公厅关于{year}年部分节假日安排的通知")[:SOURCE_MAX]
    with transaction.atomic():
        national = CalendarDay.objects.filter(source=CalendarDay.Source.NATIONAL, date__year=year)
        replaced, _ = national.delete()
        CalendarDay.objects.bulk_create(
            [
                CalendarDay(date=d.date, is_workday=d.is_workday, name=d.name, source=CalendarDay.Source.NATIONAL)
                for d in days
            ]
        )
        CalendarYear.objects.update_or_create(year=year, defaults={"source": source, "loaded_at": timezone.now()})
        recomputed = services.recompute_deadlines(actor=actor, years={year})
        announce_calendar_change({year})
    return LoadResult(
        year=year,
        rest_days=sum(not d.is_workday for d in days),
        work_days=sum(d.is_workday for d in days),
        replaced=replaced,
        recomputed=recomputed,
    )


def save_county_day(*, actor: Any, day: CalendarDay, previous_date: datetime.date | None = None) -> int:
    """Add or change a county override and recompute the deadlines of its year (and of the year it
    was moved from). Returns the number of assignments whose deadline changed."""
    with transaction.atomic():
        day.source = CalendarDay.Source.COUNTY
        day.save()
        years = {day.date.year} | ({previous_date.year} if previous_date else set())
        recomputed = services.recompute_deadlines(actor=actor, years=years)
        announce_calendar_change(years)
        return recomputed


def delete_county_day(*, actor: Any, day: CalendarDay) -> int:
    """Remove a county override (national rows are never deleted here) and recompute its year."""
    if day.source != CalendarDay.Source.COUNTY:
        raise ValueError("只能删除本县调整，国务院安排请通过载入通知替换。")
    with transaction.atomic():
        day.delete()
        recomputed = services.recompute_deadlines(actor=actor, years={day.date.year})
        announce_calendar_change({day.date.year})
        return recomputed


def administrators() -> Any:
    return (
        get_user_model()
        .objects.filter(Q(is_superuser=True) | Q(groups__name=GROUP_NAMES[Role.ADMIN]), is_active=True)
        .distinct()
    )


def warn_missing_calendar(today: datetime.date | None = None) -> int:
    """The daily check: one system notification per administrator per missing year.

    Idempotent by the notification's unique key (recipient, kind, deadline_version) for rows
    without an assignment; ``deadline_version`` carries the missing year. Returns the number of
    notifications created by this run.
    """
    today = today or timezone.localdate()
    known = CalendarYear.objects.filter(year__in=[today.year, today.year + 1]).values_list("year", flat=True)
    missing = missing_years(today, known)
    if not missing:
        return 0
    admin_ids = list(administrators().values_list("pk", flat=True))
    created = 0
    with transaction.atomic():
        for year in missing:
            already = set(
                Notification.objects.filter(
                    kind=MISSING_KIND,
                    deadline_version=year,
                    assignment__isnull=True,
                    recipient_id__in=admin_ids,
                ).values_list("recipient_id", flat=True)
            )
            message = warning_text(year, today)
            rows = [
                Notification(
                    recipient_id=pk,
                    kind=MISSING_KIND,
                    deadline_version=year,
                    title=f"{year}年节假日安排尚未载入",
                    body=f"{message}载入方法：系统管理 → 工作日历年份 → 载入国务院节假日安排。",
                )
                for pk in admin_ids
                if pk not in already
            ]
            # A concurrent run that got there first hits the unique key and is skipped.
            Notification.objects.bulk_create(rows, ignore_conflicts=True)
            created += len(rows)
        if created:
            queue_after_commit()
    return created
