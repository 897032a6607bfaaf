"""System checks for ``manage.py check --deploy`` (issue 15, parts 2 and 8)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import DatabaseError


def demo_account_candidates() -> Any:
    """Accounts that may carry the demo password: every seed_demo username, every staff or superuser,
    and every account whose hash is shared with another (seed_demo hashes the demo password once for all
    its accounts). Checking each of 300 real accounts would cost 300 PBKDF2 runs (~0.5 s each); the
    password validators already stop anyone from choosing it, and the login backend refuses it anyway."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count, Q

    User = get_user_model()
    shared = User.objects.values("password").annotate(n=Count("id")).filter(n__gt=1).values_list("password", flat=True)
    demo_names = (
        Q(username__in=["admin", "leader", "netoffice", "ezoneoffice", "petitionoffice"])
        | Q(username__endswith="_head")
        | Q(username__endswith="_staff")
    )
    return User.objects.filter(is_active=True).filter(
        demo_names | Q(is_staff=True) | Q(is_superuser=True) | Q(password__in=list(shared))
    )


@register(Tags.security, deploy=True)
def check_no_demo_passwords(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    from django.contrib.auth.hashers import check_password

    from feedback.passwords import DEMO_PASSWORD

    try:
        users = list(demo_account_candidates().only("id", "username", "password"))
    except DatabaseError:
        return []  # no database yet (first deploy before migrate): nothing to check
    verdicts: dict[str, bool] = {}
    found = []
    for user in users:
        if user.password not in verdicts:
            verdicts[user.password] = bool(user.password) and check_password(DEMO_PASSWORD, user.password)
        if verdicts[user.password]:
            found.append(user.username)
    if not found:
        return []
    shown = "、".join(sorted(found)[:10]) + ("等" if len(found) > 10 else "")
    return [
        Error(
            f"{len(found)} 个启用的账号仍使用公开的演示密码：{shown}。",
            hint="在管理后台为这些账号设置新密码或停用它们（演示账号只应存在于开发环境）。",
            id="zhitongche.E001",
        )
    ]


@register(Tags.security, deploy=True)
def check_password_hashers(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if settings.PASSWORD_HASHERS and "MD5" in settings.PASSWORD_HASHERS[0]:
        return [Error("生产环境不能使用 MD5 密码哈希。", id="zhitongche.E002")]
    return []
