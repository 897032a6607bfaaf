"""The handling of an issue: deadline policies, assignments and their deadline steps, extensions,
objections and signed replies."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from feedback.models.issues import Issue
from feedback.models.reference import Channel, DeadlineUnit, Department


class DeadlinePolicy(models.Model):
    """How long a department has to reply, per channel and nature (DOMAIN.md defaults)."""

    channel = models.CharField("渠道", max_length=16, choices=Channel.choices)
    nature = models.CharField(
        "性质", max_length=16, choices=Issue.Nature.choices, blank=True, help_text="留空表示该渠道的默认时限"
    )
    name = models.CharField("名称", max_length=100)
    amount = models.PositiveSmallIntegerField("时限")
    unit = models.CharField("单位", max_length=16, choices=DeadlineUnit.choices)
    extension_max_amount = models.PositiveSmallIntegerField("最长延期", default=0)
    extension_unit = models.CharField(
        "延期单位", max_length=16, choices=DeadlineUnit.choices, default=DeadlineUnit.WORKING_DAY
    )
    legal_basis = models.CharField("依据", max_length=200, blank=True)
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "办理时限规则"
        ordering = ["channel", "nature"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "nature"], condition=Q(active=True), name="one_active_policy_per_channel_nature"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="policy_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name}：{self.amount}个{self.get_unit_display()}"


class AssignmentQuerySet(models.QuerySet["Assignment"]):
    def open(self) -> AssignmentQuerySet:
        return self.filter(status__in=Assignment.OPEN_STATUSES)

    def live(self) -> AssignmentQuerySet:
        """Without assignments withdrawn after an accepted objection: another department's assignment
        replaced each of them, so they count in no figure and wait for no reply."""
        return self.exclude(status=Assignment.Status.WITHDRAWN)

    def for_department(self, department: Department) -> AssignmentQuerySet:
        return self.filter(department=department)

    def overdue(self, today: datetime.date | None = None) -> AssignmentQuerySet:
        today = today or timezone.localdate()
        return self.open().filter(due_date__lt=today)

    def due_within(self, last_day: datetime.date) -> AssignmentQuerySet:
        return self.open().filter(due_date__lte=last_day)


class Assignment(models.Model):
    class Role(models.TextChoices):
        LEAD = "lead", "主办"
        CO = "co", "协办"

    class Status(models.TextChoices):
        PENDING = "pending", "待签收"
        ACKNOWLEDGED = "acknowledged", "办理中"
        SUBMITTED = "submitted", "已回复待审核"
        RETURNED = "returned", "退回重办"
        ACCEPTED = "accepted", "已通过"
        # Left the workflow after an accepted objection (异议): another department took it over.
        WITHDRAWN = "withdrawn", "已退回改派"

    OPEN_STATUSES = (Status.PENDING, Status.ACKNOWLEDGED, Status.SUBMITTED, Status.RETURNED)

    issue = models.ForeignKey(Issue, verbose_name="诉求", on_delete=models.PROTECT, related_name="assignments")
    department = models.ForeignKey(
        Department, verbose_name="承办单位", on_delete=models.PROTECT, related_name="assignments"
    )
    role = models.CharField("角色", max_length=8, choices=Role.choices, default=Role.LEAD)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.PENDING)
    assigned_on = models.DateField("交办日期")
    deadline_amount = models.PositiveSmallIntegerField("时限")
    deadline_unit = models.CharField("时限单位", max_length=16, choices=DeadlineUnit.choices)
    policy = models.ForeignKey(
        DeadlinePolicy, verbose_name="时限规则", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_date = models.DateField("办理期限")
    original_due_date = models.DateField("原定期限", help_text="延期前的期限，按期率可按两者分别统计")
    provisional = models.BooleanField(
        "期限暂定", default=False, help_text="期限跨入尚未载入工作日历的年份，按周一至周五暂算"
    )
    deadline_version = models.PositiveIntegerField("期限版本", default=1)
    acknowledged_at = models.DateTimeField("签收时间", null=True, blank=True)
    replied_on = models.DateField("书面回复日期", null=True, blank=True, help_text="通过审核的书面回复的签发日期")
    # Set by the deadline sweep when the overdue step is taken (the ladder's steps are
    # DeadlineStep rows, feedback.services.sweeps).
    overdue_at = models.DateTimeField("标记超期时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    # The issue's received date, copied by the database (migration 0620, docs/decisions/0690), never
    # set here: it lets a CHECK on this row promise due_date > received_on, the bound the dashboard's
    # overdue preview starts its walk of assignment_due_idx from.
    received_on = models.DateField(
        "诉求受理日期",
        null=True,
        editable=False,
        help_text="诉求的受理日期，由数据库从诉求复制，供按期限顺序查找超期交办",
    )

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "交办"
        ordering = ["due_date", "id"]
        indexes = [
            # issue_id INCLUDEd: the inbox's tab counts are index-only scans (migration 0621).
            models.Index(fields=["department", "status", "due_date"], include=["issue"], name="assignment_inbox_idx"),
            # Used by the overdue sweep and the inbox's "overdue" tab: only open rows.
            models.Index(
                fields=["due_date"],
                name="assignment_open_due_idx",
                condition=Q(status__in=["pending", "acknowledged", "submitted", "returned"]),
            ),
            # The dashboard's overdue preview walks it from the period's first day (migration 0620).
            models.Index(
                fields=["due_date", "id"],
                include=["issue", "received_on", "replied_on", "status"],
                name="assignment_due_idx",
            ),
        ]
        constraints = [
            # A withdrawn assignment (objection accepted) no longer counts: the issue gets a new
            # lead, and the office may even hand it back to a department that objected before.
            models.UniqueConstraint(
                fields=["issue", "department"],
                condition=~Q(status="withdrawn"),
                name="one_assignment_per_issue_department",
            ),
            models.UniqueConstraint(
                fields=["issue"], condition=Q(role="lead") & ~Q(status="withdrawn"), name="one_lead_per_issue"
            ),
            models.CheckConstraint(condition=Q(due_date__gt=F("assigned_on")), name="due_after_assigned"),
            # Holds for every row on PostgreSQL, where received_on is NOT NULL (migration 0620).
            models.CheckConstraint(condition=Q(due_date__gt=F("received_on")), name="due_after_received"),
            models.CheckConstraint(condition=Q(deadline_amount__gt=0), name="deadline_amount_positive"),
            models.CheckConstraint(
                condition=Q(replied_on__isnull=True) | Q(status="accepted"), name="replied_on_only_when_accepted"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.issue.ref} → {self.department.name}（{self.get_role_display()}）"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def is_overdue(self, today: datetime.date | None = None) -> bool:
        return self.is_open and self.due_date < (today or timezone.localdate())


class AssignmentTally(models.Model):
    """How many assignments each department holds per channel (its issue's) and status, kept by
    triggers (migration 0810) as rows to add up, like ``IssueTally``: a row per key for each statement
    that inserts or deletes assignments (PostgreSQL; a row per assignment on SQLite), −1 and +1 for an
    assignment whose status, department or issue changes and for the assignments of an issue moved to
    another channel. The inbox's tab counts read it (``feedback.figures.tally``, decision 0800)."""

    department = models.ForeignKey(
        Department, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    channel = models.CharField(max_length=16)
    status = models.CharField(max_length=16)
    n = models.IntegerField()

    class Meta:
        verbose_name = verbose_name_plural = "交办计数"
        indexes = [
            models.Index(fields=["department", "channel", "status", "n"], name="assignment_tally_key_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.department_id} {self.channel} {self.status}：{self.n:+d}"


class DeadlineStep(models.Model):
    """One step of the reminder and escalation ladder, taken exactly once per deadline version.

    The whole ladder of an open assignment is written when its deadline is set (pending rows,
    ``taken_at`` NULL) and replaced when the deadline or the calendar changes; pending rows go
    when the assignment leaves the workflow. The sweep takes the rows whose moment has come
    (marks them taken, and the assignment overdue) and a second pass announces what was taken
    (history and notifications, ``announced_at``). Both are claims by conditional UPDATE.
    """

    class Step(models.TextChoices):
        REMIND_50 = "remind_50", "时间过半提醒"
        REMIND_80 = "remind_80", "时间已过八成提醒"
        REMIND_1D = "remind_1d", "到期前一个工作日提醒"
        OVERDUE = "overdue", "超期"
        CHASE = "chase", "催办"
        SUPERVISE = "supervise", "督办"
        BULLETIN = "bulletin", "列入月度通报"

    assignment = models.ForeignKey("Assignment", verbose_name="交办", on_delete=models.PROTECT, related_name="steps")
    step = models.CharField("步骤", max_length=16, choices=Step.choices)
    deadline_version = models.PositiveIntegerField("期限版本")
    due_date = models.DateField("当时的办理期限")
    scheduled_for = models.DateTimeField("应执行时间")
    taken_at = models.DateTimeField("执行时间", null=True, blank=True)
    announced_at = models.DateTimeField("通知时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "提醒与督办记录"
        ordering = ["scheduled_for", "id"]
        indexes = [
            # The sweep's queue (feedback.services.sweeps.take_due_steps): only steps still to take.
            models.Index(fields=["scheduled_for"], name="deadlinestep_pending_idx", condition=Q(taken_at__isnull=True)),
            # The announcing pass (feedback.services.sweeps.announce_steps): steps taken, not yet told.
            models.Index(
                fields=["taken_at"],
                name="deadlinestep_unannounced_idx",
                condition=Q(taken_at__isnull=False, announced_at__isnull=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "step", "deadline_version"], name="one_step_per_deadline"),
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id} {self.get_step_display()}"


class ExtensionRequest(models.Model):
    """延期: asked by the department, decided by the channel office, within the policy's limit."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审批"
        APPROVED = "approved", "已批准"
        REJECTED = "rejected", "未批准"

    assignment = models.ForeignKey(
        "Assignment", verbose_name="交办", on_delete=models.PROTECT, related_name="extensions"
    )
    reason = models.TextField("延期理由")
    current_due_date = models.DateField("申请时的期限")
    requested_due_date = models.DateField("申请延至")
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField("申请时间", default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审批人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.TextField("审批意见", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "延期申请"
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment"], condition=Q(status="pending"), name="one_pending_extension_per_assignment"
            ),
            models.CheckConstraint(
                condition=Q(requested_due_date__gt=F("current_due_date")), name="extension_moves_the_date_later"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id} 延至 {self.requested_due_date}"


def reply_upload_to(instance: SignedReply, filename: str) -> str:
    # The stored name is generated; the user's name is kept only as ``original_name``.
    import uuid

    ext = filename.rsplit(".", 1)[-1].lower()
    return f"replies/{timezone.localdate():%Y}/{uuid.uuid4().hex}.{ext}"


class SignedReply(models.Model):
    class Result(models.TextChoices):
        RESOLVED = "resolved", "已解决"
        PARTLY_RESOLVED = "partly_resolved", "部分解决"
        EXPLAINED = "explained", "解释说明"
        PLANNED = "planned", "列入计划"
        DECLINED = "declined", "不予支持"

    class Review(models.TextChoices):
        PENDING = "pending", "待审核"
        ACCEPTED = "accepted", "已通过"
        RETURNED = "returned", "已退回"

    assignment = models.ForeignKey(Assignment, verbose_name="交办", on_delete=models.PROTECT, related_name="replies")
    version = models.PositiveSmallIntegerField("版本", default=1)
    file = models.FileField("回复函扫描件", upload_to=reply_upload_to)
    original_name = models.CharField("原文件名", max_length=200)
    content_type = models.CharField("文件类型", max_length=64)
    size = models.PositiveIntegerField("文件大小")
    sha256 = models.CharField("SHA-256", max_length=64)
    signer_name = models.CharField("签发人", max_length=50)
    signer_title = models.CharField("签发人职务", max_length=50)
    signed_on = models.DateField("签发日期")
    result = models.CharField("办理结果", max_length=20, choices=Result.choices)
    summary = models.TextField("答复摘要")
    review_status = models.CharField("审核", max_length=16, choices=Review.choices, default=Review.PENDING)
    review_reason = models.TextField("审核意见", blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提交人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField("提交时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "书面回复"
        ordering = ["assignment", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "version"], name="one_reply_per_version"),
            # At most one reply waiting for review per assignment: two people submitting
            # at once cannot both win.
            models.UniqueConstraint(
                fields=["assignment"], condition=Q(review_status="pending"), name="one_pending_reply_per_assignment"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assignment} 第{self.version}版"


class Objection(models.Model):
    """异议: the assigned department says the issue is not its business (DOMAIN.md "Workflow").

    Raised within 5 working days of the day the department received the assignment, with a
    reason; decided by the channel office. Accepting withdraws the assignment and creates a new
    one for the department the office picks; "not ours" never closes an issue.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "待决定"
        ACCEPTED = "accepted", "已同意改派"
        REJECTED = "rejected", "已驳回"

    class Clock(models.TextChoices):
        CONTINUE = "continue", "沿用原办理期限"
        RESTART = "restart", "从改派之日重新起算"

    assignment = models.ForeignKey(Assignment, verbose_name="交办", on_delete=models.PROTECT, related_name="objections")
    reason = models.TextField("异议理由")
    suggested_department = models.ForeignKey(
        Department, verbose_name="建议改派单位", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.PENDING)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提出人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField("提出时间", default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="决定人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField("决定时间", null=True, blank=True)
    decision_note = models.TextField("决定意见", blank=True)
    clock = models.CharField("改派后期限", max_length=16, choices=Clock.choices, blank=True)
    new_assignment = models.ForeignKey(
        Assignment, verbose_name="改派后的交办", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = "异议"
        ordering = ["-raised_at", "-id"]
        constraints = [
            # Two members objecting at once cannot both win.
            models.UniqueConstraint(
                fields=["assignment"], condition=Q(status="pending"), name="one_pending_objection_per_assignment"
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False)),
                name="objection_decided_iff_not_pending",
            ),
            # Accepted ⇔ re-assigned: an accepted objection always names the assignment that replaced it.
            models.CheckConstraint(
                condition=Q(status="accepted", new_assignment__isnull=False, clock__in=["continue", "restart"])
                | (~Q(status="accepted") & Q(new_assignment__isnull=True, clock="")),
                name="objection_accepted_iff_reassigned",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id} 异议（{self.get_status_display()}）"
