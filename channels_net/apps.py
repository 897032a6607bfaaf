from __future__ import annotations

from django.apps import AppConfig


class ChannelsNetConfig(AppConfig):
    name = "channels_net"
    verbose_name = "政网直通车"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from feedback.channels import ChannelPlugin, register
        from feedback.models import Channel

        from . import ledger, report_figures
        from .demo import seed_demo_sessions
        from .services import MERGED_ACTION, MERGED_LABEL, merged_requesters
        from .sessions import forum_attendance, forum_sessions

        register(
            ChannelPlugin(
                Channel.NET,
                "网民座谈会",
                "channels_net:home",
                seed_demo_sessions,
                sessions=forum_sessions,
                attendance=forum_attendance,
                report_figures=report_figures.report_figures,
                report_items=report_figures.report_items,
                ledger_sessions=ledger.ledger_sessions,
                link_ledger_sessions=ledger.link_ledger_sessions,
                # The timeline's label for a merge (并单) recorded by this channel.
                history_actions={MERGED_ACTION: MERGED_LABEL},
                # Public suggestions merged into an issue: called back with its merged requesters.
                merged_requesters=merged_requesters,
            )
        )
