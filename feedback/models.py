"""The shared core: Issue → Assignment → SignedReply, with an append-only history.

The core knows a channel only as ``Issue.channel``; channel apps keep their own
session models and link to ``Issue`` one-to-one.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from .privacy import mask_phone


class Channel(models.TextChoices):
    NET = "net", "政网直通车"
    ENTERPRISE = "enterprise", "政企直通车"
    CITIZEN = "citizen", "政民直通车"


class DeadlineUnit(models.TextChoices):
    WORKING_DAY = "working_day", "工作日"
    CALENDAR_DAY = "calendar_day", "自然日"


class Department(models.Model):
    class Kind(models.TextChoices):
        OFFICE = "office", "直通车办公室"
        BUREAU = "bureau", "县直部门"
        TOWNSHIP = "township", "乡镇"

    code = models.SlugField("代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=64, unique=True)
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    # Only channel offices carry a channel: the office that runs it sees its issues.
    channel = models.CharField("负责渠道", max_length=16, choices=Channel.choices, blank=True)
    active = models.BooleanField("启用", default=True)
    sort_order = models.PositiveIntegerField("排序", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "单位"
        ordering = ["kind", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel"], condition=~Q(channel=""), name="one_office_per_channel"
            ),
            models.CheckConstraint(
                condition=Q(channel="") | Q(kind="office"), name="only_offices_run_channels"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise models.ProtectedError("单位只能停用，不能删除。", {self})


class Category(models.Model):
    code = models.SlugField("代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=64)
    parent = models.ForeignKey(
        "self", verbose_name="上级分类", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    active = models.BooleanField("启用", default=True)
    sort_order = models.PositiveIntegerField("排序", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "诉求分类"
        ordering = ["sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="category_name_unique_under_parent"),
        ]

    def __str__(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise models.ProtectedError("分类只能停用，不能删除。", {self})


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
        indexes = [models.Index(fields=["phone"], name="requester_phone_idx"),
                   models.Index(fields=["name"], name="requester_name_idx")]

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
        Department, verbose_name="被举报单位", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="仅限举报、投诉类诉求；被举报单位在任何页面、接口和统计中都看不到本诉求",
    )
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.REGISTERED)
    satisfaction = models.CharField("回访评价", max_length=16, choices=Satisfaction.choices, blank=True)
    follow_up_comment = models.TextField("回访意见", blank=True)
    followed_up_on = models.DateField("回访日期", null=True, blank=True)
    closed_on = models.DateField("办结日期", null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = IssueQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "诉求"
        ordering = ["-received_on", "-id"]
        indexes = [
            models.Index(fields=["channel", "received_on"], name="issue_channel_received_idx"),
            models.Index(fields=["received_on"], name="issue_received_idx"),
            models.Index(fields=["status"], name="issue_status_idx"),
            # Used by feedback.rollup for the distinct requesters of a cohort, which no rollup can
            # sum: index-only scans whatever the channel and category filters — the first for a
            # short period, the second (already in requester order, no sort) for a long one.
            models.Index(fields=["received_on", "channel", "category", "requester"],
                         name="issue_stats_requester_idx"),
            models.Index(fields=["requester", "received_on", "channel", "category"],
                         name="issue_requester_received_idx"),
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
            models.CheckConstraint(
                condition=Q(accused_department__isnull=True) | Q(nature__in=["report", "complaint"]),
                name="accusation_is_report_or_complaint",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ref} {self.title}"


class DeadlinePolicy(models.Model):
    """How long a department has to reply, per channel and nature (DOMAIN.md defaults)."""

    channel = models.CharField("渠道", max_length=16, choices=Channel.choices)
    nature = models.CharField("性质", max_length=16, choices=Issue.Nature.choices, blank=True,
                              help_text="留空表示该渠道的默认时限")
    name = models.CharField("名称", max_length=100)
    amount = models.PositiveSmallIntegerField("时限")
    unit = models.CharField("单位", max_length=16, choices=DeadlineUnit.choices)
    extension_max_amount = models.PositiveSmallIntegerField("最长延期", default=0)
    extension_unit = models.CharField("延期单位", max_length=16, choices=DeadlineUnit.choices,
                                      default=DeadlineUnit.WORKING_DAY)
    legal_basis = models.CharField("依据", max_length=200, blank=True)
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "办理时限规则"
        ordering = ["channel", "nature"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "nature"], condition=Q(active=True),
                                    name="one_active_policy_per_channel_nature"),
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
    department = models.ForeignKey(Department, verbose_name="承办单位", on_delete=models.PROTECT,
                                   related_name="assignments")
    role = models.CharField("角色", max_length=8, choices=Role.choices, default=Role.LEAD)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.PENDING)
    assigned_on = models.DateField("交办日期")
    deadline_amount = models.PositiveSmallIntegerField("时限")
    deadline_unit = models.CharField("时限单位", max_length=16, choices=DeadlineUnit.choices)
    policy = models.ForeignKey(DeadlinePolicy, verbose_name="时限规则", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField("办理期限")
    original_due_date = models.DateField("原定期限", help_text="延期前的期限，按期率可按两者分别统计")
    provisional = models.BooleanField("期限暂定", default=False,
                                      help_text="期限跨入尚未载入工作日历的年份，按周一至周五暂算")
    deadline_version = models.PositiveIntegerField("期限版本", default=1)
    acknowledged_at = models.DateTimeField("签收时间", null=True, blank=True)
    replied_on = models.DateField("书面回复日期", null=True, blank=True,
                                  help_text="通过审核的书面回复的签发日期")
    # Set by the deadline sweep when the overdue step is taken (the ladder's steps are
    # DeadlineStep rows, feedback.sweeps).
    overdue_at = models.DateTimeField("标记超期时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "交办"
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["department", "status", "due_date"], name="assignment_inbox_idx"),
            # Used by the overdue sweep and the inbox's "overdue" tab: only open rows.
            models.Index(fields=["due_date"], name="assignment_open_due_idx",
                         condition=Q(status__in=["pending", "acknowledged", "submitted", "returned"])),
        ]
        constraints = [
            # A withdrawn assignment (objection accepted) no longer counts: the issue gets a new
            # lead, and the office may even hand it back to a department that objected before.
            models.UniqueConstraint(fields=["issue", "department"], condition=~Q(status="withdrawn"),
                                    name="one_assignment_per_issue_department"),
            models.UniqueConstraint(fields=["issue"], condition=Q(role="lead") & ~Q(status="withdrawn"),
                                    name="one_lead_per_issue"),
            models.CheckConstraint(condition=Q(due_date__gt=F("assigned_on")), name="due_after_assigned"),
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

    assignment = models.ForeignKey("Assignment", verbose_name="交办", on_delete=models.PROTECT,
                                   related_name="steps")
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
            # The sweep's queue (feedback.sweeps.take_due_steps): only steps still to take.
            models.Index(fields=["scheduled_for"], name="deadlinestep_pending_idx",
                         condition=Q(taken_at__isnull=True)),
            # The announcing pass (feedback.sweeps.announce_steps): steps taken, not yet told.
            models.Index(fields=["taken_at"], name="deadlinestep_unannounced_idx",
                         condition=Q(taken_at__isnull=False, announced_at__isnull=True)),
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

    assignment = models.ForeignKey("Assignment", verbose_name="交办", on_delete=models.PROTECT,
                                   related_name="extensions")
    reason = models.TextField("延期理由")
    current_due_date = models.DateField("申请时的期限")
    requested_due_date = models.DateField("申请延至")
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="申请人", null=True,
                                     on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField("申请时间", default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="审批人", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.TextField("审批意见", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "延期申请"
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["assignment"], condition=Q(status="pending"),
                                    name="one_pending_extension_per_assignment"),
            models.CheckConstraint(condition=Q(requested_due_date__gt=F("current_due_date")),
                                   name="extension_moves_the_date_later"),
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

    assignment = models.ForeignKey(Assignment, verbose_name="交办", on_delete=models.PROTECT,
                                   related_name="replies")
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
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="审核人", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="提交人", null=True,
                                     on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField("提交时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "书面回复"
        ordering = ["assignment", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "version"], name="one_reply_per_version"),
            # At most one reply waiting for review per assignment: two people submitting
            # at once cannot both win.
            models.UniqueConstraint(fields=["assignment"], condition=Q(review_status="pending"),
                                    name="one_pending_reply_per_assignment"),
        ]

    def __str__(self) -> str:
        return f"{self.assignment} 第{self.version}版"


class HistoryEntry(models.Model):
    """Append-only record of every transition: who, when, what, from, to, why."""

    issue = models.ForeignKey(Issue, verbose_name="诉求", on_delete=models.PROTECT, related_name="history")
    assignment = models.ForeignKey(Assignment, verbose_name="交办", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="history")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
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
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("办理记录只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ValueError("办理记录只能追加，不能删除。")


class Membership(models.Model):
    """Links a user to the department they work for (one department per user)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE,
                                related_name="membership")
    department = models.ForeignKey(Department, verbose_name="单位", on_delete=models.PROTECT,
                                   related_name="members")
    title = models.CharField("职务", max_length=50, blank=True)
    is_head = models.BooleanField("单位负责人", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "用户所属单位"

    def __str__(self) -> str:
        return f"{self.user} @ {self.department}"


class CalendarYear(models.Model):
    """A year whose rest days and make-up working days are loaded (seed or State Council notice)."""

    year = models.PositiveSmallIntegerField("年份", unique=True)
    source = models.CharField("来源", max_length=100)
    loaded_at = models.DateTimeField("载入时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "工作日历年份"
        ordering = ["year"]

    def __str__(self) -> str:
        return f"{self.year}年"


class CalendarDay(models.Model):
    """An exception to Monday–Friday: a holiday on a weekday or a make-up working weekend day.

    Rows from the seed or a notice (``source`` = national) and county overrides
    (``source`` = county) may both exist for one date; the county row wins.
    """

    class Source(models.TextChoices):
        NATIONAL = "national", "国务院安排"
        COUNTY = "county", "本县调整"

    date = models.DateField("日期")
    is_workday = models.BooleanField("上班")
    name = models.CharField("名称", max_length=50, blank=True)
    source = models.CharField("来源", max_length=16, choices=Source.choices, default=Source.NATIONAL)

    class Meta:
        verbose_name = verbose_name_plural = "节假日与调休"
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["date", "source"], name="one_calendar_day_per_source")]

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '休息'} {self.name}"


