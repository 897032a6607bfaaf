"""The statistics rollup (feedback.figures.rollup) gives exactly the live figures, and stays current.

Random cohorts are built through the real services on a travelling clock — co-handling, extensions,
objections accepted (withdrawn assignments), returned replies, replies and closures dated after
``as_of``, ratings including 未联系上, re-handling after a 不满意 — and every figure read from the
rollup is compared, field by field, with the live computation (``live=True``) for many filter
combinations, scopes and ``as_of`` dates.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pyroaring import BitMap

from feedback import services, states, tasks
from feedback.access import Role
from feedback.errors import WorkflowError
from feedback.figures import rollup, statistics
from feedback.models import (
    Assignment,
    Category,
    Department,
    Issue,
    StatsChannelDepartmentMonthRollup,
    StatsChannelDepartmentRollup,
    StatsDepartmentMonthRollup,
    StatsDepartmentRollup,
    StatsMonthRequesters,
    StatsRequesterSet,
    StatsRollup,
    StatsRollupDirtyKey,
)
from tests.conftest import make_user, reply_pdf

pytestmark = pytest.mark.django_db

D = datetime.date
START = D(2026, 3, 2)  # receipts over the 90 days from here
DEPARTMENTS = ("zjj", "jtj", "jyj", "sthj", "hqz", "gsz")
CATEGORIES = ("housing", "education", "transport")
CHANNELS = ("net", "enterprise", "citizen")
NAMES = ("甲", "乙", "丙", "丁", "戊", "己", "庚")
RATINGS = ("satisfied", "basically", "dissatisfied", "unreachable")
AS_OF = (D(2026, 3, 20), D(2026, 4, 30), D(2026, 5, 20), D(2026, 6, 15), D(2026, 7, 31), D(2026, 12, 31))
WINDOWS = (
    (None, None),
    (D(2026, 3, 1), D(2026, 5, 31)),
    (D(2026, 3, 10), D(2026, 5, 20)),
    (D(2026, 4, 1), D(2026, 4, 30)),
    (D(2026, 5, 5), None),
    (None, D(2026, 3, 31)),
    (D(2026, 4, 1), D(2026, 4, 20)),  # no whole month: part of one…
    (D(2026, 3, 10), D(2026, 4, 20)),  # …or of two
)
# With ``build(years=True)``, whose issues reach back into 2024 and 2025: windows holding whole
# years (read as year sets), whole years and ragged ends, and a year cut in two.
YEAR_WINDOWS = (
    (D(2024, 1, 1), D(2025, 12, 31)),
    (D(2024, 3, 15), D(2026, 4, 30)),
    (D(2025, 1, 1), None),
    (D(2025, 4, 1), D(2026, 3, 31)),
)


@contextmanager
def on(day: D) -> Iterator[None]:
    """The clock at 10:00 local time (02:00 UTC) on ``day``."""
    with time_machine.travel(datetime.datetime(day.year, day.month, day.day, 2, tzinfo=datetime.UTC), tick=False):
        yield


def dept(code: str) -> Department:
    return Department.objects.get(code=code)


def reply(assignment: Assignment, day: D, *, returned_first: bool = False) -> None:
    with on(day):

        def submit():
            return services.submit_reply(
                actor=None,
                assignment=assignment,
                file=reply_pdf(),
                signer_name="王局长",
                signer_title="局长",
                signed_on=day,
                result="explained",
                summary="答复如下。",
            )

        submitted = submit()
        if returned_first:
            services.return_reply(actor=None, reply=submitted, reason="未加盖公章")
            submitted = submit()
        services.accept_reply(actor=None, reply=submitted)


def build(seed: int, issues: int, after: Callable[[], None] = lambda: None, *, years: bool = False) -> None:
    """``issues`` issues through the services, at random; ``after`` runs after every service call.
    With ``years``, one in three is received a year or two earlier, in 2025 or 2024 (not drawn from
    rng: the same draws as without)."""
    rng = random.Random(seed)
    for n in range(issues):
        received = START + datetime.timedelta(days=rng.randrange(90))
        if years:
            received -= datetime.timedelta(days={1: 365, 5: 730}.get(n % 6, 0))
        accusing = n % 9 == 4
        with on(received):
            issue = services.register_issue(
                actor=None,
                channel=rng.choice(CHANNELS),
                category=Category.objects.get(code=rng.choice(CATEGORIES)),
                requester=services.RequesterData(name=rng.choice(NAMES), phone=""),
                title=f"诉求{n}",
                content="请研究答复。",
                received_on=received,
                nature="complaint" if accusing else "suggestion",
                accused_department=dept("jtj") if accusing else None,
            )
        after()
        if rng.random() < 0.1:
            continue  # never assigned
        handlers = rng.sample([d for d in DEPARTMENTS if not (accusing and d == "jtj")], rng.choice((1, 1, 2, 3)))
        with on(received):
            assignments = services.assign_issue(
                actor=None,
                issue=issue,
                lead=dept(handlers[0]),
                co=[dept(d) for d in handlers[1:]],
                assigned_on=received,
            )
        after()
        for a in assignments:
            if rng.random() < 0.15:  # "not ours": withdrawn, handed to a department not yet on the issue
                free = [d for d in DEPARTMENTS if d not in handlers and d != "jtj"]
                with on(received + datetime.timedelta(days=1)):
                    objection = services.raise_objection(actor=None, assignment=a, reason="不属于本单位职责")
                    objection = services.accept_objection(
                        actor=None,
                        objection=objection,
                        department=dept(free[0]),
                        clock=rng.choice(("continue", "restart")),
                    )
                handlers.append(free[0])
                after()
                a = objection.new_assignment
            a.refresh_from_db()
            if rng.random() < 0.25:  # an extension asked two days later, mostly approved
                with on(received + datetime.timedelta(days=2)):
                    limit = services.extension_limit(a)
                    if limit is not None and limit > a.due_date:
                        request = services.request_extension(
                            actor=None, assignment=a, requested_due_date=limit, reason="需要现场调查"
                        )
                        approve = rng.random() < 0.8
                        services.decide_extension(
                            actor=None, request=request, approve=approve, note="" if approve else "理由不充分"
                        )
                        after()
            if rng.random() < 0.8:
                a.refresh_from_db()
                reply(a, received + datetime.timedelta(days=rng.randint(1, 40)), returned_first=rng.random() < 0.2)
                after()
        issue.refresh_from_db()
        if issue.status != Issue.Status.REPLIED:
            continue
        last = max(x.replied_on for x in issue.assignments.live())
        if rng.random() < 0.75:
            rated_on = last + datetime.timedelta(days=rng.randint(0, 8))
            rating = rng.choice(RATINGS)
            with on(rated_on):
                services.record_follow_up(actor=None, issue=issue, satisfaction=rating, on=rated_on)
            after()
            if rating == "dissatisfied" and rng.random() < 0.7:
                with on(rated_on + datetime.timedelta(days=1)):
                    (again, *_) = services.reopen_issue(actor=None, issue=issue, reason="群众不满意，重新办理")
                after()
                if rng.random() < 0.7:
                    reply(again, rated_on + datetime.timedelta(days=rng.randint(2, 25)))
                    after()
                continue
        issue.refresh_from_db()
        if issue.status in (Issue.Status.REPLIED, Issue.Status.FOLLOWED_UP) and rng.random() < 0.7:
            closed_on = max(last, issue.followed_up_on or last) + datetime.timedelta(days=rng.randint(0, 10))
            if states.closure_refusal(issue):  # no rating: the office records why (未能回访) first
                with on(closed_on):
                    # Not drawn from rng: the data the other tests rely on stays as it was.
                    reason = Issue.FollowUpSkip.values[n % len(Issue.FollowUpSkip.values)]
                    services.record_follow_up_skipped(actor=None, issue=issue, reason=reason, note="电话停机")
                after()
            with on(closed_on):
                services.close_issue(actor=None, issue=issue, on=closed_on)
            after()


def combinations(
    rng: random.Random, bases: dict[str, object], count: int, windows: tuple[tuple[D | None, D | None], ...] = WINDOWS
) -> Iterator[tuple[object, ...]]:
    categories = [None, *Category.objects.filter(code__in=CATEGORIES[:2])]
    departments = [None, dept("zjj"), dept("hqz"), dept("jtj")]
    for _ in range(count):
        name = rng.choice(sorted(bases))
        start, end = rng.choice(windows)
        yield (
            name,
            bases[name],
            rng.choice(("", *CHANNELS)),
            rng.choice(departments),
            rng.choice(categories),
            start,
            end,
            rng.choice(AS_OF),
        )


def assert_same_figures(base: object, as_of: D, **filters: object) -> None:
    cohort = statistics.cohort(base, **filters)
    assert cohort._stats_cohort is not None or (filters["channel"] and base._stats_scope.channel)
    for figures in (
        statistics.summary,
        statistics.by_department,
        statistics.by_category,
        statistics.by_month,
        statistics.by_township,
    ):
        assert figures(cohort, as_of=as_of) == figures(cohort, as_of=as_of, live=True), (figures.__name__, filters)
    for breakdown in (statistics.by_category, statistics.by_township):
        with_requesters = breakdown(cohort, as_of=as_of, requesters=True)
        assert with_requesters == breakdown(cohort, as_of=as_of, live=True, requesters=True), filters
        assert all(row.requesters is not None for row in with_requesters)


@pytest.fixture
def bases(reference):
    leader_in_jtj = make_user("leader_jtj", department="jtj", role=Role.LEADER)  # does not see accusations of jtj
    netoffice = make_user("netoffice", department="wxb", role=Role.OFFICE)
    return {
        "every issue": Issue.objects.all(),
        "leader of jtj": statistics.scoped(leader_in_jtj)[0],
        "政网 office": statistics.scoped(netoffice)[0],
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_rollup_gives_the_live_figures_for_any_filters_scope_and_as_of(bases, seed):
    build(seed, 30, years=True)
    assert StatsRollupDirtyKey.objects.exists()  # the services only mark…
    assert tasks.refresh_stats_rollup() > 0  # …the minute's refresh sums
    assert StatsRollupDirtyKey.objects.count() == 0
    assert StatsRollup.objects.exists() and StatsDepartmentMonthRollup.objects.exists()
    assert StatsMonthRequesters.objects.filter(channel="", category_id=0).exists()
    sets = set(StatsRequesterSet.objects.values_list("span", "channel"))
    assert {(span, channel) for span in ("year", "month", "day") for channel in ("", *CHANNELS)} == sets

    rng = random.Random(seed)
    for _name, base, channel, department, category, start, end, as_of in combinations(
        rng, bases, 30, WINDOWS + YEAR_WINDOWS
    ):
        assert_same_figures(
            base, as_of, channel=channel, department=department, category=category, received_from=start, received_to=end
        )
    # Writes since the refresh: their keys are read live, the others from the rollup, in one answer.
    build(seed + 100, 6, years=True)
    assert StatsRollupDirtyKey.objects.exists()
    for _name, base, channel, department, category, start, end, as_of in combinations(
        rng, bases, 20, WINDOWS + YEAR_WINDOWS
    ):
        assert_same_figures(
            base, as_of, channel=channel, department=department, category=category, received_from=start, received_to=end
        )


def test_the_refresh_after_any_service_call_equals_a_rebuild(reference):
    """accept, return, close, follow-up (incl. 未联系上), reopen, objection (withdraw), extension:
    what the minute's refresh sums is exactly what a rebuild from scratch computes."""
    calls = []

    def after() -> None:
        calls.append(1)
        tasks.refresh_stats_rollup()
        assert StatsRollupDirtyKey.objects.count() == 0
        assert rollup.rebuild().changed == 0

    build(7, 14, after, years=True)
    assert len(calls) > 40


