"""月度通报 (the monthly bulletin): figures frozen at publication, and its pages.

What a bulletin of month M counts (docs/user-guide.md "月度通报"):

* **本月** — the issues *received* in M (the same cohort as the dashboard with the period set to
  M), judged as they stood at the end of M's last day (``as_of``): a reply accepted in the next
  month counts as not yet given, exactly as on the dashboard with that ``as_of``;
* **本年累计** — the issues received from 1 January to the end of M, judged at the same ``as_of``;
* **单位排名** — the departments' rows of the month's cohort, county bureaus and townships apart;
* **列入通报的事项** — the escalation ladder's last step: assignments whose ``DeadlineStep``
  "bulletin" is dated in the month *after* M. The ladder dates that step on the first day of the
  month after supervision (feedback.deadlines.ladder) and tells the department "已列入月度通报" at
  that moment; the bulletin drafted the same morning (1st of M+1, 07:00) is M's, so an item
  supervised during M is listed in M's bulletin — each step lands in exactly one bulletin.

A draft is recomputed on demand; publishing recomputes it one last time and freezes it
(``Bulletin.save`` refuses to touch a published row). The pages and the Word document of a published
bulletin (``feedback.documents.bulletin_docx``) read only ``Bulletin.figures``: both print the cells of
``bulletin_tables``, so the document shows exactly what the page shows.
Who: county leaders and administrators see every bulletin, a channel office its channel's and the
all-channel ones; an administrator publishes any, an office its own channel's.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from feedback.access import Role, scope_of
from feedback.figures import lists, statistics
from feedback.figures.statistics import FORMULAS, Figures
from feedback.models import Assignment, Bulletin, Channel, DeadlineStep, Department, Issue

FIGURE_RATES = (
    "reply_rate",
    "closure_rate",
    "on_time_rate",
    "on_time_rate_original",
    "satisfaction_rate",
    "follow_up_rate",
    "rehandle_rate",
)


LISTED_LIMIT = 500  # a bulletin listing more than this prints the count and the first 500


ALL_CHANNELS_ISSUER = "三个直通车办公室"


def month_bounds(month: datetime.date) -> tuple[datetime.date, datetime.date]:
    first = month.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return first, following - datetime.timedelta(days=1)


def previous_month(today: datetime.date) -> datetime.date:
    return (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def _figures(row: Figures) -> dict[str, Any]:
    """A row as JSON: its counts and its rates (as strings, so the frozen value is exact)."""
    data = {f.name: getattr(row, f.name) for f in fields(row)}
    for name in FIGURE_RATES:
        value = getattr(row, name)
        data[name] = str(value) if value is not None else None
    data["unreplied"] = row.unreplied
    return {k: (v.isoformat() if isinstance(v, datetime.date) else v) for k, v in data.items()}


def _listing_window(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The bulletin steps of month M: dated in M+1 (see the module docstring), Asia/Shanghai."""
    _, last = month_bounds(month)
    start = last + datetime.timedelta(days=1)
    _, end = month_bounds(start)
    tz = timezone.get_current_timezone()
    return (
        datetime.datetime.combine(start, datetime.time.min, tzinfo=tz),
        datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz),
    )


def listed_steps(month: datetime.date, channel: str = "") -> QuerySet[DeadlineStep]:
    start, end = _listing_window(month)
    # Taken steps only: the pending ones are the ladder still ahead (feedback.services.sweeps).
    steps = DeadlineStep.objects.filter(
        step=DeadlineStep.Step.BULLETIN, scheduled_for__gte=start, scheduled_for__lt=end, taken_at__isnull=False
    )
    if channel:
        steps = steps.filter(assignment__issue__channel=channel)
    return steps.select_related("assignment__issue", "assignment__department").order_by(
        "assignment__department__kind", "assignment__department__sort_order", "assignment__due_date", "id"
    )