class Notification(models.Model):
    """One message to one person, shown under the bell and sent by email from the same row.

    The unique key (recipient, assignment, kind, deadline_version) makes every step of
    the deadline ladder happen once per person, however often a sweep or task reruns.
    """

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", "新交办"
        REPLY_RETURNED = "reply_returned", "回复被退回"
        REHANDLE = "rehandle", "重办"

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="接收人", on_delete=models.CASCADE,
                                  related_name="notifications")
    # Both are empty for system notices to administrators (e.g. next year's calendar is missing).
    issue = models.ForeignKey(Issue, verbose_name="诉求", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    assignment = models.ForeignKey(Assignment, verbose_name="交办", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("类型", max_length=32)
    deadline_version = models.PositiveIntegerField("期限版本", default=1)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容")
    created_at = models.DateTimeField("时间", default=timezone.now)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)
    emailed_at = models.DateTimeField("邮件发送时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "通知"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "assignment", "kind", "deadline_version"],
                                    name="one_notification_per_step"),
            models.UniqueConstraint(fields=["recipient", "kind", "deadline_version"],
                                    condition=Q(assignment__isnull=True), name="one_system_notice_per_key"),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread_idx"),
            # Used by tasks.send_pending_emails to find what is still to be mailed.
            models.Index(fields=["id"], name="notification_unsent_idx", condition=Q(emailed_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.title


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

    assignment = models.ForeignKey(Assignment, verbose_name="交办", on_delete=models.PROTECT,
                                   related_name="objections")
    reason = models.TextField("异议理由")
    suggested_department = models.ForeignKey(Department, verbose_name="建议改派单位", null=True, blank=True,
                                             on_delete=models.PROTECT, related_name="+")
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.PENDING)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="提出人", null=True,
                                  on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField("提出时间", default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="决定人", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField("决定时间", null=True, blank=True)
    decision_note = models.TextField("决定意见", blank=True)
    clock = models.CharField("改派后期限", max_length=16, choices=Clock.choices, blank=True)
    new_assignment = models.ForeignKey(Assignment, verbose_name="改派后的交办", null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "异议"
        ordering = ["-raised_at", "-id"]
        constraints = [
            # Two members objecting at once cannot both win.
            models.UniqueConstraint(fields=["assignment"], condition=Q(status="pending"),
                                    name="one_pending_objection_per_assignment"),
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True) | (~Q(status="pending")
                                                                          & Q(decided_at__isnull=False)),
                name="objection_decided_iff_not_pending"),
            # Accepted ⇔ re-assigned: an accepted objection always names the assignment that replaced it.
            models.CheckConstraint(
                condition=Q(status="accepted", new_assignment__isnull=False, clock__in=["continue", "restart"])
                | (~Q(status="accepted") & Q(new_assignment__isnull=True, clock="")),
                name="objection_accepted_iff_reassigned"),
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id} 异议（{self.get_status_display()}）"


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
    channel = models.CharField("渠道", max_length=16, choices=Channel.choices, blank=True,
                               help_text="留空表示三个直通车合并通报")
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.DRAFT)
    figures = models.JSONField("通报数据", default=dict)
    computed_at = models.DateTimeField("数据计算时间", null=True, blank=True)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="发布人", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
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
                name="bulletin_published_iff_published_at"),
        ]

    def __str__(self) -> str:
        scope = Channel(self.channel).label if self.channel else "三个直通车"
        return f"{self.month:%Y年%m月}{scope}办理情况通报"

    def save(self, *args: object, **kwargs: object) -> None:
        # A published bulletin is frozen: re-read the stored status, so a stale object in memory
        # (loaded as a draft, published meanwhile by someone else) cannot overwrite it either.
        if self.pk is not None and not self._state.adding and Bulletin.objects.filter(
                pk=self.pk, status=self.Status.PUBLISHED).exists():
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

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.CASCADE,
                             related_name="export_jobs")
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


