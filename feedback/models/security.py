"""Tables of the security measures (issue 15). Imported by feedback.models so Django sees them.

The audit chain (part 4):

Append-only: the model refuses save() of an existing row and delete(); on PostgreSQL, triggers
(migration feedback/0100) refuse UPDATE, DELETE and TRUNCATE from every client, and the portal's database
role holds only SELECT and INSERT on it (docs/operations.md, "Two database roles"). Each row carries the
SHA-256 of its predecessor, so an edit made by someone who can bypass all that (the tables' owner
disabling the triggers) breaks the chain at that row, and ``manage.py verify_audit`` names it.
"""

from __future__ import annotations

from typing import Any

from django.db import models


class AuditEvent(models.Model):
    # Plain columns, no foreign keys: a deleted user or department must never need this row updated.
    at = models.DateTimeField("时间", db_index=True)
    actor_id = models.BigIntegerField("用户 ID", null=True, blank=True)
    actor = models.CharField("用户", max_length=150, blank=True)
    ip = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    request_id = models.CharField("请求编号", max_length=32, blank=True)
    action = models.CharField("事件", max_length=64, db_index=True)
    object_type = models.CharField("对象类型", max_length=64, blank=True)
    object_id = models.CharField("对象编号", max_length=64, blank=True)
    detail = models.JSONField("详情", default=dict)
    algorithm = models.CharField("哈希算法", max_length=16, default="sha256")
    prev_hash = models.CharField("上一条哈希", max_length=64)
    row_hash = models.CharField("本条哈希", max_length=64, unique=True)

    class Meta:
        verbose_name = "安全审计记录"
        verbose_name_plural = "安全审计记录"
        ordering = ["id"]

    def __str__(self) -> str:
        # The admin's title and breadcrumbs; the event's Chinese name is feedback.security.events.ACTIONS.
        return f"审计记录 #{self.pk}（{self.at:%Y-%m-%d %H:%M:%S}，{self.actor or '—'}）"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("安全审计记录只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("安全审计记录只能追加，不能删除。")


class RateLimitHit(models.Model):
    """One counted attempt, for when the cache (Redis) is down: the public portal's limits then count
    here instead of failing the citizen's submission (issue 15, part 9). Rows older than the window are
    deleted as new ones are written."""

    kind = models.CharField("限流类型", max_length=32)
    client = models.CharField("来源", max_length=64)
    at = models.DateTimeField("时间", db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "限流计数"
        indexes = [models.Index(fields=["kind", "client", "at"], name="ratelimit_lookup")]

    def __str__(self) -> str:
        return f"{self.kind} {self.client} {self.at:%Y-%m-%d %H:%M}"
