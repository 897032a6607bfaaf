"""feedback.figures.statistics against small cohorts whose figures are worked out by hand below.

The issues are built through feedback.services (register, assign, submit and accept the reply,
follow up, close), all dated in 2026 before today. Two things are set by a direct ORM update,
each said where it happens: the due dates (so the arithmetic can be read in the test rather
than through the working calendar, which test_deadlines.py covers), and in the rounding test
the accepted state of many assignments at once.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from feedback import services, states
from feedback.figures import statistics
from feedback.models import Assignment, Category, Department, Issue
from tests.conftest import reply_pdf

pytestmark = pytest.mark.django_db

D = datetime.date
AS_OF = D(2026, 5, 31)
MAY = {"received_from": D(2026, 5, 1), "received_to": D(2026, 5, 31)}


def dept(code: str) -> Department:
    return Department.objects.get(code=code)


def make(
    *,
    received: D,
    lead: str | None = "zjj",
    co: tuple[str, ...] = (),
    due: D | None = None,
    original_due: D | None = None,
    channel: str = "net",
    category: str = "housing",
    name: str = "群众",
) -> tuple[Issue, list[Assignment]]:
    issue = services.register_issue(
        actor=None,
        channel=channel,
        category=Category.objects.get(code=category),
        requester=services.RequesterData(name=name, phone=""),
        title=f"{name}的诉求",
        content="请研究答复。",
        received_on=received,
    )
    if lead is None:
        return issue, []
    assignments = services.assign_issue(
        actor=None, issue=issue, lead=dept(lead), co=[dept(c) for c in co], assigned_on=received
    )
    if due is not None:
        # Set directly so the test reads in dates, not in working days (see the module docstring).
        Assignment.objects.filter(issue=issue).update(due_date=due, original_due_date=original_due or due)
        for a in assignments:
            a.refresh_from_db()
    return issue, assignments


def reply(assignment: Assignment, on: D) -> None:
    submitted = services.submit_reply(
        actor=None,
        assignment=assignment,
        file=reply_pdf(),
        signer_name="王局长",
        signer_title="局长",
        signed_on=on,
        result="explained",
        summary="经研究，答复如下。",
    )
    services.accept_reply(actor=None, reply=submitted)


def follow_up(issue: Issue, satisfaction: str, on: D) -> None:
    services.record_follow_up(actor=None, issue=issue, satisfaction=satisfaction, on=on)


def close(issue: Issue, on: D) -> None:
    issue.refresh_from_db()
    if states.closure_refusal(issue):  # no rating: the office records why (未能回访), then closes
        services.record_follow_up_skipped(actor=None, issue=issue, reason="unreachable")
    services.close_issue(actor=None, issue=issue, on=on)


def may_cohort(**filters):
    return statistics.cohort(Issue.objects.all(), **{**MAY, **filters})


@pytest.fixture
def may(reference):
    """Seven issues received in May 2026 (and one in April, outside the window).

    | issue | assignments (due)                          | reply (accepted)        | follow-up  | closed |
    |-------|--------------------------------------------|-------------------------|------------|--------|
    | I1    | zjj (05-10)                                | 05-08 on time           | 满意       | 05-20  |
    | I2    | jtj (05-10)                                | 05-15 late              | 基本满意   | —      |
    | I3    | zjj lead (05-20) + jtj co (05-20)          | zjj 05-18; jtj none     | —          | —      |
    | I4    | jyj (05-25)                                | 06-03, after as_of      | 不满意     | 06-05  |
    | I5    | hqz township, 政民 (06-10)                 | none, not yet due       | —          | —      |
    | I6    | not assigned                               | —                       | —          | —      |
    | I8    | zjj (05-12)                                | 05-12, on the due day   | 未联系上   | 05-30  |
    | I7    | zjj, received 04-30: outside the window    | 04-30                   |            |        |
    I1 and I2 come from the same requester (same name, no phone).
    """
    i1, (a1,) = make(received=D(2026, 5, 4), lead="zjj", due=D(2026, 5, 10), name="张三")
    reply(a1, D(2026, 5, 8))
    follow_up(i1, "satisfied", D(2026, 5, 19))
    close(i1, D(2026, 5, 20))
    i2, (a2,) = make(received=D(2026, 5, 4), lead="jtj", due=D(2026, 5, 10), name="张三")
    reply(a2, D(2026, 5, 15))
    follow_up(i2, "basically", D(2026, 5, 16))
    _i3, (a3_lead, _a3_co) = make(received=D(2026, 5, 6), lead="zjj", co=("jtj",), due=D(2026, 5, 20), name="李四")
    reply(a3_lead, D(2026, 5, 18))
    i4, (a4,) = make(received=D(2026, 5, 11), lead="jyj", due=D(2026, 5, 25), category="transport", name="王五")
    reply(a4, D(2026, 6, 3))
    follow_up(i4, "dissatisfied", D(2026, 6, 4))
    close(i4, D(2026, 6, 5))
    make(received=D(2026, 5, 20), lead="hqz", due=D(2026, 6, 10), channel="citizen", category="education", name="赵六")
    make(received=D(2026, 5, 25), lead=None, category="education", name="钱七")
    i8, (a8,) = make(received=D(2026, 5, 2), lead="zjj", due=D(2026, 5, 12), category="education", name="孙八")
    reply(a8, D(2026, 5, 12))
    follow_up(i8, "unreachable", D(2026, 5, 13))
    close(i8, D(2026, 5, 30))
    _i7, (a7,) = make(received=D(2026, 4, 30), lead="zjj", due=D(2026, 5, 8), name="周九")
    reply(a7, D(2026, 4, 30))


# --- rounding -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [
        (2, 3, "66.7"),  # 66.666… → 66.7
        (1, 3, "33.3"),  # 33.333… → 33.3
        (1, 8, "12.5"),  # exact
        (5, 16, "31.3"),  # 31.25 → 31.3 (half up, where banker's rounding would give 31.2)
        (1, 16, "6.3"),  # 6.25 → 6.3
        (7, 16, "43.8"),  # 43.75 → 43.8
        (1, 6, "16.7"),  # 16.666… → 16.7
        (0, 5, "0.0"),
        (5, 5, "100.0"),
    ],
)
def test_rates_are_rounded_half_up_to_one_decimal(part, whole, expected):
    assert statistics.rate(part, whole) == Decimal(expected)
    assert str(statistics.rate(part, whole)) == expected


def test_a_rate_over_nothing_is_none_not_an_error():
    assert statistics.rate(0, 0) is None


# --- the summary --------------------------------------------------------------------------------------


def test_summary_of_a_hand_computed_cohort(may):
    s = statistics.summary(may_cohort(), as_of=AS_OF)

    assert s.issues == 7  # I1–I6 and I8; I7 was received in April
    assert s.requesters == 6  # I1 and I2 share 张三
    # replied: I1, I2, I8. Not I3 (co-handler jtj has not replied), not I4 (reply dated 06-03,
    # after as_of), not I5 (open), not I6 (never assigned).
    assert s.replied == 3
    assert s.reply_rate == Decimal("42.9")  # 3/7 = 42.857…
    assert s.unreplied == 4
    assert s.closed == 2  # I1 (05-20), I8 (05-30); I4 closed 06-05, after as_of
    assert s.closure_rate == Decimal("28.6")  # 2/7 = 28.571…
    assert s.assignments == 7  # I1, I2, I3 ×2, I4, I5, I8
    assert s.on_time == 3  # I1, I3-zjj, I8 (replied on its due day)
    assert s.late == 1  # I2
    assert s.overdue_open == 2  # I3-jtj (due 05-20), I4 (due 05-25; its reply came later)
    assert s.not_yet_due == 1  # I5, due 06-10: left out of the on-time rate
    assert s.on_time_rate == Decimal("50.0")  # 3 / (3 + 1 + 2)
    # Ratings count whatever their date (I4's 不满意 on 06-04 counts); 未联系上 (I8) is not a rating.
    assert s.rated == 3  # I1 满意, I2 基本满意, I4 不满意
    assert s.satisfied == 2
    assert s.satisfaction_rate == Decimal("66.7")  # 2/3
    assert (s.dissatisfied, s.unreachable, s.followed_up) == (1, 1, 4)
    assert s.follow_up_rate == Decimal("57.1")  # 4/7
    assert s.rehandled == 0


def test_a_month_later_the_late_reply_and_the_closure_count_and_the_open_item_is_overdue(may):
    s = statistics.summary(may_cohort(), as_of=D(2026, 6, 30))

    assert s.replied == 4  # + I4 (replied 06-03)
    assert s.reply_rate == Decimal("57.1")  # 4/7
    assert s.closed == 3  # + I4 (06-05)
    assert s.closure_rate == Decimal("42.9")
    # on time: I1, I3-zjj, I8; late: I2, I4 (06-03 > 05-25); overdue: I3-jtj, I5 (due 06-10)
    assert (s.on_time, s.late, s.overdue_open, s.not_yet_due) == (3, 2, 2, 0)
    assert s.on_time_rate == Decimal("42.9")  # 3/7


def test_open_overdue_items_keep_the_on_time_rate_below_100(reference):
    # One reply on time and one assignment sitting overdue: 50%, not the 100% of "replies on time".
    _, (a,) = make(received=D(2026, 5, 4), due=D(2026, 5, 10))
    reply(a, D(2026, 5, 9))
    make(received=D(2026, 5, 4), due=D(2026, 5, 10))

    s = statistics.summary(may_cohort(), as_of=AS_OF)

    assert (s.on_time, s.late, s.overdue_open) == (1, 0, 1)
    assert s.on_time_rate == Decimal("50.0")


def test_an_assignment_due_on_as_of_is_not_yet_overdue(reference):
    make(received=D(2026, 5, 4), due=AS_OF)  # due at the end of as_of itself

    s = statistics.summary(may_cohort(), as_of=AS_OF)

    assert (s.overdue_open, s.not_yet_due) == (0, 1)
    assert s.on_time_rate is None  # nothing judged yet


def test_on_time_is_also_judged_against_the_original_due_date(reference):
    # Extended from 05-10 to 05-20 and replied 05-15: on time now, late against the original date.
    _, (a,) = make(received=D(2026, 5, 4), due=D(2026, 5, 20), original_due=D(2026, 5, 10))
    reply(a, D(2026, 5, 15))
    # Extended from 05-20 to 06-10 and still open at 05-31: not yet due, but overdue originally.
    make(received=D(2026, 5, 4), due=D(2026, 6, 10), original_due=D(2026, 5, 20))

    s = statistics.summary(may_cohort(), as_of=AS_OF)

    assert (s.on_time, s.late, s.overdue_open) == (1, 0, 0)
    assert s.on_time_rate == Decimal("100.0")
    assert (s.on_time_original, s.late_original, s.overdue_open_original) == (0, 1, 1)
    assert s.on_time_rate_original == Decimal("0.0")


def test_a_re_handled_issue_counts_from_the_day_it_was_reopened(reference):
    issue, (a,) = make(received=D(2026, 5, 4), due=D(2026, 5, 10))
    reply(a, D(2026, 5, 8))
    with time_machine.travel(datetime.datetime(2026, 6, 15, 10, tzinfo=datetime.UTC), tick=False):
        services.reopen_issue(actor=None, issue=issue, reason="群众不满意，重新办理。")

    assert statistics.summary(may_cohort(), as_of=D(2026, 6, 14)).rehandled == 0
    after = statistics.summary(may_cohort(), as_of=D(2026, 6, 15))
    assert after.rehandled == 1
    assert after.rehandle_rate == Decimal("100.0")


def test_an_assignment_withdrawn_after_an_objection_is_not_counted(reference):
    # jtj objected and the office agreed: its assignment is withdrawn (set directly here; the
    # objection window runs from today, and test_objections.py covers the services).
    _, (lead, co) = make(received=D(2026, 5, 4), lead="zjj", co=("jtj",), due=D(2026, 5, 10))
    Assignment.objects.filter(pk=co.pk).update(status=Assignment.Status.WITHDRAWN)
    reply(lead, D(2026, 5, 8))

    s = statistics.summary(may_cohort(), as_of=AS_OF)

    assert (s.assignments, s.on_time, s.overdue_open) == (1, 1, 0)  # not 2, and jtj not overdue
    assert s.replied == 1  # zjj's reply is the only one awaited
    assert [r.department for r in statistics.by_department(may_cohort(), as_of=AS_OF)] == ["zjj"]
    assert statistics.summary(may_cohort(department=dept("jtj")), as_of=AS_OF).issues == 0


def test_an_empty_period_gives_zeros_and_no_rates(may):
    s = statistics.summary(
        statistics.cohort(Issue.objects.all(), received_from=D(2025, 1, 1), received_to=D(2025, 1, 31)), as_of=AS_OF
    )

    assert (s.issues, s.replied, s.assignments, s.on_time, s.rated) == (0, 0, 0, 0, 0)
    assert s.reply_rate is s.closure_rate is s.on_time_rate is s.satisfaction_rate is None


def test_the_cohort_filters(may):
    assert statistics.summary(may_cohort(channel="citizen"), as_of=AS_OF).issues == 1  # I5
    # department: the issues with an assignment to it (lead or co); their other assignments count too.
    jtj = statistics.summary(may_cohort(department=dept("jtj")), as_of=AS_OF)
    assert (jtj.issues, jtj.assignments, jtj.on_time, jtj.late, jtj.overdue_open) == (2, 3, 1, 1, 1)  # I2, I3
    assert (
        statistics.summary(may_cohort(category=Category.objects.get(code="education")), as_of=AS_OF).issues == 3
    )  # I5, I6, I8
    assert (
        statistics.summary(
            statistics.cohort(Issue.objects.all(), received_from=D(2026, 5, 4), received_to=D(2026, 5, 4)), as_of=AS_OF
        ).issues
        == 2
    )


def test_as_of_defaults_to_today(may):
    with time_machine.travel(datetime.datetime(2026, 6, 30, 12, tzinfo=datetime.UTC), tick=False):
        assert timezone.localdate() == D(2026, 6, 30)
        assert statistics.summary(may_cohort()).replied == 4


# --- breakdowns ---------------------------------------------------------------------------------------


def test_by_department(may):
    rows = {r.department: r for r in statistics.by_department(may_cohort(), as_of=AS_OF)}

    assert list(rows) == ["jyj", "zjj", "jtj", "hqz"]  # bureaus in their order, then townships
    zjj, jtj, jyj, hqz = rows["zjj"], rows["jtj"], rows["jyj"], rows["hqz"]
    # zjj: I1, I3-lead, I8, all replied on time
    assert (zjj.assignments, zjj.on_time, zjj.late, zjj.overdue_open, zjj.replied) == (3, 3, 0, 0, 3)
    assert (zjj.on_time_rate, zjj.reply_rate) == (Decimal("100.0"), Decimal("100.0"))
    # jtj: I2 late, I3-co overdue open → on time 0/2, replied 1/2
    assert (jtj.assignments, jtj.on_time, jtj.late, jtj.overdue_open, jtj.replied) == (2, 0, 1, 1, 1)
    assert (jtj.on_time_rate, jtj.reply_rate) == (Decimal("0.0"), Decimal("50.0"))
    # jyj: I4, its reply dated after as_of → overdue open, not replied
    assert (jyj.assignments, jyj.overdue_open, jyj.replied, jyj.reply_rate) == (1, 1, 0, Decimal("0.0"))
    # hqz: I5, not yet due → no on-time rate yet
    assert (hqz.kind, hqz.assignments, hqz.on_time_rate, hqz.reply_rate) == ("township", 1, None, Decimal("0.0"))


def test_by_category(may):
    rows = {r.category: r for r in statistics.by_category(may_cohort(), as_of=AS_OF)}

    assert [r.category for r in statistics.by_category(may_cohort(), as_of=AS_OF)] == [
        "education",
        "housing",
        "transport",
    ]  # 3, 3, 1 issues; ties by code
    housing = rows["housing"]  # I1, I2, I3
    assert (housing.issues, housing.replied, housing.closed) == (3, 2, 1)
    assert housing.share == Decimal("42.9")  # 3/7
    assert housing.reply_rate == Decimal("66.7")  # 2/3
    assert (housing.on_time, housing.late, housing.overdue_open) == (2, 1, 1)  # I1, I3-zjj | I2 | I3-jtj
    assert rows["transport"].share == Decimal("14.3")  # 1/7
    education = rows["education"]  # I5, I6, I8
    assert (education.issues, education.replied, education.closed, education.rated) == (3, 1, 1, 0)


def test_by_township(may):
    (hqz,) = statistics.by_township(may_cohort(), as_of=AS_OF)

    assert (hqz.township, hqz.name, hqz.issues, hqz.replied, hqz.assignments, hqz.overdue_open) == (
        "hqz",
        "黄桥镇",
        1,
        0,
        1,
        0,
    )
    assert hqz.reply_rate == Decimal("0.0")
    assert hqz.on_time_rate is None


def test_by_month(reference):
    _, (a,) = make(received=D(2026, 4, 30), due=D(2026, 5, 8))
    reply(a, D(2026, 5, 8))
    make(received=D(2026, 5, 2), due=D(2026, 5, 12))
    make(received=D(2026, 5, 31), due=D(2026, 6, 12))

    rows = statistics.by_month(Issue.objects.all(), as_of=AS_OF)

    assert [(r.month, r.issues, r.replied, r.on_time, r.overdue_open) for r in rows] == [
        ("2026-04", 1, 1, 1, 0),
        ("2026-05", 2, 0, 0, 1),  # one overdue (05-12), one not yet due
    ]
    assert (rows[1].first_day, rows[1].last_day) == (D(2026, 5, 1), D(2026, 5, 31))
    assert rows[1].reply_rate == Decimal("0.0")
    assert rows[1].on_time_rate == Decimal("0.0")


def test_open_assignments_are_the_items_missing_from_the_target(may):
    overdue = statistics.open_assignments(may_cohort(), as_of=AS_OF)
    unreplied = statistics.open_assignments(may_cohort(), as_of=AS_OF, overdue_only=False)

    assert [(a.department.code, a.due_date) for a in overdue] == [("jtj", D(2026, 5, 20)), ("jyj", D(2026, 5, 25))]
    assert [a.department.code for a in unreplied] == ["jtj", "jyj", "hqz"]


# --- constant number of queries -----------------------------------------------------------------------


def many(count: int) -> None:
    for n in range(count):
        _, assignments = make(
            received=D(2026, 5, 1 + n % 28),
            lead=("zjj", "hqz")[n % 2],
            co=("jtj",),
            category=("housing", "education")[n % 2],
            name=f"群众{n}",
        )
        if n % 3 == 0:
            reply(assignments[0], D(2026, 5, 29))


@pytest.mark.parametrize("size", [2, 12])
def test_every_figure_takes_a_constant_number_of_queries(reference, django_assert_max_num_queries, size):
    many(size)
    issues = may_cohort(channel="net", department=dept("jtj"))

    # From the rollup: whether a key is live, the statement (+ the rows' names for a breakdown).
    with django_assert_max_num_queries(3):
        statistics.summary(issues, as_of=AS_OF)
    with django_assert_max_num_queries(2):
        statistics.by_department(issues, as_of=AS_OF)
    for breakdown, queries in ((statistics.by_category, 3), (statistics.by_month, 2), (statistics.by_township, 3)):
        with django_assert_max_num_queries(queries):
            breakdown(issues, as_of=AS_OF)


def test_a_returned_reply_counts_as_re_handling(reference, netoffice, zjj_head):
    """Issue 5: the office returning a reply (退回重办) counts in the re-handle rate."""
    from tests.conftest import reply_pdf
    from tests.factories import assigned

    issue, (a,) = assigned(netoffice)
    other, _ = assigned(netoffice, title="另一件")
    first = services.submit_reply(
        actor=zjj_head,
        assignment=a,
        file=reply_pdf(),
        signer_name="王",
        signer_title="局长",
        signed_on=a.assigned_on,
        result="resolved",
        summary="已解决",
    )
    today = a.assigned_on
    before = statistics.summary(Issue.objects.filter(pk__in=[issue.pk, other.pk]), as_of=today)
    services.return_reply(actor=netoffice, reply=first, reason="未加盖公章")
    after = statistics.summary(Issue.objects.filter(pk__in=[issue.pk, other.pk]), as_of=today)
    assert (before.rehandled, after.rehandled) == (0, 1)
    assert after.rehandle_rate == Decimal("50.0")  # 1 of 2 issues


@pytest.mark.parametrize("as_of", [AS_OF, D(2026, 6, 2), D(2026, 6, 30)])
def test_the_rollup_reads_the_hand_computed_cohort_as_the_live_computation_does(may, as_of):
    """statistics.cohort on every issue reads the rollup (feedback.figures.rollup); ``live=True`` the tables."""
    for filters in (
        {},
        {"channel": "net"},
        {"department": dept("jtj")},
        {"category": Category.objects.get(code="education")},
    ):
        issues = may_cohort(**filters)
        assert issues._stats_cohort is not None
        for figures in (
            statistics.summary,
            statistics.by_department,
            statistics.by_category,
            statistics.by_month,
            statistics.by_township,
        ):
            assert figures(issues, as_of=as_of) == figures(issues, as_of=as_of, live=True), figures.__name__
