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


# --- every admin page, over the demo data -----------------------------------------------------------

# English that may stay: the keyboard names in Django's own Chinese help text (按住 Control 键或 Mac 上的
# Command 键…) and an HTTP header's name. Codes, user names and file names (one lowercase word) are data.
ALLOWED = {"Control", "Command", "Mac", "HTTP Accept"}


def english_in(html: str) -> set[str]:
    """Capitalised English words and phrases of several words: labels, titles, help texts, names a
    library forgot to translate. A single lowercase word (a code, a user name) is data and passes."""
    text = re.sub(r"&[a-z]+;|&#\d+;", " ", visible_text(html))
    text = re.sub(r"\S+\*{3,}", " ", text)  # the password hash's masked salt and hash (uPvkoX******)
    found = set()
    for phrase in re.findall(r"[A-Za-z][A-Za-z]*(?: [A-Za-z]+)*", text):
        if " " in phrase or re.fullmatch(r"[A-Z][a-z]+", phrase):
            found.add(phrase)
    return found - ALLOWED


def admin_pages() -> list[str]:
    from django.contrib import admin

    pages = ["/admin/"]
    for model in admin.site._registry:
        meta = model._meta
        pages += [f"/admin/{meta.app_label}/", f"/admin/{meta.app_label}/{meta.model_name}/"]
        pages.append(f"/admin/{meta.app_label}/{meta.model_name}/add/")
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(f"/admin/{meta.app_label}/{meta.model_name}/{first.pk}/change/")
    return pages


def root_client(root: object) -> Client:
    from django.contrib.auth.models import Group
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from feedback.security.events import record_event

    TOTPDevice.objects.create(user=root, name="手机", confirmed=True)
    StaticDevice.objects.create(user=root, name="恢复码", confirmed=True)
    record_event("login", user=root)
    Group.objects.get_or_create(name="演示组")
    client = Client()
    client.force_login(root)
    return client


@pytest.fixture
def demo_admin(db: None) -> Client:
    from django.contrib.auth import get_user_model

    from feedback.demo import seed_demo

    seed_demo()
    return root_client(get_user_model().objects.get(username="admin"))


@pytest.fixture
def plain_admin(reference: None) -> Client:
    from tests.conftest import make_user

    return root_client(make_user("root", superuser=True))


def test_no_admin_page_shows_english_labels(demo_admin: Client) -> None:
    leftovers = {}
    pages = admin_pages()
    assert len(pages) > 60  # every registered model: its list, add page and first record
    for url in pages:
        response = demo_admin.get(url)
        assert response.status_code in (200, 403), url  # 403: an add page of a read-only record
        if response.status_code == 200 and (english := english_in(response.content.decode())):
            leftovers[url] = sorted(english)
    assert leftovers == {}
    # the timeline's rows and the notices are named as the issue page names them, not by their codes
    html = demo_admin.get("/admin/feedback/historyentry/").content.decode()
    assert "签收" in html and "待签收" in html
    assert ">acknowledge<" not in html
    assert "新交办" in demo_admin.get("/admin/feedback/notification/").content.decode()


def test_the_english_detector_finds_what_it_must() -> None:
    assert english_in("<th>Model name</th><td>zjj_head</td><p>按住 Control 键</p>") == {"Model name"}
    assert english_in("<h1>TOTP devices</h1>") == {"TOTP devices"}
    assert english_in("<a>Captcha</a> <td>business</td> &rsaquo;") == {"Captcha"}


def test_permissions_are_named_in_chinese(plain_admin: Client) -> None:
    from django.contrib.auth.models import Permission

    from feedback.security.admin import permission_label

    issue_change = Permission.objects.get(codename="change_issue")
    assert permission_label(issue_change) == "诉求办理 | 诉求 | 可修改诉求"
    html = plain_admin.get("/admin/auth/group/add/").content.decode()
    assert "可查看动态口令设备" in html and "Can view" not in html


def test_second_factor_devices_are_deleted_not_edited_in_the_admin(plain_admin: Client) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(name="手机")
    assert plain_admin.get("/admin/otp_totp/totpdevice/add/").status_code == 403
    page = plain_admin.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content.decode()
    assert 'name="key"' not in page and device.key not in page  # the secret is never shown here
    response = plain_admin.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
