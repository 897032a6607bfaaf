"""The leaders' dashboard (统计看板): the figures of ``feedback.figures.statistics`` as a page.

For county leaders, channel offices (their channel) and administrators; anyone else gets 404.
Every number links to the items behind it: the issue list (``/issues/?…``, which filters by
channel, status, category, department and dates) or, for unreplied and overdue assignments,
this module's own list (``/dashboard/items/``), which judges them at ``as_of`` exactly as the
figures do. A constant number of queries per page, whatever the data (tests/feedback/test_dashboard.py).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from feedback.access import Role, Scope, scope_of
from feedback.assets import ECHARTS, available
from feedback.figures import statistics
from feedback.figures.statistics import FORMULAS, DepartmentRow, Figures, MonthRow
from feedback.forms import PortalForm
from feedback.models import Category, Channel, Department
from feedback.views.common import query_without_page

DASHBOARD_ROLES = (Role.LEADER, Role.OFFICE, Role.ADMIN)
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
ITEMS_PAGE_SIZE = 50
OVERDUE_PREVIEW = 15
# The monthly trend fills the months without issues, but not over centuries: a period longer than
# this (received_from=1900-01-01) is shown from its first to its last month with issues.
TREND_MONTHS = 120


class DashboardFilterForm(PortalForm):
    channel = forms.ChoiceField(label="渠道", required=False)
    department = forms.ChoiceField(label="承办单位", required=False)
    category = forms.ModelChoiceField(label="分类", required=False, queryset=Category.objects.all(),
                                      to_field_name="code", empty_label="全部分类")
    received_from = forms.DateField(label="受理日期从", required=False, widget=DATE_WIDGET)
    received_to = forms.DateField(label="至", required=False, widget=DATE_WIDGET)
    as_of = forms.DateField(label="统计截止日", required=False, widget=DATE_WIDGET,
                            help_text="默认今天；此后的回复和办结视为尚未发生")

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if scope.role == Role.OFFICE:
            self.fields["channel"].choices = [(scope.channel, Channel(scope.channel).label)]
        else:
            self.fields["channel"].choices = [("", "全部渠道"), *Channel.choices]
        # County bureaus and townships in separate groups: a township is chosen here too.
        departments = Department.objects.exclude(kind=Department.Kind.OFFICE).order_by("kind", "sort_order", "code")
        groups: dict[str, list[tuple[str, str]]] = {}
        self._departments = {}
        for d in departments:
            groups.setdefault(d.get_kind_display(), []).append((d.code, d.name + ("" if d.active else "（已停用）")))
            self._departments[d.code] = d
        self.fields["department"].choices = [("", "全部单位"), *groups.items()]

    def clean_department(self) -> Department | None:
        code = self.cleaned_data.get("department")
        return self._departments.get(code) if code else None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("received_from"), data.get("received_to")
        if start and end and start > end:
            self.add_error("received_to", "结束日期不能早于开始日期。")
        return data


@dataclass(frozen=True)
class Filters:
    channel: str = ""
    department: Department | None = None
    category: Category | None = None
    received_from: datetime.date | None = None
    received_to: datetime.date | None = None
    as_of: datetime.date | None = None

    def cohort_kwargs(self) -> dict[str, Any]:
        return {"channel": self.channel, "department": self.department, "category": self.category,
                "received_from": self.received_from, "received_to": self.received_to}

    def query(self, **override: Any) -> str:
        """This dashboard's own query string (codes, as in the API)."""
        values = {"channel": self.channel, "department": self.department.code if self.department else "",
                  "category": self.category.code if self.category else "",
                  "received_from": _iso(self.received_from), "received_to": _iso(self.received_to),
                  "as_of": _iso(self.as_of)}
        values.update(override)
        return urlencode({k: v for k, v in values.items() if v})

    def issues_url(self, **override: Any) -> str:
        """The issue list filtered to the same cohort (it takes ids for department and category)."""
        values = {"channel": self.channel, "department": self.department.pk if self.department else "",
                  "category": self.category.pk if self.category else "",
                  "received_from": _iso(self.received_from), "received_to": _iso(self.received_to)}
        values.update(override)
        return reverse("issue_list") + "?" + urlencode({k: v for k, v in values.items() if v})

    def items_url(self, which: str, **override: Any) -> str:
        rest = self.query(**override)
        return reverse("dashboard_items") + f"?which={which}" + (f"&{rest}" if rest else "")


def _iso(day: datetime.date | None) -> str:
    return day.isoformat() if day else ""


def _dashboard_scope(request: HttpRequest) -> Scope:
    scope = scope_of(request.user)
    if scope.role not in DASHBOARD_ROLES:
        raise Http404("统计看板供县领导、直通车办公室和管理员使用。")
    return scope


def _filters(request: HttpRequest, scope: Scope) -> tuple[DashboardFilterForm, Filters]:
    form = DashboardFilterForm(request.GET or None, scope=scope)
    data = form.cleaned_data if form.is_valid() else {}
    filters = Filters(channel=data.get("channel") or "", department=data.get("department"),
                      category=data.get("category"), received_from=data.get("received_from"),
                      received_to=data.get("received_to"), as_of=data.get("as_of"))
    return form, filters


