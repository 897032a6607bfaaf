"""Each condition of the rollup's triggers (migrations 0008 and 0540) has a write that only it catches.

A write made outside the services (a raw UPDATE, the admin, a restore) is seen by the rollup only
through the triggers: they mark the key, the statistics read it live until ``refresh`` sums it
again, and they flag ``requesters_changed`` when the requester sets must be summed again. Each case
below changes exactly one column the way such a write would, then checks that

* every figure read from the rollup still equals the live computation (the key was marked), and
* after the refresh, a rebuild from scratch finds nothing to correct (the refresh summed what the
  mark asked for: the requester sets included).

Deleting one condition from a trigger makes its case fail (bench/README.md "Which test catches
each trigger condition" lists them, each seen red in a scratch copy).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.db import connection

from feedback import services
from feedback.figures import rollup, statistics
from feedback.models import Assignment, Category, Department, HistoryEntry, Issue, Requester, StatsRollupDirtyKey
from tests.feedback.test_rollup import on, reply

pytestmark = pytest.mark.django_db

D = datetime.date
AS_OF = (D(2026, 3, 20), D(2026, 4, 12), D(2026, 12, 31))


def _issue(day: D, channel: str, name: str, category: str = "housing") -> Issue:
    with on(day):
        return services.register_issue(
            actor=None,
            channel=channel,
            category=Category.objects.get(code=category),
            requester=services.RequesterData(name=name, phone=""),
            title=f"{name}的诉求",
            content="请研究答复。",
            received_on=day,
            nature="suggestion",
        )


def _assign(issue: Issue, *codes: str) -> list[Assignment]:
    with on(issue.received_on):
        return services.assign_issue(
            actor=None,
            issue=issue,
            lead=Department.objects.get(code=codes[0]),
            co=[Department.objects.get(code=c) for c in codes[1:]],
            assigned_on=issue.received_on,
        )


@pytest.fixture
def county(reference) -> dict[str, object]:
    """Two months of issues: replied on time, rated and closed; replied, not rated; open."""
    done = _issue(D(2026, 3, 3), "net", "甲")
    a, co = _assign(done, "zjj", "jtj")
    reply(a, D(2026, 3, 9))
    reply(co, D(2026, 3, 10))
    with on(D(2026, 3, 12)):
        services.record_follow_up(actor=None, issue=done, satisfaction="satisfied", on=D(2026, 3, 12))
        services.close_issue(actor=None, issue=done, on=D(2026, 3, 12))
    twin = _issue(D(2026, 3, 3), "net", "乙")  # 乙 twice on one day: a requester change moves no count…
    _issue(D(2026, 3, 3), "net", "乙")
    (replied,) = _assign(twin, "jyj")
    reply(replied, D(2026, 3, 11))
    open_ = _issue(D(2026, 4, 7), "citizen", "丙", "education")
    (waiting,) = _assign(open_, "hqz")
    _issue(D(2026, 4, 8), "enterprise", "丁")
    rollup.refresh()
    assert not StatsRollupDirtyKey.objects.exists()
    return {"done": done, "twin": twin, "open": open_, "replied": replied, "waiting": waiting}


def _same_as_live() -> None:
    zjj = Department.objects.get(code="zjj")
    housing = Category.objects.get(code="housing")
    for filters in (
        {},
        {"channel": "net"},
        {"channel": "citizen"},
        {"category": housing},
        {"department": zjj},
        {"received_from": D(2026, 3, 1), "received_to": D(2026, 3, 31)},
        {"received_from": D(2026, 3, 3), "received_to": D(2026, 4, 7)},
    ):
        cohort = statistics.cohort(Issue.objects.all(), **filters)
        for as_of in AS_OF:
            for figures in (statistics.summary, statistics.by_category, statistics.by_month):
                assert figures(cohort, as_of=as_of) == figures(cohort, as_of=as_of, live=True), (figures, filters)
            if "department" not in filters:
                assert statistics.by_department(cohort, as_of=as_of) == statistics.by_department(
                    cohort, as_of=as_of, live=True
                ), filters


def _new_requester() -> Requester:
    return Requester.objects.create(kind="person", name="新诉求人")


def _copy(assignment: Assignment, department: Department) -> None:
    """A second department's assignment, as a restore or a bulk load would insert it."""
    Assignment.objects.get(pk=assignment.pk).__class__.objects.bulk_create(
        [Assignment(**{**_fields(assignment), "department": department, "role": "co"})]
    )


def _fields(assignment: Assignment) -> dict[str, object]:
    names = ("issue", "status", "assigned_on", "deadline_amount", "deadline_unit", "due_date", "original_due_date")
    return {n: getattr(assignment, n) for n in names} | {"replied_on": None}


def _withdraw_closed(assignment: Assignment) -> None:
    """Accepted without a reply date, summed, then withdrawn: the move to and from 'withdrawn' alone
    (from an open status, the open/closed condition would mark the key as well)."""
    Assignment.objects.filter(pk=assignment.pk).update(status="accepted")
    rollup.refresh()
    assert not StatsRollupDirtyKey.objects.exists()
    Assignment.objects.filter(pk=assignment.pk).update(status="withdrawn")


