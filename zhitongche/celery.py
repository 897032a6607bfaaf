"""The Celery app, wired as Celery's "First steps with Django" guide describes."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhitongche.settings")

app = Celery("zhitongche")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The beat schedule lives in code, next to the tasks it drives (one comment per entry).
# SWEEP_INTERVAL_SECONDS exists for the integration tests, which cannot wait five minutes.
SWEEP_INTERVAL = float(os.environ.get("SWEEP_INTERVAL_SECONDS", "300"))
# Before the hot topics kept HOT_TOPICS_CACHE_SECONDS expire (0.8 of it, at least every 30 s).
HOT_TOPICS_REFRESH = max(30.0, int(os.environ.get("HOT_TOPICS_CACHE_SECONDS", "300") or 0) * 0.8)

app.conf.beat_schedule = {
    # Reminders, overdue marks and escalations. Level-triggered (pending steps scheduled <= now),
    # so a run missed while beat or the worker was down is made up by the next one.
    "sweep-deadlines": {"task": "feedback.tasks.sweep_deadlines", "schedule": SWEEP_INTERVAL},
    # Catch-up: mail any notification whose immediate send was lost (broker or worker down).
    "send-pending-emails": {"task": "feedback.tasks.send_pending_emails", "schedule": 300.0},
    # Daily at 08:30 Asia/Shanghai: from 1 November, warn administrators (bell + mail) when next
    # year's holiday calendar is missing; once per administrator and year.
    "warn-missing-calendar": {"task": "feedback.tasks.warn_missing_calendar", "schedule": crontab(hour=8, minute=30)},
    # The dashboard's hot topics of every scope and filters looked at lately, computed again before
    # they expire (feedback.figures.hot, decision 0760): a leader's load reads them, never clusters.
    "refresh-hot-topics": {"task": "feedback.tasks.refresh_hot_topics", "schedule": HOT_TOPICS_REFRESH},
    # Daily at 08:40 Asia/Shanghai: a rising hot topic (issue 19) told to its channel's office, once a month.
    "flag-rising-topics": {"task": "feedback.tasks.flag_rising_topics", "schedule": crontab(hour=8, minute=40)},
    # The 1st of each month at 07:00 Asia/Shanghai: draft last month's bulletins (月度通报). A
    # missed run is made up by drafting by hand on the bulletin page; a rerun drafts nothing twice.
    "draft-month-end-bulletins": {
        "task": "feedback.tasks.draft_month_end_bulletins",
        "schedule": crontab(day_of_month=1, hour=7, minute=0),
    },
    # Every minute: export jobs still queued after a minute (their message was lost with the broker
    # down) or left running by a dead worker are claimed again and built (feedback.services).
    "run-queued-exports": {"task": "feedback.tasks.run_queued_exports", "schedule": 60.0},
    # Daily at 07:45 Asia/Shanghai: create the coming month's enterprise day (one per month, so the
    # monthly job is idempotent and a missed run is made up the next day), re-date days not yet held
    # whose calendar changed unseen by the calendar_changed hook, and send the notices of days within
    # 3 working days (once per person and day).
    "plan-enterprise-days": {
        "task": "channels_enterprise.tasks.plan_enterprise_days",
        "schedule": crontab(hour=7, minute=45),
    },
    # Daily at 07:50 Asia/Shanghai: create the coming month's no-meeting week (无会周) a month ahead,
    # provisional while its year's calendar is missing, and re-plan unconfirmed weeks not yet begun
    # (one per month, so a rerun creates nothing twice and a missed run is made up the next day).
    "plan-no-meeting-weeks": {
        "task": "channels_citizen.tasks.plan_no_meeting_weeks",
        "schedule": crontab(hour=7, minute=50),
    },
    # Every minute: sum the statistics rollup keys marked by the writes since the last run
    # (feedback.figures.rollup.refresh). Until then the figures read those keys live: exact, slower.
    "refresh-stats-rollup": {"task": "feedback.tasks.refresh_stats_rollup", "schedule": 60.0},
    # Nightly at 02:30 Asia/Shanghai: rebuild the statistics rollup from scratch, writing only the
    # rows that differ (feedback.figures.rollup.rebuild; nothing, when every write went through the
    # services). It catches admin edits and raw SQL, which the statistics read live until then.
    "rebuild-stats-rollup": {"task": "feedback.tasks.rebuild_stats_rollup", "schedule": crontab(hour=2, minute=30)},
    # Nightly at 02:50: check the ledger's and the inbox's kept counts against a count of the issues and
    # assignments and fold the rows the triggers added during the day (feedback.figures.tally, decision 0800).
    "keep-tallies": {"task": "feedback.tasks.keep_tallies", "schedule": crontab(hour=2, minute=50)},
}

# /metrics reports when the deadline sweep last finished (zhitongche.metrics, docs/monitoring.md).
from celery.signals import setup_logging, task_success  # noqa: E402

if os.environ.get("LOG_FORMAT") == "json":
    # Celery would install its own text format on the root logger; keep Django's LOGGING (JSON
    # lines, docs/monitoring.md) so the worker's and beat's lines parse like the web's.
    @setup_logging.connect
    def _django_logging(**kwargs: object) -> None:
        from logging.config import dictConfig

        from django.conf import settings

        dictConfig(settings.LOGGING)


@task_success.connect
def _sweep_finished(sender: object = None, **kwargs: object) -> None:
    if getattr(sender, "name", "") == "feedback.tasks.sweep_deadlines":
        from zhitongche.metrics import record_sweep_finished

        record_sweep_finished()
