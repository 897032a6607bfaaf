from __future__ import annotations

from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = "诉求办理"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Issue 15: security events into the audit chain, and the deploy checks.
        from .security import admin, checks, signals  # noqa: F401
