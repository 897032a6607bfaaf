"""The registry through which channel apps plug into the core (the core never imports them).

Each channel app registers itself in ``AppConfig.ready()``; the core reads this
registry for things such as the demo data of ``seed_demo``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field


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


REGISTRY: dict[str, ChannelPlugin] = {}


def register(plugin: ChannelPlugin) -> None:
    REGISTRY[plugin.channel] = plugin
