"""App configurations the portal gives to libraries: their names in the admin, in Chinese."""

from __future__ import annotations

from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig


class AxesConfig(AxesAppConfig):
    # django-axes ships no Chinese: its models and fields are translated in locale/zh_Hans/.
    verbose_name = "登录锁定"

    def ready(self) -> None:
        super().ready()
        # The admin titles a record by str(): axes writes "Access Log for zjj_head @ …" in plain
        # English strings, so the three records are titled here instead.
        from axes.models import AccessAttempt, AccessFailureLog, AccessLog

        AccessAttempt.__str__ = lambda self: f"{self.username} 的登录尝试（{self.attempt_time:%Y-%m-%d %H:%M}）"  # type: ignore[method-assign]
        AccessLog.__str__ = lambda self: f"{self.username} 的登录记录（{self.attempt_time:%Y-%m-%d %H:%M}）"  # type: ignore[method-assign]
        AccessFailureLog.__str__ = lambda self: f"{self.username} 的失败登录（{self.attempt_time:%Y-%m-%d %H:%M}）"  # type: ignore[method-assign]


class OtpTotpConfig(AppConfig):
    """django-otp's TOTP devices (the second factor), named in Chinese in the admin."""

    name = "django_otp.plugins.otp_totp"
    label = "otp_totp"
    verbose_name = "动态口令"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        # django-otp names its models in plain strings no catalogue translates. Only the names the
        # admin shows change: Meta's original options (what migrations compare) stay as shipped.
        name_models(self, {"totpdevice": ("动态口令设备", "动态口令设备")})


class OtpStaticConfig(AppConfig):
    """django-otp's recovery codes, named in Chinese in the admin."""

    name = "django_otp.plugins.otp_static"
    label = "otp_static"
    verbose_name = "恢复码"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        name_models(self, {"staticdevice": ("恢复码组", "恢复码组"), "statictoken": ("恢复码", "恢复码")})


def name_models(config: AppConfig, names: dict[str, tuple[str, str]]) -> None:
    for model_name, (singular, plural) in names.items():
        meta = config.get_model(model_name)._meta
        meta.verbose_name = singular
        meta.verbose_name_plural = plural


class CaptchaConfig(AppConfig):
    """django-simple-captcha (the public portal's human check), named in Chinese in the admin."""

    name = "captcha"
    verbose_name = "图形验证码"

    def ready(self) -> None:
        name_models(self, {"captchastore": ("验证码记录", "验证码记录")})
