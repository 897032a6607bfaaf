"""Notices to users: the bell and the email queue."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from feedback.models.handling import Assignment
from feedback.models.issues import Issue


class Notification(models.Model):
    """One message to one person, shown under the bell and sent by email from the same row.

    The unique key (recipient, assignment, kind, deadline_version) makes every step of
    the deadline ladder happen once per person, however often a sweep or task reruns.
    """

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", "新交办"
        REPLY_RETURNED = "reply_returned", "回复被退回"
        REHANDLE = "rehandle", "重办"
        REPLY_SUBMITTED = "reply_submitted", "回复待审核"

    class EmailStatus(models.TextChoices):
        PENDING = "pending", "待发送"
        SENT = "sent", "已发送"
        NO_ADDRESS = "no_address", "无邮箱（仅站内提醒）"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="接收人", on_delete=models.CASCADE, related_name="notifications"
    )
    # Both are empty for system notices to administrators (e.g. next year's calendar is missing).
    issue = models.ForeignKey(
        Issue, verbose_name="诉求", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assignment = models.ForeignKey(
        Assignment, verbose_name="交办", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField("类型", max_length=32)
    deadline_version = models.PositiveIntegerField("期限版本", default=1)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容")
    created_at = models.DateTimeField("时间", default=timezone.now)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)
    # Set only after the SMTP server accepted the message (issue 13 §5): a failed send stays
    # pending with its error and attempt count, and the catch-up retries it after a back-off.
    emailed_at = models.DateTimeField("邮件发送时间", null=True, blank=True)
    # db_default: rows inserted by raw SQL (tests that hold a key open) are pending like any other.
    email_status = models.CharField(
        "邮件状态", max_length=16, choices=EmailStatus.choices, default=EmailStatus.PENDING, db_default="pending"
    )
    email_attempts = models.PositiveSmallIntegerField("发送尝试次数", default=0, db_default=0)
    email_error = models.TextField("最近一次发送错误", blank=True, default="", db_default="")
    email_next_attempt_at = models.DateTimeField("下次尝试时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "通知"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "assignment", "kind", "deadline_version"], name="one_notification_per_step"
            ),
            models.UniqueConstraint(
                fields=["recipient", "kind", "deadline_version"],
                condition=Q(assignment__isnull=True),
                name="one_system_notice_per_key",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread_idx"),
            # Used by tasks.send_pending_emails to find what is still to be mailed, and when.
            models.Index(
                fields=["email_next_attempt_at", "recipient"],
                name="notification_email_pending_idx",
                condition=Q(email_status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return self.title