def _delete(issue: Issue) -> None:
    """A copy inserted as a bulk load would (no history), summed, then deleted outside the services."""
    copy = Issue.objects.get(pk=issue.pk)
    copy.pk, copy.ref, copy.requester = None, f"{issue.ref}-补", _new_requester()
    Issue.objects.bulk_create([copy])
    rollup.refresh()
    assert not StatsRollupDirtyKey.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM feedback_issue WHERE id = %s", [copy.pk])


def _history(issue: Issue, action: str) -> None:
    HistoryEntry.objects.create(issue=issue, action=action, note="台账补录")


CASES: dict[str, Callable[[dict[str, object]], None]] = {
    # feedback_issue, the update trigger's WHEN (0540) and its "moved" flag (0008's ISSUE_MOVED)
    "issue received_on": lambda c: Issue.objects.filter(pk=c["open"].pk).update(received_on=D(2026, 3, 25)),
    "issue channel": lambda c: Issue.objects.filter(pk=c["twin"].pk).update(channel="citizen"),
    "issue category": lambda c: Issue.objects.filter(pk=c["open"].pk).update(
        category=Category.objects.get(code="housing")
    ),
    "issue closed_on": lambda c: Issue.objects.filter(pk=c["done"].pk).update(closed_on=D(2026, 4, 1)),
    "issue satisfaction": lambda c: Issue.objects.filter(pk=c["twin"].pk).update(satisfaction="dissatisfied"),
    "issue requester": lambda c: Issue.objects.filter(pk=c["twin"].pk).update(requester=_new_requester()),
    "issue follow_up_skipped": lambda c: Issue.objects.filter(pk=c["twin"].pk).update(follow_up_skipped="refused"),
    # feedback_assignment, the update trigger's WHEN
    "assignment issue": lambda c: Assignment.objects.filter(pk=c["waiting"].pk).update(issue=c["twin"], role="co"),
    "assignment department": lambda c: Assignment.objects.filter(pk=c["replied"].pk).update(
        department=Department.objects.get(code="gsz")
    ),
    "assignment withdrawn": lambda c: _withdraw_closed(c["waiting"]),
    "assignment open": lambda c: Assignment.objects.filter(pk=c["waiting"].pk).update(status="accepted"),
    "assignment due_date": lambda c: Assignment.objects.filter(pk=c["replied"].pk).update(due_date=D(2026, 3, 5)),
    "assignment original_due_date": lambda c: Assignment.objects.filter(pk=c["replied"].pk).update(
        original_due_date=D(2026, 3, 5)
    ),
    "assignment replied_on": lambda c: Assignment.objects.filter(pk=c["replied"].pk).update(replied_on=None),
    # insert and delete (no condition), and the history trigger's actions
    "assignment inserted": lambda c: _copy(c["replied"], Department.objects.get(code="smz")),
    "issue deleted": lambda c: _delete(c["open"]),
    "history reopen": lambda c: _history(c["done"], "reopen"),
    "history return_reply": lambda c: _history(c["twin"], "return_reply"),
    # Two writes to one key before a refresh: the second mark keeps the first's requesters_changed
    # flag (PostgreSQL's ON CONFLICT … k.requesters_changed OR …), and raises a flag the first
    # did not (… OR EXCLUDED.requesters_changed); SQLite's SQLITE_RAISE does the same.
    "requester flag kept by a later mark": lambda c: _twice(
        c, ("twin", {"requester": _new_requester()}), ("done", {"closed_on": D(2026, 4, 1)})
    ),
    "requester flag raised on a marked key": lambda c: _twice(
        c, ("done", {"closed_on": D(2026, 4, 1)}), ("twin", {"requester": _new_requester()})
    ),
}


def _twice(c: dict[str, object], *writes: tuple[str, dict[str, object]]) -> None:
    """Raw updates of two issues of one key (3 March, 政网, housing), one after the other."""
    for name, change in writes:
        Issue.objects.filter(pk=c[name].pk).update(**change)  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_write_outside_the_services_is_marked_and_summed_again(county, case):
    with on(D(2026, 4, 10)):
        CASES[case](county)
    assert StatsRollupDirtyKey.objects.exists(), case  # marked by the triggers…
    _same_as_live()  # …so read live at once
    rollup.refresh()
    assert not StatsRollupDirtyKey.objects.exists()
    _same_as_live()
    assert rollup.rebuild().changed == 0, case  # the refresh summed everything the write moved


def test_a_write_that_moves_no_figure_marks_nothing(county):
    Issue.objects.filter(pk=county["done"].pk).update(title="改过的标题", content="改过的内容")
    Assignment.objects.filter(pk=county["replied"].pk).update(status="accepted")  # closed to closed
    HistoryEntry.objects.create(issue=county["done"], action="comment", note="备注")
    assert not StatsRollupDirtyKey.objects.exists()


def test_a_write_that_moves_no_requester_leaves_the_sets_alone(county):
    """A closure and a reply date marked, but no requester came, went or moved: the requester sets
    stay read from the rollup (``requesters_changed`` would send their months to the live count)."""
    Issue.objects.filter(pk=county["done"].pk).update(closed_on=D(2026, 4, 1))
    Assignment.objects.filter(pk=county["replied"].pk).update(replied_on=None)
    assert StatsRollupDirtyKey.objects.count() == 1
    assert not StatsRollupDirtyKey.objects.filter(requesters_changed=True).exists()
    Issue.objects.filter(pk=county["twin"].pk).update(requester=_new_requester())
    assert StatsRollupDirtyKey.objects.filter(requesters_changed=True).count() == 1
