"""Celery tasks: thin interfaces over services and notifications (ids in, look up, act)."""

from __future__ import annotations

from celery import shared_task

from . import notifications


@shared_task(acks_late=True)
def send_pending_emails() -> int:
    return notifications.send_pending_emails()