# The numbers of a bulletin's tables that link to their records, frozen with the figures: the records
# each counted when the bulletin was computed (published: for good), by figure.
SUMMARY_LINKED = {
    "issues": "issues",
    "requesters": lists.REQUESTERS,
    "reply_rate": "replied",
    "on_time_rate": "on_time",
    "closure_rate": "closed",
    "satisfaction_rate": "satisfied",
    "overdue_open": "overdue_open",
}
DEPARTMENT_LINKED = ("assignments", "on_time", "assignments_replied", "overdue_open")
UNLINKED_NOTE = (
    "本通报发布时没有保存{what}背后的记录清单，{these}不链接到清单："
    "按今天的数据列出的记录可能与发布时不同。需要时请在统计看板按同一月份和统计截止日（{as_of}）查询。"
)


def frozen_lists(first: datetime.date, last: datetime.date, channel: str) -> dict[str, Any]:
    """The ids behind each linked number (``SUMMARY_LINKED`` for the month and the year,
    ``DEPARTMENT_LINKED`` per department of the month), from ``feedback.figures.lists``: one query
    a figure, whatever the data."""
    issues = Issue.objects.all()
    result: dict[str, Any] = {}
    for period, start in (("month", first), ("year", first.replace(month=1))):
        cut = lists.Cut(as_of=last, channel=channel, received_from=start, received_to=last)
        result[period] = {figure: _ids(issues, figure, cut) for figure in SUMMARY_LINKED.values()}
    cut = lists.Cut(as_of=last, channel=channel, received_from=first, received_to=last)
    departments: dict[str, dict[str, list[int]]] = {}
    for figure in DEPARTMENT_LINKED:
        rows = lists.figure_assignments(Assignment.objects.all(), issues, figure, cut).order_by("due_date", "id")
        for code, pk in rows.values_list("department__code", "pk"):
            departments.setdefault(code, {name: [] for name in DEPARTMENT_LINKED})[figure].append(pk)
    result["departments"] = departments
    return result


def _ids(issues: QuerySet[Issue], figure: str, cut: lists.Cut) -> list[int]:
    if figure == lists.REQUESTERS:
        return list(lists.figure_requesters(issues, cut).order_by("name", "id").values_list("pk", flat=True))
    if lists.is_issue_figure(figure):
        return list(lists.figure_issues(issues, figure, cut).order_by("received_on", "id").values_list("pk", flat=True))
    return list(
        lists.figure_assignments(Assignment.objects.all(), issues, figure, cut)
        .order_by("due_date", "id")
        .values_list("pk", flat=True)
    )


def issuer_name(channel: str) -> str:
    """Who issues the bulletin: the channel's office (县委网信办, 经开区管委会, 县信访局), or for the
    all-channel bulletin the three offices together."""
    if not channel:
        return ALL_CHANNELS_ISSUER
    office = (
        Department.objects.filter(kind=Department.Kind.OFFICE, channel=channel)
        .order_by("sort_order", "code")
        .values_list("name", flat=True)
        .first()
    )
    return office or f"{Channel(channel).label}办公室"


def compute_figures(month: datetime.date, channel: str = "") -> dict[str, Any]:
    """Everything a bulletin prints, as JSON, with the records behind its numbers (``lists``).
    At most twenty-nine queries, whatever the data."""
    first, last = month_bounds(month)
    issues = Issue.objects.all()
    this_month = statistics.cohort(issues, channel=channel, received_from=first, received_to=last)
    this_year = statistics.cohort(issues, channel=channel, received_from=first.replace(month=1), received_to=last)
    departments = statistics.by_department(this_month, as_of=last)
    listed = []
    for step in listed_steps(month, channel)[:LISTED_LIMIT]:
        a = step.assignment
        listed.append(
            {
                "issue_id": a.issue_id,
                "ref": a.issue.ref,
                "title": a.issue.title,
                "channel": a.issue.get_channel_display(),
                "department": a.department.name,
                "department_kind": a.department.kind,
                "role": a.get_role_display(),
                "due_date": step.due_date.isoformat(),
                "days_overdue": (last - step.due_date).days,
                "replied_on": a.replied_on.isoformat() if a.replied_on and a.replied_on <= last else None,
            }
        )
    return {
        "month": f"{first:%Y-%m}",
        "first_day": first.isoformat(),
        "as_of": last.isoformat(),
        "channel": channel,
        # Frozen with the figures: renaming the office later does not rewrite a published bulletin.
        "issuer": issuer_name(channel),
        "month_summary": _figures(statistics.summary(this_month, as_of=last)),
        "year_summary": _figures(statistics.summary(this_year, as_of=last)),
        "bureaus": [_figures(d) for d in departments if d.kind == Department.Kind.BUREAU],
        "townships": [_figures(d) for d in departments if d.kind == Department.Kind.TOWNSHIP],
        "listed": listed,
        "listed_total": listed_steps(month, channel).count(),
        "formulas": {
            k: FORMULAS[k]
            for k in (
                "reply_rate",
                "on_time_rate",
                "closure_rate",
                "satisfaction_rate",
                "overdue_open",
                "department_reply_rate",
            )
        },
        "lists": frozen_lists(first, last, channel),
    }