# --- the statistics rollup (feedback.rollup) ----------------------------------------------------------


class StatsCounts(models.Model):
    """The figures of one rollup key judged at the end of time (feedback.rollup): every dated event
    counts as happened and every unreplied assignment as overdue. Exact at any ``as_of`` on or after
    ``last_event_on`` and after ``last_open_due_on``, once the open assignments not yet due are taken
    off (StatsOpenDue); before that the key is read live.

    The rollup tables' foreign keys have no database constraint: a deferred check at commit would
    take a key-share lock on the department row, which a writer waiting for this key's mark may
    hold FOR UPDATE (services lock an assignment with its department): a deadlock. The rows are
    derived data, rebuilt nightly, and categories and departments are never deleted."""

    issues = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    followed_up = models.PositiveIntegerField(default=0)
    rated = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)
    dissatisfied = models.PositiveIntegerField(default=0)
    unreachable = models.PositiveIntegerField(default=0)
    rehandled = models.PositiveIntegerField(default=0)
    assigned_issues = models.PositiveIntegerField(default=0)
    replied = models.PositiveIntegerField(default=0)
    assignments = models.PositiveIntegerField(default=0)
    assignments_replied = models.PositiveIntegerField(default=0)
    on_time = models.PositiveIntegerField(default=0)
    late = models.PositiveIntegerField(default=0)
    overdue_open = models.PositiveIntegerField(default=0)
    on_time_original = models.PositiveIntegerField(default=0)
    late_original = models.PositiveIntegerField(default=0)
    overdue_open_original = models.PositiveIntegerField(default=0)
    # The latest accepted reply, closure or re-handling (local date) among the key's issues.
    last_event_on = models.DateField(null=True)
    # The latest due date (current or original) of a still unreplied assignment.
    last_open_due_on = models.DateField(null=True)

    class Meta:
        abstract = True


