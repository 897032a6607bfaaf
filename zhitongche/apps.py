"""App configurations the portal gives to libraries: their names in the admin, in Chinese."""

from __future__ import annotations

from axes.apps import AppConfig as AxesAppConfig


class AxesConfig(AxesAppConfig):
    # django-axes ships no Chinese: its models and fields are translated in locale/zh_Hans/.
    verbose_name = "登录锁定"
