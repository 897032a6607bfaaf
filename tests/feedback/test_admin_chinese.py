"""The admin speaks Chinese everywhere, the lockout records of django-axes included."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

pytestmark = pytest.mark.django_db

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES"


def visible_text(html: str) -> str:
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture
def admin_client_zh(reference: None) -> Client:
    from tests.conftest import make_user

    client = Client()
    client.force_login(make_user("root", superuser=True))
    return client


def test_the_admin_index_names_every_app_and_model_in_chinese(admin_client_zh: Client) -> None:
    text = visible_text(admin_client_zh.get("/admin/").content.decode())
    assert "登录锁定" in text and "登录尝试（锁定记录）" in text
    for english in ("AXES", "Axes", "Access attempts", "Access logs", "Access failures", "Tokens"):
        assert english not in text, english


@pytest.mark.parametrize("model", ["accessattempt", "accesslog", "accessfailurelog"])
def test_the_lockout_records_are_listed_in_chinese(admin_client_zh: Client, model: str) -> None:
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    common = {
        "user_agent": "Mozilla",
        "ip_address": "10.0.0.9",
        "username": "zjj_head",
        "http_accept": "*/*",
        "path_info": "/accounts/login/",
    }
    AccessAttempt.objects.create(**common, get_data="", post_data="", failures_since_start=5)
    AccessLog.objects.create(**common)
    AccessFailureLog.objects.create(**common, locked_out=True)
    response = admin_client_zh.get(f"/admin/axes/{model}/")
    assert response.status_code == 200
    text = visible_text(response.content.decode())
    for english in ("Access", "Attempt Time", "IP Address", "User Agent", "Path", "Failed Logins"):
        assert english not in text, english
    assert "IP 地址" in text


def test_the_committed_catalogue_is_compiled_from_the_po_file() -> None:
    po = (LOCALE / "django.po").read_text(encoding="utf-8")
    pairs = re.findall(r'^msgid "(.+)"\nmsgstr "(.*)"$', po, flags=re.M)
    assert len(pairs) > 20
    with translation.override("zh-hans"):
        for msgid, msgstr in pairs:
            assert translation.gettext(msgid) == msgstr, f"django.mo is stale: msgfmt {LOCALE / 'django.po'}"
