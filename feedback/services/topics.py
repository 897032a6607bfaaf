"""The rising hot topics (上升热点) told to the channel offices once (issue 19)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from feedback import similar
from feedback.models import Channel, Issue, Notification
from feedback.services.guards import office_members
from feedback.services.notifications import queue_after_commit

# The period compared, as on the dashboard without a chosen period: the last 30 days against the 30 before.
RISING_DAYS = 30
RISING_KIND = "hot_topic"


def rising_key(concept: str) -> str:
    """The notification kind of a concept; with ``deadline_version`` = YYYYMM, one notice per office
    member, concept and month (the unique key of system notices, notifications without an assignment)."""
    return f"{RISING_KIND}:{concept}"[:32]


def flag_rising_topics(today: datetime.date | None = None) -> int:
    """Tell each channel's office of every rising cluster of its channel, once a month. Returns the
    notifications created; a rerun creates none (the unique key)."""
    today = today or timezone.localdate()
    start = today - datetime.timedelta(days=RISING_DAYS - 1)
    version = today.year * 100 + today.month
    created = 0
    with transaction.atomic():
        for channel in Channel.values:
            rising = [
                t for t in similar.hot_topics(Issue.objects.filter(channel=channel), start=start, end=today) if t.rising
            ]
            if not rising:
                continue
            members = office_members(channel)
            for topic in rising:
                kind = rising_key(topic.concept)
                already = set(
                    Notification.objects.filter(
                        kind=kind, deadline_version=version, assignment__isnull=True, recipient__in=members
                    ).values_list("recipient_id", flat=True)
                )
                places = "、".join(name for name, _ in topic.townships.most_common(3)) or "多个地方"
                rows = [
                    Notification(
                        recipient=user,
                        kind=kind,
                        deadline_version=version,
                        title=f"热点上升：{topic.concept}（近{RISING_DAYS}天 {topic.size} 件）",
                        body=_body(channel, topic, places),
                    )
                    for user in members
                    if user.pk not in already
                ]
                Notification.objects.bulk_create(rows, ignore_conflicts=True)  # a concurrent run is skipped
                created += len(rows)
        if created:
            queue_after_commit()
    return created


def _body(channel: str, topic: similar.Topic, places: str) -> str:
    days = RISING_DAYS
    return (
        f"{Channel(channel).label}近{days}天受理反映“{topic.concept}”问题的诉求 {topic.size} 件，"
        f"此前{days}天 {topic.previous} 件，主要在{places}。例如：{'；'.join(topic.titles)}。"
        "请在统计看板“热点诉求”中查看，考虑并单或统一协调办理。"
    )