# --- access -----------------------------------------------------------------------------------------


VIEW_ROLES = (Role.LEADER, Role.OFFICE, Role.ADMIN)


def bulletins_for(user: Any) -> QuerySet[Bulletin]:
    scope = scope_of(user)
    if scope.role in (Role.LEADER, Role.ADMIN):
        return Bulletin.objects.all()
    if scope.role == Role.OFFICE:
        return Bulletin.objects.filter(Q(channel="") | Q(channel=scope.channel))
    return Bulletin.objects.none()


def can_publish(user: Any, channel: str) -> bool:
    scope = scope_of(user)
    return scope.role == Role.ADMIN or (scope.role == Role.OFFICE and bool(channel) and scope.channel == channel)


# --- pages ------------------------------------------------------------------------------------------


def _rank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """As the dashboard: on-time rate, then reply rate, then fewest overdue; no rate yet last."""

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        on_time, reply = r["on_time_rate"], r["reply_rate"]
        return (on_time is None, -float(on_time or 0), -float(reply or 0), r["overdue_open"], r["department"])

    return sorted(rows, key=key)


@dataclass(frozen=True)
class Cell:
    text: str
    link: str = ""  # the page links each listed item to its issue; print and DOCX never link
    title: str = ""  # the formula, as a tooltip on the page


@dataclass(frozen=True)
class BulletinTable:
    """One table of a bulletin, cell by cell, as the page, the print page and the DOCX all show it."""

    heading: str
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    empty: str  # printed in a single row when there are no rows
    note: str = ""  # printed under the table


def _pct(rate: str | None) -> str:
    return f"{rate}%" if rate is not None else "—"


