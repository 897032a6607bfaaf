"""Monthly bulletins (通报): drafted from the figures, frozen when published."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from feedback.errors import (
    IllegalTransition,
    InvalidInput,
    NotPermitted,
)
from feedback.figures.bulletins import can_publish, compute_figures, previous_month
from feedback.models import (
    Bulletin,
    Channel,
)


def _bulletin_scope(actor: User | None, channel: str) -> None:
    if channel and channel not in Channel.values:
        raise InvalidInput(f"未知渠道：{channel}", field="channel")
    if actor is not None and not can_publish(actor, channel):
        raise NotPermitted("只有管理员或本渠道的直通车办公室可以生成和发布通报。")


@transaction.atomic
def draft_bulletin(*, actor: User | None, month: datetime.date, channel: str = "") -> Bulletin:
    """Create the month's bulletin as a draft, or recompute an existing draft; ``actor=None`` is the
    month-end task. A published bulletin is never recomputed (IllegalTransition)."""
    _bulletin_scope(actor, channel)
    month = month.replace(day=1)
    if month > timezone.localdate():
        raise InvalidInput("不能为尚未开始的月份生成通报。", field="month")
    # The unique key (month, channel) decides between two drafters; the row lock orders them.
    bulletin, _ = Bulletin.objects.get_or_create(month=month, channel=channel)
    bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
    if bulletin.status == Bulletin.Status.PUBLISHED:
        raise IllegalTransition(f"{bulletin}已发布，数据已冻结，不能重新计算。")
    bulletin.figures = compute_figures(month, channel)
    bulletin.computed_at = timezone.now()
    bulletin.save(update_fields=["figures", "computed_at"])
    return bulletin


@transaction.atomic
def publish_bulletin(*, actor: User | None, bulletin: Bulletin) -> Bulletin:
    """Recompute the draft one last time and freeze it: from now on its figures never change."""
    _bulletin_scope(actor, bulletin.channel)
    bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
    if bulletin.status == Bulletin.Status.PUBLISHED:
        raise IllegalTransition(f"{bulletin}已于{timezone.localtime(bulletin.published_at):%Y-%m-%d %H:%M}发布。")
    now = timezone.now()
    bulletin.figures = compute_figures(bulletin.month, bulletin.channel)
    bulletin.computed_at = now
    bulletin.status = Bulletin.Status.PUBLISHED
    bulletin.published_at = now
    bulletin.published_by = actor if getattr(actor, "pk", None) else None
    bulletin.save(update_fields=["figures", "computed_at", "status", "published_at", "published_by"])
    return bulletin


def draft_month_end_bulletins(*, today: datetime.date | None = None) -> list[Bulletin]:
    """The month-end task: draft last month's bulletins (all channels, then each channel) that do not
    exist yet. Idempotent: an existing one, draft or published, is left as it is."""
    month = previous_month(today or timezone.localdate())
    existing = set(Bulletin.objects.filter(month=month).values_list("channel", flat=True))
    made = []
    for channel in ["", *Channel.values]:
        if channel in existing:
            continue
        try:
            made.append(draft_bulletin(actor=None, month=month, channel=channel))
        except IntegrityError:  # drafted meanwhile by someone else: theirs stands
            continue
    return made


# --- Large ledger exports (导出任务): built by a worker, shown with progress, downloaded by the owner --
