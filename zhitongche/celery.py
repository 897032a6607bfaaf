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

app.conf.beat_schedule = {
    # Reminders, overdue marks and escalations. Level-triggered (next_check_at <= now), so a
    # run missed while beat or the worker was down is made up by the next one.
    "sweep-deadlines": {"task": "feedback.tasks.sweep_deadlines", "schedule": SWEEP_INTERVAL},
    # Catch-up: mail any notification whose immediate send was lost (broker or worker down).
    "send-pending-emails": {"task": "feedback.tasks.send_pending_emails", "schedule": 300.0},
    # Daily at 08:30 Asia/Shanghai: from 1 November, warn administrators (bell + mail) when next
    # year's holiday calendar is missing; once per administrator and year.
    "warn-missing-calendar": {"task": "feedback.tasks.warn_missing_calendar",
                              "schedule": crontab(hour=8, minute=30)},
    # The 1st of each month at 07:00 Asia/Shanghai: draft last month's bulletins (月度通报). A
    # missed run is made up by drafting by hand on the bulletin page; a rerun drafts nothing twice.
    "draft-month-end-bulletins": {"task": "feedback.tasks.draft_month_end_bulletins",
                                  "schedule": crontab(day_of_month=1, hour=7, minute=0)},
    # Every minute: export jobs still queued after a minute (their message was lost with the broker
    # down) or left running by a dead worker are claimed again and built (feedback.services).
    "run-queued-exports": {"task": "feedback.tasks.run_queued_exports", "schedule": 60.0},
    # Daily at 07:45 Asia/Shanghai: create the coming month's enterprise day (one per month, so the
    # monthly job is idempotent and a missed run is made up the next day) and send the notices of
    # days within 3 working days (once per person and day).
    "plan-enterprise-days": {"task": "channels_enterprise.tasks.plan_enterprise_days",
                             "schedule": crontab(hour=7, minute=45)},
}