def bulletin_tables(
    f: dict[str, Any], *, link_items: bool = False, bulletin_id: int | None = None, base: str = ""
) -> list[BulletinTable]:
    """The bulletin's tables from its stored figures alone (no query): 总体情况, the two rankings and
    the listed items. A rate over nothing prints "—"; a department without an on-time rate has no rank.
    With ``bulletin_id`` (the page, the print page, the DOCX), each number frozen with its records
    (``lists``) links to them; a number whose records were not frozen (a bulletin published before
    they were) links nowhere, and ``unlinked_note`` says so. ``base`` makes the links absolute (the
    DOCX: ``settings.PORTAL_URL``)."""
    m, y = f.get("month_summary", {}), f.get("year_summary", {})
    formulas = f.get("formulas", {})
    frozen = f.get("lists") if link_items and bulletin_id is not None else None
    departments = (frozen or {}).get("departments", {})

    def items(figure: str, *, period: str = "", unit: str = "") -> str:
        if frozen is None:
            return ""
        stored = departments.get(unit, {}) if unit else frozen.get(period, {})
        if figure not in stored:
            return ""  # not frozen with this bulletin: no list that could differ from the number
        query = {"unit": unit, "figure": figure} if unit else {"period": period, "figure": figure}
        return base + reverse("bulletin_items", args=[bulletin_id]) + "?" + urlencode(query)

    def both(label: str, key: str, value: Any) -> tuple[Cell, ...]:
        figure = SUMMARY_LINKED.get(key, "")
        return (
            Cell(label, title=formulas.get(key, "")),
            Cell(str(value(m)), link=items(figure, period="month") if figure else ""),
            Cell(str(value(y)), link=items(figure, period="year") if figure else ""),
        )

    summary = BulletinTable(
        "总体情况",
        ("指标", "本月受理", "本年累计"),
        [
            both("诉求件数", "issues", lambda s: s.get("issues", 0)),
            both("诉求人", "requesters", lambda s: s.get("requesters", 0)),
            both(
                "办理回复率",
                "reply_rate",
                lambda s: f"{_pct(s.get('reply_rate'))}（{s.get('replied', 0)}/{s.get('issues', 0)}）",
            ),
            both("按期回复率", "on_time_rate", lambda s: _pct(s.get("on_time_rate"))),
            both("办结率", "closure_rate", lambda s: _pct(s.get("closure_rate"))),
            both("满意率", "satisfaction_rate", lambda s: _pct(s.get("satisfaction_rate"))),
            both("超期未回复（交办）", "overdue_open", lambda s: s.get("overdue_open", 0)),
        ],
        empty="",
    )
    tables = [summary]
    for heading, key in (("县直部门排名", "bureaus"), ("乡镇排名", "townships")):
        rows = [
            (
                Cell(str(rank) if d["on_time_rate"] is not None else "—"),
                Cell(d["name"]),
                Cell(str(d["assignments"]), link=items("assignments", unit=d["department"])),
                Cell(_pct(d["on_time_rate"]), link=items("on_time", unit=d["department"])),
                Cell(_pct(d["reply_rate"]), link=items("assignments_replied", unit=d["department"])),
                Cell(str(d["overdue_open"]), link=items("overdue_open", unit=d["department"])),
            )
            for rank, d in enumerate(_rank(f.get(key, [])), start=1)
        ]
        tables.append(
            BulletinTable(
                heading, ("名次", "单位", "交办", "按期率", "回复率", "超期未回复"), rows, empty="本月没有交办。"
            )
        )
    listed = f.get("listed", [])
    more = f.get("listed_total", 0) - len(listed)
    tables.append(
        BulletinTable(
            f"列入通报的超期事项（{f.get('listed_total', 0)} 件）",
            ("编号", "诉求", "承办单位", "办理期限", "至月末超期（天）"),
            [
                (
                    Cell(
                        item["ref"], link=base + reverse("issue_detail", args=[item["issue_id"]]) if link_items else ""
                    ),
                    Cell(item["title"]),
                    Cell(f"{item['department']}（{item['role']}）"),
                    Cell(item["due_date"]),
                    Cell(
                        f"{item['days_overdue']}" + (f"（{item['replied_on']} 已回复）" if item["replied_on"] else "")
                    ),
                )
                for item in listed
            ],
            empty="本月没有列入通报的事项。",
            note=f"另有 {more} 件未列出。" if more > 0 else "",
        )
    )
    return tables


def unlinked_note(f: dict[str, Any]) -> str:
    """What the pages and the DOCX say when some numbers of a bulletin do not link to records: it was
    published before the records behind them were frozen with it (empty when every number links)."""
    frozen = f.get("lists")
    as_of = f.get("as_of", "")
    if frozen is None:
        return UNLINKED_NOTE.format(what="数字", these="各数字", as_of=as_of)
    missing = [
        label for label, key in (("诉求人", "requesters"),) if SUMMARY_LINKED[key] not in frozen.get("month", {})
    ]
    # Every department of the rankings has an entry for each figure frozen (feedback.figures.bulletins.frozen_lists).
    department_figures = {figure for rows in frozen.get("departments", {}).values() for figure in rows}
    if frozen.get("departments") and not {"on_time", "assignments_replied"} <= department_figures:
        missing.append("单位的按期率和回复率")
    if not missing:
        return ""
    return UNLINKED_NOTE.format(what="、".join(missing), these="这些数字", as_of=as_of)


def issuer_of(bulletin: Bulletin) -> str:
    # Bulletins published before the issuer was stored with the figures fall back to today's name.
    return bulletin.figures.get("issuer") or issuer_name(bulletin.channel)
