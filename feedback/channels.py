"""The registry through which channel apps plug into the core (the core never imports them).

Each channel app registers itself in ``AppConfig.ready()``; the core reads this
registry for things such as the demo data of ``seed_demo``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ChannelPlugin:
    channel: str  # Channel value: net / enterprise / citizen
    session_label: str  # what the channel calls its sessions (座谈会, 企业家日, 无会周)
    url_name: str  # the channel's home page
    seed_demo: Callable[[], int]  # creates the channel's demo sessions; returns how many it created


REGISTRY: dict[str, ChannelPlugin] = {}


def register(plugin: ChannelPlugin) -> None:
    REGISTRY[plugin.channel] = plugin
