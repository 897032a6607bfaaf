"""The registry through which channel apps plug into the core (the core never imports them).

Each channel app registers itself in ``AppConfig.ready()``; the core reads this registry for the
demo data of ``seed_demo``, the common calendar, leader attendance and the county's report, and
tells the channels through it when the working-day calendar of a year changed.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# The lines of the county's report (feedback.report) that only the channels' own records can fill.
LEADER_SESSIONS = "leader_sessions"  # 县级领导带队场次
QUIET_VILLAGES = "quiet_villages"  # 无访村
REPORT_LINES = {LEADER_SESSIONS: "县级领导带队场次", QUIET_VILLAGES: "无访村"}


@dataclass(frozen=True)
class SessionEntry:
    """One session of a channel as the common calendar shows it (``/calendar/``, ``/calendar.ics``)."""

    channel: str  # Channel value
    title: str
    starts_on: datetime.date
    ends_on: datetime.date  # inclusive; equal to starts_on for a one-day session
    place: str = ""
    leaders: list[str] = field(default_factory=list)  # display names, the chair or leading leader first
    url: str = ""  # absolute path of the session's page, e.g. /net/forums/3/
    provisional: bool = False  # the date rests on a year the working calendar does not hold yet


@dataclass(frozen=True)
class ReportFigure:
    """A channel's part of one line of the county's report; the core adds the channels' parts up."""

    line: str  # LEADER_SESSIONS or QUIET_VILLAGES
    channel: str  # Channel value
    label: str  # what this part counts, e.g. 企业家日 (the core puts the channel before it)
    value: int
    unit: str  # 场, 个
    formula: str  # how it is counted, in Chinese, shown beside the number
    total: int | None = None  # the whole the value is taken from (无访村: the villages counted) …
    total_label: str = ""  # … and what that whole is (启用的村)


@dataclass(frozen=True)
class ReportItem:
    """One row of the list behind a ReportFigure: a session led, a quiet village."""

    channel: str
    title: str
    day: datetime.date | None = None
    place: str = ""
    people: list[str] = field(default_factory=list)  # the county leaders, by display name
    url: str = ""  # the row's page in the channel app, e.g. /net/forums/3/


@dataclass(frozen=True)
class SessionLink:
    """An imported issue to tie to the session its ledger row names (columns 来源会议, 会议日期)."""

    row: int  # the row's number in the file, for the problem messages
    issue_id: int
    name: str
    day: datetime.date
    requester: str  # the requester's name or online handle
    organization: str  # the requester's enterprise, if any


@dataclass(frozen=True)
class CallbackRequester:
    """A requester a channel merged into an issue from its own records (a public suggestion merged on
    the 政网 triage page), to be telephoned with the answer like the requesters of merged issues."""

    channel: str  # Channel value: the office that calls back
    label: str  # what the office recognises it by, e.g. 网上征集意见（2026-11-02 提交）
    name: str
    phone: str = ""  # the full number: the core masks it in the notice


@dataclass(frozen=True)
class ChannelPlugin:
    channel: str  # Channel value: net / enterprise / citizen
    session_label: str  # what the channel calls its sessions (座谈会, 企业家日, 无会周)
    url_name: str  # the channel's home page
    seed_demo: Callable[[], int]  # creates the channel's demo sessions; returns how many it created
    # The channel's sessions overlapping [start, end] (dates inclusive), for the common calendar.
    sessions: Callable[[datetime.date, datetime.date], list[SessionEntry]] | None = None
    # Sessions attended in a calendar year, per county leader: {user_id: count}. Only sessions
    # already held (on or before today) count as attended.
    attendance: Callable[[int], dict[int, int]] | None = None
    # The county report's figures (user, start, end) over [start, end], dates inclusive; the core never
    # passes an ``end`` after today, so only sessions already held count. Scoped by the channel's own
    # access rules: an empty list when ``user`` may not read the channel's records. A constant number
    # of queries.
    report_figures: Callable[[Any, datetime.date, datetime.date], list[ReportFigure]] | None = None
    # The rows behind the channel's figure for one line (user, line, start, end): as many rows as
    # the figure counts, in the order the list prints them.
    report_items: Callable[[Any, str, datetime.date, datetime.date], list[ReportItem]] | None = None
    # The working-day calendar of these years changed (a State Council notice loaded, a county
    # override saved or deleted): the channel re-dates the sessions it planned from the calendar.
    # Called by feedback.calendar_notice inside the calendar's transaction, after the deadlines were
    # recomputed, so that a failure leaves the calendar unchanged too.
    calendar_changed: Callable[[set[int]], None] | None = None
    # History actions the channel records beside the core's (feedback.states), with their labels
    # in the timeline, e.g. {"merged": "并单"}.
    history_actions: Mapping[str, str] = field(default_factory=dict)
    # The round-trip ledger (feedback.ledger): the session each issue was raised at, as
    # {issue_id: (name, date)}, for a queryset of issue ids; one query.
    ledger_sessions: Callable[[Any], dict[int, tuple[str, datetime.date]]] | None = None
    # Inside the import's transaction: tie each imported issue to the channel's session of that date,
    # recording the session when there is none. Returns the problems as (row, reason); any problem
    # makes the core roll the whole file back. A constant number of queries per distinct date.
    # Called as (links, actor=the importing user or None), the actor for the channel's services.
    link_ledger_sessions: Callable[..., list[tuple[int, str]]] | None = None
    # 并单 (issue 19): the requesters the channel merged straight into these issues from its own
    # records (not issues of their own), to be told the answer when it comes; one query.
    merged_requesters: Callable[[list[int]], list[CallbackRequester]] | None = None


REGISTRY: dict[str, ChannelPlugin] = {}


def register(plugin: ChannelPlugin) -> None:
    REGISTRY[plugin.channel] = plugin


def merged_requesters(issue_ids: list[int]) -> list[CallbackRequester]:
    """Every channel's requesters merged into one of ``issue_ids`` from its own records."""
    found: list[CallbackRequester] = []
    for plugin in REGISTRY.values():
        if plugin.merged_requesters is not None:
            found += plugin.merged_requesters(list(issue_ids))
    return found


def history_action_label(action: str) -> str | None:
    """The timeline's label of an action a channel declared, or None."""
    for plugin in REGISTRY.values():
        if action in plugin.history_actions:
            return plugin.history_actions[action]
    return None


def announce_calendar_change(years: set[int]) -> None:
    """Call every channel's ``calendar_changed`` hook, in registration order."""
    for plugin in REGISTRY.values():
        if plugin.calendar_changed is not None:
            plugin.calendar_changed(set(years))
