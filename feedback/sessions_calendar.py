"""The common calendar of the three channels' sessions, its iCalendar feed, and leader attendance.

The core never imports a channel: sessions and attendance come from the channel registry
(``feedback.channels.REGISTRY``), filled by each channel app in ``AppConfig.ready()``.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from .access import GROUP_NAMES, Role, scope_of
from .channels import REGISTRY, SessionEntry
from .models import Channel

HORIZON_DAYS = 90
PRODID = "-//zhitongche//sessions calendar//ZH"


def coming_sessions(start: datetime.date, end: datetime.date) -> list[SessionEntry]:
    """Every registered channel's sessions overlapping [start, end], by date then channel order."""
    order = {value: i for i, value in enumerate(Channel.values)}
    entries: list[SessionEntry] = []
    for plugin in REGISTRY.values():
        if plugin.sessions is not None:
            entries.extend(plugin.sessions(start, end))
    return sorted(entries, key=lambda e: (e.starts_on, order.get(e.channel, 99), e.title))


# --- iCalendar (RFC 5545), written by hand: no dependency for a dozen lines of text ---------------


def ical_escape(text: str) -> str:
    """TEXT values (RFC 5545 §3.3.11): backslash, semicolon, comma and newline are escaped."""
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def ical_fold(line: str) -> list[str]:
    """Lines longer than 75 octets are folded (§3.1), never inside a UTF-8 character: Chinese
    text is three octets a character, so counting characters would break the limit."""
    parts: list[str] = []
    current, size, limit = "", 0, 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append(current)
            current, size, limit = " ", 1, 75  # a continuation line starts with one space
        current += char
        size += width
    parts.append(current)
    return parts


def session_uid(entry: SessionEntry) -> str:
    # Stable across edits of title or place as long as the session keeps its page, so a
    # subscribed calendar updates the event instead of adding a copy.
    key = entry.url or f"{entry.title}|{entry.starts_on.isoformat()}"
    return f"{hashlib.sha256(f'{entry.channel}|{key}'.encode()).hexdigest()[:24]}@zhitongche"


def to_ical(entries: Iterable[SessionEntry], *, now: datetime.datetime, base_url: str = "") -> str:
    stamp = now.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
             "X-WR-CALNAME:三个直通车活动日历", "X-WR-TIMEZONE:Asia/Shanghai"]
    for entry in entries:
        label = Channel(entry.channel).label if entry.channel in Channel.values else entry.channel
        description = [f"渠道：{label}"]
        if entry.leaders:
            description.append("领导：" + "、".join(entry.leaders))
        if entry.provisional:
            description.append("日期为暂定（当年工作日历尚未载入）")
        lines += [
            "BEGIN:VEVENT",
            f"UID:{session_uid(entry)}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{entry.starts_on:%Y%m%d}",
            # DTEND of an all-day event is exclusive: the day after the last day.
            f"DTEND;VALUE=DATE:{entry.ends_on + datetime.timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{ical_escape(f'【{label}】{entry.title}')}",
            f"LOCATION:{ical_escape(entry.place)}",
            f"DESCRIPTION:{ical_escape(chr(10).join(description))}",
            f"STATUS:{'TENTATIVE' if entry.provisional else 'CONFIRMED'}",
        ]
        if entry.url and base_url:
            lines.append(f"URL:{base_url.rstrip('/')}{entry.url}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(f"{part}\r\n" for line in lines for part in ical_fold(line))


# --- leader attendance --------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendanceRow:
    user_id: int
    name: str
    active: bool
    by_channel: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_channel.values())

    def cells(self, channels: Iterable[str]) -> list[int]:
        return [self.by_channel.get(c, 0) for c in channels]


def leader_attendance(year: int) -> tuple[list[str], list[AttendanceRow]]:
    """For each user in 县领导, the sessions attended in the year per channel (one query per channel
    plus one for the leaders). Returns the channels with an attendance source, in channel order."""
    channels = [c for c in Channel.values if c in REGISTRY and REGISTRY[c].attendance is not None]
    counts = {c: REGISTRY[c].attendance(year) for c in channels}  # type: ignore[misc]
    leaders = (get_user_model().objects.filter(groups__name=GROUP_NAMES[Role.LEADER])
               .order_by("-is_active", "last_name", "first_name", "username"))
    rows = [AttendanceRow(user_id=u.pk, name=u.get_full_name() or u.get_username(), active=u.is_active,
                          by_channel={c: counts[c].get(u.pk, 0) for c in channels}) for u in leaders]
    return channels, rows


# --- views --------------------------------------------------------------------------------------


def _window(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    return today, today + datetime.timedelta(days=HORIZON_DAYS)


@login_required
def calendar_page(request: HttpRequest) -> HttpResponse:
    start, end = _window(timezone.localdate())
    return render(request, "feedback/sessions_calendar.html", {
        "sessions": coming_sessions(start, end), "start": start, "end": end, "horizon": HORIZON_DAYS,
        "can_see_attendance": _can_see_attendance(request.user),
    })


@login_required
def calendar_ics(request: HttpRequest) -> HttpResponse:
    start, end = _window(timezone.localdate())
    body = to_ical(coming_sessions(start, end), now=timezone.now(), base_url=request.build_absolute_uri("/"))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="zhitongche.ics"'
    return response


def _can_see_attendance(user: Any) -> bool:
    return scope_of(user).role in (Role.ADMIN, Role.LEADER, Role.OFFICE)


def _year(value: str | None, default: int) -> int:
    try:
        year = int(value or default)
    except ValueError:
        return default
    return year if 2000 <= year <= 2100 else default


@login_required
def attendance_page(request: HttpRequest) -> HttpResponse:
    if not _can_see_attendance(request.user):
        raise Http404("未找到该记录，或您无权查看。")
    year = _year(request.GET.get("year"), timezone.localdate().year)
    channels, rows = leader_attendance(year)
    return render(request, "feedback/sessions_attendance.html", {
        "year": year, "channels": [(c, Channel(c).label) for c in channels],
        "rows": [(row, row.cells(channels)) for row in rows],
    })
