from __future__ import annotations

from django.apps import AppConfig


class ChannelsCitizenConfig(AppConfig):
    name = "channels_citizen"
    verbose_name = "政民直通车"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from feedback.channels import ChannelPlugin, register
        from feedback.models import Channel

        from . import ledger, report_figures, services
        from .demo import seed_demo_sessions
        from .sessions import week_attendance, week_sessions

        register(
            ChannelPlugin(
                Channel.CITIZEN,
                "无会周",
                "channels_citizen:home",
                seed_demo_sessions,
                sessions=week_sessions,
                attendance=week_attendance,
                report_figures=report_figures.report_figures,
                report_items=report_figures.report_items,
                ledger_sessions=ledger.ledger_sessions,
                link_ledger_sessions=ledger.link_ledger_sessions,
                calendar_changed=services.calendar_changed,
            )
        )