class StatsRollup(StatsCounts):
    """Per (day received, channel, category): the issues' figures and all their counted assignments'."""

    received_on = models.DateField()
    channel = models.CharField(max_length=16)
    category = models.ForeignKey(Category, on_delete=models.DO_NOTHING, related_name="+",
                                 db_index=False, db_constraint=False)

    class Meta:
        verbose_name = verbose_name_plural = "统计汇总（按日）"
        constraints = [models.UniqueConstraint(fields=["received_on", "channel", "category"],
                                               name="one_stats_rollup_per_key")]
        indexes = [
            # Used by feedback.rollup to find the keys not yet settled at as_of (read live).
            models.Index(fields=["last_event_on"], name="stats_rollup_last_event_idx"),
            models.Index(fields=["last_open_due_on"], name="stats_rollup_last_open_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.received_on} {self.channel} {self.category_id}：{self.issues}"


class StatsMonthRollup(StatsCounts):
    """The sums of StatsRollup over a month (``month`` = its first day)."""

    month = models.DateField()
    channel = models.CharField(max_length=16)
    category = models.ForeignKey(Category, on_delete=models.DO_NOTHING, related_name="+",
                                 db_index=False, db_constraint=False)

    class Meta:
        verbose_name = verbose_name_plural = "统计汇总（按月）"
        constraints = [models.UniqueConstraint(fields=["month", "channel", "category"],
                                               name="one_stats_month_rollup_per_key")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.channel} {self.category_id}：{self.issues}"


class StatsDepartmentCounts(StatsCounts):
    """Per department as well: the issue figures (and ``assignments``…) cover the issues with a
    counted assignment to the department, all their assignments; ``own_*`` the department's own."""

    channel = models.CharField(max_length=16)
    category = models.ForeignKey(Category, on_delete=models.DO_NOTHING, related_name="+",
                                 db_index=False, db_constraint=False)
    department = models.ForeignKey(Department, on_delete=models.DO_NOTHING, related_name="+",
                                 db_index=False, db_constraint=False)
    own_assignments = models.PositiveIntegerField(default=0)
    own_assignments_replied = models.PositiveIntegerField(default=0)
    own_on_time = models.PositiveIntegerField(default=0)
    own_late = models.PositiveIntegerField(default=0)
    own_overdue_open = models.PositiveIntegerField(default=0)
    own_on_time_original = models.PositiveIntegerField(default=0)
    own_late_original = models.PositiveIntegerField(default=0)
    own_overdue_open_original = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class StatsDepartmentRollup(StatsDepartmentCounts):
    received_on = models.DateField()

    class Meta:
        verbose_name = verbose_name_plural = "统计汇总（按日、单位）"
        constraints = [models.UniqueConstraint(fields=["received_on", "channel", "category", "department"],
                                               name="one_stats_department_rollup_per_key")]

    def __str__(self) -> str:
        return f"{self.received_on} {self.channel} {self.category_id} {self.department_id}：{self.own_assignments}"


class StatsDepartmentMonthRollup(StatsDepartmentCounts):
    """The sums of StatsDepartmentRollup over a month (``month`` = its first day): a five-year
    department table reads 60 of these per key instead of 1,800 daily rows."""

    month = models.DateField()

    class Meta:
        verbose_name = verbose_name_plural = "统计汇总（按月、单位）"
        constraints = [models.UniqueConstraint(fields=["month", "channel", "category", "department"],
                                               name="one_stats_department_month_per_key")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.channel} {self.category_id} {self.department_id}：{self.own_assignments}"


class StatsOpenDue(models.Model):
    """The open assignments per key, department and due dates: the rollup counts them overdue, and
    a query for ``as_of`` takes off those due on or after it (feedback.rollup)."""

    received_on = models.DateField()
    channel = models.CharField(max_length=16)
    category = models.ForeignKey(Category, on_delete=models.DO_NOTHING, related_name="+",
                                 db_index=False, db_constraint=False)
    department = models.ForeignKey(Department, on_delete=models.DO_NOTHING, related_name="+",
                                 db_index=False, db_constraint=False)
    due_date = models.DateField()
    original_due_date = models.DateField()
    assignments = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "统计汇总（未回复交办的期限）"
        constraints = [models.UniqueConstraint(
            fields=["received_on", "channel", "category", "department", "due_date", "original_due_date"],
            name="one_stats_open_due_per_key")]
        # Used by feedback.rollup: the open assignments not yet due at as_of.
        indexes = [models.Index(fields=["due_date"], name="stats_open_due_idx")]

    def __str__(self) -> str:
        return f"{self.received_on} {self.channel} {self.category_id} {self.department_id} {self.due_date}"


class StatsMonthRequesters(models.Model):
    """Distinct requesters of the issues received in a month: per channel and category, and over
    all channels (``channel`` empty) or all categories (``category_id`` 0), since distinct counts
    cannot be added up. Read by the month table for whole months (feedback.rollup)."""

    month = models.DateField()
    channel = models.CharField(max_length=16, blank=True)
    category_id = models.IntegerField()
    requesters = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "统计汇总（按月诉求人数）"
        constraints = [models.UniqueConstraint(fields=["month", "channel", "category_id"],
                                               name="one_stats_month_requesters_per_key")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.channel or '*'} {self.category_id or '*'}：{self.requesters}"


class StatsRollupDirtyKey(models.Model):
    """A rollup key whose issues changed since it was summed. Database triggers (migration 0008)
    add one on every write that can move a figure, whoever makes it (services, the admin, a raw
    UPDATE); the statistics read such keys live until feedback.rollup.refresh sums them again,
    which the services do in the same transaction."""

    received_on = models.DateField()
    channel = models.CharField(max_length=16)
    category_id = models.IntegerField()
    # An issue came, went, moved to another key or changed requester: the month's distinct
    # requesters (StatsMonthRequesters) are counted again too.
    requesters_changed = models.BooleanField(default=False, db_default=False)

    class Meta:
        verbose_name = verbose_name_plural = "待重算的统计汇总"
        constraints = [models.UniqueConstraint(fields=["received_on", "channel", "category_id"],
                                               name="one_stats_dirty_key")]

    def __str__(self) -> str:
        return f"{self.received_on} {self.channel} {self.category_id}"


from .security.models import AuditEvent, RateLimitHit  # noqa: E402, F401 - issue 15: audit chain, rate limits
