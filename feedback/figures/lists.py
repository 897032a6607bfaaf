"""The records behind every figure: for each count of ``feedback.figures.statistics``, the issues or
assignments it counts, as a queryset, and the URL of the API list that pages through them.

A figure and its list are two readings of one definition: ``issue_q`` and ``assignment_q`` state in
a WHERE clause exactly what the grouped aggregates of ``statistics`` count in a FILTER clause, judged
at the end of ``as_of`` (tests/feedback/test_figure_lists.py holds the list's count equal to the
figure for random data, every figure, filter, row and ``as_of``).

A ``Cut`` is what a number is counted over: the cohort's filters (those of the statistics API, with
the same meaning), ``as_of``, and for a row of a breakdown its ``unit`` — a department's own
assignments in the department table, the issues assigned to a township and the township's own
assignments in the township table. A category row is the cohort narrowed to the category, a month
row the window narrowed to the month.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone

from feedback.figures.statistics import COUNTED, RATINGS, SATISFIED, S, cohort, lead_result_is
from feedback.models import Assignment, Category, Channel, Department, HistoryEntry, Issue, Requester, SignedReply

# Figure name → what the list shows (the page's heading).
ISSUE_FIGURES: dict[str, str] = {
    "issues": "诉求",
    "replied": "全部交办单位均已通过审核回复的诉求",
    "unreplied": "尚未全部回复的诉求",
    "unassigned": "尚未交办的诉求",
    "closed": "已办结的诉求",
    "unclosed": "尚未办结的诉求",
    "followed_up": "已回访的诉求（含未联系上）",
    "rated": "已评价（满意、基本满意、不满意）的诉求",
    "satisfied": "评价为满意或基本满意的诉求",
    "dissatisfied": "评价为不满意的诉求",
    "unreachable": "回访未联系上的诉求",
    "follow_up_skipped": "未能回访（已登记原因）的诉求",
    "rehandled": "曾被重办的诉求（书面回复被退回，或回访后重新交办）",
    # The county report's own lines (feedback.figures.report).
    "suggestions": "性质为“建议”的诉求",
    "suggestions_replied": "性质为“建议”、全部交办单位均已通过审核回复的诉求",
    "enterprise_resolved": "政企直通车诉求中主办单位书面回复为“已解决”的诉求",
}
ASSIGNMENT_FIGURES: dict[str, str] = {
    "assignments": "交办",
    "assignments_replied": "已通过审核回复的交办",
    "assignments_unreplied": "未回复的交办",
    "on_time": "按期回复的交办",
    "late": "逾期回复的交办",
    "overdue_open": "超期未回复的交办",
    "not_yet_due": "未回复、尚未到期的交办",
    "on_time_original": "按原定期限按期回复的交办",
    "late_original": "按原定期限逾期回复的交办",
    "overdue_open_original": "按原定期限超期未回复的交办",
}
FIGURES = {**ISSUE_FIGURES, **ASSIGNMENT_FIGURES}
# Not a list of records of one kind: the distinct requesters of the cohort (statistics' ``requesters``),
# listed on the dashboard's item page as requesters, one row each (``figure_requesters``).
REQUESTERS = "requesters"
REQUESTERS_TITLE = "诉求人（按人去重）"

# The counts each row of the statistics API gives, and the figure whose records each one counts.
# (In the department table ``replied`` counts the department's assignments.)
_ROW_COUNTS = (
    "issues",
    "replied",
    "unreplied",
    "closed",
    "rated",
    "satisfied",
    "assignments",
    "on_time",
    "late",
    "overdue_open",
    "not_yet_due",
    "on_time_original",
    "late_original",
    "overdue_open_original",
)
SUMMARY_LISTS = {
    name: name
    for name in (
        *_ROW_COUNTS,
        "assignments_replied",
        "followed_up",
        "dissatisfied",
        "unreachable",
        "follow_up_skipped",
        "rehandled",
    )
}
BREAKDOWN_LISTS = {name: name for name in _ROW_COUNTS}
DEPARTMENT_LISTS = {
    "assignments": "assignments",
    "replied": "assignments_replied",
    "unreplied": "assignments_unreplied",
    **{
        name: name
        for name in (
            "on_time",
            "late",
            "overdue_open",
            "not_yet_due",
            "on_time_original",
            "late_original",
            "overdue_open_original",
        )
    },
}


def is_issue_figure(figure: str) -> bool:
    return figure in ISSUE_FIGURES


@dataclass(frozen=True, kw_only=True)
class Cut:
    """What one number is counted over (codes and dates, as in the statistics API's query string)."""

    as_of: datetime.date
    channel: str = ""
    department: str = ""  # the cohort: issues with a counted assignment to it
    category: str = ""
    received_from: datetime.date | None = None
    received_to: datetime.date | None = None
    unit: str = ""  # a row: that department's own assignments / the issues assigned to it

    def narrowed(self, **change: Any) -> Cut:
        return replace(self, **change)

    def month(self, first: datetime.date, last: datetime.date) -> Cut:
        """The cut narrowed to one month of receipt (within the window)."""
        start = max(first, self.received_from) if self.received_from else first
        end = min(last, self.received_to) if self.received_to else last
        return replace(self, received_from=start, received_to=end)

    def params(self) -> dict[str, str]:
        values = {
            "channel": self.channel,
            "department": self.department,
            "category": self.category,
            "received_from": _iso(self.received_from),
            "received_to": _iso(self.received_to),
            "as_of": self.as_of.isoformat(),
            "unit": self.unit,
        }
        return {k: v for k, v in values.items() if v}

    def query(self) -> str:
        """``params()`` as a query string, built once per cut: a dashboard links ~440 numbers over a few
        dozen cuts."""
        built: str | None = self.__dict__.get("_query")
        if built is None:
            built = urlencode(self.params())
            object.__setattr__(self, "_query", built)
        return built


def _iso(day: datetime.date | None) -> str:
    return day.isoformat() if day else ""


def api_url(figure: str, cut: Cut) -> str:
    """The API list of the records behind ``figure`` (paginated with ``count``)."""
    return _list_path(figure) + "?" + cut.query()


# The path of each figure's list, per URL configuration and script prefix: a summary names 20 lists
# and a department table 20 per row, and ``reverse`` costs ~25 µs a call (issue 16: the summary
# endpoint's time beyond its figures).
_PATHS: dict[tuple[str | None, str, str], str] = {}


def _list_path(figure: str) -> str:
    key = (get_urlconf(settings.ROOT_URLCONF), get_script_prefix(), figure)
    path = _PATHS.get(key)
    if path is None:
        name = "api:issue-figures" if is_issue_figure(figure) else "api:assignment-figures"
        path = _PATHS[key] = reverse(name, kwargs={"figure": figure})
    return path


def row_lists(names: dict[str, str], cut: Cut, *, assignments_visible: bool = True) -> dict[str, str | None]:
    """``lists`` of one API row: each count's name → its list's URL (``None`` for an assignment list
    the user may not read whole, see ``assignments_visible``)."""
    query = "?" + cut.query()
    return {
        name: (_list_path(figure) + query if assignments_visible or is_issue_figure(figure) else None)
        for name, figure in names.items()
    }


# --- the definitions --------------------------------------------------------------------------------


def _counted(**lookup: Any) -> QuerySet[Assignment]:
    return Assignment.objects.filter(issue=OuterRef("pk"), status__in=COUNTED, **lookup)


def _unreplied(as_of: datetime.date) -> Q:
    return Q(replied_on__isnull=True) | Q(replied_on__gt=as_of)


def issue_q(figure: str, as_of: datetime.date) -> Q:
    """The issues of a cohort that ``figure`` counts, judged at the end of ``as_of``."""
    fully_replied = Q(Exists(_counted())) & ~Q(Exists(_counted().filter(_unreplied(as_of))))
    # The end of ``as_of`` in local time (as statistics._end_of).
    end_of_day = timezone.make_aware(datetime.datetime.combine(as_of + datetime.timedelta(days=1), datetime.time.min))
    rehandled = HistoryEntry.objects.filter(issue=OuterRef("pk"), action__in=("reopen", "return_reply"))
    definitions = {
        "issues": Q(),
        "replied": fully_replied,
        "unreplied": ~fully_replied,
        "unassigned": ~Q(Exists(_counted())),
        "closed": Q(closed_on__lte=as_of),
        "unclosed": Q(closed_on__isnull=True) | Q(closed_on__gt=as_of),
        "followed_up": ~Q(satisfaction=""),
        "rated": Q(satisfaction__in=RATINGS),
        "satisfied": Q(satisfaction__in=SATISFIED),
        "dissatisfied": Q(satisfaction=S.DISSATISFIED),
        "unreachable": Q(satisfaction=S.UNREACHABLE),
        "follow_up_skipped": ~Q(follow_up_skipped=""),
        "rehandled": Q(Exists(rehandled.filter(at__lt=end_of_day))),
        "suggestions": Q(nature=Issue.Nature.SUGGESTION),
        "suggestions_replied": Q(nature=Issue.Nature.SUGGESTION) & fully_replied,
        # As the report counts it: the lead's latest accepted reply, whatever ``as_of``.
        "enterprise_resolved": Q(channel=Channel.ENTERPRISE) & lead_result_is(SignedReply.Result.RESOLVED),
    }
    return definitions[figure]


def assignment_q(figure: str, as_of: datetime.date) -> Q:
    """The counted assignments of a cohort that ``figure`` counts, judged at the end of ``as_of``."""
    replied, unreplied = Q(replied_on__lte=as_of), _unreplied(as_of)
    definitions = {
        "assignments": Q(),
        "assignments_replied": replied,
        "assignments_unreplied": unreplied,
        "on_time": replied & Q(replied_on__lte=F("due_date")),
        "late": replied & Q(replied_on__gt=F("due_date")),
        "overdue_open": unreplied & Q(due_date__lt=as_of),
        "not_yet_due": unreplied & Q(due_date__gte=as_of),
        "on_time_original": replied & Q(replied_on__lte=F("original_due_date")),
        "late_original": replied & Q(replied_on__gt=F("original_due_date")),
        "overdue_open_original": unreplied & Q(original_due_date__lt=as_of),
    }
    return definitions[figure]


def cut_cohort(issues: QuerySet[Issue], cut: Cut) -> QuerySet[Issue]:
    """The cohort of ``cut`` within ``issues`` (the user's scope), as ``statistics.cohort`` builds it;
    with a unit, only the issues with a counted assignment to it (a township row)."""
    department = Department.objects.filter(code=cut.department).first() if cut.department else None
    category = Category.objects.filter(code=cut.category).first() if cut.category else None
    result = cohort(
        issues,
        channel=cut.channel,
        department=department,
        category=category,
        received_from=cut.received_from,
        received_to=cut.received_to,
    )
    if (cut.department and department is None) or (cut.category and category is None):
        return result.none()
    if cut.unit:
        result = result.filter(Exists(_counted(department__code=cut.unit)))
    return result


def figure_issues(issues: QuerySet[Issue], figure: str, cut: Cut) -> QuerySet[Issue]:
    """The issues behind an issue figure: ``issues`` is the user's scope (any queryset of it)."""
    return cut_cohort(issues, cut).filter(issue_q(figure, cut.as_of))


def figure_assignments(
    assignments: QuerySet[Assignment], issues: QuerySet[Issue], figure: str, cut: Cut
) -> QuerySet[Assignment]:
    """The assignments behind an assignment figure: the counted assignments (of the unit, for a row)
    of the cohort's issues, among ``assignments`` (what the user may read)."""
    rows = assignments.filter(status__in=COUNTED, issue__in=cut_cohort(issues, cut).values("pk"))
    if cut.unit:
        rows = rows.filter(department__code=cut.unit)
    return rows.filter(assignment_q(figure, cut.as_of))


def figure_requesters(issues: QuerySet[Issue], cut: Cut) -> QuerySet[Requester]:
    """The distinct requesters of the cohort of ``cut`` (``statistics``' ``requesters``), each with
    ``cohort_issues``, the number of the cohort's issues they raised."""
    mine = cut_cohort(issues, cut)
    return Requester.objects.filter(pk__in=mine.values("requester")).annotate(
        cohort_issues=Count("issues", filter=Q(issues__in=mine.values("pk")))
    )
