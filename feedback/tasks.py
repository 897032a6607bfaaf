"""Celery tasks: thin interfaces over services and notifications (ids in, look up, act)."""

from __future__ import annotations

from celery import shared_task

from . import calendar_notice, notifications, sweeps


@shared_task(acks_late=True)
def send_pending_emails() -> int:
    return notifications.send_pending_emails()


@shared_task(acks_late=True)
def sweep_deadlines(batch: int = 500) -> dict[str, object]:
    """Take every reminder, overdue mark and escalation that has come due. Safe to run twice
    or in parallel (see feedback.sweeps); the emails are queued after each batch commits."""
    return sweeps.sweep_deadlines(batch=batch).as_dict()


@shared_task(acks_late=True)
def warn_missing_calendar() -> int:
    """From 1 November: tell administrators once per year that next year's calendar is missing."""
    return calendar_notice.warn_missing_calendar()
