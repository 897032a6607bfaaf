"""The 政网 side of the round-trip ledger (feedback.ledger): the forum an issue was raised at.

Registered as the plugin's ``ledger_sessions`` and ``link_ledger_sessions`` (feedback.channels);
the date is the key (one forum a day, ``one_forum_per_day``), the name only names a forum recorded
by the import. docs/ledger-format.md, docs/decisions/0660.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from feedback.channels import SessionLink

from .models import Forum, NetIntake

TITLE_MAX = Forum._meta.get_field("title").max_length
HANDLE_MAX = NetIntake._meta.get_field("handle").max_length


def ledger_sessions(issue_ids: Any) -> dict[int, tuple[str, datetime.date]]:
    return {
        issue_id: (title, held_on)
        for issue_id, title, held_on in NetIntake.objects.filter(
            issue_id__in=issue_ids, forum__isnull=False
        ).values_list("issue_id", "forum__title", "forum__held_on")
    }


def link_ledger_sessions(links: list[SessionLink], *, actor: Any = None) -> list[tuple[int, str]]:
    """Re-link to the forum held that day, or record it (补录 today, with the ledger's name)."""
    forums = {f.held_on: f for f in Forum.objects.filter(held_on__in={link.day for link in links})}
    today = timezone.localdate()
    for link in links:
        if link.day not in forums:
            forums[link.day] = Forum.objects.create(
                title=link.name[:TITLE_MAX], held_on=link.day, recorded_on=today if link.day < today else None
            )
    NetIntake.objects.bulk_create(
        [
            NetIntake(issue_id=link.issue_id, forum=forums[link.day], handle=link.requester[:HANDLE_MAX])
            for link in links
        ]
    )
    return []
