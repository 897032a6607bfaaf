from __future__ import annotations

from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = "诉求办理"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the Celery tasks in every process (web, commands, worker): the services queue
        # them by name (feedback.services.queue), and Celery's autodiscovery only runs in the worker.
        from feedback import tasks  # noqa: F401

        # Issue 15: security events into the audit chain, and the deploy checks.
        from feedback.security import admin, checks, signals  # noqa: F401
