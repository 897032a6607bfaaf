"""Issues, their requesters and their append-only history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from feedback.models.reference import Category, Channel, Department
from feedback.privacy import mask_phone


class Requester(models.Model):
    class Kind(models.TextChoices):
        PERSON = "person", "群众"
        NETIZEN = "netizen", "网民"
        ENTERPRISE = "enterprise", "企业"

    kind = models.CharField("类型", max_length=16, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField("姓名/网名", max_length=100)
    phone = models.CharField("联系电话", max_length=32, blank=True)
    organization = models.CharField("所在企业/单位", max_length=200, blank=True)
    created_at = models.DateTimeField("登记时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "诉求人"
        indexes = [
            models.Index(fields=["phone"], name="requester_phone_idx"),
            models.Index(fields=["name"], name="requester_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class IssueQuerySet(models.QuerySet["Issue"]):
    def for_channel(self, channel: str) -> IssueQuerySet:
        return self.filter(channel=channel)

    def open(self) -> IssueQuerySet:
        return self.exclude(status__in=[Issue.Status.CLOSED])


class Issue(models.Model):
    class Nature(models.TextChoices):
        CONSULT = "consult", "咨询"
        HELP = "help", "求助"
        COMPLAINT = "complaint", "投诉"
        REPORT = "report", "举报"
        SUGGESTION = "suggestion", "建议"

    class Status(models.TextChoices):
        REGISTERED = "registered", "已登记"
        ASSIGNED = "assigned", "办理中"
        REPLIED = "replied", "已回复待回访"
        FOLLOWED_UP = "followed_up", "已回访"
        CLOSED = "closed", "已办结"

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", "满意"
        BASICALLY = "basically", "基本满意"
        DISSATISFIED = "dissatisfied", "不满意"
        UNREACHABLE = "unreachable", "未联系上"

    class FollowUpSkip(models.TextChoices):
        """未能回访: why the office closes without a follow-up (docs/decisions/0600)."""

        UNREACHABLE = "unreachable", "多次联系不上"
        REFUSED = "refused", "诉求人拒绝回访"
        MOVED_AWAY = "moved_away", "诉求人已离开本地"
        OTHER = "other", "其他"

    ref = models.CharField("编号", max_length=40, unique=True)
    channel = models.CharField("渠道", max_length=16, choices=Channel.choices)
    nature = models.CharField("性质", max_length=16, choices=Nature.choices, default=Nature.SUGGESTION)
    category = models.ForeignKey(Category, verbose_name="分类", on_delete=models.PROTECT, related_name="issues")
    requester = models.ForeignKey(Requester, verbose_name="诉求人", on_delete=models.PROTECT, related_name="issues")
    title = models.CharField("标题", max_length=200)
    content = models.TextField("诉求内容")
    received_on = models.DateField("受理日期")
    onsite_answer = models.TextField("现场回应", blank=True)
    # 检举控告 (信访工作条例 art. 30): the accused unit never sees the issue (access.issues_for).
    accused_department = models.ForeignKey(
        Department,
        verbose_name="被举报单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="仅限举报、投诉类诉求；被举报单位在任何页面、接口和统计中都看不到本诉求",
    )
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.REGISTERED)
    satisfaction = models.CharField("回访评价", max_length=16, choices=Satisfaction.choices, blank=True)
    follow_up_comment = models.TextField("回访意见", blank=True)
    followed_up_on = models.DateField("回访日期", null=True, blank=True)
    # db_default: rows written by plain SQL (bulk loads, benchmarks) need not name them.
    follow_up_skipped = models.CharField(
        "未能回访原因", max_length=16, choices=FollowUpSkip.choices, blank=True, default="", db_default=""
    )
    follow_up_skip_note = models.TextField("未能回访说明", blank=True, default="", db_default="")
    closed_on = models.DateField("办结日期", null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    # 并单 (issue 19): a merged issue keeps its requester, channel and dates but has no handling of its
    # own; its status, follow-up and closure follow the lead's (states.move). Split again by the office.
    merged_into = models.ForeignKey(
        "self",
        verbose_name="并入诉求",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_issues",
    )
    merged_at = models.DateTimeField("并单时间", null=True, blank=True)

    objects = IssueQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "诉求"
        ordering = ["-received_on", "-id"]
        indexes = [
            # accused_department INCLUDEd: a channel's ledger total is an index-only count (migration 0621).
            models.Index(
                fields=["channel", "received_on"], include=["accused_department"], name="issue_channel_received_idx"
            ),
            models.Index(fields=["received_on"], name="issue_received_idx"),
            models.Index(fields=["status"], name="issue_status_idx"),
            # Used by feedback.figures.rollup for the distinct requesters of a cohort, which no rollup can
            # sum: index-only scans whatever the channel and category filters — the first for a
            # short period, the second (already in requester order, no sort) for a long one.
            models.Index(fields=["received_on", "channel", "category", "requester"], name="issue_stats_requester_idx"),
            models.Index(
                fields=["requester", "received_on", "channel", "category"], name="issue_requester_received_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(status="closed"), name="closed_on_only_when_closed"
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_on__isnull=False), name="closed_issue_has_closed_on"
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=F("received_on")),
                name="closed_not_before_received",
            ),
            # 未能回访 is instead of a rating (a failed 未联系上 call may precede it); 其他 needs a note.
            models.CheckConstraint(
                condition=Q(follow_up_skipped="") | Q(satisfaction__in=["", "unreachable"]),
                name="follow_up_skipped_not_rated",
            ),
            models.CheckConstraint(
                condition=~Q(follow_up_skipped="other") | ~Q(follow_up_skip_note=""),
                name="follow_up_skip_other_has_note",
            ),
            models.CheckConstraint(
                condition=Q(accused_department__isnull=True) | Q(nature__in=["report", "complaint"]),
                name="accusation_is_report_or_complaint",
            ),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | ~Q(merged_into=F("pk")), name="issue_not_merged_into_itself"
            ),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True, merged_at__isnull=True)
                | Q(merged_into__isnull=False, merged_at__isnull=False),
                name="merged_issue_has_merged_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ref} {self.title}"


class IssueTally(models.Model):
    """How many issues each channel holds, kept by triggers (migration 0800) as rows to add up: one row
    per channel for each statement that inserts or deletes issues (PostgreSQL; a row per issue on
    SQLite), two for an issue moved to another channel. Writers only ever insert here, so two never wait
    on each other; ``feedback.figures.tally`` adds the rows up for the ledger's total and folds them
    into one row per channel every night (decision 0800)."""

    channel = models.CharField(max_length=16)
    n = models.IntegerField()

    class Meta:
        verbose_name = verbose_name_plural = "诉求计数"
        indexes = [models.Index(fields=["channel", "n"], name="issue_tally_channel_idx")]

    def __str__(self) -> str:
        return f"{self.channel}：{self.n:+d}"


class HistoryEntry(models.Model):
    """Append-only record of every transition: who, when, what, from, to, why."""

    issue = models.ForeignKey(Issue, verbose_name="诉求", on_delete=models.PROTECT, related_name="history")
    assignment = models.ForeignKey(
        "Assignment", verbose_name="交办", null=True, blank=True, on_delete=models.PROTECT, related_name="history"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField("时间", default=timezone.now)
    action = models.CharField("操作", max_length=32)
    from_status = models.CharField("原状态", max_length=16, blank=True)
    to_status = models.CharField("新状态", max_length=16, blank=True)
    note = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "办理记录"
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["issue", "at"], name="history_issue_at_idx")]

    def __str__(self) -> str:
        # The admin's title and breadcrumbs: the action's Chinese name lives in feedback.states.
        return f"办理记录 #{self.pk}（{self.at:%Y-%m-%d %H:%M}）"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("办理记录只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ValueError("办理记录只能追加，不能删除。")
