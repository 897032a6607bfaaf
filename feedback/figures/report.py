"""The county's report, reproduced (县级报告, ``/report/?from=&to=``): the figures of the September 2024
report (DOMAIN.md) computed from the portal's own data, each linked to the list behind it.

Definitions (docs/user-guide.md "县级报告"): the cohort is the issues *received* in the period (dates
inclusive), judged as they stood at the end of ``as_of`` (``?as_of=``, default today: a reply or a
closure dated later counts as not yet happened), so a figure may still rise as replies come in:

* 诉求人 — distinct requesters of the cohort (docs/api.md: one requester per phone, else per name);
* 诉求 — the cohort's issues; 回复率 — the dashboard's 办理回复率 (statistics.FORMULAS);
* 收集建议 / 办理建议 — issues of nature 建议 (a suggestion sent through the public portal counts once
  网信办 accepts it, as an issue received on the day it was sent); handled = replied in the
  dashboard's sense (every counted assignment has its accepted written reply);
* 解决企业问题 — 政企 issues whose lead department's accepted written reply (its latest accepted
  version, the lead still in the accepted state, so not re-handled since) says 已解决. A co-handler's
  result does not decide: the lead answers for the issue;
* 县级领导带队场次 and 无访村 come from the channel apps' own records through the registry
  (``feedback.channels``: ``report_figures``, ``report_items``), each channel counting its part and
  deciding who may see it; the parts are added up here. Sessions count when held in the period and
  not after today. ``?items=<line>[&channel=]`` lists the sessions or villages behind the number on
  the same page, each row linked to its page in the channel app.

Every other number links to the dashboard's item page (``/dashboard/items/?which=<figure>&…``,
``feedback.figures.lists``) over the period and ``as_of``: the list's count is the number (the
requesters as one row a requester; 回复率 through its counts, 已回复 / 诉求 / 尚未全部答复).

A constant number of queries whatever the data (tests/feedback/test_report.py).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from feedback.channels import LEADER_SESSIONS, QUIET_VILLAGES, REGISTRY, REPORT_LINES, ReportFigure, ReportItem
from feedback.figures import lists, statistics
from feedback.figures.statistics import FORMULAS, lead_result_is
from feedback.models import Channel, Issue, SignedReply

NO_CHANNEL_DATA = "您可查看的渠道没有提供此项数据"


NOT_BEGUN = "统计区间尚未开始"


@dataclass(frozen=True)
class Part:
    """One channel's share of a line, linked to its own list."""

    label: str
    value: str
    link: str


@dataclass(frozen=True)
class Line:
    label: str
    value: str
    link: str = ""
    formula: str = ""
    note: str = ""
    parts: tuple[Part, ...] = ()
    counts: tuple[Part, ...] = ()  # the counts a rate is made of, each linked to its list (the page)


@dataclass(frozen=True)
class ItemsTable:
    """The list behind a channel figure, shown under the report (``?items=``)."""

    heading: str
    columns: tuple[str, ...]
    rows: list[tuple[tuple[str, str, str], ...]]  # (column, text, link) per cell


def _pct(value: Any) -> str:
    return f"{value}%" if value is not None else "—"


def _list_url(figure: str, cut: lists.Cut) -> str:
    """The dashboard's item page listing exactly the records behind ``figure`` over ``cut`` (the same
    page and definitions as the dashboard's own links, ``feedback.figures.lists``)."""
    return reverse("dashboard_items") + "?" + urlencode({"which": figure, **cut.params()})


def _items_url(
    start: datetime.date, end: datetime.date, line: str, channel: str = "", as_of: datetime.date | None = None
) -> str:
    query = {"from": start.isoformat(), "to": end.isoformat(), "items": line}
    if as_of is not None:
        query["as_of"] = as_of.isoformat()
    if channel:
        query["channel"] = channel
    return reverse("county_report") + "?" + urlencode(query) + "#items"


def _channel_label(channel: str) -> str:
    return Channel(channel).label if channel in Channel.values else channel


def channel_figures(user: Any, start: datetime.date, end: datetime.date) -> dict[str, list[ReportFigure]]:
    """The registered channels' parts of each line, in channel order; one or two queries a channel."""
    lines: dict[str, list[ReportFigure]] = {}
    for channel in Channel.values:
        plugin = REGISTRY.get(channel)
        if plugin is not None and plugin.report_figures is not None:
            for figure in plugin.report_figures(user, start, end):
                lines.setdefault(figure.line, []).append(figure)
    return lines


