"""The leaders' dashboard (统计看板): the figures of ``feedback.figures.statistics`` as a page.

For county leaders, channel offices (their channel) and administrators; anyone else gets 404.
Every number links to exactly the records it counts: ``/dashboard/items/?which=<figure>&…`` lists
the issues or assignments of ``feedback.figures.lists`` under the same filters and ``as_of`` (the
same definitions as the API's ``lists``, so the list's count is the number clicked; a row's ``unit``
narrows it to that department's own assignments or the issues assigned to that township). A
constant number of queries per page, whatever the data (tests/feedback/test_dashboard.py).
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.template.loader import render_to_string
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.html import json_script
from django.utils.safestring import mark_safe

from feedback import access, selectors, similar
from feedback.access import Role, Scope, scope_of
from feedback.assets import ECHARTS, available
from feedback.figures import hot, lists, rollup, statistics
from feedback.figures.statistics import FORMULAS, DepartmentRow, Figures, MonthRow
from feedback.forms import PortalForm
from feedback.models import Assignment, Category, Channel, Department, Issue
from feedback.views import topics
from feedback.views.common import query_without_page

DASHBOARD_ROLES = (Role.LEADER, Role.OFFICE, Role.ADMIN)
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
ITEMS_PAGE_SIZE = 50
OVERDUE_PREVIEW = 15
# The monthly trend fills the months without issues, but not over centuries: a period longer than
# this (received_from=1900-01-01) is shown from its first to its last month with issues.
TREND_MONTHS = 120
log = logging.getLogger(__name__)


class DashboardFilterForm(PortalForm):
    channel = forms.ChoiceField(label="渠道", required=False)
    department = forms.ChoiceField(label="承办单位", required=False)
    category = forms.ModelChoiceField(
        label="分类", required=False, queryset=Category.objects.all(), to_field_name="code", empty_label="全部分类"
    )
    received_from = forms.DateField(label="受理日期从", required=False, widget=DATE_WIDGET)
    received_to = forms.DateField(label="至", required=False, widget=DATE_WIDGET)
    as_of = forms.DateField(
        label="统计截止日", required=False, widget=DATE_WIDGET, help_text="默认今天；此后的回复和办结视为尚未发生"
    )

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
        return {
            "channel": self.channel,
            "department": self.department,
            "category": self.category,
            "received_from": self.received_from,
            "received_to": self.received_to,
        }

    def query(self, **override: Any) -> str:
        """This dashboard's own query string (codes, as in the API)."""
        values = {
            "channel": self.channel,
            "department": self.department.code if self.department else "",
            "category": self.category.code if self.category else "",
            "received_from": _iso(self.received_from),
            "received_to": _iso(self.received_to),
            "as_of": _iso(self.as_of),
        }
        values.update(override)
        return urlencode({k: v for k, v in values.items() if v})

    def cut(self, as_of: datetime.date, **change: Any) -> lists.Cut:
        return lists.Cut(
            as_of=as_of,
            channel=self.channel,
            department=self.department.code if self.department else "",
            category=self.category.code if self.category else "",
            received_from=self.received_from,
            received_to=self.received_to,
        ).narrowed(**change)


def figure_url(figure: str, cut: lists.Cut) -> str:
    """The page listing exactly the records behind ``figure`` over ``cut``."""
    # The same string as urlencode({"which": figure, **cut.params()}): the figures' names need no quoting.
    query = cut.query()
    return f"{_items_path(get_script_prefix())}?which={figure}" + (f"&{query}" if query else "")


@functools.lru_cache(maxsize=8)
def _items_path(script_prefix: str) -> str:
    # A dashboard links ~440 numbers: reversing the same URL each time was 4 of its ~50 ms of Python.
    # reverse() depends on nothing else than the script prefix it is keyed on.
    return reverse("dashboard_items")


