"""The dashboard's overdue preview and the bound it walks from (migration 0620, docs/decisions/0690):
every assignment carries its issue's received date, copied by the database, and falls due after it."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from feedback.models import Assignment, Issue
from tests.feedback.test_dashboard import client_for
from tests.feedback.test_statistics import D, make

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_the_database_copies_the_issues_received_date_onto_its_assignments(reference):
    issue, (lead,) = make(received=D(2026, 5, 4), due=D(2026, 5, 20))

    assert Assignment.objects.get(pk=lead.pk).received_on == D(2026, 5, 4)

    # Whatever a raw write says, the copy stays the issue's date (the trigger, not the caller, sets it).
    with connection.cursor() as cursor:
        cursor.execute("UPDATE feedback_assignment SET received_on = %s WHERE id = %s", [D(2026, 1, 1), lead.pk])
    assert Assignment.objects.get(pk=lead.pk).received_on == D(2026, 5, 4)

    # Correcting the issue's date carries over to its assignments.
    Issue.objects.filter(pk=issue.pk).update(received_on=D(2026, 5, 2))
    assert Assignment.objects.get(pk=lead.pk).received_on == D(2026, 5, 2)


def test_the_database_refuses_an_assignment_due_on_or_before_its_issue_was_received(reference):
    issue, (lead,) = make(received=D(2026, 5, 4), due=D(2026, 5, 20))

    for bad in (D(2026, 5, 4), D(2026, 5, 1)):
        # assigned_on moved back too, so that only the new constraint can object.
        with pytest.raises(IntegrityError, match="due_after_received"), transaction.atomic():
            Assignment.objects.filter(pk=lead.pk).update(
                assigned_on=bad - datetime.timedelta(days=10), due_date=bad, original_due_date=bad
            )
    # Nor may the issue's date be moved to or past a due date of its assignments.
    with pytest.raises(IntegrityError, match="due_after_received"), transaction.atomic():
        Issue.objects.filter(pk=issue.pk).update(received_on=D(2026, 5, 20))

    Assignment.objects.filter(pk=lead.pk).update(due_date=D(2026, 5, 5), original_due_date=D(2026, 5, 5))
    assert Assignment.objects.get(pk=lead.pk).due_date == D(2026, 5, 5)


def test_the_overdue_preview_starts_its_walk_at_the_periods_first_day(reference, leader):
    make(received=D(2026, 4, 20), due=D(2026, 5, 3))  # received before the period: not in the cohort
    _, (inside,) = make(received=D(2026, 5, 4), due=D(2026, 5, 10))
    _, (later,) = make(received=D(2026, 5, 6), due=D(2026, 5, 12))
    client = client_for(leader)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/dashboard/?received_from=2026-05-01&received_to=2026-05-31&as_of=2026-05-31")

    assert [a.pk for a in response.context["overdue"]] == [inside.pk, later.pk]
    sqls = [q["sql"] for q in queries.captured_queries]
    preview = [i for i, sql in enumerate(sqls) if "LIMIT 15" in sql]
    assert len(preview) == 1
    walk = sqls[preview[0]]
    assert "\"due_date\" > '2026-05-01'::date" in walk  # where the index walk starts
    assert "\"received_on\" >= '2026-05-01'::date" in walk and "\"received_on\" <= '2026-05-31'::date" in walk
    # One short walk, without parallel workers, and the setting put back after it.
    assert sqls[preview[0] - 1] == "SET LOCAL max_parallel_workers_per_gather = 0"
    assert sqls[preview[0] + 1] == "SET LOCAL max_parallel_workers_per_gather TO DEFAULT"


def test_the_preview_leaves_out_issues_received_after_the_period(reference, leader):
    _, (inside,) = make(received=D(2026, 5, 4), due=D(2026, 5, 10))
    make(received=D(2026, 6, 2), due=D(2026, 6, 5))  # after received_to, overdue by as_of

    response = client_for(leader).get("/dashboard/?received_from=2026-05-01&received_to=2026-05-31&as_of=2026-06-30")

    assert [a.pk for a in response.context["overdue"]] == [inside.pk]


def test_without_a_first_day_the_preview_walks_from_the_oldest_due_date(reference, leader):
    _, (old,) = make(received=D(2025, 4, 20), due=D(2025, 5, 3))
    _, (new,) = make(received=D(2026, 5, 4), due=D(2026, 5, 10))

    with CaptureQueriesContext(connection) as queries:
        response = client_for(leader).get("/dashboard/?as_of=2026-05-31")

    assert [a.pk for a in response.context["overdue"]] == [old.pk, new.pk]
    preview = [q["sql"] for q in queries.captured_queries if "LIMIT 15" in q["sql"]]
    assert preview and '"feedback_assignment"."due_date" >' not in preview[0]


@pytest.mark.django_db(transaction=True)
def test_the_page_reads_all_its_tables_in_one_repeatable_read_snapshot(reference, leader, monkeypatch):
    from feedback.figures import statistics
    from feedback.views import dashboard

    make(received=D(2026, 5, 4), due=D(2026, 5, 10))
    seen = []
    for name in ("summary", "by_department", "by_month"):
        original = getattr(statistics, name)

        def spy(*args, _original=original, **kwargs):
            with connection.cursor() as cursor:
                cursor.execute("SHOW transaction_isolation")
                seen.append((cursor.fetchone()[0], connection.in_atomic_block))
            return _original(*args, **kwargs)

        monkeypatch.setattr(dashboard.statistics, name, spy)

    assert client_for(leader).get("/dashboard/?as_of=2026-05-31").status_code == 200
    assert seen == [("repeatable read", True)] * 3


def test_a_departments_inbox_counts_its_assignments_without_joining_every_one_to_its_issue(reference, zjj_head):
    """The accusation rule (access._not_accused) from the assignment side is a list of the few accusing
    issues, not a join of each assignment to its issue: the inbox's tab counts at 65,000 assignments."""
    make(received=D(2026, 5, 4), due=D(2026, 5, 20))

    with CaptureQueriesContext(connection) as queries:
        assert client_for(zjj_head).get("/inbox/").status_code == 200

    # selectors.inbox_counts: the rows per status (the kept tally, less those hidden by an accusation: grouped)
    # and the open rows' due dates (FILTERed).
    sqls = [q["sql"] for q in queries.captured_queries]
    counts = [sql for sql in sqls if sql.startswith('SELECT COUNT("feedback_assignment"."issue_id")')]
    grouped = [sql for sql in sqls if sql.startswith('SELECT "feedback_assignment"."status" AS "status", COUNT(')]
    assert len(counts) == 1 and len(grouped) == 1, "\n".join(sqls)
    for sql in (*counts, *grouped):
        assert 'JOIN "feedback_issue"' not in sql
        # Counted on a column assignment_inbox_idx holds (an index-only scan), not on "id".
        assert 'COUNT("feedback_assignment"."issue_id")' in sql
        assert '"feedback_assignment"."issue_id" IN (SELECT' in sql
