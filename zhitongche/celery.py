"""The Celery app, wired as Celery's "First steps with Django" guide describes."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhitongche.settings")

app = Celery("zhitongche")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The beat schedule lives in code, next to the tasks it drives (one comment per entry).
app.conf.beat_schedule = {
    # Catch-up: mail any notification whose immediate send was lost (broker or worker down).
    "send-pending-emails": {"task": "feedback.tasks.send_pending_emails", "schedule": 300.0},
}
