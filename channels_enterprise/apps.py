from __future__ import annotations

from django.apps import AppConfig


class ChannelsEnterpriseConfig(AppConfig):
    name = "channels_enterprise"
    verbose_name = "政企直通车"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from feedback.channels import ChannelPlugin, register
        from feedback.models import Channel

        from . import ledger, report_figures, services
        from .demo import seed_demo_sessions
        from .sessions import attendance, sessions

        register(
            ChannelPlugin(
                Channel.ENTERPRISE,
                "企业家日",
                "channels_enterprise:home",
                seed_demo_sessions,
                sessions=sessions,
                attendance=attendance,
                report_figures=report_figures.report_figures,
                report_items=report_figures.report_items,
                ledger_sessions=ledger.ledger_sessions,
                link_ledger_sessions=ledger.link_ledger_sessions,
                calendar_changed=services.calendar_changed,
            )
        )
