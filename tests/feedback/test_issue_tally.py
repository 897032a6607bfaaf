"""The issue tally (migration 0800, decision 0800): the ledger's total read without counting the issues.

Each trigger has a write that only it catches (an insert, a delete, a move to another channel, a
TRUNCATE on PostgreSQL), and the move trigger's WHEN has a write it must ignore (a full ``save()``
writes the channel unchanged). The ledger's total equals ``issue_list(...).count()`` for every role and
channel filter, accusations left out; the nightly task finds a tally that drifted and sets it again.
The SQLite triggers are checked on a migrated SQLite file in a child process (the suite runs on
PostgreSQL in CI), the migration's seed and its reverse with them.
"""

from __future__ import annotations

import datetime
import importlib
import io
import itertools
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from feedback import access, selectors, services
from feedback.figures import tally
from feedback.models import Assignment, AssignmentTally, Category, Department, Issue, IssueTally, Requester
from feedback.tasks import keep_tallies
from tests.factories import assigned, register
from tests.feedback.test_import import csv_bytes, ledger_row, write

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
M0800 = importlib.import_module("feedback.migrations.0800_issue_tally")


def right() -> dict[str, int]:
    """The issue tally's totals per channel, both tallies asserted equal to a count of their tables."""
    assert tally.check() == {}
    return {channel: n for (channel,), n in tally.kept(IssueTally).items()}


RAW_REFS = itertools.count(1)


def bare_issues(*channels: str) -> list[Issue]:
    """Issues written straight to the table (no service, no history): they can be deleted again."""
    requester = Requester.objects.create(name="直写", phone="")
    category = Category.objects.get(code="housing")
    return Issue.objects.bulk_create(
        Issue(
            ref=f"RAW-{next(RAW_REFS)}",
            channel=channel,
            category=category,
            requester=requester,
            title="直写",
            content="直写",
            received_on=datetime.date(2026, 3, 2),
        )
        for channel in channels
    )


def test_registering_an_issue_adds_one_to_its_channel(reference):
    register(None, channel="net")
    register(None, channel="net")
    register(None, channel="citizen")
    assert right() == {"net": 2, "citizen": 1}
    assert tally.total(["net"]) == 2 and tally.total() == 3 and tally.total([]) == 0


def test_an_import_is_counted_and_on_postgresql_a_row_per_statement_not_per_issue(tmp_path, reference, zjj_head):
    # answered rows: written set-based (open ones go through the services one at a time)
    rows = [ledger_row(ref=f"ZW2024-{n:05d}", title=f"第{n}件", replied_on="2024-03-12") for n in range(1, 41)]
    out = io.StringIO()
    call_command("import_issues", str(write(tmp_path, csv_bytes(rows))), stdout=out)
    assert "created: 40" in out.getvalue()
    assert right() == {"net": 40}
    if connection.vendor == "postgresql":  # the statement-level trigger: the 40 issues came in a statement or two
        assert IssueTally.objects.count() <= 2


def test_deleting_issues_takes_them_off_their_channels(reference):
    register(None, channel="net")
    gone = bare_issues("net", "net", "enterprise")
    assert right() == {"net": 3, "enterprise": 1}
    Issue.objects.filter(pk__in=[i.pk for i in gone]).delete()
    assert right() == {"net": 1}


def test_an_issue_moved_to_another_channel_moves_in_the_tally(reference):
    issue = register(None, channel="net")
    with connection.cursor() as cursor:  # as a raw UPDATE (the admin, a repair) would
        cursor.execute("UPDATE feedback_issue SET channel = 'enterprise' WHERE id = %s", [issue.pk])
    assert right() == {"enterprise": 1}


def test_a_save_that_leaves_the_channel_as_it_was_adds_no_row(reference):
    issue = register(None, channel="net")
    rows = IssueTally.objects.count()
    issue.title = "改过的标题"
    issue.save()  # every column written, the channel among them, unchanged
    Issue.objects.filter(pk=issue.pk).update(title="又改了")
    assert IssueTally.objects.count() == rows
    assert right() == {"net": 1}


@pytest.mark.django_db(transaction=True)  # no trigger event pending from the test's transaction
def test_truncating_the_issues_empties_the_tally(reference):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no TRUNCATE")
    register(None, channel="net")
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE feedback_issue CASCADE")
    assert not IssueTally.objects.exists()


def test_the_migration_seeds_the_tally_from_the_issues_already_stored(reference):
    register(None, channel="net")
    bare_issues("citizen", "citizen")
    with connection.schema_editor() as editor:
        M0800.drop_triggers(None, editor)
        IssueTally.objects.all().delete()
        bare_issues("enterprise")  # not counted: no trigger now
        M0800.create_triggers(None, editor)
    assert right() == {"net": 1, "citizen": 2, "enterprise": 1}
    register(None, channel="net")  # and counted again from now on
    assert right()["net"] == 2


