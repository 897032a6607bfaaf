from __future__ import annotations

from django.apps import AppConfig


class ChannelsNetConfig(AppConfig):
    name = "channels_net"
    verbose_name = "政网直通车"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from feedback.channels import ChannelPlugin, register
        from feedback.models import Channel

        from .demo import seed_demo_sessions
        from .sessions import forum_attendance, forum_sessions

        register(ChannelPlugin(Channel.NET, "网民座谈会", "channels_net:home", seed_demo_sessions,
                               sessions=forum_sessions, attendance=forum_attendance))