def test_settled_keys_are_read_from_the_rollup_and_recent_ones_live(bases):
    build(4, 20)
    rollup.refresh()
    c = statistics.cohort(Issue.objects.all())._stats_cohort

    # At the year's end every key is settled: nothing is computed live…
    assert rollup.live_keys(c, D(2026, 12, 31)) == []
    # …while in mid-April the keys with replies or closures still to come, or open assignments
    # not yet due, are.
    april = rollup.live_keys(c, D(2026, 4, 15))
    assert april
    assert set(april) < {(i.received_on, i.channel, i.category_id) for i in Issue.objects.all()}


def test_a_write_outside_the_services_is_read_live_until_summed_again(bases):
    build(5, 12)
    issue = Issue.objects.filter(assignments__replied_on__isnull=False).distinct().first()
    cohort = statistics.cohort(Issue.objects.all())
    before = statistics.summary(cohort, as_of=D(2026, 12, 31))

    # As the admin or a raw UPDATE would: the triggers mark the key, the figures move at once.
    Assignment.objects.filter(issue=issue).update(replied_on=None, status="acknowledged")
    assert StatsRollupDirtyKey.objects.filter(
        received_on=issue.received_on, channel=issue.channel, category_id=issue.category_id
    ).exists()
    after = statistics.summary(cohort, as_of=D(2026, 12, 31))
    assert after == statistics.summary(cohort, as_of=D(2026, 12, 31), live=True)
    assert after.assignments_replied < before.assignments_replied

    assert rollup.rebuild().changed > 0  # the nightly rebuild sums it again
    assert StatsRollupDirtyKey.objects.count() == 0
    assert statistics.summary(cohort, as_of=D(2026, 12, 31)) == after
    assert rollup.rebuild().changed == 0  # and a second run finds nothing to correct


