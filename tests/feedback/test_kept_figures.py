"""Figures kept under the state of their inputs (feedback.figures.rollup.kept, decision 0770).

A figure of a window with no live key is kept in the cache under StatsGeneration (token, n); every
write that can move a figure moves n. Each test here fails when the condition it names is removed:
the triggers that move n (a marked key, a department, a category), the transaction-local flag that
keeps a writing transaction from reading its own changes under the old state, the live-key test,
the rebuild's move, the separate entries of one-snapshot readers, and the switch.
"""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from feedback.figures import rollup, statistics
from feedback.models import Assignment, Category, Department, Issue, StatsGeneration
from tests.feedback.test_rollup import _with_issues, dept

D = datetime.date
AS_OF = D(2026, 12, 31)  # every generated key settled: no key live


def summary():
    return statistics.summary(statistics.cohort(Issue.objects.all(), received_from=D(2026, 3, 1)), as_of=AS_OF)


def live_summary():
    return statistics.summary(
        statistics.cohort(Issue.objects.all(), received_from=D(2026, 3, 1)), as_of=AS_OF, live=True
    )


@pytest.fixture(autouse=True)
def generation(db):
    """The row migration 0770 writes (a transactional test's flush empties the table)."""
    StatsGeneration.objects.get_or_create(defaults={"token": uuid.uuid4().hex})


def n() -> int:
    return StatsGeneration.objects.get().n


def statements(call):
    with CaptureQueriesContext(connection) as queries:
        result = call()
    return result, len(queries)


def withdraw_a_reply() -> None:
    """A raw UPDATE (no service, no refresh): the trigger marks its key."""
    replied = Assignment.objects.filter(replied_on__isnull=False).first()
    Assignment.objects.filter(pk=replied.pk).update(replied_on=None, status="acknowledged")


# --- committed transactions on PostgreSQL: the deferred triggers fire at commit ----------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_figure_is_kept_until_a_write_commits_then_computed_again(reference):
    _with_issues(6)
    rollup.refresh()
    first, count = statements(summary)
    assert count == 2  # the state with the live test, then the statement
    again, count = statements(summary)
    assert again == first and count == 1  # the state only: the figures were kept
    before = n()
    withdraw_a_reply()  # committed: marks a key, so n moves once
    assert n() == before + 1
    after = summary()  # the key is live now: computed, not kept
    assert after == live_summary() and after.assignments_replied == first.assignments_replied - 1
    rollup.refresh()  # the key summed again: nothing live, the state is the one after the write
    kept, count = statements(summary)
    assert kept == after and count == 2
    assert statements(summary) == (after, 1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_transaction_moves_the_state_once_however_many_keys_it_marks(reference):
    _with_issues(6)
    before = n()
    with transaction.atomic():
        Assignment.objects.update(status="acknowledged", replied_on=None)  # every key
        Issue.objects.update(title="改过")
    assert n() == before + 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_department_or_category_renamed_moves_the_state_and_the_table_shows_the_new_name(reference):
    _with_issues(6)
    rollup.refresh()
    issues = statistics.cohort(Issue.objects.all(), received_from=D(2026, 3, 1))
    names = {row.name for row in statistics.by_department(issues, as_of=AS_OF)}
    assert "县住房和城乡建设局" in names
    before = n()
    Department.objects.filter(code="zjj").update(name="县住房和城乡建设局（新）")
    assert n() == before + 1
    assert "县住房和城乡建设局（新）" in {row.name for row in statistics.by_department(issues, as_of=AS_OF)}
    Category.objects.filter(code="housing").update(name="住房（新）")
    assert n() == before + 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_rebuild_that_corrects_the_rollup_moves_the_state_and_one_that_finds_it_right_does_not(reference):
    _with_issues(6)
    rollup.refresh()
    kept = summary()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # no trigger: the rollup is now wrong
        cursor.execute("UPDATE feedback_assignment SET replied_on = NULL, status = 'acknowledged'")
    before = n()
    assert summary() == kept  # still the old state: the write bypassed every trigger
    assert rollup.rebuild().changed > 0
    assert n() == before + 1
    assert summary() == live_summary() != kept
    assert rollup.rebuild().changed == 0
    assert n() == before + 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_dashboards_snapshot_keeps_its_own_entries(reference):
    """A figure computed outside a snapshot may hold a write committed after the state was read; a
    reader in a snapshot (the dashboard) must not find it beside its other reads."""
    _with_issues(6)
    rollup.refresh()
    summary()
    token = rollup.ONE_SNAPSHOT.set(True)
    try:
        _, count = statements(summary)
    finally:
        rollup.ONE_SNAPSHOT.reset(token)
    assert count == 2  # computed: the other readers' entry is not the snapshot's


# --- on any database (committed, so on PostgreSQL no transaction-local flag hides the cache) -------------


@pytest.mark.django_db
def test_a_transaction_that_changed_an_input_reads_its_own_changes(reference):
    """On PostgreSQL the state moves only at commit, so the writing transaction is told apart by a
    transaction-local flag; SQLite moves it at once. Either way it never reads the figures as they
    were before its own write."""
    _with_issues(6)
    rollup.refresh()
    before = summary()
    with transaction.atomic():
        withdraw_a_reply()
        rollup.refresh()  # summed within the transaction: no key is live any more
        after = summary()
    assert after == live_summary()
    assert after.assignments_replied == before.assignments_replied - 1


@pytest.mark.django_db(transaction=True)
def test_a_live_key_is_never_kept(reference):
    _with_issues(6)
    rollup.refresh()
    withdraw_a_reply()  # marked, not summed: live
    first, count = statements(summary)
    assert count == 2 and first == live_summary()
    assert statements(summary)[1] == 2  # computed again


@pytest.mark.django_db(transaction=True)
def test_nothing_is_kept_when_switched_off(reference, settings):
    _with_issues(6)
    rollup.refresh()
    settings.STATS_CACHE_SECONDS = 0
    summary()
    assert statements(summary)[1] == 2


@pytest.mark.django_db(transaction=True)
def test_with_the_cache_down_the_figures_are_computed(reference, monkeypatch):
    _with_issues(6)
    rollup.refresh()

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(rollup.cache, "get", down)
    monkeypatch.setattr(rollup.cache, "set", down)
    assert summary() == live_summary()


@pytest.mark.django_db(transaction=True)
def test_every_breakdown_is_kept_and_equal_to_the_live_one(reference):
    _with_issues(8)
    rollup.refresh()
    issues = statistics.cohort(Issue.objects.all(), received_from=D(2026, 3, 10), received_to=D(2026, 5, 20))
    for breakdown in (
        statistics.summary,
        statistics.by_department,
        statistics.by_category,
        statistics.by_township,
        statistics.by_month,
    ):
        first = breakdown(issues, as_of=AS_OF)
        assert breakdown(issues, as_of=AS_OF) == first == breakdown(issues, as_of=AS_OF, live=True), breakdown
    jtj = statistics.cohort(Issue.objects.all(), department=dept("jtj"))
    assert statistics.summary(jtj, as_of=AS_OF) == statistics.summary(jtj, as_of=AS_OF, live=True)
