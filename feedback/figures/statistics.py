"""The read side: the figures leaders watch, computed in the database as grouped aggregates.

docs/api.md fixes the formulas; every function here runs a constant number of queries
whatever the size of the data (``Count(..., filter=Q(...))`` and ``Exists``), never a Python
loop over rows.

Two ways to the same numbers. A cohort built by ``cohort`` on every issue or on a scope from
``scoped`` is answered from the rollup (feedback.figures.rollup: sums per day received, channel and
category, kept exact by triggers and the services; one statement per figure). Any other queryset,
and ``live=True``, is computed from scratch by the functions below, which define the figures:
tests/feedback/test_rollup.py holds the two equal, field by field.

The cohort is the issues *received* in the window (dates inclusive), optionally narrowed by
channel, by department (issues with an assignment to it) and by category. Everything is judged
as it stood at the end of ``as_of``:

* an assignment is *replied* when its accepted written reply is dated on or before ``as_of``
  (``Assignment.replied_on``, which the core sets only when a reply is accepted); a reply dated
  later counts as not yet given;
* an issue is *replied* when it has at least one assignment and all of them are replied; an
  issue never assigned is not replied;
* an issue is *closed* when ``closed_on`` is on or before ``as_of``;
* a follow-up rating counts whatever its date. 满意, 基本满意 and 不满意 are ratings;
  未联系上 (the requester could not be reached) is not a rating and is left out of ``rated``
  (it is counted apart as ``unreachable`` and in ``followed_up``);
* 未能回访 (``follow_up_skipped``): issues for which the office recorded why no follow-up could be
  done (a reason instead of a rating; docs/decisions/0600). Counted whatever its date, like a rating;
  never rated; a closed one is closed like any other;
* an assignment withdrawn after an accepted objection (异议, status ``withdrawn``) is not counted
  anywhere: the department that took it over has the assignment that counts;
* per assignment: *on time* = replied (by ``as_of``) on or before its due date; *late* =
  replied (by ``as_of``) after it; *overdue open* = not replied by ``as_of`` and due before
  ``as_of``. Assignments not yet due are left out of the on-time rate; open overdue ones count
  against it. The ``*_original`` variants judge against ``original_due_date`` (before any
  extension).

What the data cannot tell (the core keeps no such history in these columns), so the figures
use today's values: the due date (an extension approved after ``as_of`` already counts), and a
re-handled assignment (重办), whose earlier accepted reply is cleared by the core.

Rates are ``part / whole × 100`` rounded half up to one decimal place, ``None`` when the whole
is 0. A township's issues are the cohort's issues assigned to that township (a department of
kind ``township``); for 政民 issues (received at the township's collective reception) that is
where the case arose, and ``channel=citizen`` narrows the table to exactly those.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncMonth
from django.utils import timezone

from feedback.access import Role, issues_for, scope_of
from feedback.figures import rollup
from feedback.models import Assignment, Category, Department, HistoryEntry, Issue, SignedReply

S = Issue.Satisfaction
RATINGS = (S.SATISFIED, S.BASICALLY, S.DISSATISFIED)  # 未联系上 is not a rating
SATISFIED = (S.SATISFIED, S.BASICALLY)
# Every assignment counts except one withdrawn after an accepted objection (it was replaced).
COUNTED = tuple(s for s in Assignment.Status.values if s != Assignment.Status.WITHDRAWN)

# The formulas as shown to people (the dashboard's hover text and docs/user-guide.md).
FORMULAS = {
    "reply_rate": "办理回复率 = 全部交办单位的书面回复均已通过审核（回复日期不晚于统计截止日）的诉求数"
    " ÷ 诉求总数 × 100%",
    "closure_rate": "办结率 = 截止日前已办结的诉求数 ÷ 诉求总数 × 100%",
    "on_time_rate": "按期回复率 = 按期回复的交办数 ÷（按期回复 + 逾期回复 + 超期未回复）的交办数 × 100%；"
    "未到期的交办不计入，超期未回复的计入分母",
    "on_time_rate_original": "按原定期限的按期率：同上，但以延期前的原定期限判断",
    "satisfaction_rate": "满意率 = 回访评价为满意或基本满意的诉求数 ÷ 已评价（满意、基本满意、不满意）的诉求数 × 100%；"
    "未联系上不算评价",
    "follow_up_rate": "回访率 = 已回访（含未联系上）的诉求数 ÷ 诉求总数 × 100%",
    "follow_up_skipped": "未能回访 = 科室登记了未能回访原因（多次联系不上、诉求人拒绝回访等）的诉求数；"
    "不算评价，不计入满意率，办结后照常计入办结数",
    "rehandle_rate": "重办率 = 截止日前书面回复曾被退回、或回访后重办的诉求数 ÷ 诉求总数 × 100%",
    "overdue_open": "超期未回复 = 截止日仍未通过审核回复、且办理期限早于截止日的交办数",
    "department_reply_rate": "单位回复率 = 该单位截止日前已通过审核回复的交办数 ÷ 该单位交办数 × 100%",
}


def rate(part: int, whole: int) -> Decimal | None:
    """``part / whole × 100`` rounded half up to one decimal; ``None`` when ``whole`` is 0.

    Computed in integers, so it is exact: the same as
    ``(Decimal(part * 100) / whole).quantize(Decimal("0.1"), ROUND_HALF_UP)`` without the
    28-digit precision of a Decimal division (2/3 → 66.7, 1/8 → 12.5, 5/16 → 31.3).
    """
    if not whole:
        return None
    tenths = (part * 2000 + whole) // (whole * 2)  # floor(part·1000/whole + ½)
    return Decimal(tenths).scaleb(-1)


# --- the figures ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Figures:
    """Counts for one cohort or one row of a breakdown; the rates are derived."""

    # issues
    issues: int = 0
    requesters: int = 0
    replied: int = 0
    closed: int = 0
    followed_up: int = 0
    rated: int = 0
    satisfied: int = 0
    dissatisfied: int = 0
    unreachable: int = 0
    follow_up_skipped: int = 0
    rehandled: int = 0
    assigned_issues: int = 0  # issues with at least one assignment
    # assignments
    assignments: int = 0
    assignments_replied: int = 0
    on_time: int = 0
    late: int = 0
    overdue_open: int = 0
    on_time_original: int = 0
    late_original: int = 0
    overdue_open_original: int = 0

    @property
    def unreplied(self) -> int:
        return self.issues - self.replied

    @property
    def unassigned(self) -> int:
        return self.issues - self.assigned_issues

    @property
    def reply_rate(self) -> Decimal | None:
        return rate(self.replied, self.issues)

    @property
    def closure_rate(self) -> Decimal | None:
        return rate(self.closed, self.issues)

    @property
    def on_time_rate(self) -> Decimal | None:
        return rate(self.on_time, self.on_time + self.late + self.overdue_open)

    @property
    def on_time_rate_original(self) -> Decimal | None:
        return rate(self.on_time_original, self.on_time_original + self.late_original + self.overdue_open_original)

    @property
    def not_yet_due(self) -> int:
        return self.assignments - self.assignments_replied - self.overdue_open

    @property
    def assignments_unreplied(self) -> int:
        return self.assignments - self.assignments_replied

    @property
    def satisfaction_rate(self) -> Decimal | None:
        return rate(self.satisfied, self.rated)

    @property
    def follow_up_rate(self) -> Decimal | None:
        return rate(self.followed_up, self.issues)

    @property
    def rehandle_rate(self) -> Decimal | None:
        return rate(self.rehandled, self.issues)


@dataclass(frozen=True, kw_only=True)
class Summary(Figures):
    as_of: datetime.date


@dataclass(frozen=True, kw_only=True)
class DepartmentRow(Figures):
    """One department's assignments in the cohort. ``replied`` here counts its *assignments*
    with an accepted reply dated on or before ``as_of`` (docs/api.md), and ``reply_rate`` is
    over its assignments."""

    id: int
    department: str
    name: str
    kind: str

    @property
    def kind_label(self) -> str:
        return Department.Kind(self.kind).label

    @property
    def reply_rate(self) -> Decimal | None:
        return rate(self.replied, self.assignments)

    @property
    def unreplied(self) -> int:
        return self.assignments - self.replied


@dataclass(frozen=True, kw_only=True)
class CategoryRow(Figures):
    """``requesters`` only when asked for (``by_category(requesters=True)``): neither the API nor the
    dashboard shows it, and over five years it is most of the cost."""

    requesters: int | None = None
    id: int
    category: str
    name: str
    share: Decimal | None = None  # of the cohort's issues


@dataclass(frozen=True, kw_only=True)
class TownshipRow(Figures):
    """The cohort's issues assigned to one township; the assignment counts are the township's own.
    ``requesters`` only when asked for (``by_township(requesters=True)``): neither the API nor the
    dashboard shows it, and counting distinct requesters per township is most of the cost."""

    requesters: int | None = None
    id: int
    township: str
    name: str


@dataclass(frozen=True, kw_only=True)
class MonthRow(Figures):
    """The issues received in one month (``month`` = ``YYYY-MM``), judged as at ``as_of``."""

    month: str
    first_day: datetime.date
    last_day: datetime.date


ISSUE_COUNTS = (
    "issues",
    "requesters",
    "closed",
    "followed_up",
    "rated",
    "satisfied",
    "dissatisfied",
    "unreachable",
    "follow_up_skipped",
)
ASSIGNMENT_COUNTS = (
    "assignments",
    "assignments_replied",
    "on_time",
    "late",
    "overdue_open",
    "on_time_original",
    "late_original",
    "overdue_open_original",
)


# --- the cohort -------------------------------------------------------------------------------------


def cohort(
    issues: QuerySet[Issue],
    *,
    channel: str = "",
    department: Department | None = None,
    category: Category | None = None,
    received_from: datetime.date | None = None,
    received_to: datetime.date | None = None,
) -> QuerySet[Issue]:
    """The issues received in the window (dates inclusive), narrowed by the optional filters.

    When ``issues`` is every issue or a scope from ``scoped`` that the rollup can answer, the
    result carries that description (``_rollup_cohort``), and the figures below are read from the
    rollup (feedback.figures.rollup). Filtering the result further drops it (Django clones a queryset
    without its extra attributes): such a cohort is computed live, as any other queryset is."""
    base = _rollup_base(issues)
    if base is not None and channel and base.channel and channel != base.channel:
        base = None  # two channels: an empty cohort, computed live in no time
    if base is not None:
        base = rollup.Cohort(
            channel=channel or base.channel,
            category_id=category.pk if category else None,
            department_id=department.pk if department else None,
            received_from=received_from,
            received_to=received_to,
            not_accusing=base.not_accusing,
        )
    result = _cohort(
        issues,
        channel=channel,
        department=department,
        category=category,
        received_from=received_from,
        received_to=received_to,
    )
    result._stats_cohort = base  # type: ignore[attr-defined]
    return result


def _rollup_base(issues: QuerySet[Issue]) -> rollup.Cohort | None:
    """What the rollup knows of a queryset: a scope marked by ``scoped``, or every issue."""
    marked = getattr(issues, "_stats_scope", None)
    if marked is not None:
        return marked
    query = issues.query
    if (
        issues.model is Issue
        and not query.where.children
        and not query.is_sliced
        and not query.distinct
        and not query.annotations
        and not query.extra
        and not query.combinator
    ):
        return rollup.Cohort()
    return None


def _rollup_cohort(issues: QuerySet[Issue], live: bool) -> rollup.Cohort | None:
    return None if live else getattr(issues, "_stats_cohort", None)


def _cohort(
    issues: QuerySet[Issue],
    *,
    channel: str = "",
    department: Department | None = None,
    category: Category | None = None,
    received_from: datetime.date | None = None,
    received_to: datetime.date | None = None,
) -> QuerySet[Issue]:
    if channel:
        issues = issues.filter(channel=channel)
    if department is not None:
        issues = issues.filter(
            Exists(Assignment.objects.filter(issue=OuterRef("pk"), department=department, status__in=COUNTED))
        )
    if category is not None:
        issues = issues.filter(category=category)
    if received_from is not None:
        issues = issues.filter(received_on__gte=received_from)
    if received_to is not None:
        issues = issues.filter(received_on__lte=received_to)
    return issues.order_by()  # no ORDER BY: it would join the GROUP BY


def scoped(user: Any) -> tuple[QuerySet[Issue], Department | None]:
    """What a user's figures are computed over: the issues they may see (``access.issues_for``:
    a leader or an administrator every issue, an office its channel's, a department member the
    issues assigned to its department, with all their assignments, since whether an issue is
    replied depends on all of them). The second value is set for a department member: the
    department table then shows only that department's own row, not the other handlers'."""
    scope = scope_of(user)
    issues = issues_for(user)
    # What the rollup can answer: every issue, or one channel's, less the accusations of the
    # user's own department (access._not_accused). A department member's issues (any assignment
    # to it, withdrawn ones included) are no set of rollup keys: computed live.
    hidden = scope.department.pk if scope.department is not None else None
    if scope.role in (Role.ADMIN, Role.LEADER):
        issues._stats_scope = rollup.Cohort(not_accusing=hidden)  # type: ignore[attr-defined]
    elif scope.role == Role.OFFICE:
        issues._stats_scope = rollup.Cohort(channel=scope.channel, not_accusing=hidden)  # type: ignore[attr-defined]
    return issues, scope.department if scope.role == Role.DEPARTMENT else None


# Paths from Issue to its assignments: the figures are computed from the issue side, joining
# each cohort issue to its counted assignments, so the cohort's conditions stay plain WHERE
# clauses on the issue table (the planner joins once instead of probing a subquery).
A = "assignments__"


def _replied_q(as_of: datetime.date, p: str = A) -> Q:
    return Q(**{f"{p}replied_on__lte": as_of})


def _unreplied_q(as_of: datetime.date, p: str = A) -> Q:
    return Q(**{f"{p}replied_on__isnull": True}) | Q(**{f"{p}replied_on__gt": as_of})


def _issue_aggregates(as_of: datetime.date) -> dict[str, Count]:
    return {
        "issues": Count("pk"),
        "requesters": Count("requester", distinct=True),
        "closed": Count("pk", filter=Q(closed_on__lte=as_of)),
        "followed_up": Count("pk", filter=~Q(satisfaction="")),
        "rated": Count("pk", filter=Q(satisfaction__in=RATINGS)),
        "satisfied": Count("pk", filter=Q(satisfaction__in=SATISFIED)),
        "dissatisfied": Count("pk", filter=Q(satisfaction=S.DISSATISFIED)),
        "unreachable": Count("pk", filter=Q(satisfaction=S.UNREACHABLE)),
        "follow_up_skipped": Count("pk", filter=~Q(follow_up_skipped="")),
    }


def _assignment_aggregates(as_of: datetime.date, p: str = A) -> dict[str, Count]:
    """Keyed ``n_<name>``: an annotation may not be named like the ``assignments`` relation."""
    replied, unreplied, n = _replied_q(as_of, p), _unreplied_q(as_of, p), f"{p}id"
    return {
        "n_assignments": Count(n),
        "n_assignments_replied": Count(n, filter=replied),
        "n_on_time": Count(n, filter=replied & Q(**{f"{p}replied_on__lte": F(f"{p}due_date")})),
        "n_late": Count(n, filter=replied & Q(**{f"{p}replied_on__gt": F(f"{p}due_date")})),
        "n_overdue_open": Count(n, filter=unreplied & Q(**{f"{p}due_date__lt": as_of})),
        "n_on_time_original": Count(n, filter=replied & Q(**{f"{p}replied_on__lte": F(f"{p}original_due_date")})),
        "n_late_original": Count(n, filter=replied & Q(**{f"{p}replied_on__gt": F(f"{p}original_due_date")})),
        "n_overdue_open_original": Count(n, filter=unreplied & Q(**{f"{p}original_due_date__lt": as_of})),
    }


def _assignment_counts(row: Mapping[str, Any]) -> dict[str, int]:
    return {name: row[f"n_{name}"] or 0 for name in ASSIGNMENT_COUNTS}


def _joined(issues: QuerySet[Issue], **assignment: Any) -> QuerySet[Issue]:
    """One row per counted assignment of a cohort issue (one filter() call, so one join)."""
    return issues.order_by().filter(assignments__status__in=COUNTED, **{f"{A}{k}": v for k, v in assignment.items()})


def _fully_replied(issues: QuerySet[Issue], as_of: datetime.date) -> QuerySet[Issue]:
    """Issues with at least one assignment, none of them unreplied at ``as_of`` (in a WHERE
    clause PostgreSQL runs both as a hash semi-join and anti-join, not a subquery per issue)."""
    mine = Assignment.objects.filter(issue=OuterRef("pk"), status__in=COUNTED)
    return issues.filter(Exists(mine), ~Exists(mine.filter(_unreplied_q(as_of, ""))))


def _end_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min))


def _by_key(rows: Iterable[Mapping[str, Any]]) -> dict[Any, Mapping[str, Any]]:
    return {row["key"]: row for row in rows}


def _issue_replied(row: Mapping[str, Any] | None) -> dict[str, int]:
    """From a join row: issues with an assignment, minus those with one still unreplied."""
    if row is None:
        return {"replied": 0}
    return {
        "replied": row["assigned_issues"] - row["unreplied_issues"],
        "assigned_issues": row["assigned_issues"],
        **_assignment_counts(row),
    }


def _replied_issue_aggregates(as_of: datetime.date) -> dict[str, Count]:
    return {
        "assigned_issues": Count("pk", distinct=True),
        "unreplied_issues": Count("pk", distinct=True, filter=_unreplied_q(as_of)),
    }


def _grouped_assignments(issues: QuerySet[Issue], as_of: datetime.date, key: Any) -> dict[Any, Mapping[str, Any]]:
    """Per key: the assignment counts, and the issues fully replied (counted distinct, since the
    join repeats a co-handled issue once per assignment). One query."""
    return _by_key(
        _joined(issues)
        .annotate(key=key)
        .values("key")
        .annotate(**_replied_issue_aggregates(as_of), **_assignment_aggregates(as_of))
    )


# --- summary ----------------------------------------------------------------------------------------


def summary(issues: QuerySet[Issue], *, as_of: datetime.date | None = None, live: bool = False) -> Summary:
    """The headline figures of a cohort (``issues``, see ``cohort``): from the rollup two queries
    (whether a key is live, then the figures; three when one is, see ``rollup._figures``), three
    computed live (``live=True``, or a cohort the rollup cannot answer)."""
    as_of = as_of or timezone.localdate()
    if (c := _rollup_cohort(issues, live)) is not None:
        return Summary(as_of=as_of, **rollup.issue_figures(c, as_of)[None])
    issues = issues.order_by()
    counts: dict[str, int] = issues.aggregate(**_issue_aggregates(as_of))
    # One pass over the cohort's assignments gives the assignment counts and the replied issues:
    # those with an assignment minus those with one still unreplied (distinct, since the join
    # repeats a co-handled issue). Measured faster than grouping by issue first (bench/stats.py).
    counts.update(
        _issue_replied(_joined(issues).aggregate(**_replied_issue_aggregates(as_of), **_assignment_aggregates(as_of)))
    )
    # A reply returned by the office (退回重办) counts as re-handling, as does 重办 after follow-up.
    counts["rehandled"] = issues.filter(
        Exists(
            HistoryEntry.objects.filter(
                issue=OuterRef("pk"), action__in=("reopen", "return_reply"), at__lt=_end_of(as_of)
            )
        )
    ).count()
    return Summary(as_of=as_of, **counts)


# --- breakdowns -------------------------------------------------------------------------------------


def by_department(
    issues: QuerySet[Issue], *, as_of: datetime.date | None = None, only: Department | None = None, live: bool = False
) -> list[DepartmentRow]:
    """One row per department with assignments in the cohort (county bureaus, then townships,
    each in their usual order); ``only`` keeps one department's row. From the rollup unless ``live``:
    two queries (whether a key is live, then the counts with the departments' names; three when a key
    is live); computed live for a cohort filtered by department, whose co-handlers' rows the rollup
    does not hold: two (the counts, the names)."""
    as_of = as_of or timezone.localdate()
    c = _rollup_cohort(issues, live)
    if c is not None and c.department_id is None:
        counts = rollup.department_figures(c, as_of)
        if only is not None:
            counts = {k: v for k, v in counts.items() if k.id == only.pk}
    else:  # grouped by the department id alone (cheaper than by its name as well), the names apart
        by_id = {
            row[f"{A}department"]: _assignment_counts(row)
            for row in _joined(issues, **({"department": only} if only is not None else {}))
            .values(f"{A}department")
            .annotate(**_assignment_aggregates(as_of))
        }
        counts = {
            rollup.Unit(d.pk, d.code, d.name, d.kind, d.sort_order): by_id[d.pk]
            for d in Department.objects.filter(pk__in=list(by_id))
        }
    kind_order = {Department.Kind.BUREAU: 0, Department.Kind.TOWNSHIP: 1}
    result = []
    for unit in sorted(counts, key=lambda u: (kind_order.get(u.kind, 9), u.sort_order, u.code)):
        row = {name: counts[unit][name] for name in ASSIGNMENT_COUNTS}
        result.append(
            DepartmentRow(
                id=unit.id,
                department=unit.code,
                name=unit.name,
                kind=unit.kind,
                replied=row["assignments_replied"],
                **row,
            )
        )
    return result


def by_category(
    issues: QuerySet[Issue], *, as_of: datetime.date | None = None, live: bool = False, requesters: bool = False
) -> list[CategoryRow]:
    """One row per category with issues in the cohort, largest first. From the rollup three queries
    (as ``summary``, then the categories' names), live two. Distinct requesters per category only
    with ``requesters``."""
    as_of = as_of or timezone.localdate()
    if (c := _rollup_cohort(issues, live)) is not None:
        counts = rollup.issue_figures(c, as_of, by="category", requesters=requesters)
        categories = Category.objects.in_bulk(list(counts))
        total = sum(r["issues"] for r in counts.values())
        result = [
            CategoryRow(
                id=pk,
                category=categories[pk].code,
                name=categories[pk].name,
                share=rate(r["issues"], total),
                **{**_breakdown_counts(r), "requesters": r["requesters"] if requesters else None},
            )
            for pk, r in counts.items()
            if r["issues"]
        ]
        result.sort(key=lambda r: (-r.issues, r.category))
        return result
    issues = issues.order_by()
    issue_rows = list(
        issues.values("category").annotate(
            key=F("category"), code=F("category__code"), name=F("category__name"), **_issue_aggregates(as_of)
        )
    )
    assigned = _grouped_assignments(issues, as_of, F("category"))
    total = sum(r["issues"] for r in issue_rows)
    result = [
        CategoryRow(
            id=r["key"],
            category=r["code"],
            name=r["name"],
            share=rate(r["issues"], total),
            **{**{n: r[n] for n in ISSUE_COUNTS}, "requesters": r["requesters"] if requesters else None},
            **_issue_replied(assigned.get(r["key"])),
        )
        for r in issue_rows
    ]
    result.sort(key=lambda r: (-r.issues, r.category))
    return result


def by_month(issues: QuerySet[Issue], *, as_of: datetime.date | None = None, live: bool = False) -> list[MonthRow]:
    """One row per month of receipt with issues in the cohort, oldest first. Two queries from the
    rollup (as ``summary``), two live."""
    as_of = as_of or timezone.localdate()
    if (c := _rollup_cohort(issues, live)) is not None:
        counts = rollup.issue_figures(c, as_of, by="month")
        return [
            MonthRow(
                month=f"{first:%Y-%m}", first_day=first, last_day=_last_day(first), **_breakdown_counts(counts[first])
            )
            for first in sorted(counts)
            if counts[first]["issues"]
        ]
    issues = issues.order_by()
    month = TruncMonth("received_on")
    issue_rows = list(issues.annotate(key=month).values("key").annotate(**_issue_aggregates(as_of)))
    assigned = _grouped_assignments(issues, as_of, month)
    result = []
    for r in sorted(issue_rows, key=lambda r: r["key"]):
        first = _as_date(r["key"])
        result.append(
            MonthRow(
                month=f"{first:%Y-%m}",
                first_day=first,
                last_day=_last_day(first),
                **{n: r[n] for n in ISSUE_COUNTS},
                **_issue_replied(assigned.get(r["key"])),
            )
        )
    return result


def by_township(
    issues: QuerySet[Issue], *, as_of: datetime.date | None = None, live: bool = False, requesters: bool = False
) -> list[TownshipRow]:
    """One row per township with cohort issues assigned to it: from the rollup (unless ``live``, or the
    cohort is filtered by department) two queries as for ``by_department``, live two. Distinct
    requesters per township only with ``requesters`` (0.5 s of the 0.55 s at a million issues)."""
    as_of = as_of or timezone.localdate()
    c = _rollup_cohort(issues, live)
    if c is not None and c.department_id is None:
        counts = rollup.department_figures(c, as_of, townships=True, requesters=requesters)
        return [
            TownshipRow(
                id=unit.id,
                township=unit.code,
                name=unit.name,
                **{**_breakdown_counts(counts[unit]), "requesters": counts[unit]["requesters"] if requesters else None},
            )
            for unit in sorted(counts, key=lambda u: (u.sort_order, u.code))
        ]
    # The join to the township's own assignment: one row per (issue, township), since an issue
    # has at most one counted assignment per department, so counting rows counts issues.
    in_townships = _joined(issues, department__kind=Department.Kind.TOWNSHIP)
    key = F(f"{A}department")
    issue_rows = list(
        in_townships.annotate(key=key)
        .values("key")
        .annotate(
            code=F(f"{A}department__code"),
            name=F(f"{A}department__name"),
            order=F(f"{A}department__sort_order"),
            **_issue_aggregates(as_of),
            **_assignment_aggregates(as_of),
        )
    )
    # Whether the issue is replied depends on all its assignments, the township's and the others'.
    replied = _by_key(_fully_replied(in_townships, as_of).annotate(key=key).values("key").annotate(replied=Count("pk")))
    issue_rows.sort(key=lambda r: (r["order"], r["code"]))
    return [
        TownshipRow(
            id=r["key"],
            township=r["code"],
            name=r["name"],
            assigned_issues=r["issues"],
            replied=replied.get(r["key"], {}).get("replied", 0),
            **{**{n: r[n] for n in ISSUE_COUNTS}, "requesters": r["requesters"] if requesters else None},
            **_assignment_counts(r),
        )
        for r in issue_rows
    ]


def _breakdown_counts(counts: Mapping[str, int]) -> dict[str, int]:
    """A breakdown row's figures from the rollup's counts: like the live rows, without the
    re-handled issues (only the summary counts them)."""
    return {name: value for name, value in counts.items() if name != "rehandled"}


def _last_day(first: datetime.date) -> datetime.date:
    return (first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)


def _as_date(value: datetime.date | datetime.datetime) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


# --- the items behind the numbers -------------------------------------------------------------------


def open_assignments(
    issues: QuerySet[Issue],
    *,
    as_of: datetime.date | None = None,
    only: Department | None = None,
    overdue_only: bool = True,
) -> QuerySet[Assignment]:
    """The cohort's assignments not replied by ``as_of`` (only those due before it when
    ``overdue_only``), longest overdue first: the items missing from the 100% target."""
    as_of = as_of or timezone.localdate()
    rows = Assignment.objects.filter(
        _unreplied_q(as_of, ""), issue__in=issues.order_by().values("pk"), status__in=COUNTED
    )
    if only is not None:
        rows = rows.filter(department=only)
    if overdue_only:
        rows = rows.filter(due_date__lt=as_of)
    return rows.select_related("issue", "department").order_by("due_date", "id")


def lead_result_is(result: str) -> Q:
    """Issues whose lead assignment is accepted and whose latest accepted reply has ``result``."""
    latest = (
        SignedReply.objects.filter(assignment=OuterRef("pk"), review_status=SignedReply.Review.ACCEPTED)
        .order_by("-version")
        .values("result")[:1]
    )
    leads = (
        Assignment.objects.filter(issue=OuterRef("pk"), role=Assignment.Role.LEAD, status=Assignment.Status.ACCEPTED)
        .annotate(latest_result=Subquery(latest))
        .filter(latest_result=result)
    )
    return Q(Exists(leads))


def fully_replied_q() -> Q:
    """Replied as the dashboard counts it today: an assignment, and none still without an accepted reply."""
    mine = Assignment.objects.filter(issue=OuterRef("pk"), status__in=COUNTED)
    return Q(Exists(mine)) & ~Q(Exists(mine.filter(replied_on__isnull=True)))
