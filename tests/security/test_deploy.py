"""Deployment checks, error pages and hostile parameters (issue 15, part 8)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from tests.conftest import make_user

ROOT = Path(__file__).resolve().parents[2]
ENV_FILE = ROOT / "docs" / "production.env.example"


def documented_environment() -> dict[str, str]:
    env = {}
    for line in ENV_FILE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key] = value
    return env


@pytest.mark.django_db
def test_check_deploy_passes_at_warning_level_with_the_documented_environment():
    env = documented_environment()
    assert env["DEBUG"] == "0" and env["SECURE_SSL_REDIRECT"] == "1" and int(env["SECURE_HSTS_SECONDS"]) >= 31536000
    db = django_settings.DATABASES["default"]
    env.update(
        {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            # The placeholder in the file is replaced as the operator would, with a long random key.
            "SECRET_KEY": "k" + os.urandom(32).hex() + "Z9!",
            "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{db['NAME']}"),
            "REDIS_URL": "",
            "DJANGO_SETTINGS_MODULE": "zhitongche.settings",
        }
    )
    if db["ENGINE"].endswith("postgresql"):
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues (0 silenced)" in done.stdout


def test_production_cookies_are_host_prefixed_and_secure():
    env = {**documented_environment(), "SECRET_KEY": "x" * 60, "PATH": os.environ.get("PATH", "")}
    code = (
        "import zhitongche.settings as s; print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE,"
        " s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_AGE)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    ).stdout.split()
    assert out == ["__Host-sessionid", "__Host-csrftoken", "True", "True", "31536000", "True", "43200"]


# --- error pages -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_404_is_a_chinese_page_with_the_request_id(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    body = response.content.decode()
    assert response.status_code == 404 and "页面不存在" in body
    assert response["X-Request-ID"] and response["X-Request-ID"] in body
    assert "Django" not in body and "urlpatterns" not in body


@pytest.mark.django_db
@pytest.mark.urls("tests.security.urls_boom")
def test_500_shows_no_traceback_only_the_request_id(client, settings):
    settings.DEBUG = False
    client.raise_request_exception = False
    response = client.get("/boom/")
    body = response.content.decode()
    assert response.status_code == 500 and "系统出错" in body
    assert response["X-Request-ID"] in body
    for leak in ("Traceback", "RuntimeError", "secret-settings-text", "SECRET_KEY"):
        assert leak not in body

    api = client.get("/api/v1/boom/")
    assert api.status_code == 500 and api.json()["request_id"] == api["X-Request-ID"]


@pytest.mark.django_db
def test_403_is_a_chinese_page(client, settings, reference):
    settings.DEBUG = False
    client.force_login(make_user("zjj_head", department="zjj"))
    response = client.get(reverse("issue_import"))
    if response.status_code == 403:
        assert "无权访问" in response.content.decode() and response["X-Request-ID"] in response.content.decode()


# --- NUL and oversized parameters --------------------------------------------------------------------------


@pytest.mark.django_db
def test_nul_in_the_inbox_search_answers_400_not_500(client, reference):
    client.force_login(make_user("zjj_head", department="zjj"))
    response = client.get("/inbox/?q=%00")
    assert response.status_code == 400
    assert "请求有误" in response.content.decode()


def _no_argument_get_routes() -> list[str]:
    from django.urls import URLPattern, URLResolver, get_resolver

    found: list[str] = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                route = route.replace("^", "").replace("$", "").replace("\\Z", "")
                if "<" in route or "(?P" in route or route.startswith("admin/") or "logout" in route:
                    continue
                found.append("/" + route)

    walk(get_resolver().url_patterns)
    return sorted(set(found))


HOSTILE = ["\x00", "a\x00b", "x" * 5000]


@pytest.mark.fuzz
@pytest.mark.django_db
def test_every_list_answers_400_to_nul_and_oversized_parameters(client, reference):
    from django.forms import Form

    import channels_citizen.forms
    import channels_enterprise.forms
    import channels_net.forms
    import feedback.forms

    names = {"q", "page", "tab", "which", "items", "ordering", "search", "format", "next"}
    for module in (feedback.forms, channels_net.forms, channels_enterprise.forms, channels_citizen.forms):
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, Form)
                and re.search(r"Filter|Report|Search|Dashboard", obj.__name__)
            ):
                names |= set(obj.base_fields)
    client.force_login(make_user("fuzzadmin", superuser=True))
    routes = _no_argument_get_routes()
    assert "/inbox/" in routes and "/issues/" in routes and "/api/v1/assignments/" in routes
    failures = []
    for route in routes:
        for name in sorted(names):
            for value in HOSTILE:
                status = client.get(route, {name: value}).status_code
                if status != 400:
                    failures.append((route, name, value[:5], status))
    assert failures == [], failures[:20]
    assert len(routes) * len(names) >= 500  # the sweep really covers the lists


ODD = ["-1", "9999-99-99", "'\"<>", "页" * 999, "0x10", "1e309"]


@pytest.mark.fuzz
@pytest.mark.django_db
def test_no_list_answers_500_to_odd_but_legal_parameters(client, reference):
    """Below the limits the middleware passes everything on: the views' own parsing must hold."""
    client.force_login(make_user("fuzzadmin", superuser=True))
    client.raise_request_exception = False
    names = [
        "q",
        "page",
        "channel",
        "status",
        "category",
        "department",
        "received_from",
        "received_to",
        "sort",
        "tab",
        "which",
        "items",
        "start",
        "to",
        "as_of",
        "month",
        "ordering",
        "search",
        "result",
        "replied",
        "nature",
        "year",
        "kind",
        "issue_ref",
        "provisional",
        "confirmed",
        "active",
        "park",
        "sector",
    ]
    failures = []
    for route in _no_argument_get_routes():
        if route.endswith((".xlsx", ".csv", ".ics", ".docx")) or "export" in route:
            continue  # the exports share the lists' parsing; building a workbook per value is slow
        for i, name in enumerate(names):
            # One odd value per (route, name), rotating: every value meets every route and every name, and
            # the sweep stays near a minute (all six values on every pair took 11 minutes, with 0 failures).
            value = ODD[(i + len(route)) % len(ODD)]
            status = client.get(route, {name: value}).status_code
            if status >= 500:
                failures.append((route, name, value[:8], status))
    assert failures == [], failures[:20]
