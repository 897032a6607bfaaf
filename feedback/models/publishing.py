"""What the portal publishes or hands out: monthly bulletins and background export jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from feedback.models.reference import Channel


class Bulletin(models.Model):
    """月度通报: the month's figures, drafted at month end and frozen once published.

    ``figures`` holds everything the page prints (feedback.bulletins.compute_figures): a later
    correction of the data never changes a published bulletin, because its page reads only
    this column and ``save`` refuses to touch a published row.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        PUBLISHED = "published", "已发布"

    month = models.DateField("月份", help_text="该月第一天")
    channel = models.CharField(
        "渠道", max_length=16, choices=Channel.choices, blank=True, help_text="留空表示三个直通车合并通报"
    )
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.DRAFT)
    figures = models.JSONField("通报数据", default=dict)
    computed_at = models.DateTimeField("数据计算时间", null=True, blank=True)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发布人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "月度通报"
        ordering = ["-month", "channel"]
        constraints = [
            # The month-end task drafts once: a rerun hits this key (feedback.bulletins).
            models.UniqueConstraint(fields=["month", "channel"], name="one_bulletin_per_month_channel"),
            models.CheckConstraint(condition=Q(month__day=1), name="bulletin_month_is_first_day"),
            models.CheckConstraint(
                condition=Q(status="draft", published_at__isnull=True)
                | Q(status="published", published_at__isnull=False),
                name="bulletin_published_iff_published_at",
            ),
        ]

    def __str__(self) -> str:
        scope = Channel(self.channel).label if self.channel else "三个直通车"
        return f"{self.month:%Y年%m月}{scope}办理情况通报"

    def save(self, *args: object, **kwargs: object) -> None:
        # A published bulletin is frozen: re-read the stored status, so a stale object in memory
        # (loaded as a draft, published meanwhile by someone else) cannot overwrite it either.
        if (
            self.pk is not None
            and not self._state.adding
            and Bulletin.objects.filter(pk=self.pk, status=self.Status.PUBLISHED).exists()
        ):
            raise ValueError("通报已发布，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        if self.status == self.Status.PUBLISHED:
            raise ValueError("通报已发布，不能删除。")
        return super().delete(*args, **kwargs)


class ExportJob(models.Model):
    """A large ledger export built by a worker (feedback.tasks.build_export); only its owner downloads it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "生成中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.CASCADE, related_name="export_jobs"
    )
    params = models.JSONField("筛选条件", default=dict)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField("进度", default=0)
    total = models.PositiveIntegerField("行数", default=0)
    file = models.CharField("文件", max_length=200, blank=True, help_text="MEDIA_ROOT 下的相对路径")
    error = models.TextField("错误", blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "导出任务"
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(progress__lte=100), name="export_progress_at_most_100")]
        indexes = [
            # Used by feedback.tasks.run_queued_exports (the catch-up for jobs whose message was lost).
            models.Index(fields=["created_at"], name="export_queued_idx", condition=Q(status="queued")),
        ]

    def __str__(self) -> str:
        return f"导出 #{self.pk}（{self.get_status_display()}）"


# --- the statistics rollup (feedback.figures.rollup) ----------------------------------------------------------