def _number(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _rank(rows: list[DepartmentRow]) -> list[DepartmentRow]:
    """Best first: on-time rate, then reply rate, then fewest overdue; no rate yet goes last."""
    return sorted(rows, key=lambda r: (r.on_time_rate is None, -(r.on_time_rate or 0), -(r.reply_rate or 0),
                                       r.overdue_open, r.department))


def _periods(today: datetime.date) -> list[tuple[str, datetime.date, datetime.date]]:
    return [
        ("本月", today.replace(day=1), today),
        ("本季度", today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1), today),
        ("今年", today.replace(month=1, day=1), today),
        ("近12个月", today - datetime.timedelta(days=364), today),
    ]


@dataclass(frozen=True)
class Linked:
    """A row of a breakdown with the links behind its numbers."""

    row: Any
    link: str
    unreplied_link: str = ""
    overdue_link: str = ""


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    scope = _dashboard_scope(request)
    form, filters = _filters(request, scope)
    today = timezone.localdate()
    as_of = filters.as_of or today
    issues, _ = statistics.scoped(request.user)
    cohort = statistics.cohort(issues, **filters.cohort_kwargs())

    summary = statistics.summary(cohort, as_of=as_of)
    departments = statistics.by_department(cohort, as_of=as_of)
    categories = statistics.by_category(cohort, as_of=as_of)
    townships = statistics.by_township(cohort, as_of=as_of)
    months = every_month(statistics.by_month(cohort, as_of=as_of), filters)
    overdue = list(statistics.open_assignments(cohort, as_of=as_of)[:OVERDUE_PREVIEW])

    bureaus = _rank([d for d in departments if d.kind == Department.Kind.BUREAU])
    town_rank = _rank([d for d in departments if d.kind == Department.Kind.TOWNSHIP])
    missing = sorted((d for d in departments if d.unreplied or d.overdue_open),
                     key=lambda d: (-d.overdue_open, -d.unreplied, d.department))
    for a in overdue:
        a.days_overdue = (as_of - a.due_date).days  # type: ignore[attr-defined]

    chart_data = {
        "bureaus": [_chart_row(d) for d in bureaus],
        "townships": [_chart_row(d) for d in town_rank],
        "categories": [{"name": c.name, "issues": c.issues} for c in categories],
        "months": [{"month": m.month, "issues": m.issues, "reply_rate": _number(m.reply_rate),
                    "on_time_rate": _number(m.on_time_rate)} for m in months],
    }
    return render(request, "feedback/dashboard.html", {
        "form": form,
        "filters": filters,
        "as_of": as_of,
        "as_of_is_today": as_of == today,
        "periods": [(label, filters.query(received_from=start.isoformat(), received_to=end.isoformat()))
                    for label, start, end in _periods(today)],
        "s": summary,
        "headline": headline(summary, filters),
        "bureaus": [department_links(d, filters) for d in bureaus],
        "township_rank": [department_links(d, filters) for d in town_rank],
        "missing": [department_links(d, filters) for d in missing],
        "categories": [Linked(c, filters.issues_url(category=c.id)) for c in categories],
        "townships": [Linked(t, filters.issues_url(department=t.id)) for t in townships],
        "months": [Linked(m, month_link(m, filters)) for m in months],
        "overdue": overdue,
        "overdue_more": summary.overdue_open - len(overdue),
        "links": {
            "issues": filters.issues_url(),
            "unassigned": filters.issues_url(status="registered"),
            "unreplied": filters.items_url("unreplied"),
            "overdue": filters.items_url("overdue"),
        },
        "formulas": FORMULAS,
        "chart_data": chart_data,
        "echarts": available(ECHARTS),
        "echarts_path": ECHARTS,
    })


def department_links(row: DepartmentRow, filters: Filters) -> Linked:
    return Linked(row, filters.issues_url(department=row.id),
                  unreplied_link=filters.items_url("unreplied", department=row.department),
                  overdue_link=filters.items_url("overdue", department=row.department))


def every_month(rows: list[MonthRow], filters: Filters) -> list[MonthRow]:
    """``by_month``'s rows (months with issues, oldest first) with an empty row for each month between
    them, so the trend's axis runs month by month and its lines do not join months far apart.

    The months run over the chosen period, or where it is open (or longer than ``TREND_MONTHS``), from
    the first to the last month with issues; an empty month has zero counts and no rates (``None``).
    No issues at all: no rows (the page says so rather than drawing a flat line)."""
    if not rows:
        return []
    first, last = rows[0].first_day, rows[-1].first_day
    if filters.received_from:
        first = min(first, filters.received_from.replace(day=1))
    if filters.received_to:
        last = max(last, filters.received_to.replace(day=1))
    if _months_between(first, last) >= TREND_MONTHS:
        first, last = rows[0].first_day, rows[-1].first_day
    found = {row.first_day: row for row in rows}
    result = []
    month = first
    while month <= last:
        following = (month + datetime.timedelta(days=31)).replace(day=1)
        empty = MonthRow(month=f"{month:%Y-%m}", first_day=month, last_day=following - datetime.timedelta(days=1))
        result.append(found.get(month, empty))
        month = following
    return result


