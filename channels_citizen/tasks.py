"""Celery tasks of the 政民 channel: thin interfaces over channels_citizen.services."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def plan_no_meeting_weeks() -> dict[str, int]:
    """Daily: create the coming month's no-meeting week a month ahead (idempotent, one per month)
    and re-plan the unconfirmed weeks not yet begun on the stored calendar."""
    return {"scheduled": len(services.schedule_no_meeting_weeks())}