def test_folding_leaves_one_row_per_channel_and_the_same_totals(reference):
    for channel in ("net", "net", "citizen", "enterprise"):
        register(None, channel=channel)
    Issue.objects.filter(pk__in=[i.pk for i in bare_issues("citizen")]).delete()
    rows = IssueTally.objects.count()
    removed = tally.fold()
    assert right() == {"net": 2, "citizen": 1, "enterprise": 1}
    assert IssueTally.objects.count() == 3 and removed == rows - 3
    assert tally.fold() == 0


def test_the_nightly_task_sets_a_tally_that_drifted_again_and_says_so(reference, caplog):
    register(None, channel="net")
    IssueTally.objects.create(channel="net", n=5)  # as if a trigger had been disabled
    IssueTally.objects.create(channel="citizen", n=2)
    assert tally.check() == {"feedback_issuetally": {("net",): (6, 1), ("citizen",): (2, 0)}}
    with caplog.at_level(logging.ERROR, logger="feedback.tasks"):
        keep_tallies()
    assert "tally differed" in caplog.text
    assert tally.check() == {} and right() == {"net": 1}
    assert IssueTally.objects.count() == 1


def test_the_nightly_task_is_scheduled():
    from zhitongche.celery import app

    assert app.conf.beat_schedule["keep-tallies"]["task"] == "feedback.tasks.keep_tallies"


# --- the ledger's total ------------------------------------------------------------------------------


@pytest.fixture
def accusations(netoffice, ezoneoffice, leader, admin_user, zjj_head):
    """Issues in every channel, two of them accusing the net office's own unit (wxb), one zjj."""
    for channel in ("net", "net", "net", "enterprise", "citizen", "citizen"):
        register(None, channel=channel)
    for channel, accused in (("net", "wxb"), ("citizen", "wxb"), ("net", "zjj")):
        issue = register(None, channel=channel, nature="complaint")
        Issue.objects.filter(pk=issue.pk).update(accused_department=Department.objects.get(code=accused))
    return [netoffice, ezoneoffice, leader, admin_user, zjj_head]


def test_the_total_equals_the_count_for_every_role_and_channel(accusations):
    for user in accusations:
        for filters in ({}, {"channel": "net"}, {"channel": "enterprise"}, {"channel": "citizen"}, {"sort": "ref"}):
            expected = selectors.issue_list(user, filters).count()
            total = selectors.issue_list_total(user, filters)
            if user.username == "zjj_head":  # a department's issues are its assignments': counted
                assert total is None
            else:
                assert total == expected, (user.username, filters)
    assert selectors.issue_list_total(accusations[0], {}) == 4  # 5 net issues, one accusing wxb
    assert selectors.issue_list_total(accusations[2], {}) == 9


def test_any_other_filter_is_counted(accusations):
    netoffice = accusations[0]
    for filters in ({"q": "天桥"}, {"status": "registered"}, {"received_from": datetime.date(2026, 1, 1)}):
        assert selectors.issue_list_total(netoffice, filters) is None
    assert selectors.issue_list_total(netoffice, {"q": "", "status": "", "category": None}) == 4


def test_the_ledger_shows_the_total_without_counting_the_issues(client, accusations):
    client.force_login(accusations[0])
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/issues/").content.decode()
    counts = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('SELECT COUNT(*) AS "__count" FROM "feedback_issue"')
    ]
    # the one count left: the issues accusing the office's own unit, through their index
    assert len(counts) == 1 and "accused_department_id" in counts[0] and "NOT" not in counts[0]
    assert "共 4 条" in page
    filtered = client.get("/issues/?q=天桥").content.decode()
    assert "共 4 条" in filtered  # counted, and the same