def test_moving_an_issue_to_another_key_moves_its_figures(bases):
    build(6, 10)
    rollup.refresh()
    issue = Issue.objects.order_by("id").first()
    Issue.objects.filter(pk=issue.pk).update(received_on=D(2026, 1, 5), channel="citizen")
    assert rollup.refresh() == 2  # the old key and the new one
    assert_same_figures(
        Issue.objects.all(),
        D(2026, 12, 31),
        channel="",
        department=None,
        category=None,
        received_from=D(2026, 1, 1),
        received_to=D(2026, 1, 31),
    )
    assert (
        statistics.summary(
            statistics.cohort(Issue.objects.all(), received_to=D(2026, 1, 31)), as_of=D(2026, 12, 31)
        ).issues
        == 1
    )


def test_a_new_requester_is_counted_in_the_month_at_once(bases):
    build(9, 12)
    issue = Issue.objects.order_by("id").first()
    other = Issue.objects.exclude(requester=issue.requester).order_by("id").first()
    cohort = statistics.cohort(Issue.objects.all(), received_from=D(2026, 3, 1), received_to=D(2026, 5, 31))
    Issue.objects.filter(pk=issue.pk).update(requester=other.requester)  # as a merge of two requesters would

    # Marked, so the month is counted live…
    assert statistics.by_month(cohort, as_of=AS_OF[-1]) == statistics.by_month(cohort, as_of=AS_OF[-1], live=True)
    rollup.refresh()
    # …and counted again by the refresh.
    assert statistics.by_month(cohort, as_of=AS_OF[-1]) == statistics.by_month(cohort, as_of=AS_OF[-1], live=True)
    assert rollup.rebuild().changed == 0


def test_changes_that_move_no_figure_mark_nothing(reference):
    with on(D(2026, 5, 4)):
        issue = services.register_issue(
            actor=None,
            channel="net",
            category=Category.objects.get(code="housing"),
            requester=services.RequesterData(name="甲", phone=""),
            title="诉求",
            content="请研究答复。",
            received_on=D(2026, 5, 4),
        )
        (a,) = services.assign_issue(actor=None, issue=issue, lead=dept("zjj"), assigned_on=D(2026, 5, 4))
        services.acknowledge_assignment(actor=None, assignment=a)
    rollup.refresh()
    Assignment.objects.filter(pk=a.pk).update(overdue_at=datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC))
    Issue.objects.filter(pk=issue.pk).update(title="改过的标题", status="replied")

    assert StatsRollupDirtyKey.objects.count() == 0
    with CaptureQueriesContext(connection) as queries:
        assert rollup.refresh() == 0
    assert len(queries) == 1  # what the minute's refresh pays when nothing counts


def test_an_answered_ledger_import_is_counted_at_once_and_summed_by_the_refresh(reference, tmp_path):
    path = tmp_path / "ledger.csv"
    path.write_text(
        "ref,channel,received_on,requester,requester_phone,requester_org,category,title,content,departments,"
        "deadline_amount,deadline_unit,replied_on,closed_on,satisfaction\n"
        "L-1,net,2026-03-02,甲,,,housing,标题,内容,zjj;jtj,,,2026-03-20,2026-03-25,满意\n"
        "L-2,citizen,2026-03-03,乙,,,education,标题,内容,hqz,,,2026-04-20,,\n",
        encoding="utf-8",
    )
    call_command("import_issues", str(path))

    def figures():
        s = statistics.summary(statistics.cohort(Issue.objects.all()), as_of=D(2026, 12, 31))
        return s.issues, s.assignments, s.replied, s.closed, s.satisfied

    assert StatsRollupDirtyKey.objects.count() == 2  # marked: read live until the refresh
    assert figures() == (2, 3, 2, 1, 1)
    assert tasks.refresh_stats_rollup() == 2
    assert StatsRollupDirtyKey.objects.count() == 0
    assert rollup.rebuild().changed == 0
    assert figures() == (2, 3, 2, 1, 1)


