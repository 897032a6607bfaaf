"""Celery tasks of the enterprise channel: thin interfaces over channels_enterprise.services."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def plan_enterprise_days() -> dict[str, int]:
    """Daily: create the coming month's enterprise day (idempotent, one per month), re-plan the days
    not yet held on the stored calendar, and send the notices of days within 3 working days (once per
    person and day)."""
    scheduled = services.schedule_enterprise_days()
    return {"scheduled": len(scheduled), "notified": services.send_enterprise_day_notices()}
