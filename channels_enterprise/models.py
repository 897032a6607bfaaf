from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from feedback.models import Department, Issue
from feedback.privacy import mask_phone

from .creditcode import credit_code_problem, normalise


def validate_credit_code(value: str) -> None:
    problem = credit_code_problem(value)
    if problem:
        raise ValidationError(problem, code="credit_code")


class Enterprise(models.Model):
    """An enterprise of the zone's registry (企业名录)."""

    name = models.CharField("企业名称", max_length=200)
    credit_code = models.CharField("统一社会信用代码", max_length=18, unique=True, validators=[validate_credit_code])
    park = models.CharField("所在园区", max_length=100, blank=True)
    sector = models.CharField("行业", max_length=100, blank=True)
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=32, blank=True)
    active = models.BooleanField("在册", default=True)
    created_at = models.DateTimeField("登记时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "企业"
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(credit_code__regex=r"^[0-9A-HJ-NPQRTUWXY]{18}$"), name="enterprise_credit_code_format"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        self.credit_code = normalise(self.credit_code)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.contact_phone) if self.contact_phone else ""


class EnterpriseDayQuerySet(models.QuerySet["EnterpriseDay"]):
    def coming(self, today: datetime.date) -> EnterpriseDayQuerySet:
        return self.filter(held_on__gte=today).order_by("held_on")

    def past(self, today: datetime.date) -> EnterpriseDayQuerySet:
        return self.filter(held_on__lt=today).order_by("-held_on")

    def in_notice_window(self, today: datetime.date) -> EnterpriseDayQuerySet:
        return self.filter(notice_on__lte=today, held_on__gte=today)


class EnterpriseDay(models.Model):
    """The monthly enterprise day (企业家日): the 23rd, or the next working day."""

    month = models.DateField("所属月份", unique=True, help_text="该月1日；每月一次企业家日")
    held_on = models.DateField("日期", unique=True)
    provisional = models.BooleanField(
        "日期暂定", default=False, help_text="该年节假日安排尚未载入，按周一至周五推算，载入后自动重排"
    )
    # Issue 13 §3: a day entered after it took place (补录: before the portal existed, or a month the
    # scheduler never created) keeps the day it was entered; its problems are then received and
    # assigned on the day's date (docs/decisions/0610, 0650).
    recorded_on = models.DateField(
        "补录日期", null=True, blank=True, help_text="企业家日举行后才录入的，录入当天的日期"
    )
    notice_on = models.DateField("通知日期", null=True, blank=True, help_text="活动前第3个工作日")
    noticed_at = models.DateTimeField("已通知时间", null=True, blank=True)
    place = models.CharField("现场办公地点", max_length=100, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)
    leaders = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name="带队县领导", blank=True, related_name="enterprise_days"
    )
    departments = models.ManyToManyField(
        Department, verbose_name="随行部门", blank=True, related_name="enterprise_days"
    )
    enterprises = models.ManyToManyField(
        Enterprise, verbose_name="走访企业", blank=True, related_name="enterprise_days"
    )
    # Recorded by channels_enterprise.services.mark_day_held once the day has taken place.
    held_at = models.DateTimeField("确认举行时间", null=True, blank=True)
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="确认人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    summary = models.TextField("现场办公情况", blank=True)

    objects = EnterpriseDayQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "企业家日"
        ordering = ["-held_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(notice_on__isnull=True) | Q(notice_on__lt=models.F("held_on")),
                name="enterprise_day_notice_before",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y年%m月}企业家日"

    @property
    def is_held(self) -> bool:
        return self.held_at is not None


class EnterpriseDayChange(models.Model):
    """Append-only record of the scheduler re-dating an enterprise day after the working-day
    calendar changed (channels_enterprise.services.reschedule_enterprise_days), or keeping its date
    when the new one had already passed, and whether a corrected notice went out."""

    class Action(models.TextChoices):
        MOVED = "moved", "改期"
        KEPT = "kept", "保留原日期"

    day = models.ForeignKey(EnterpriseDay, verbose_name="企业家日", on_delete=models.PROTECT, related_name="changes")
    at = models.DateTimeField("时间", default=timezone.now)
    action = models.CharField("处理", max_length=8, choices=Action.choices)
    held_on_before = models.DateField("原日期")
    # MOVED: the day's new date; KEPT: the date the calendar now gives, which had already passed.
    held_on_after = models.DateField("按日历应为")
    reason = models.CharField("原因", max_length=200)
    corrected_notice = models.BooleanField("已发改期通知", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "企业家日改期记录"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.day}：{self.held_on_before:%Y-%m-%d} → {self.held_on_after:%Y-%m-%d}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("企业家日改期记录只能追加，不能修改。")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ValueError("企业家日改期记录只能追加，不能删除。")


class EnterpriseIntake(models.Model):
    """The channel's record of an issue: which enterprise raised it, on which enterprise day."""

    issue = models.OneToOneField(Issue, verbose_name="诉求", on_delete=models.PROTECT, related_name="enterprise_intake")
    day = models.ForeignKey(
        EnterpriseDay, verbose_name="企业家日", null=True, blank=True, on_delete=models.PROTECT, related_name="intakes"
    )
    # Nullable only for rows entered before the registry existed; the service always sets it.
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", null=True, blank=True, on_delete=models.PROTECT, related_name="intakes"
    )
    enterprise_name = models.CharField("企业名称", max_length=200)

    class Meta:
        verbose_name = verbose_name_plural = "政企诉求来源"

    def __str__(self) -> str:
        return f"{self.issue.ref}（{self.enterprise_name}）"


class Consultation(models.Model):
    """三长会诊: the county head, bureau heads and bank presidents on one hard problem. Requested for
    a later date it is planned (计划会诊), and becomes held when the office records its outcome."""

    class Status(models.TextChoices):
        PLANNED = "planned", "计划会诊"
        HELD = "held", "已会诊"

    intake = models.ForeignKey(
        EnterpriseIntake, verbose_name="企业问题", on_delete=models.PROTECT, related_name="consultations"
    )
    held_on = models.DateField("会诊日期")
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.HELD, db_default="held")
    participants = models.JSONField("参加人员", default=list, help_text="县长、局长、银行行长等，每人一项")
    outcome = models.TextField("会诊结果", blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="记录人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField("记录时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "三长会诊"
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.held_on:%Y-%m-%d} 三长会诊（{self.intake.issue.ref}）"


class EnterpriseLog(models.Model):
    """Append-only record of the registry: who registered or changed an enterprise (and what), and
    who was shown a contact phone in full (个人信息保护法: every unmasking is recorded)."""

    class Action(models.TextChoices):
        REGISTERED = "registered", "登记"
        UPDATED = "updated", "修改"
        PHONE_SHOWN = "phone_shown", "查看完整联系电话"

    enterprise = models.ForeignKey(Enterprise, verbose_name="企业", on_delete=models.PROTECT, related_name="log")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField("时间", default=timezone.now)
    action = models.CharField("操作", max_length=16, choices=Action.choices)
    # [[field label, old, new], …]; phone numbers only masked.
    changes = models.JSONField("变更内容", default=list, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "企业名录记录"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["enterprise", "at"], name="enterprise_log_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("企业名录记录只能追加，不能修改。")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ValueError("企业名录记录只能追加，不能删除。")