def test_the_rebuild_command_reports_what_it_corrected(bases, capsys):
    build(8, 6)
    rollup.refresh()
    StatsDepartmentRollup.objects.all().delete()
    call_command("rebuild_stats_rollup")
    out = capsys.readouterr().out
    assert "统计汇总" in out and "0 行有差异" not in out
    call_command("rebuild_stats_rollup")
    assert "0 行有差异" in capsys.readouterr().out


def test_the_minute_refresh_and_the_nightly_rebuild_are_scheduled():
    from zhitongche.celery import app

    assert app.conf.beat_schedule["refresh-stats-rollup"] == {
        "task": "feedback.tasks.refresh_stats_rollup",
        "schedule": 60.0,
    }
    assert app.conf.beat_schedule["rebuild-stats-rollup"]["task"] == "feedback.tasks.rebuild_stats_rollup"


def _with_issues(count: int) -> None:
    rng = random.Random(count)
    for n in range(count):
        received = START + datetime.timedelta(days=rng.randrange(90))
        with on(received):
            issue = services.register_issue(
                actor=None,
                channel=CHANNELS[n % 3],
                category=Category.objects.get(code=CATEGORIES[n % 3]),
                requester=services.RequesterData(name=f"群众{n}", phone=""),
                title="诉求",
                content="请研究答复。",
                received_on=received,
            )
            (a, *_) = services.assign_issue(
                actor=None, issue=issue, lead=dept(("zjj", "hqz")[n % 2]), co=[dept("jtj")], assigned_on=received
            )
        if n % 2:
            reply(a, received + datetime.timedelta(days=5))


@pytest.mark.parametrize("size", [2, 14])
def test_each_figure_from_the_rollup_takes_a_constant_number_of_queries(reference, django_assert_max_num_queries, size):
    """Whether a key is live (one small query), then the statement: the short one when none is
    (2026-12-31, every key settled), the full one otherwise (end of May: replies still to come);
    the category table adds the categories' names (the department tables read theirs in the statement)."""
    _with_issues(size)
    for filters in ({}, {"channel": "net", "department": dept("jtj")}):
        issues = statistics.cohort(Issue.objects.all(), received_from=D(2026, 3, 1), **filters)
        for as_of, statement in ((D(2026, 5, 31), 2), (D(2026, 12, 31), 1)):
            with django_assert_max_num_queries(1 + statement):
                statistics.summary(issues, as_of=as_of)
            with django_assert_max_num_queries(1 + statement):
                statistics.by_month(issues, as_of=as_of)
            for breakdown, names in (
                (statistics.by_category, 1),
                (statistics.by_department, 0),
                (statistics.by_township, 0),
            ):
                with django_assert_max_num_queries(1 + statement + names):
                    breakdown(issues, as_of=as_of)


def test_a_window_with_no_live_key_is_read_by_the_short_statement(reference):
    _with_issues(6)
    rollup.refresh()
    issues = statistics.cohort(Issue.objects.all(), received_from=D(2026, 3, 1))
    with CaptureQueriesContext(connection) as queries:
        settled = statistics.summary(issues, as_of=D(2026, 12, 31))
    assert len(queries) == 2  # is a key live? no: the short statement
    assert "'live'" not in queries[1]["sql"] and f"'{rollup.RECHECK}'" in queries[1]["sql"]
    assert settled == statistics.summary(issues, as_of=D(2026, 12, 31), live=True)

    last_reply = Assignment.objects.filter(replied_on__isnull=False).order_by("replied_on").last().replied_on
    before_it = last_reply - datetime.timedelta(days=1)  # a reply still to come: its key is live
    with CaptureQueriesContext(connection) as queries:
        live = statistics.summary(issues, as_of=before_it)
    assert len(queries) == 2 and "'live'" in queries[1]["sql"]
    assert live == statistics.summary(issues, as_of=before_it, live=True)


def test_a_key_marked_after_the_check_is_read_live_by_the_statement(reference, monkeypatch):
    """The statement counts the live keys again in its own snapshot: a write between the check and
    the statement (here: the check told there is none) cannot be missed."""
    _with_issues(6)
    rollup.refresh()
    issues = statistics.cohort(Issue.objects.all(), received_from=D(2026, 3, 1))
    before = statistics.summary(issues, as_of=D(2026, 12, 31))
    replied = Assignment.objects.filter(replied_on__isnull=False).first()
    Assignment.objects.filter(pk=replied.pk).update(replied_on=None, status="acknowledged")  # marks its key
    monkeypatch.setattr(rollup, "_any_live", lambda c, as_of: False)
    monkeypatch.setattr(rollup, "_state", lambda c, as_of: (None, False))  # the check, as figures.kept asks it

    with CaptureQueriesContext(connection) as queries:
        after = statistics.summary(issues, as_of=D(2026, 12, 31))
    assert len(queries) == 2  # the short statement, then the full one
    assert after == statistics.summary(issues, as_of=D(2026, 12, 31), live=True)
    assert after.assignments_replied == before.assignments_replied - 1


