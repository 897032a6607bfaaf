"""Notifications: rows first (the bell), email second (a task reads the same rows)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from feedback.models import Assignment, Notification
from feedback.services.queue import task
from feedback.wording import tidy

log = logging.getLogger(__name__)


def notify_department(assignment: Assignment, kind: str, *, title: str, body: str) -> None:
    """Tell every active member of the assignment's department, once per (kind, deadline version)."""
    members = assignment.department.members.filter(user__is_active=True).values_list("user_id", flat=True)
    rows = [
        Notification(
            recipient_id=user_id,
            issue_id=assignment.issue_id,
            assignment=assignment,
            kind=kind,
            deadline_version=assignment.deadline_version,
            title=title,
            body=tidy(body),
        )
        for user_id in members
    ]
    # A repeat of the same step for the same person hits the unique key and is skipped.
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    queue_after_commit()


def notify_users(assignment: Assignment, kind: str, users: Iterable[User], *, title: str, body: str) -> None:
    """Tell particular people (leaders, the channel office) about an assignment, once per step."""
    rows = [
        Notification(
            recipient=user,
            issue_id=assignment.issue_id,
            assignment=assignment,
            kind=kind,
            deadline_version=assignment.deadline_version,
            title=title,
            body=tidy(body),
        )
        for user in {u.pk: u for u in users}.values()
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    queue_after_commit()


def mark_all_read(*, user: User) -> int:
    """The bell's "mark all read": a person's own reading state, not a workflow transition."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


def queue_after_commit() -> None:
    """Ask for one mail run after this transaction commits, however many notices it created:
    with the broker down each publish waits for its retries, so one per transaction, not per row."""
    connection = transaction.get_connection()
    if any(func is queue_pending_emails for _, func, _ in connection.run_on_commit):
        return
    transaction.on_commit(queue_pending_emails)


def queue_pending_emails() -> None:
    """Ask the worker to mail what is unsent. A broker that is down must not break the page:
    the row is already stored and the periodic catch-up (beat) mails it later."""
    try:
        task("send_pending_emails").delay()
    except Exception:
        log.warning("broker unavailable; notification emails will be sent by the next catch-up run", exc_info=True)


def send_pending_emails(limit: int = 500) -> int:
    """Mail unsent notifications. Each row is claimed by a conditional UPDATE before it is
    sent, so two workers (or a rerun after a crash) never mail the same row twice."""
    sent = 0
    pending = (
        Notification.objects.filter(emailed_at__isnull=True).select_related("recipient", "issue").order_by("id")[:limit]
    )
    for note in pending:
        claimed = Notification.objects.filter(Q(pk=note.pk) & Q(emailed_at__isnull=True)).update(
            emailed_at=timezone.now()
        )
        if not claimed:
            continue
        if not note.recipient.email:
            continue  # no address: the bell in the portal is enough
        path = reverse("issue_detail", args=[note.issue_id]) if note.issue_id else reverse("notifications")
        link = f"{settings.PORTAL_URL.rstrip('/')}{path}"
        send_mail(f"【直通车】{note.title}", f"{tidy(note.body)}\n\n查看详情：{link}", None, [note.recipient.email])
        sent += 1
    return sent
