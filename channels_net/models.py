from __future__ import annotations

import datetime
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from feedback.models import Category, Department, Issue
from feedback.privacy import mask_phone


class Forum(models.Model):
    """The quarterly netizen forum (网民座谈会)."""

    title = models.CharField("名称", max_length=100)
    held_on = models.DateField("日期")
    # Issue 13 §3: a forum entered after it was held (补录) keeps the day it was entered; its
    # requests are then received and assigned on the forum's date (docs/decisions/0610).
    recorded_on = models.DateField("补录日期", null=True, blank=True, help_text="座谈会召开后才录入的，录入当天的日期")
    place = models.CharField("地点", max_length=100, blank=True)
    # The chair is one of the attending leaders (services.plan_forum keeps it among ``leaders``),
    # so attendance is counted from ``leaders`` alone.
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="主持领导",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    chair_title = models.CharField("主持人职务", max_length=50, blank=True, help_text="如：县委书记；县长代为主持")
    leaders = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name="出席领导", blank=True, related_name="net_forums_attended"
    )
    departments_present = models.ManyToManyField(
        Department, verbose_name="到会部门负责人", blank=True, related_name="net_forums_attended"
    )
    minutes = models.TextField("纪要", blank=True)
    # The online collection window (网上征集) before the forum, shown on the public portal.
    collect_from = models.DateField("征集开始", null=True, blank=True)
    collect_until = models.DateField("征集截止", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "网民座谈会"
        ordering = ["-held_on"]
        constraints = [models.UniqueConstraint(fields=["held_on"], name="one_forum_per_day")]

    def __str__(self) -> str:
        return self.title

    def is_collecting(self, today: datetime.date | None = None) -> bool:
        today = today or timezone.localdate()
        return bool(self.collect_from and self.collect_until and self.collect_from <= today <= self.collect_until)


class NetRepresentative(models.Model):
    """A netizen representative at a forum, known by the online handle (山村支教亮亮老师)."""

    forum = models.ForeignKey(Forum, verbose_name="座谈会", on_delete=models.CASCADE, related_name="representatives")
    handle = models.CharField("网名", max_length=100)
    real_name = models.CharField("真实姓名", max_length=50, blank=True)
    phone = models.CharField("联系电话", max_length=32, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "网民代表"
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["forum", "handle"], name="one_representative_handle_per_forum")]

    def __str__(self) -> str:
        return self.handle

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone) if self.phone else ""


class NetIntake(models.Model):
    """The channel's record of an issue: which forum, which online handle."""

    issue = models.OneToOneField(Issue, verbose_name="诉求", on_delete=models.PROTECT, related_name="net_intake")
    forum = models.ForeignKey(
        Forum, verbose_name="座谈会", null=True, blank=True, on_delete=models.PROTECT, related_name="intakes"
    )
    handle = models.CharField("网名", max_length=100, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "政网诉求来源"

    def __str__(self) -> str:
        return f"{self.issue.ref}（{self.forum or '网上征集'}）"


# No 0/O, 1/I/L: a code read aloud over the phone or copied by hand must not be ambiguous.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TRACKING_LENGTH = 10  # 31**10 ≈ 8e14: not guessable within any rate limit


def new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


class PublicSubmissionQuerySet(models.QuerySet["PublicSubmission"]):
    def pending(self) -> PublicSubmissionQuerySet:
        return self.filter(status=PublicSubmission.Status.RECEIVED)

    def published(self) -> PublicSubmissionQuerySet:
        # Both conditions, always: the netizen's consent and the office's decision (DOMAIN.md privacy).
        return self.filter(consent_to_publish=True, published_at__isnull=False, issue__isnull=False)


class PublicSubmission(models.Model):
    """A suggestion sent through the public portal, waiting for 网信办 to accept it (a new issue),
    merge it into an issue already being handled (并单), or decline it."""

    class Status(models.TextChoices):
        RECEIVED = "received", "已收到，待受理"
        ACCEPTED = "accepted", "已受理"
        MERGED = "merged", "已并入同类诉求办理"
        DECLINED = "declined", "不予受理"

    code = models.CharField("查询码", max_length=16, unique=True, default=new_tracking_code)
    forum = models.ForeignKey(
        Forum, verbose_name="座谈会", null=True, blank=True, on_delete=models.PROTECT, related_name="submissions"
    )
    category = models.ForeignKey(Category, verbose_name="分类", on_delete=models.PROTECT, related_name="+")
    content = models.TextField("意见建议")
    name = models.CharField("姓名/网名", max_length=100, blank=True)
    phone = models.CharField("联系电话", max_length=32, blank=True)
    consent_to_publish = models.BooleanField("同意公开答复", default=False)
    submitted_at = models.DateTimeField("提交时间", default=timezone.now)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.RECEIVED)
    decline_reason = models.TextField("不予受理理由", blank=True)
    issue = models.OneToOneField(
        Issue, verbose_name="诉求", null=True, blank=True, on_delete=models.PROTECT, related_name="public_submission"
    )
    # 并单: many suggestions may join one issue; the issue's own requester stays its requester.
    merged_into = models.ForeignKey(
        Issue,
        verbose_name="并入诉求",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_submissions",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="处理人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)
    published_summary = models.TextField("公开答复摘要", blank=True, help_text="公开前已自动遮盖手机号和身份证号")
    published_at = models.DateTimeField("公开时间", null=True, blank=True)

    objects = PublicSubmissionQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "网上征集意见"
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["status", "submitted_at"], name="public_submission_triage_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(issue__isnull=True) | Q(status="accepted"), name="submission_issue_only_when_accepted"
            ),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True, status__in=["received", "accepted", "declined"])
                | Q(merged_into__isnull=False, status="merged"),
                name="submission_merged_iff_merged_into",
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""), name="submission_declined_with_reason"
            ),
            models.CheckConstraint(
                condition=Q(published_at__isnull=True) | (Q(consent_to_publish=True) & Q(issue__isnull=False)),
                name="submission_published_only_with_consent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}（{self.get_status_display()}）"
