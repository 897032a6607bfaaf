from __future__ import annotations

import datetime

from django.utils import timezone

from .models import Forum


def seed_demo_sessions() -> int:
    """Four quarterly forums within the last 12 months (idempotent)."""
    today = timezone.localdate()
    created = 0
    for quarters_ago in range(4):
        held_on = today - datetime.timedelta(days=20 + 90 * quarters_ago)
        _, new = Forum.objects.get_or_create(
            title=f"第{4 - quarters_ago}季度政网直通车网民座谈会（演示）",
            defaults={"held_on": held_on, "place": "县委会议中心", "chair_title": "县委书记",
                      "collect_from": held_on - datetime.timedelta(days=30),
                      "collect_until": held_on - datetime.timedelta(days=1)},
        )
        created += new
    return created
