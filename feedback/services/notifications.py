"""Notifications: rows first (the bell), email second (a task reads the same rows)."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q, QuerySet
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


# Back-off between attempts for a notice whose mail failed: 5, 10, 20 … minutes, at most 6 hours.
# It never gives up: a notice stays pending (its error shown in the admin) until a send succeeds.
RETRY_FIRST = datetime.timedelta(minutes=5)
RETRY_MAX = datetime.timedelta(hours=6)
# How long a worker holds the notices it claimed while it talks to the SMTP server. A worker
# killed mid-send leaves them to be retried once the lease runs out (a mail may then go twice,
# never zero times).
CLAIM_LEASE = datetime.timedelta(minutes=10)


def retry_delay(attempts: int) -> datetime.timedelta:
    """The wait after the attempts-th failed attempt (1 → 5 minutes, doubling, capped)."""
    delay: datetime.timedelta = RETRY_FIRST * (2 ** max(attempts - 1, 0))
    return min(delay, RETRY_MAX)


def _due(now: datetime.datetime) -> QuerySet[Notification]:
    return Notification.objects.filter(email_status=Notification.EmailStatus.PENDING).filter(
        Q(email_next_attempt_at__isnull=True) | Q(email_next_attempt_at__lte=now)
    )


def send_pending_emails(limit: int = 500) -> int:
    """Mail every notice still pending whose time has come, as one email per person (a digest of
    all that person's pending notices, however many steps of however many sweeps produced them).
    A notice is marked sent only after the SMTP server accepted the message; a failure leaves it
    pending with the error, one more attempt counted and the next attempt set after a back-off, for
    this catch-up task (beat, every 5 minutes) to retry. Returns the number of emails sent."""
    now = timezone.now()
    recipients = list(_due(now).order_by("recipient_id").values_list("recipient_id", flat=True).distinct()[:limit])
    return sum(_send_digest(recipient_id) for recipient_id in recipients)


def _send_digest(recipient_id: int) -> int:
    now = timezone.now()
    # Claim this person's due notices: locked rows another worker holds are skipped, and the
    # lease keeps them from being claimed again while this worker sends.
    with transaction.atomic():
        notes = list(
            _due(now)
            .filter(recipient_id=recipient_id)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient")
            .order_by("created_at", "id")
        )
        if not notes:
            return 0
        ids = [n.pk for n in notes]
        Notification.objects.filter(pk__in=ids).update(email_next_attempt_at=now + CLAIM_LEASE)
    recipient = notes[0].recipient
    if not recipient.email:
        # No address: the bell in the portal is enough.
        Notification.objects.filter(pk__in=ids).update(
            email_status=Notification.EmailStatus.NO_ADDRESS, email_next_attempt_at=None
        )
        return 0
    subject, body = digest(notes)
    try:
        EmailMessage(subject, body, None, [recipient.email]).send(fail_silently=False)
    except Exception as exc:  # smtplib.SMTPException, a refused connection, a timeout …
        failed_at = timezone.now()
        error = f"{type(exc).__name__}: {exc}"[:2000]
        for note in notes:
            attempts = note.email_attempts + 1
            Notification.objects.filter(pk=note.pk).update(
                email_attempts=attempts,
                email_error=error,
                email_next_attempt_at=failed_at + retry_delay(attempts),
            )
        log.warning("mail to user %s failed (%s notices kept pending): %s", recipient_id, len(notes), error)
        return 0
    Notification.objects.filter(pk__in=ids).update(
        email_status=Notification.EmailStatus.SENT,
        emailed_at=timezone.now(),
        email_attempts=F("email_attempts") + 1,
        email_error="",
        email_next_attempt_at=None,
    )
    return 1


def digest(notes: list[Notification]) -> tuple[str, str]:
    """One email for one person's notices: one notice keeps its own subject; several are listed,
    oldest first, each with its link."""
    base = settings.PORTAL_URL.rstrip("/")

    def link(note: Notification) -> str:
        path = reverse("issue_detail", args=[note.issue_id]) if note.issue_id else reverse("notifications")
        return f"{base}{path}"

    if len(notes) == 1:
        (note,) = notes
        return f"【直通车】{note.title}", f"{tidy(note.body)}\n\n查看详情：{link(note)}"
    parts = [f"您有 {len(notes)} 条新通知：", ""]
    for number, note in enumerate(notes, start=1):
        parts += [f"{number}. {note.title}", tidy(note.body), f"查看详情：{link(note)}", ""]
    parts.append(f"全部通知：{base}{reverse('notifications')}")
    return f"【直通车】{len(notes)} 条新通知：{notes[0].title} 等", "\n".join(parts)