def test_a_workflow_error_leaves_the_rollup_as_it_was(reference):
    """A refused service call rolls back its marks along with its changes."""
    with on(D(2026, 5, 4)):
        issue = services.register_issue(
            actor=None,
            channel="net",
            category=Category.objects.get(code="housing"),
            requester=services.RequesterData(name="甲", phone=""),
            title="诉求",
            content="请研究答复。",
            received_on=D(2026, 5, 4),
        )
        with pytest.raises(WorkflowError):
            services.close_issue(actor=None, issue=issue, on=D(2026, 5, 4))  # not replied yet
    marked = list(StatsRollupDirtyKey.objects.values_list("received_on", "channel", "category_id"))
    assert marked == [(D(2026, 5, 4), "net", issue.category_id)]  # the registration's, not the refusal's
    rollup.refresh()
    with on(D(2026, 5, 4)), pytest.raises(WorkflowError):
        services.close_issue(actor=None, issue=issue, on=D(2026, 5, 4))
    assert StatsRollupDirtyKey.objects.count() == 0
    assert rollup.rebuild().changed == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("days", [(4, 4, 4, 4), (4, 5, 6, 7)], ids=["one key", "one month"])
def test_writers_refreshes_and_a_rebuild_at_once_leave_the_rollup_exact(reference, days):
    """A writer holds its key's mark row-locked until it commits: a refresh running meanwhile skips
    that key (it is read live) and the next refresh sums it. Row locks on the marks serialise the
    refreshes of one key, an advisory lock those of one month's rows; the rebuild waits for them."""
    from tests.concurrency import run_together

    issues = []
    with on(D(2026, 5, 7)):
        for n, day in enumerate(days):
            issue = services.register_issue(
                actor=None,
                channel="net",
                category=Category.objects.get(code="housing"),
                requester=services.RequesterData(name=f"群众{n}", phone=""),
                title="诉求",
                content="请研究答复。",
                received_on=D(2026, 5, day),
            )
            issues.append(
                services.assign_issue(actor=None, issue=issue, lead=dept(DEPARTMENTS[n]), assigned_on=D(2026, 5, day))[
                    0
                ]
            )
    submitted = []
    with on(D(2026, 5, 10)):
        for a in issues:
            submitted.append(
                services.submit_reply(
                    actor=None,
                    assignment=a,
                    file=reply_pdf(),
                    signer_name="王局长",
                    signer_title="局长",
                    signed_on=D(2026, 5, 10),
                    result="explained",
                    summary="答复如下。",
                )
            )

    def accept(reply):
        def call():
            with on(D(2026, 5, 10)):
                return services.accept_reply(actor=None, reply=reply)

        return call

    outcomes = run_together(*(accept(r) for r in submitted), rollup.refresh, rollup.refresh, rollup.rebuild)
    assert not [o for o in outcomes if isinstance(o, Exception)]
    assert statistics.summary(statistics.cohort(Issue.objects.all()), as_of=D(2026, 12, 31)).replied == 4
    tasks.refresh_stats_rollup()
    assert StatsRollupDirtyKey.objects.count() == 0
    assert rollup.rebuild().changed == 0
    s = statistics.summary(statistics.cohort(Issue.objects.all()), as_of=D(2026, 12, 31))
    assert (s.assignments_replied, s.replied) == (4, 4)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_service_does_not_wait_for_a_rebuild_holding_the_rollup_tables(reference):
    """The nightly rebuild locks the rollup tables for its whole run. A service touches none of them
    (it only marks keys), so a write goes through while the rebuild holds them; it used to wait."""
    import threading

    from django.db import connections, transaction

    with on(D(2026, 5, 4)):
        issue = services.register_issue(
            actor=None,
            channel="net",
            category=Category.objects.get(code="housing"),
            requester=services.RequesterData(name="甲", phone=""),
            title="诉求",
            content="请研究答复。",
            received_on=D(2026, 5, 4),
        )
    locked, release = threading.Event(), threading.Event()

    def rebuild_holding_the_locks() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"LOCK TABLE {rollup.DAY}, {rollup.MONTH}, {rollup.DEPT_DAY}, {rollup.DEPT_MONTH}, "
                    f"{rollup.OPEN_DUE}, {rollup.REQUESTERS} IN SHARE ROW EXCLUSIVE MODE"
                )
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=rebuild_holding_the_locks)
    holder.start()
    try:
        assert locked.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = '3s'")  # a wait for the locks fails the test
        with on(D(2026, 5, 4)):
            services.assign_issue(actor=None, issue=issue, lead=dept("zjj"), assigned_on=D(2026, 5, 4))
        assert Assignment.objects.filter(issue=issue).count() == 1
    finally:
        release.set()
        holder.join()
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers step aside on PostgreSQL only")
def test_an_import_marks_its_cohorts_keys_itself_and_leaves_the_triggers_on_for_the_rest(reference, tmp_path):
    """Migration 0560: the per-row marks are replaced, for the imported cohort only, by one set-based
    mark of the same keys; any later write of the same transaction is marked by its trigger as before."""
    from django.db import transaction

    existing = services.register_issue(
        actor=None,
        channel="net",
        category=Category.objects.get(code="housing"),
        requester=services.RequesterData(name="丙", phone=""),
        title="已有诉求",
        content="内容",
        received_on=D(2026, 2, 2),
    )
    tasks.refresh_stats_rollup()
    path = tmp_path / "ledger.csv"
    path.write_text(
        "ref,channel,received_on,requester,requester_phone,requester_org,category,title,content,departments,"
        "deadline_amount,deadline_unit,replied_on,closed_on,satisfaction\n"
        "M-1,net,2026-03-02,甲,,,housing,标题,内容,zjj;jtj,,,2026-03-20,2026-03-25,满意\n"
        "M-2,net,2026-03-02,乙,,,housing,标题,内容,zjj,,,2026-03-20,,\n"
        "M-3,citizen,2026-03-03,乙,,,education,标题,内容,hqz,,,2026-04-20,,\n",
        encoding="utf-8",
    )
    with transaction.atomic():
        call_command("import_issues", str(path))
        marked = set(
            StatsRollupDirtyKey.objects.values_list("received_on", "channel", "category_id", "requesters_changed")
        )
        housing, education = (Category.objects.get(code=c).pk for c in ("housing", "education"))
        assert marked == {(D(2026, 3, 2), "net", housing, True), (D(2026, 3, 3), "citizen", education, True)}
        Issue.objects.filter(pk=existing.pk).update(category=Category.objects.get(code="health"))
    keys = set(StatsRollupDirtyKey.objects.values_list("received_on", "category_id"))
    health = Category.objects.get(code="health").pk
    assert {(D(2026, 2, 2), housing), (D(2026, 2, 2), health)} <= keys  # the trigger marked it again
    tasks.refresh_stats_rollup()
    assert rollup.rebuild().changed == 0


