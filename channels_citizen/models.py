from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from feedback.models import Department, Issue


class Village(models.Model):
    """A village (行政村) under a township; villages are retired, never deleted."""

    township = models.ForeignKey(
        Department,
        verbose_name="所属乡镇",
        on_delete=models.PROTECT,
        related_name="villages",
        limit_choices_to={"kind": Department.Kind.TOWNSHIP},
    )
    name = models.CharField("村名", max_length=64)
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "村"
        ordering = ["township__sort_order", "township__code", "name"]
        constraints = [models.UniqueConstraint(fields=["township", "name"], name="village_name_unique_in_township")]

    def __str__(self) -> str:
        return f"{self.township.name}{self.name}"


class NoMeetingWeek(models.Model):
    """The no-meeting week (无会周) of a month: by default its last five working days."""

    month = models.DateField("月份", unique=True, help_text="该月1日")
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    confirmed = models.BooleanField("已确认", default=False)
    # A week planned after it ended (补录, issue 13 §3) keeps the day it was entered.
    recorded_on = models.DateField("补录日期", null=True, blank=True, help_text="无会周结束后才录入的，录入当天的日期")
    # The default was computed Monday–Friday because the month's year has no calendar data yet.
    provisional = models.BooleanField("日期暂定", default=False, help_text="该年份尚未载入工作日历，按周一至周五暂算")
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="确认人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)
    # 一周一案: one issue singled out for the week.
    case_of_week = models.ForeignKey(
        Issue, verbose_name="一周一案", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = "无会周"
        ordering = ["-month"]
        constraints = [models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="week_ends_after_start")]

    def __str__(self) -> str:
        return f"{self.month:%Y年%m月}无会周"