def _channel_line(
    line: str,
    figures: list[ReportFigure],
    *,
    start: datetime.date,
    end: datetime.date,
    until: datetime.date,
    as_of: datetime.date | None = None,
) -> Line:
    label = REPORT_LINES[line]
    if until < start:
        return Line(label, "—", note=NOT_BEGUN)
    if not figures:
        return Line(label, "—", note=NO_CHANNEL_DATA)
    unit = figures[0].unit
    total = sum(f.value for f in figures)
    parts = tuple(
        Part(
            f"{_channel_label(f.channel)}{f.label}",
            f"{f.value} {f.unit}",
            _items_url(start, end, line, f.channel, as_of),
        )
        for f in figures
    )
    notes = [
        f"{_channel_label(f.channel) if len(figures) > 1 else ''}{f.total_label}共 {f.total} {f.unit}"
        for f in figures
        if f.total is not None
    ]
    if until < end:
        today = until == timezone.localdate()
        notes.append(f"统计至今天（{until.isoformat()}）" if today else f"统计至 {until.isoformat()}")
    note = "；".join(notes)
    return Line(
        label,
        f"{total} {unit}",
        _items_url(start, end, line, "", as_of),
        "；".join(f.formula for f in figures),
        note,
        parts if len(parts) > 1 else (),
    )


def report_lines(
    issues: Any, *, start: datetime.date, end: datetime.date, as_of: datetime.date, user: Any = None
) -> list[Line]:
    """Seven queries (two summaries: all issues, suggestions; one count), plus the channels' figures
    for ``user`` (one or two queries a channel) over the period up to ``as_of``."""
    cohort = statistics.cohort(issues, received_from=start, received_to=end)
    everything = statistics.summary(cohort, as_of=as_of)
    suggestions = statistics.summary(cohort.filter(nature=Issue.Nature.SUGGESTION), as_of=as_of)
    solved = cohort.filter(lead_result_is(SignedReply.Result.RESOLVED), channel=Channel.ENTERPRISE).count()
    cut = lists.Cut(as_of=as_of, received_from=start, received_to=end)
    until = min(end, as_of)
    parts = channel_figures(user, start, until) if user is not None and until >= start else {}
    channel_lines = [
        _channel_line(line, parts.get(line, []), start=start, end=end, until=until, as_of=as_of)
        for line in (LEADER_SESSIONS, QUIET_VILLAGES)
    ]
    unreplied = everything.issues - everything.replied
    return [
        Line(
            "诉求人",
            f"{everything.requesters} 人",
            _list_url(lists.REQUESTERS, cut),
            "受理日期在区间内的诉求的诉求人，按人去重",
        ),
        Line("诉求", f"{everything.issues} 件", _list_url("issues", cut), "受理日期在区间内的诉求数"),
        Line(
            "回复率",
            _pct(everything.reply_rate),
            _list_url("unreplied", cut),
            FORMULAS["reply_rate"],
            f"已回复 {everything.replied} / {everything.issues} 件；点开为尚未全部答复的诉求",
            counts=(
                Part("已回复", f"{everything.replied} 件", _list_url("replied", cut)),
                Part("诉求", f"{everything.issues} 件", _list_url("issues", cut)),
                Part("尚未全部答复", f"{unreplied} 件", _list_url("unreplied", cut)),
            ),
        ),
        Line(
            "收集建议",
            f"{suggestions.issues} 条",
            _list_url("suggestions", cut),
            "性质为“建议”的诉求数；网上征集的意见经网信办受理后计入（按提交日期），不予受理的不计",
        ),
        Line(
            "办理建议",
            f"{suggestions.replied} 条",
            _list_url("suggestions_replied", cut),
            "性质为“建议”、全部交办单位的书面回复均已通过审核的诉求数",
        ),
        Line(
            "解决企业问题",
            f"{solved} 个",
            _list_url("enterprise_resolved", cut),
            "政企直通车诉求中，主办单位最新一版通过审核的书面回复办理结果为“已解决”的件数",
        ),
        *channel_lines,
    ]


def items_table(user: Any, line: str, channel: str, *, start: datetime.date, until: datetime.date) -> ItemsTable | None:
    """The rows behind a channel line (every channel's, or one channel's). None for an unknown line."""
    if line not in REPORT_LINES or (channel and channel not in Channel.values):
        return None
    items: list[ReportItem] = []
    if until >= start:
        for value in [channel] if channel else Channel.values:
            plugin = REGISTRY.get(value)
            if plugin is None or plugin.report_items is None:
                continue
            items += plugin.report_items(user, line, start, until)
    scope = _channel_label(channel) if channel else ""
    if line == QUIET_VILLAGES:
        return ItemsTable(
            f"{scope}无访村（{len(items)} 个）",
            ("渠道", "乡镇", "村"),
            [(("渠道", _channel_label(i.channel), ""), ("乡镇", i.place, ""), ("村", i.title, i.url)) for i in items],
        )
    order = {value: n for n, value in enumerate(Channel.values)}
    items.sort(key=lambda i: (i.day or datetime.date.min, order.get(i.channel, len(order))))
    return ItemsTable(
        f"{scope}县级领导带队场次（{len(items)} 场）",
        ("日期", "渠道", "活动", "地点", "县级领导"),
        [
            (
                ("日期", i.day.isoformat() if i.day else "", ""),
                ("渠道", _channel_label(i.channel), ""),
                ("活动", i.title, i.url),
                ("地点", i.place, ""),
                ("县级领导", "、".join(i.people), ""),
            )
            for i in items
        ],
    )