def _set_sql(issues) -> str:
    with CaptureQueriesContext(connection) as queries:
        statistics.summary(issues, as_of=D(2026, 12, 31))
    return queries[-1]["sql"]


def test_the_summary_unions_the_requester_sets_where_they_answer_the_cohort(reference):
    """Distinct requesters are read from the sets of whole months and of the other days, not counted
    again from the issues; a category, a department or an accusation to leave out (the sets are per
    channel, over every category and department) is counted live, as before."""
    _with_issues(8)
    rollup.refresh()
    issues = Issue.objects.all()
    sets = StatsRequesterSet.objects.all()
    assert {s.span for s in sets} == {"year", "month", "day"} and all(s.requesters == len(s.members()) for s in sets)
    assert {s.channel for s in sets} == {"", *CHANNELS}
    for filters in (
        {},
        {"channel": "net"},
        {"received_from": D(2026, 3, 10), "received_to": D(2026, 4, 30)},  # a whole month, days at each end
        {"received_from": D(2026, 3, 10), "received_to": D(2026, 3, 20)},  # no whole month
    ):
        cohort = statistics.cohort(issues, **filters)
        sql = _set_sql(cohort)
        assert "'requester_set'" in sql and "'requesters'" not in sql, filters  # no live count
        assert statistics.summary(cohort, as_of=D(2026, 12, 31)) == statistics.summary(
            cohort, as_of=D(2026, 12, 31), live=True
        )
    for filters in ({"category": Category.objects.get(code="housing")}, {"department": dept("jtj")}):
        assert "'requester_set'" not in _set_sql(statistics.cohort(issues, **filters)), filters
    leader_in_jtj = make_user("leader_jtj", department="jtj", role=Role.LEADER)
    assert "'requester_set'" not in _set_sql(statistics.scoped(leader_in_jtj)[0])


@pytest.mark.parametrize(
    ("span", "window"),
    [("year", {}), ("month", {"received_from": D(2026, 3, 1), "received_to": D(2026, 5, 31)})],
)
def test_a_wrong_requester_set_is_corrected_by_the_rebuild(reference, span, window, settings):
    settings.STATS_CACHE_SECONDS = 0  # the set is corrupted behind every trigger: read it, not a kept figure
    _with_issues(6)
    rollup.refresh()
    cohort = statistics.cohort(Issue.objects.all(), **window)
    right = statistics.summary(cohort, as_of=D(2026, 12, 31))
    wrong = StatsRequesterSet.objects.filter(span=span, channel="").first()  # what a cohort of every channel reads
    StatsRequesterSet.objects.filter(pk=wrong.pk).update(bits=rollup._serialised(BitMap(range(10**6, 10**6 + 5))))
    assert statistics.summary(cohort, as_of=D(2026, 12, 31)).requesters != right.requesters  # read, not recounted
    assert rollup.rebuild().changed == 2  # the wrong row deleted, the right one inserted
    assert statistics.summary(cohort, as_of=D(2026, 12, 31)) == right


def test_the_rows_over_categories_are_the_department_rows_summed(reference):
    """What the refresh writes per (day | month, channel, department) is the per-category rows' sum."""
    _with_issues(14)
    rollup.refresh()
    assert StatsChannelDepartmentRollup.objects.exists() and StatsChannelDepartmentMonthRollup.objects.exists()
    assert _over_categories(StatsDepartmentRollup, "received_on") == _stored(
        StatsChannelDepartmentRollup, "received_on"
    )
    assert _over_categories(StatsDepartmentMonthRollup, "month") == _stored(StatsChannelDepartmentMonthRollup, "month")
    assert rollup.rebuild().changed == 0


def _over_categories(model, day: str) -> dict[tuple, tuple]:
    sums: dict[tuple, list[int]] = {}
    for row in model.objects.all():
        counts = sums.setdefault((getattr(row, day), row.channel, row.department_id), [0] * len(_OVER))
        for n, column in enumerate(_OVER):
            counts[n] += getattr(row, column)
    return {key: tuple(counts) for key, counts in sums.items()}


def _stored(model, day: str) -> dict[tuple, tuple]:
    return {
        (getattr(row, day), row.channel, row.department_id): tuple(getattr(row, c) for c in _OVER)
        for row in model.objects.all()
    }


_OVER = rollup.COUNT_COLUMNS + rollup.OWN_COLUMNS


@pytest.mark.parametrize("model", [StatsChannelDepartmentRollup, StatsChannelDepartmentMonthRollup])
def test_a_wrong_row_over_categories_is_corrected_by_the_rebuild(reference, model):
    _with_issues(6)
    rollup.refresh()
    row = model.objects.filter(department=dept("jtj")).first()
    # A day's row is read for a window of days, a month's for whole months.
    day = getattr(row, "received_on", None)
    cohort = statistics.cohort(Issue.objects.all(), received_from=day, received_to=day)
    right = statistics.by_department(cohort, as_of=D(2026, 12, 31))
    model.objects.filter(pk=row.pk).update(own_assignments=row.own_assignments + 5)
    assert statistics.by_department(cohort, as_of=D(2026, 12, 31)) != right  # read, not summed again
    assert rollup.rebuild().changed == 2  # the wrong row deleted, the right one inserted
    assert statistics.by_department(cohort, as_of=D(2026, 12, 31)) == right
    model.objects.filter(department=dept("jtj")).delete()
    assert rollup.rebuild().changed > 0
    assert statistics.by_department(cohort, as_of=D(2026, 12, 31)) == right


