"""The demo tells each issue's life at its own dates (issue 13 §4): seeded history rows, reply
submission times, notices and audit rows agree with received → assigned → acknowledged → replied
→ accepted → followed up → closed, and none is stamped later than the seeding (decision 0650)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from feedback.models import Assignment, AuditEvent, HistoryEntry, Issue, Notification, SignedReply

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)


def start_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(0, 0), tzinfo=SHANGHAI)


@pytest.fixture
def demo(settings: Any, time_machine: Any) -> None:
    settings.DEBUG = True
    time_machine.move_to(NOW, tick=False)
    call_command("seed_demo", verbosity=0)


def test_every_seeded_history_runs_forward_from_the_received_date_to_now_through_the_assignment_date(
    demo: None,
) -> None:
    received = dict(Issue.objects.values_list("pk", "received_on"))
    rows: dict[int, list[datetime.datetime]] = defaultdict(list)
    for issue_id, at in HistoryEntry.objects.order_by("issue_id", "id").values_list("issue_id", "at"):
        rows[issue_id].append(at)
    assert set(rows) == set(received)  # every issue has its history
    for issue_id, times in rows.items():
        assert times == sorted(times), f"issue {issue_id}: history out of order"
        assert start_of(received[issue_id]) <= times[0] and times[-1] <= NOW, f"issue {issue_id}"
    # The demo is not stamped at seed time: most of it happened on earlier days.
    assert (
        HistoryEntry.objects.filter(at__lt=NOW - datetime.timedelta(days=30)).count() > HistoryEntry.objects.count() / 2
    )
    # Each issue is registered on its received date and assigned on its assignment date.
    registered = {
        issue_id: timezone.localtime(at).date()
        for issue_id, at in HistoryEntry.objects.filter(action="register").values_list("issue_id", "at")
    }
    assert registered == dict(Issue.objects.values_list("pk", "received_on"))
    assigned = HistoryEntry.objects.filter(action="assigned_to").values_list("assignment_id", "at")
    on = dict(Assignment.objects.values_list("pk", "assigned_on"))
    assert assigned.count() == len(on)
    # No issue received months ago is assigned today unless its history says so.
    assert all(timezone.localtime(at).date() == on[pk] for pk, at in assigned)


def test_reply_submission_and_review_times_are_those_of_the_history_and_notices_lie_within_the_issues_dates(
    demo: None,
) -> None:
    submitted = defaultdict(list)
    for assignment_id, at in (
        HistoryEntry.objects.filter(action="submit_reply").order_by("id").values_list("assignment_id", "at")
    ):
        submitted[assignment_id].append(at)
    replies = list(SignedReply.objects.order_by("assignment_id", "version"))
    assert replies and len(replies) == sum(len(v) for v in submitted.values())
    for reply in replies:
        assert reply.submitted_at == submitted[reply.assignment_id][reply.version - 1]
        assert timezone.localtime(reply.submitted_at).date() == min(reply.signed_on, NOW.date())
        if reply.reviewed_at is not None:
            assert reply.submitted_at <= reply.reviewed_at <= NOW  # equal only when both are today's, at now
    accepted = dict(HistoryEntry.objects.filter(action="accept_reply").values_list("assignment_id", "at"))
    for a in Assignment.objects.filter(replied_on__isnull=False):
        assert accepted[a.pk] >= start_of(a.replied_on)
    # Notices and audit rows lie within their issues' dates.
    about_assignments = Notification.objects.filter(assignment__isnull=False).values_list(
        "created_at", "assignment__issue__received_on"
    )
    about_issues = Notification.objects.filter(issue__isnull=False).values_list("created_at", "issue__received_on")
    assert about_assignments.exists() and about_issues.exists()
    assert all(start_of(received) <= at <= NOW for at, received in [*about_assignments, *about_issues])
    assert not AuditEvent.objects.filter(at__gt=NOW).exists()
