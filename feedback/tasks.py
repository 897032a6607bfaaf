"""Celery tasks: thin interfaces over services and notifications (ids in, look up, act)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from feedback import services
from feedback.figures import hot, rollup, tally
from feedback.models import SignedReply
from feedback.security.preview_jobs import render_and_store
from feedback.services import notifications, sweeps

log = logging.getLogger(__name__)


@shared_task(acks_late=True)
def send_pending_emails() -> int:
    return notifications.send_pending_emails()


@shared_task(acks_late=True)
def sweep_deadlines(batch: int = 2000) -> dict[str, object]:
    """Take every reminder, overdue mark and escalation that has come due, then announce them.
    Safe to run twice or in parallel (see feedback.services.sweeps); the emails are queued after each
    batch of announcements commits."""
    return sweeps.sweep_deadlines(batch=batch).as_dict()


@shared_task(acks_late=True)
def refresh_hot_topics() -> int:
    """Compute again, before they expire, the dashboard's hot topics of every scope and filters looked
    at lately (feedback.figures.hot): a leader's load finds them kept. Returns the entries computed."""
    return hot.refresh_watched(timezone.localdate())


@shared_task(acks_late=True)
def warn_missing_calendar() -> int:
    """From 1 November: tell administrators once per year that next year's calendar is missing."""
    return services.warn_missing_calendar()


@shared_task(acks_late=True)
def flag_rising_topics() -> int:
    """Daily: tell the channel offices of a rising hot topic (热点上升), once a month per topic."""
    return services.flag_rising_topics()


@shared_task(acks_late=True)
def draft_month_end_bulletins() -> int:
    """On the 1st at 07:00: draft last month's bulletins once (unique on month and channel)."""
    return len(services.draft_month_end_bulletins())


@shared_task(acks_late=True)
def build_export(job_id: int) -> None:
    """Build one export job's workbook. A redelivered message, or a job the catch-up already took,
    finds the row no longer queued and returns (the claim is a conditional UPDATE)."""
    services.run_export(job_id=job_id)


@shared_task(acks_late=True)
def run_queued_exports() -> int:
    """Catch-up: build the export jobs whose message was lost (broker down when they were asked for)."""
    return services.run_queued_exports()


@shared_task(acks_late=True)
def refresh_stats_rollup() -> int:
    """Every minute: sum again the rollup keys that writes have marked since the last run (the
    triggers of migration 0008 mark them; the figures read a marked key live until then, so they are
    exact at every moment). Out of the services' transactions: a write never waits for the rollup.
    Returns how many keys."""
    return rollup.refresh()


@shared_task(acks_late=True)
def rebuild_stats_rollup() -> int:
    """Nightly: sum the statistics rollup from scratch and correct the rows that differ (writes
    made outside the services, which the statistics read live until then). Returns the rows changed."""
    return rollup.rebuild().changed


@shared_task(acks_late=True)
def keep_tallies() -> int:
    """Nightly: check the tallies (the ledger's totals and the inbox's counts, migrations 0800 and 0810)
    against a count of the issues and assignments, set one again if they differ (its triggers dropped or
    disabled: logged as an error), and fold their rows into one per key. Returns the rows folded away."""
    wrong = tally.rebuild()
    if wrong:
        log.error("tally differed from a count (key: tally, counted): %s; set again", wrong)
    return tally.fold()


@shared_task(acks_late=True)
def render_reply_preview(reply_id: int) -> str:
    """Render a reply's first-page preview in a limited child process (issue 15). Ids in: a reply
    deleted meanwhile is skipped. Safe to run twice (the stored PNG wins)."""
    reply = SignedReply.objects.filter(pk=reply_id).first()
    if reply is None:
        return "missing"
    return render_and_store(reply).value