def _statements(figures, cohort, as_of: D | None = None) -> str:
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        figures(cohort, as_of=as_of or D(2026, 12, 31))
    return "\n".join(statements)


def test_the_tables_over_every_category_read_the_rows_summed_over_them(reference):
    """The department and township tables, and a department's figures, over every category and with no
    key live read StatsChannelDepartment(Month)Rollup, and give the live figures, for every window
    (whole months, ragged at either end or both, none); by category, or with a key live, they read
    the per-category rows."""
    build(8, 16)
    rollup.refresh()
    every = Issue.objects.all()
    for start, end in WINDOWS:
        for channel in ("", "net"):
            for department in (None, dept("zjj")):
                filters = {"channel": channel, "department": department, "received_from": start, "received_to": end}
                assert_same_figures(every, D(2026, 12, 31), category=None, **filters)
                cohort = statistics.cohort(every, **filters)
                over = (statistics.summary,) if department else (statistics.by_department, statistics.by_township)
                for figures in over:
                    sql = _statements(figures, cohort)
                    assert rollup.CHANNEL_DEPT_MONTH in sql or rollup.CHANNEL_DEPT_DAY in sql, (figures, filters)
                if department:
                    assert rollup.CHANNEL_DEPT_DAY not in _statements(statistics.by_category, cohort)
        housing = statistics.cohort(every, category=Category.objects.get(code="housing"), received_from=start)
        assert rollup.CHANNEL_DEPT_DAY not in _statements(statistics.by_department, housing)
    april = D(2026, 4, 15)  # replies still to come: keys live
    assert rollup.live_keys(statistics.cohort(every)._stats_cohort, april)
    sql = _statements(statistics.by_department, statistics.cohort(every), april)
    assert rollup.CHANNEL_DEPT_DAY not in sql and rollup.CHANNEL_DEPT_MONTH not in sql


def test_the_ragged_ends_of_a_window_are_read_as_two_ranges():
    """Each end its own range, bounded by the window on its other side: one ``OR`` of the two made
    PostgreSQL read the whole window's range of an index (issue 16)."""
    ends = rollup._ends
    assert ends(rollup.Cohort(received_from=D(2026, 3, 10), received_to=D(2026, 5, 20)), "x") == [
        (D(2026, 3, 1), "x < %(whole_first)s"),
        (D(2026, 5, 1), "x >= %(whole_end)s"),
    ]
    assert ends(rollup.Cohort(received_from=D(2026, 3, 10)), "x") == [(D(2026, 3, 1), "x < %(whole_first)s")]
    assert ends(rollup.Cohort(received_to=D(2026, 5, 20)), "x") == [(D(2026, 5, 1), "x >= %(whole_end)s")]
    assert ends(rollup.Cohort(received_from=D(2026, 3, 1), received_to=D(2026, 5, 31)), "x") == []
    assert ends(rollup.Cohort(), "x") == []


def _register(day: D, name: str, channel: str = "net") -> Issue:
    with on(day):
        return services.register_issue(
            actor=None,
            channel=channel,
            category=Category.objects.get(code="housing"),
            requester=services.RequesterData(name=name, phone=""),
            title="诉求",
            content="请研究答复。",
            received_on=day,
        )


def _requesters(channel: str = "", **window: D) -> tuple[int, int]:
    """The cohort's distinct requesters from the rollup, and counted live."""
    cohort = statistics.cohort(Issue.objects.all(), channel=channel, **window)
    as_of = D(2026, 12, 31)
    return statistics.summary(cohort, as_of=as_of).requesters, statistics.summary(
        cohort, as_of=as_of, live=True
    ).requesters


YEAR_AND_A_MONTH = {"received_from": D(2024, 12, 1), "received_to": D(2025, 12, 31)}


def test_a_whole_year_is_read_from_its_year_sets_and_the_months_and_days_around_it_from_theirs(reference, monkeypatch):
    """2025 whole is one set (the channel's, or of every channel), December 2024 its month's, and
    each day of November 2024 in the window its day's: nothing is read twice, no other channel's."""
    for day, name, channel in (
        (D(2024, 11, 25), "庚", "net"),
        (D(2024, 12, 2), "丁", "net"),
        (D(2025, 3, 3), "甲", "net"),
        (D(2025, 4, 7), "乙", "net"),
        (D(2025, 4, 8), "丙", "net"),
        (D(2025, 6, 2), "戊", "citizen"),
        (D(2025, 6, 2), "辛", "enterprise"),
        (D(2026, 1, 5), "己", "net"),
    ):
        _register(day, name, channel)
    rollup.refresh()
    read: list[int] = []
    count = rollup._count_requesters
    monkeypatch.setattr(
        rollup,
        "_count_requesters",
        lambda rows: read.append(sum(r["part"] == "requester_set" for r in rows)) or count(rows),
    )
    window = {"received_from": D(2024, 11, 20), "received_to": D(2025, 12, 31)}
    assert _requesters(**window) == (7, 7)
    assert _requesters("net", **window) == (5, 5)
    assert _requesters("citizen", received_from=D(2025, 1, 1), received_to=D(2025, 12, 31)) == (1, 1)
    assert read == [3, 3, 1]  # 2024-11-25, December 2024, 2025 (each the channel's or every channel's)