def _months_between(first: datetime.date, last: datetime.date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month


def month_link(month: MonthRow, filters: Filters) -> str:
    """The issue list for the month, within the chosen period."""
    start = max(month.first_day, filters.received_from) if filters.received_from else month.first_day
    end = min(month.last_day, filters.received_to) if filters.received_to else month.last_day
    return filters.issues_url(received_from=start.isoformat(), received_to=end.isoformat())


def _chart_row(d: DepartmentRow) -> dict[str, Any]:
    return {"name": d.name, "on_time_rate": _number(d.on_time_rate), "reply_rate": _number(d.reply_rate),
            "overdue_open": d.overdue_open}


@dataclass(frozen=True)
class Card:
    label: str
    value: str
    detail: str
    formula: str
    link: str
    target_gap: int | None = None  # items missing from 100%
    meter: float | None = None
    danger: bool = False


def _pct(value: Decimal | None) -> str:
    return f"{value}%" if value is not None else "—"


def _gap(whole: int, done: int) -> int | None:
    # Nothing counted (no issue, nothing due yet): the rate is "—", and so is the gap; never "已达目标 100%".
    return whole - done if whole else None


def headline(s: Figures, filters: Filters) -> list[Card]:
    judged = s.on_time + s.late + s.overdue_open
    return [
        Card("诉求件数", str(s.issues), f"诉求人 {s.requesters} 人", "受理日期在统计区间内的诉求数；诉求人按人去重",
             filters.issues_url()),
        Card("办理回复率", _pct(s.reply_rate), f"{s.replied} / {s.issues} 件", FORMULAS["reply_rate"],
             filters.items_url("unreplied"), target_gap=_gap(s.issues, s.replied), meter=_number(s.reply_rate)),
        Card("按期回复率", _pct(s.on_time_rate),
             f"{s.on_time} / {judged} 件交办（按原定期限 {_pct(s.on_time_rate_original)}）",
             FORMULAS["on_time_rate"], filters.items_url("overdue"), target_gap=_gap(judged, s.on_time),
             meter=_number(s.on_time_rate)),
        Card("办结率", _pct(s.closure_rate), f"{s.closed} / {s.issues} 件", FORMULAS["closure_rate"],
             filters.issues_url(status="closed"), target_gap=_gap(s.issues, s.closed), meter=_number(s.closure_rate)),
        Card("满意率", _pct(s.satisfaction_rate), f"{s.satisfied} / {s.rated} 件已评价（未联系上 {s.unreachable} 件）",
             FORMULAS["satisfaction_rate"], filters.issues_url(status="closed"), meter=_number(s.satisfaction_rate)),
        Card("回访率", _pct(s.follow_up_rate), f"{s.followed_up} / {s.issues} 件", FORMULAS["follow_up_rate"],
             filters.issues_url(status="followed_up"), meter=_number(s.follow_up_rate)),
        Card("重办率", _pct(s.rehandle_rate), f"{s.rehandled} / {s.issues} 件", FORMULAS["rehandle_rate"],
             filters.issues_url()),
        Card("超期未回复", str(s.overdue_open), f"未到期 {s.not_yet_due} 件交办", FORMULAS["overdue_open"],
             filters.items_url("overdue"), danger=s.overdue_open > 0),
    ]


@login_required
def dashboard_items(request: HttpRequest) -> HttpResponse:
    """The assignments behind 超期未回复 (``which=overdue``) or 未回复 (``which=unreplied``), judged at
    ``as_of`` like the figures, longest overdue first."""
    scope = _dashboard_scope(request)
    form, filters = _filters(request, scope)
    which = "unreplied" if request.GET.get("which") == "unreplied" else "overdue"
    as_of = filters.as_of or timezone.localdate()
    issues, _ = statistics.scoped(request.user)
    cohort = statistics.cohort(issues, **filters.cohort_kwargs())
    # With a department chosen: that department's own assignments, not its co-handlers'.
    rows = statistics.open_assignments(cohort, as_of=as_of, only=filters.department,
                                       overdue_only=which == "overdue")
    page = Paginator(rows, ITEMS_PAGE_SIZE).get_page(request.GET.get("page"))
    for a in page.object_list:
        a.days_overdue = (as_of - a.due_date).days  # type: ignore[attr-defined]
    return render(request, "feedback/dashboard_items.html", {
        "form": form, "filters": filters, "which": which, "as_of": as_of, "page": page,
        "query": query_without_page(request), "back": reverse("dashboard") + "?" + filters.query(),
        "other": filters.items_url("overdue" if which == "unreplied" else "unreplied"),
    })