class RosterEntry(models.Model):
    """Which county leader (联乡县级领导) goes to which township that week, with which departments."""

    week = models.ForeignKey(NoMeetingWeek, verbose_name="无会周", on_delete=models.CASCADE, related_name="roster")
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="县领导", on_delete=models.PROTECT, related_name="+"
    )
    township = models.ForeignKey(
        Department,
        verbose_name="乡镇",
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": Department.Kind.TOWNSHIP},
    )
    departments = models.ManyToManyField(Department, verbose_name="随行部门", blank=True, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "无会周下访安排"
        ordering = ["week", "township__sort_order", "id"]
        constraints = [models.UniqueConstraint(fields=["week", "township"], name="one_leader_per_township_week")]

    def __str__(self) -> str:
        return f"{self.week}：{self.leader} → {self.township}"


class Visit(models.Model):
    class Kind(models.TextChoices):
        RECEPTION = "reception", "乡镇集中接访"
        VILLAGE = "village", "进村走访"

    week = models.ForeignKey(NoMeetingWeek, verbose_name="无会周", on_delete=models.PROTECT, related_name="visits")
    kind = models.CharField("形式", max_length=16, choices=Kind.choices)
    township = models.ForeignKey(
        Department,
        verbose_name="乡镇",
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": Department.Kind.TOWNSHIP},
    )
    village = models.ForeignKey(
        Village, verbose_name="村", null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    held_on = models.DateField("接访日期")
    # A visit entered after the day it took place (补录) keeps the day it was entered; its requests
    # are then received and assigned on the visit's date (docs/decisions/0610, 0650).
    recorded_on = models.DateField(
        "补录日期", null=True, blank=True, help_text="接访活动结束后才录入的，录入当天的日期"
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="带队县领导",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cases = models.ManyToManyField(Issue, verbose_name="带案下访", blank=True, related_name="+")
    lawyer_present = models.BooleanField("律师参与", default=False)
    lawyer_name = models.CharField("律师姓名", max_length=64, blank=True)
    notes = models.TextField("接访情况", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = verbose_name_plural = "接访活动"
        ordering = ["-held_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="reception") | Q(village__isnull=False), name="village_visit_names_its_village"
            ),
            models.CheckConstraint(
                condition=Q(lawyer_present=True) | Q(lawyer_name=""), name="lawyer_name_only_when_present"
            ),
        ]

    def __str__(self) -> str:
        place = self.village or self.township
        return f"{self.held_on:%Y-%m-%d} {place}{self.get_kind_display()}"


class CourtyardMeeting(models.Model):
    """院落会议 held during a visit."""

    visit = models.ForeignKey(
        Visit, verbose_name="接访活动", on_delete=models.CASCADE, related_name="courtyard_meetings"
    )
    place = models.CharField("地点", max_length=100, blank=True)
    attendance = models.PositiveIntegerField("参会人数")
    outcome = models.TextField("会议结果")

    class Meta:
        verbose_name = verbose_name_plural = "院落会议"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.visit} 院落会议（{self.attendance}人）"


class CitizenIntake(models.Model):
    issue = models.OneToOneField(Issue, verbose_name="诉求", on_delete=models.PROTECT, related_name="citizen_intake")
    week = models.ForeignKey(
        NoMeetingWeek, verbose_name="无会周", null=True, blank=True, on_delete=models.PROTECT, related_name="intakes"
    )
    township = models.ForeignKey(
        Department,
        verbose_name="接访乡镇",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": Department.Kind.TOWNSHIP},
    )
    # The visit (集中接访 / 进村走访) at which the request was raised, when it was.
    visit = models.ForeignKey(
        Visit, verbose_name="接访活动", null=True, blank=True, on_delete=models.PROTECT, related_name="intakes"
    )
    # The petitioner's village: the 无访村 count (channels_citizen.services.quiet_villages) reads it.
    village = models.ForeignKey(
        Village, verbose_name="信访人所在村", null=True, blank=True, on_delete=models.PROTECT, related_name="intakes"
    )

    class Meta:
        verbose_name = verbose_name_plural = "政民诉求来源"

    def __str__(self) -> str:
        return f"{self.issue.ref}（{self.week or '日常来访'}）"


def photo_upload_to(instance: IntakePhoto, filename: str) -> str:
    # The stored name is generated (as feedback's reply scans): nothing of the phone's name reaches the disk.
    import uuid

    from django.utils import timezone

    ext = filename.rsplit(".", 1)[-1].lower()
    return f"citizen-photos/{timezone.localdate():%Y}/{uuid.uuid4().hex}.{ext}"


class IntakePhoto(models.Model):
    """A photo taken where a request was raised (a cracked wall, a blocked ditch), attached to its issue.

    Only the 政民 channel captures photos so far, so the model lives here and is read through
    ``feedback.access.issues_for`` like the issue itself (an accused unit never sees it)."""

    issue = models.ForeignKey(Issue, verbose_name="诉求", on_delete=models.PROTECT, related_name="citizen_photos")
    file = models.FileField("照片", upload_to=photo_upload_to)
    content_type = models.CharField("类型", max_length=32)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "现场照片"
        ordering = ["issue", "id"]

    def __str__(self) -> str:
        return f"{self.issue.ref} 现场照片"


class OfflineRecord(models.Model):
    """A record captured offline on a phone and synced (issue 20), kept by its idempotency key.

    The phone generates ``key`` when the record is captured and sends it with every attempt; the first
    accepted attempt stores the answer here in the same transaction as the visit or issue it created,
    and every later attempt with that key (a retry after a lost answer, a double tap) gets that answer
    back and creates nothing. The unique constraint is what makes two attempts at the same moment
    create one record: the second insert waits for the first transaction and then fails."""

    class Kind(models.TextChoices):
        VISIT = "visit", "接访活动"
        REQUEST = "request", "现场诉求"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    key = models.UUIDField("幂等键")
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    visit = models.ForeignKey(
        Visit, verbose_name="接访活动", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issue = models.ForeignKey(
        Issue, verbose_name="诉求", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    synced_at = models.DateTimeField("同步时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "离线登记同步记录"
        ordering = ["-synced_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="offline_record_key_unique_per_user"),
        ]
        # No check that a record names what it created: the key is claimed first (inserted empty) and
        # filled in the same transaction, so that a second attempt waits on the index before doing any work.

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.key}"