def test_a_service_writing_in_a_year_unites_its_year_sets_again(reference):
    _register(D(2025, 3, 3), "甲")
    rollup.refresh()
    assert _requesters(**YEAR_AND_A_MONTH) == (1, 1)
    _register(D(2025, 5, 6), "乙")
    assert rollup.refresh() == 1  # recounts May, and unites 2025 again
    assert _requesters(**YEAR_AND_A_MONTH) == (2, 2)
    assert _requesters("net", **YEAR_AND_A_MONTH) == (2, 2)
    assert rollup.rebuild().changed == 0


def test_a_year_with_a_marked_month_is_read_as_its_other_months_and_the_marked_one_live(reference):
    """A raw write (a merge of requesters) marks March 2025: the year's sets are stale until the
    refresh, so 2025 is read as its other months' sets and March's requesters themselves."""
    march = _register(D(2025, 3, 3), "甲")
    april = _register(D(2025, 4, 7), "乙")
    _register(D(2025, 4, 8), "丙")
    rollup.refresh()
    assert _requesters(**YEAR_AND_A_MONTH) == (3, 3)
    Issue.objects.filter(pk=march.pk).update(requester=april.requester)  # 甲 no longer in 2025
    assert StatsRollupDirtyKey.objects.filter(requesters_changed=True).exists()
    assert _requesters(**YEAR_AND_A_MONTH) == (2, 2)  # not the year's stale sets (3), not March alone (1)
    assert _requesters("net", **YEAR_AND_A_MONTH) == (2, 2)
    rollup.refresh()
    assert _requesters(**YEAR_AND_A_MONTH) == (2, 2)
    assert rollup.rebuild().changed == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_refreshes_of_one_day_and_channel_wait_for_each_other(reference):
    """Two categories' keys of one day and channel share that day's rows over the categories: the
    second refresh waits for the first to commit (the advisory lock per month and channel) and sums
    both. With a lock per category it went on, and inserted again the rows the first had inserted
    (a unique violation at its commit's end)."""
    import threading
    import time

    from django.db import transaction

    from tests.concurrency import run_together

    issues = []
    with on(D(2026, 5, 4)):
        for n, code in enumerate(("housing", "education")):
            issue = services.register_issue(
                actor=None,
                channel="net",
                category=Category.objects.get(code=code),
                requester=services.RequesterData(name=f"群众{n}", phone=""),
                title="诉求",
                content="请研究答复。",
                received_on=D(2026, 5, 4),
            )
            services.assign_issue(actor=None, issue=issue, lead=dept("zjj"), assigned_on=D(2026, 5, 4))
            issues.append(issue)
    tasks.refresh_stats_rollup()
    first_summed = threading.Event()

    def rate_and_refresh(issue: Issue, first: bool) -> Callable[[], bool]:
        def call() -> bool:
            if not first:
                assert first_summed.wait(10)
            with transaction.atomic():
                # Marks the issue's key, row-locked until the commit: the other refresh skips it.
                Issue.objects.filter(pk=issue.pk).update(satisfaction="satisfied")
                assert rollup.refresh() == 1
                if first:
                    first_summed.set()
                    time.sleep(0.5)  # the second refresh reaches the shared rows meanwhile
            return True

        return call

    assert run_together(rate_and_refresh(issues[0], True), rate_and_refresh(issues[1], False)) == [True, True]
    assert StatsRollupDirtyKey.objects.count() == 0
    assert rollup.rebuild().changed == 0
    row = StatsChannelDepartmentRollup.objects.get(received_on=D(2026, 5, 4), channel="net", department=dept("zjj"))
    assert (row.issues, row.rated) == (2, 2)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_writers_in_two_months_of_one_year_unite_its_sets_one_after_the_other(reference):
    """Each refresh unites its year's sets again from the stored months, under the year's advisory
    lock: a refresh of April waits for a refresh of March not yet committed, then unites both
    months (without the lock it would not see March's, or collide with its new year rows)."""
    import threading

    from django.db import connections, transaction

    _register(D(2025, 1, 6), "丁")
    rollup.refresh()  # the year's sets exist before the two writers
    registered, release = threading.Event(), threading.Event()
    outcomes: list[object] = []

    def call(day: D, name: str, channel: str, hold: bool) -> None:
        try:
            with transaction.atomic():
                _register(day, name, channel)
                rollup.refresh()  # its own mark: the other's is row-locked until it commits
                if hold:
                    registered.set()
                    release.wait(30)
        except Exception as exc:
            outcomes.append(exc)
        finally:
            connections.close_all()

    first = threading.Thread(target=call, args=(D(2025, 3, 3), "甲", "net", True))
    first.start()
    assert registered.wait(20)
    second = threading.Thread(target=call, args=(D(2025, 4, 7), "乙", "citizen", False))  # its own ref series
    second.start()
    second.join(1)
    waited = second.is_alive()
    release.set()
    first.join(30)
    second.join(30)
    assert not outcomes and waited
    assert StatsRollupDirtyKey.objects.count() == 0
    assert _requesters(**YEAR_AND_A_MONTH) == (3, 3)
    assert rollup.rebuild().changed == 0


def test_the_migration_unites_the_stored_sets_into_year_and_all_channels_sets(reference):
    """Migration 0740 writes, from the month and day sets already stored, what the refresh writes."""
    import importlib

    from django.apps import apps

    build(11, 12, years=True)
    rollup.refresh()
    StatsRequesterSet.objects.filter(span="year").delete()
    StatsRequesterSet.objects.filter(channel="").delete()
    importlib.import_module("feedback.migrations.0740_stats_requester_sets_per_year_and_all_channels").unite(apps, None)
    assert rollup.rebuild().changed == 0