def test_the_sqlite_triggers_seed_and_reverse_on_a_migrated_file(tmp_path):
    script = textwrap.dedent(
        """
        import django
        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from feedback import services
        from feedback.figures import tally
        from feedback.models import Department, Issue, IssueTally
        from feedback.services.reference import load_reference_data
        from tests.factories import assigned, register
        call_command("migrate", verbosity=0)
        load_reference_data()
        assert connection.vendor == "sqlite"
        for channel in ("net", "net", "citizen"):
            register(None, channel=channel)
        one = register(None, channel="enterprise")
        Issue.objects.filter(pk=one.pk).update(channel="citizen")
        one.refresh_from_db()
        one.save()
        issue, (lead, co) = assigned(None, lead="zjj", co=("jtj",), channel="net")
        services.acknowledge_assignment(actor=None, assignment=lead)
        Issue.objects.filter(pk=issue.pk).update(channel="enterprise")
        assert tally.check() == {}, tally.check()
        assert tally.per_status(Department.objects.get(code="zjj").pk, "enterprise") == {"acknowledged": 1}
        assert tally.kept(IssueTally) == {("net",): 2, ("citizen",): 2, ("enterprise",): 1}
        assert tally.fold() > 0 and tally.check() == {}
        call_command("migrate", "feedback", "0770", verbosity=0)
        call_command("migrate", "feedback", verbosity=0)
        assert tally.check() == {}, tally.check()
        assert tally.kept(IssueTally) == {("net",): 2, ("citizen",): 2, ("enterprise",): 1}
        print("sqlite tally ok")
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'tally.sqlite3'}",
        DJANGO_SETTINGS_MODULE="zhitongche.settings",
        SECRET_KEY="x",
        DEBUG="0",
        ALLOWED_HOSTS="localhost",
        VAR_DIR=str(tmp_path / "var"),
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "sqlite tally ok" in done.stdout


def test_the_rebuild_command_checks_the_ledger_totals_too(reference):
    register(None, channel="net")
    IssueTally.objects.create(channel="net", n=2)
    out = io.StringIO()
    call_command("rebuild_stats_rollup", stdout=out)
    assert "台账与待办计数：已按实际条数更正（feedback_issuetally net 3 → 1）。" in out.getvalue()
    out = io.StringIO()
    call_command("rebuild_stats_rollup", stdout=out)
    assert "台账与待办计数：与实际条数一致。" in out.getvalue()
    assert right() == {"net": 1}


# --- the inbox's counts: assignments per department, channel and status ----------------------------


def per_status(code: str, channel: str = "") -> dict[str, int]:
    assert tally.check() == {}
    return tally.per_status(Department.objects.get(code=code).pk, channel)


def test_assigning_counts_each_assignment_under_its_department_channel_and_status(reference, zjj_head):
    assigned(None, lead="zjj", co=("jtj",), channel="net")
    assigned(None, lead="zjj", channel="citizen")
    assert per_status("zjj") == {"pending": 2} and per_status("zjj", "net") == {"pending": 1}
    assert per_status("jtj") == {"pending": 1} and per_status("jtj", "citizen") == {}


def test_a_status_change_moves_the_assignment_between_statuses(reference, zjj_head):
    _, (lead,) = assigned(None, lead="zjj", channel="net")
    services.acknowledge_assignment(actor=zjj_head, assignment=lead)
    assert per_status("zjj", "net") == {"acknowledged": 1}


def test_a_department_change_moves_the_assignment_between_departments(reference):
    _, (lead,) = assigned(None, lead="zjj", channel="net")
    Assignment.objects.filter(pk=lead.pk).update(department=Department.objects.get(code="jyj"))
    assert per_status("zjj") == {} and per_status("jyj") == {"pending": 1}


def test_an_assignment_moved_to_another_issue_moves_to_its_channel(reference):
    _, (lead,) = assigned(None, lead="zjj", channel="net")
    other = register(None, channel="citizen")
    Assignment.objects.filter(pk=lead.pk).update(issue=other)
    assert per_status("zjj", "net") == {} and per_status("zjj", "citizen") == {"pending": 1}


def test_an_issue_moved_to_another_channel_takes_its_assignments_along(reference):
    issue, _ = assigned(None, lead="zjj", co=("jtj",), channel="net")
    Issue.objects.filter(pk=issue.pk).update(channel="enterprise")
    assert per_status("zjj", "net") == {} and per_status("zjj", "enterprise") == {"pending": 1}
    assert per_status("jtj", "enterprise") == {"pending": 1}


def test_deleting_assignments_takes_them_off(reference):
    issue, _ = assigned(None, lead="zjj", channel="net")
    extra = Assignment.objects.bulk_create(  # no history row: they can be deleted again
        Assignment(
            issue=issue,
            department=Department.objects.get(code=code),
            role=Assignment.Role.CO,
            assigned_on=issue.received_on,
            due_date=issue.received_on + datetime.timedelta(days=10),
            original_due_date=issue.received_on + datetime.timedelta(days=10),
            deadline_amount=10,
            deadline_unit="working_day",
        )
        for code in ("jtj", "jyj")
    )
    assert per_status("jtj") == {"pending": 1}
    Assignment.objects.filter(pk__in=[a.pk for a in extra]).delete()
    assert per_status("jtj") == {} and per_status("zjj") == {"pending": 1}


def test_an_assignment_saved_unchanged_adds_no_row(reference):
    _, (lead,) = assigned(None, lead="zjj", channel="net")
    rows = AssignmentTally.objects.count()
    lead.save()  # status, department and issue written, unchanged
    Assignment.objects.filter(pk=lead.pk).update(due_date=lead.due_date + datetime.timedelta(days=1))
    assert AssignmentTally.objects.count() == rows
    assert per_status("zjj") == {"pending": 1}


def test_an_import_counts_its_assignments_on_postgresql_a_row_per_key_and_statement(tmp_path, reference, zjj_head):
    rows = [ledger_row(ref=f"ZW2024-{n:05d}", replied_on="2024-03-12", departments="zjj;jtj") for n in range(1, 31)]
    call_command("import_issues", str(write(tmp_path, csv_bytes(rows))), stdout=io.StringIO())
    assert per_status("zjj", "net") == {"accepted": 30} and per_status("jtj") == {"accepted": 30}
    if connection.vendor == "postgresql":
        assert AssignmentTally.objects.count() <= 4


def test_the_inbox_counts_equal_the_counted_ones_for_every_department_and_channel(accusations, jtj_head):
    zjj_head = accusations[4]
    _, (lead, _co) = assigned(None, lead="zjj", co=("jtj",), channel="net")
    services.acknowledge_assignment(actor=zjj_head, assignment=lead)
    # An accusation against zjj recorded after the issue was assigned to it: hidden from zjj, counted in the tally.
    hidden, _ = assigned(None, lead="zjj", channel="net", nature="complaint")
    Issue.objects.filter(pk=hidden.pk).update(accused_department=Department.objects.get(code="zjj"))
    for user in (zjj_head, jtj_head):
        for channel in ("", "net", "enterprise", "citizen"):
            rows = access.assignments_for(user)
            rows = rows.filter(issue__channel=channel) if channel else rows
            expected = dict(rows.order_by().values_list("status").annotate(n=Count("id")))
            got = selectors.inbox_per_status(user, channel)
            assert {k: v for k, v in got.items() if v} == expected, (user.username, channel)
    assert per_status("zjj", "net") == {"acknowledged": 1, "pending": 1}  # the tally holds the hidden one
    assert selectors.inbox_per_status(zjj_head, "net") == {"acknowledged": 1, "pending": 0}
    assert selectors.inbox_per_status(accusations[0], "") is None  # an office: counted


def test_a_departments_inbox_reads_its_counts_from_the_tally(client, reference, zjj_head):
    for _ in range(3):
        assigned(None, lead="zjj", channel="net")
    client.force_login(zjj_head)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/inbox/").content.decode()
    grouped = [
        q["sql"]
        for q in queries.captured_queries
        if 'FROM "feedback_assignment"' in q["sql"] and "GROUP BY" in q["sql"]
    ]
    assert len(grouped) == 1 and "accused_department_id" in grouped[0]  # only the hidden ones' count
    assert '待签收 <span class="count">3</span>' in page


def test_a_departments_whole_assignment_list_in_the_api_takes_its_total_from_the_tally(netoffice, zjj_head, leader):
    for _ in range(3):
        assigned(netoffice, lead="zjj", co=("jyj",))
    hidden, _ = assigned(netoffice, lead="zjj", nature="complaint")
    Issue.objects.filter(pk=hidden.pk).update(accused_department=Department.objects.get(code="zjj"))
    services.acknowledge_assignment(
        actor=zjj_head, assignment=Assignment.objects.filter(department__code="zjj").first()
    )
    api = APIClient()
    api.force_authenticate(zjj_head)
    for query, counted in (("", False), ("?page_size=2&ordering=-due_date", False), ("?status=pending", True)):
        with CaptureQueriesContext(connection) as run:
            body = api.get(f"/api/v1/assignments/{query}").json()
        expected = access.assignments_for(zjj_head)
        if "status" in query:
            expected = expected.filter(status="pending")
        assert body["count"] == expected.count() == (3 if not counted else 2)
        counts = [
            q["sql"]
            for q in run.captured_queries
            if q["sql"].startswith('SELECT COUNT(*) AS "__count" FROM "feedback_assignment"')
        ]
        assert bool(counts) is counted, query
    api.force_authenticate(leader)  # any other role counts
    with CaptureQueriesContext(connection) as run:
        assert api.get("/api/v1/assignments/").json()["count"] == Assignment.objects.count() == 7
    assert any('COUNT(*) AS "__count" FROM "feedback_assignment"' in q["sql"] for q in run.captured_queries)