@dataclass(frozen=True)
class FigureLinks:
    """The links of one row of figures (the summary, or a row of a table): ``links.on_time`` is the
    URL of the on-time assignments over the row's cut."""

    cut: lists.Cut

    def __getattr__(self, figure: str) -> str:
        if figure not in lists.FIGURES:
            raise AttributeError(figure)
        return figure_url(figure, self.cut)


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
    filters = Filters(
        channel=data.get("channel") or "",
        department=data.get("department"),
        category=data.get("category"),
        received_from=data.get("received_from"),
        received_to=data.get("received_to"),
        as_of=data.get("as_of"),
    )
    return form, filters


def _number(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _rank(rows: list[DepartmentRow]) -> list[DepartmentRow]:
    """Best first: on-time rate, then reply rate, then fewest overdue; no rate yet goes last."""
    return sorted(
        rows,
        key=lambda r: (
            r.on_time_rate is None,
            -(r.on_time_rate or 0),
            -(r.reply_rate or 0),
            r.overdue_open,
            r.department,
        ),
    )


@dataclass(frozen=True)
class Linked:
    """A row of a breakdown with the links behind its numbers (``item.links.<figure>``)."""

    row: Any
    links: FigureLinks


@contextmanager
def one_snapshot() -> Iterator[None]:
    """The page's reads as of one moment: on PostgreSQL one REPEATABLE READ, READ ONLY transaction, so the
    headline, the tables, the trend and the overdue list agree even when a reply is accepted while the
    page is being computed (each statement would otherwise see its own snapshot). SQLite's transactions
    here take the write lock at BEGIN (settings: IMMEDIATE), so there the reads go as before."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        token = rollup.ONE_SNAPSHOT.set(True)
        try:
            yield
        finally:
            rollup.ONE_SNAPSHOT.reset(token)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    scope = _dashboard_scope(request)
    form, filters = _filters(request, scope)
    with one_snapshot():
        return _dashboard(request, form, filters)


def _dashboard(request: HttpRequest, form: DashboardFilterForm, filters: Filters) -> HttpResponse:
    today = timezone.localdate()
    as_of = filters.as_of or today
    scope = scope_of(request.user)
    issues, _ = statistics.scoped(request.user)
    cohort = statistics.cohort(issues, **filters.cohort_kwargs())
    echarts = available(ECHARTS)  # a look in the static files: once a request
    key = _kept_key(request, scope, cohort, as_of, today, echarts)
    kept = _kept_get(key)
    if kept is None:
        kept = _figure_parts(form, filters, scope, cohort, as_of, today, echarts)
        _kept_set(key, kept)
    overdue = overdue_preview(cohort, filters, as_of)
    for a in overdue:
        a.days_overdue = (as_of - a.due_date).days  # type: ignore[attr-defined]
    return render(
        request,
        "feedback/dashboard.html",
        {
            # The parts are the autoescaping templates' own output (``_figure_parts``), kept as text.
            "kept": {n: mark_safe(part) if isinstance(part, str) else part for n, part in kept.items()},  # noqa: S308
            "overdue": overdue,
            "overdue_more": kept["overdue_open"] - len(overdue),
            "echarts": echarts,
            "echarts_path": ECHARTS,
            **topics.dashboard_topics(request.user, filters, as_of),  # 热点诉求 (issue 19)
        },
    )


# --- the figures' parts of the page, kept under the state of their inputs (decision 0780) --------------

KEPT_PARTS = ("feedback/_dashboard_head.html", "feedback/_dashboard_tables.html")


def _figure_parts(
    form: DashboardFilterForm,
    filters: Filters,
    scope: Scope,
    cohort: Any,
    as_of: datetime.date,
    today: datetime.date,
    echarts: bool,
) -> dict[str, Any]:
    """The page's figures rendered: the part above the hot topics, the tables below them, the charts'
    data, and what the overdue list's last line needs. A function of the figures' inputs (the rollup,
    the departments and categories), the scope, the query and the day; nothing in it belongs to a
    user or a request (no CSRF token, no name)."""
    summary = statistics.summary(cohort, as_of=as_of)
    departments = statistics.by_department(cohort, as_of=as_of)
    categories = statistics.by_category(cohort, as_of=as_of)
    townships = statistics.by_township(cohort, as_of=as_of)
    months = every_month(statistics.by_month(cohort, as_of=as_of), filters)

    bureaus = _rank([d for d in departments if d.kind == Department.Kind.BUREAU])
    town_rank = _rank([d for d in departments if d.kind == Department.Kind.TOWNSHIP])
    missing = sorted(
        (d for d in departments if d.unreplied or d.overdue_open),
        key=lambda d: (-d.overdue_open, -d.unreplied, d.department),
    )
    chart_data = {
        "bureaus": [_chart_row(d) for d in bureaus],
        "townships": [_chart_row(d) for d in town_rank],
        "categories": [{"name": c.name, "issues": c.issues} for c in categories],
        "months": [
            {
                "month": m.month,
                "issues": m.issues,
                "reply_rate": _number(m.reply_rate),
                "on_time_rate": _number(m.on_time_rate),
            }
            for m in months
        ],
    }
    cut = filters.cut(as_of)
    links = FigureLinks(cut)
    context = {
        "scope": scope,
        "form": form,
        "filters": filters,
        "as_of": as_of,
        "as_of_is_today": as_of == today,
        "periods": [
            (label, filters.query(received_from=start.isoformat(), received_to=end.isoformat()))
            for label, start, end in hot.button_periods(today)
        ],
        "s": summary,
        "headline": headline(summary, links),
        "bureaus": [department_links(d, cut) for d in bureaus],
        "township_rank": [department_links(d, cut) for d in town_rank],
        "missing": [department_links(d, cut) for d in missing],
        "categories": [Linked(c, FigureLinks(cut.narrowed(category=c.category))) for c in categories],
        "townships": [Linked(t, FigureLinks(cut.narrowed(unit=t.township))) for t in townships],
        "months": [Linked(m, FigureLinks(cut.month(m.first_day, m.last_day))) for m in months],
        "links": links,
        "formulas": FORMULAS,
        "echarts": echarts,
        "chart_data": chart_data,
    }
    head, tables = (render_to_string(name, context) for name in KEPT_PARTS)
    return {
        "head": head,
        "tables": tables,
        "chart_data": str(json_script(chart_data, "dashboard-data")),
        "overdue_open": summary.overdue_open,
        "overdue_url": links.overdue_open,
    }


def _kept_key(
    request: HttpRequest, scope: Scope, cohort: Any, as_of: datetime.date, today: datetime.date, echarts: bool
) -> str | None:
    """The cache key of the figures' parts, or None when they must be computed: kept figures off
    (``STATS_CACHE_SECONDS`` 0), a cohort the rollup cannot answer, a window with a live key, or no
    state (``rollup.kept``'s conditions). The state is read in the page's snapshot, before any figure,
    so the parts stored under it are exactly its figures (``one_snapshot``)."""
    c = getattr(cohort, "_stats_cohort", None)
    if c is None or int(getattr(settings, "STATS_CACHE_SECONDS", 3600)) <= 0:
        return None
    state, live = rollup._state(c, as_of)
    if live or state is None:
        return None
    department = scope.department.pk if scope.department else None
    query = sorted((k, v) for k, values in request.GET.lists() for v in values)
    what = (state, c, as_of, today, scope.role, department, query, echarts, _parts_version())
    return "dashboard:1:" + hashlib.sha256(repr(what).encode()).hexdigest()


@functools.lru_cache(maxsize=1)
def _parts_version() -> str:
    """The kept parts' templates as they are in this process: a deploy that changes one changes the key."""
    sources = (loader.get_template(name).template.source for name in (*KEPT_PARTS, "feedback/_dashboard_ranking.html"))
    return hashlib.sha256("\0".join(sources).encode()).hexdigest()[:16]


def _kept_get(key: str | None) -> dict[str, Any] | None:
    if key is None:
        return None
    try:
        found: dict[str, Any] | None = cache.get(key)
    except Exception:  # Redis down: computed as before
        log.warning("dashboard cache unavailable", exc_info=True)
        return None
    return found


def _kept_set(key: str | None, parts: dict[str, Any]) -> None:
    if key is None:
        return
    try:
        cache.set(key, parts, int(getattr(settings, "STATS_CACHE_SECONDS", 3600)))
    except Exception:
        log.warning("dashboard cache unavailable", exc_info=True)


def overdue_preview(cohort: Any, filters: Filters, as_of: datetime.date) -> list[Any]:
    """The first ``OVERDUE_PREVIEW`` of the cohort's open overdue assignments, longest overdue first.

    An assignment falls due after its issue was received (the CHECK ``due_after_received``, migration
    0620, on the issue's date that the row carries), so none of an issue received from ``received_from``
    on is due on or before that day: the bound changes no row, and lets PostgreSQL walk
    ``assignment_due_idx`` from that day rather than from the oldest due date of all. The walk picks
    the ids first, reading only the index (its INCLUDE columns hold what it filters on, the row's own
    ``received_on`` among them), then fetches the 15 rows (docs/decisions/0690)."""
    walk = statistics.open_assignments(cohort, as_of=as_of)
    if filters.received_from is not None:
        walk = walk.filter(due_date__gt=filters.received_from, received_on__gte=filters.received_from)
    if filters.received_to is not None:
        walk = walk.filter(received_on__lte=filters.received_to)
    first = walk.order_by("due_date", "id").values("pk")[:OVERDUE_PREVIEW]
    rows = Assignment.objects.filter(pk__in=first).select_related("issue", "department").order_by("due_date", "id")
    with _serial():
        return list(rows)


@contextmanager
def _serial() -> Iterator[None]:
    """No parallel workers for one short walk: the planner cannot see that the received-date and
    due-date ranges go together, expects to pass over far more of the index than it does, and starts
    two workers, which cost 20–60 ms on a busy 2-core machine for ~2 ms of work (bench/dashboard.py).
    ``SET LOCAL`` ends with the page's transaction (``one_snapshot``); outside one it is not set."""
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather TO DEFAULT")


def department_links(row: DepartmentRow, cut: lists.Cut) -> Linked:
    """A department's row: its own assignments in the cohort."""
    return Linked(row, FigureLinks(cut.narrowed(unit=row.department)))


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


def _chart_row(d: DepartmentRow) -> dict[str, Any]:
    return {
        "name": d.name,
        "on_time_rate": _number(d.on_time_rate),
        "reply_rate": _number(d.reply_rate),
        "overdue_open": d.overdue_open,
    }


@dataclass(frozen=True)
class Card:
    """A headline figure: its value links to the records of its numerator; ``detail`` is a line of
    text and linked numbers (``(text, url)``, url empty for plain text); ``gap_parts`` what is missing
    from 100 %, each part linked to its records."""

    label: str
    value: str
    link: str
    detail: list[tuple[str, str]]
    formula: str
    target_gap: int | None = None  # items missing from 100%
    gap_parts: list[tuple[str, str]] | None = None
    meter: float | None = None
    danger: bool = False


def _pct(value: Decimal | None) -> str:
    return f"{value}%" if value is not None else "—"


def _gap(whole: int, done: int) -> int | None:
    # Nothing counted (no issue, nothing due yet): the rate is "—", and so is the gap; never "已达目标 100%".
    return whole - done if whole else None


def headline(s: Figures, links: FigureLinks) -> list[Card]:
    judged = s.on_time + s.late + s.overdue_open

    def n(value: int, figure: str) -> tuple[str, str]:
        return str(value), getattr(links, figure)

    def t(text: str) -> tuple[str, str]:
        return text, ""

    return [
        Card(
            "诉求件数",
            str(s.issues),
            links.issues,
            [t("诉求人 "), t(str(s.requesters)), t(" 人")],
            "受理日期在统计区间内的诉求数；诉求人按人去重",
        ),
        Card(
            "办理回复率",
            _pct(s.reply_rate),
            links.replied,
            [n(s.replied, "replied"), t(" / "), n(s.issues, "issues"), t(" 件")],
            FORMULAS["reply_rate"],
            target_gap=_gap(s.issues, s.replied),
            gap_parts=[t("未全部回复 "), n(s.unreplied, "unreplied"), t(" 件")],
            meter=_number(s.reply_rate),
        ),
        Card(
            "按期回复率",
            _pct(s.on_time_rate),
            links.on_time,
            [n(s.on_time, "on_time"), t(f" / {judged} 件交办（按原定期限 {_pct(s.on_time_rate_original)}）")],
            FORMULAS["on_time_rate"],
            target_gap=_gap(judged, s.on_time),
            gap_parts=[
                t("逾期回复 "),
                n(s.late, "late"),
                t(" 件、超期未回复 "),
                n(s.overdue_open, "overdue_open"),
                t(" 件"),
            ],
            meter=_number(s.on_time_rate),
        ),
        Card(
            "办结率",
            _pct(s.closure_rate),
            links.closed,
            # 未能回访 apart (issue 13): closed without a rating, with a recorded reason.
            [
                n(s.closed, "closed"),
                t(" / "),
                n(s.issues, "issues"),
                t(" 件（未能回访 "),
                n(s.follow_up_skipped, "follow_up_skipped"),
                t(" 件）"),
            ],
            FORMULAS["closure_rate"] + "；" + FORMULAS["follow_up_skipped"],
            target_gap=_gap(s.issues, s.closed),
            gap_parts=[t("未办结 "), n(s.issues - s.closed, "unclosed"), t(" 件")],
            meter=_number(s.closure_rate),
        ),
        Card(
            "满意率",
            _pct(s.satisfaction_rate),
            links.satisfied,
            [
                n(s.satisfied, "satisfied"),
                t(" / "),
                n(s.rated, "rated"),
                t(" 件已评价（未联系上 "),
                n(s.unreachable, "unreachable"),
                t(" 件）"),
            ],
            FORMULAS["satisfaction_rate"],
            meter=_number(s.satisfaction_rate),
        ),
        Card(
            "回访率",
            _pct(s.follow_up_rate),
            links.followed_up,
            [n(s.followed_up, "followed_up"), t(" / "), n(s.issues, "issues"), t(" 件")],
            FORMULAS["follow_up_rate"],
            meter=_number(s.follow_up_rate),
        ),
        Card(
            "重办率",
            _pct(s.rehandle_rate),
            links.rehandled,
            [n(s.rehandled, "rehandled"), t(" / "), n(s.issues, "issues"), t(" 件")],
            FORMULAS["rehandle_rate"],
        ),
        Card(
            "超期未回复",
            str(s.overdue_open),
            links.overdue_open,
            [t("未到期 "), n(s.not_yet_due, "not_yet_due"), t(" 件交办")],
            FORMULAS["overdue_open"],
            danger=s.overdue_open > 0,
        ),
    ]


# The item list's first name for the overdue assignments, kept so that old links still open them
# (its other first name, ``unreplied``, now means the issues, as in the API).
OLD_NAMES = {"overdue": "overdue_open"}


@login_required
def dashboard_items(request: HttpRequest) -> HttpResponse:
    """The records behind one number of the dashboard, the county report or a bulletin:
    ``which=<figure>`` (``feedback.figures.lists``) over the dashboard's filters and ``as_of``,
    ``unit=<code>`` for a row. Issue figures list issues, assignment figures assignments (longest
    overdue first); the count shown is the number clicked."""
    scope = _dashboard_scope(request)
    form, filters = _filters(request, scope)
    which = request.GET.get("which") or "overdue"
    unit = (request.GET.get("unit") or "").strip()
    if which in OLD_NAMES:  # the first form: a department chosen meant its own assignments
        which = OLD_NAMES[which]
        unit = unit or (filters.department.code if filters.department else "")
    if which not in lists.FIGURES and which != lists.REQUESTERS:
        raise Http404("没有这个指标的清单。")
    if unit and not Department.objects.filter(code=unit).exists():
        raise Http404("没有这个单位。")
    as_of = filters.as_of or timezone.localdate()
    cut = filters.cut(as_of, unit=unit)
    if which == lists.REQUESTERS:
        rows: Any = lists.figure_requesters(selectors.issue_list(request.user, {}), cut).order_by("name", "id")
    elif lists.is_issue_figure(which):
        rows = lists.figure_issues(selectors.issue_list(request.user, {}), which, cut).order_by("-received_on", "-id")
    else:
        rows = (
            lists.figure_assignments(access.assignments_for(request.user), access.issues_for(request.user), which, cut)
            .select_related("issue", "department")
            .order_by("due_date", "id")
        )
    page = Paginator(rows, ITEMS_PAGE_SIZE).get_page(request.GET.get("page"))
    if which == lists.REQUESTERS:
        pass
    elif lists.is_issue_figure(which):
        leads = selectors.lead_names([i.pk for i in page.object_list])
        for issue in page.object_list:
            issue.lead_name = leads.get(issue.pk, "")
    else:
        for a in page.object_list:
            a.days_overdue = (as_of - a.due_date).days
    return render(
        request,
        "feedback/dashboard_items.html",
        {
            "form": form,
            "filters": filters,
            "which": which,
            "title": lists.FIGURES.get(which, lists.REQUESTERS_TITLE),
            "as_of": as_of,
            "page": page,
            "issue_list": lists.is_issue_figure(which),
            "requester_list": which == lists.REQUESTERS,
            "unit": unit,
            "channel_label": Channel(filters.channel).label if filters.channel else "",
            "unit_name": Department.objects.filter(code=unit).values_list("name", flat=True).first() if unit else "",
            "query": query_without_page(request),
            "back": reverse("dashboard") + "?" + filters.query(),
        },
    )


# 热点诉求 (issue 19): the requests of one hot topic of the dashboard (feedback.views.topics).
@login_required
def dashboard_topic(request: HttpRequest) -> HttpResponse:
    """The requests of one hot topic in the period: exactly those the dashboard counted."""
    scope = _dashboard_scope(request)
    _form, filters = _filters(request, scope)
    concept = request.GET.get("topic", "")[:100]
    if not concept:
        raise Http404("没有这个热点。")
    as_of = filters.as_of or timezone.localdate()
    period = hot.period_of(filters.received_from, filters.received_to, as_of)
    # Every cluster of the period (a text cluster has no fixed name: it is found again the same way),
    # from the entry the dashboard read (topics.period_topics): the list has the size shown there.
    found = topics.period_topics(request.user, filters, period)
    topic = next((t for t in found if t.concept == concept), None)
    if topic is None and concept not in similar.CONCEPTS:
        raise Http404("没有这个热点。")
    ids = topic.issue_ids if topic else []
    issues = Issue.objects.filter(pk__in=ids).select_related("category", "requester").order_by("-received_on", "-id")
    page = Paginator(issues, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "feedback/dashboard_topic.html",
        {
            "topic": topic,
            "concept": concept,
            "words": topic.words if topic else similar.CONCEPTS[concept],
            "period": period,
            "page": page,
            "query": query_without_page(request),
            "back": reverse("dashboard") + "?" + filters.query(),
        },
    )
