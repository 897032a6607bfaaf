"""Integrators (docs/api.md): a personal API token from /account/tokens/, 401 with a challenge when
credentials are missing, and a schema whose names a generated client can use as identifiers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-123"  # tests.conftest.make_user


def test_an_api_call_without_credentials_is_401_with_a_token_challenge():
    response = APIClient().get("/api/v1/assignments/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "身份认证信息未提供。"}


def test_a_wrong_token_is_401(zjj_head):
    response = APIClient().get("/api/v1/assignments/", HTTP_AUTHORIZATION="Token not-a-real-token")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_signed_in_browser_still_uses_its_session(zjj_head):
    api = APIClient()
    api.force_login(zjj_head)

    assert api.get("/api/v1/assignments/").status_code == 200


def test_a_user_creates_a_token_with_the_password_sees_it_once_and_it_works(zjj_head):
    browser = Client()
    browser.force_login(zjj_head)

    wrong = browser.post(reverse("api_tokens"), {"action": "create", "password": "wrong password"})
    assert wrong.status_code == 400
    assert "密码不正确" in wrong.content.decode()
    assert not Token.objects.filter(user=zjj_head).exists()

    created = browser.post(reverse("api_tokens"), {"action": "create", "password": PASSWORD})
    key = Token.objects.get(user=zjj_head).key
    assert created.status_code == 200
    assert key in created.content.decode()
    assert created["Cache-Control"].startswith("max-age=0")  # never_cache: the key is not kept anywhere

    later = browser.get(reverse("api_tokens"))
    assert key not in later.content.decode()  # shown once
    assert key[:4] in later.content.decode()

    api = APIClient()
    assert api.get("/api/v1/assignments/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200


def test_creating_again_replaces_the_key_and_revoking_ends_it(zjj_head):
    browser = Client()
    browser.force_login(zjj_head)
    browser.post(reverse("api_tokens"), {"action": "create", "password": PASSWORD})
    first = Token.objects.get(user=zjj_head).key
    browser.post(reverse("api_tokens"), {"action": "create", "password": PASSWORD})
    second = Token.objects.get(user=zjj_head).key
    api = APIClient()

    assert first != second
    assert api.get("/api/v1/assignments/", HTTP_AUTHORIZATION=f"Token {first}").status_code == 401

    revoked = browser.post(reverse("api_tokens"), {"action": "revoke"})
    assert revoked.status_code == 302
    assert not Token.objects.filter(user=zjj_head).exists()
    assert api.get("/api/v1/assignments/", HTTP_AUTHORIZATION=f"Token {second}").status_code == 401


def test_the_token_page_needs_a_login():
    response = Client().get(reverse("api_tokens"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_token_is_per_user_and_carries_only_that_users_scope(zjj_head, jyj_head):
    token = Token.objects.create(user=jyj_head).key  # as the admin page would issue it
    api = APIClient(HTTP_AUTHORIZATION=f"Token {token}")

    assert api.get("/api/v1/assignments/").json()["count"] == 0  # 教育局 has no assignments here


IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")


def test_every_schema_component_and_operation_has_an_ascii_identifier(tmp_path: Path):
    # Generated clients turn these into class and function names: AssignmentStatusEnum, not a
    # name pieced together from a Chinese field label.
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--file", str(out))
    schema = yaml.safe_load(out.read_text())

    components = list(schema["components"]["schemas"])
    assert [name for name in components if not IDENTIFIER.match(name)] == []
    assert {"AssignmentStatusEnum", "IssueStatusEnum", "ResultEnum"} <= set(components)
    operations = [
        op["operationId"]
        for item in schema["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    ]
    assert [op for op in operations if not re.match(r"^[a-z][a-z0-9_]*$", op)] == []
    assert set(schema["components"]["securitySchemes"]) >= {"tokenAuth", "cookieAuth"}


def token_events(user) -> list[str]:
    from feedback.models.security import AuditEvent

    return list(
        AuditEvent.objects.filter(object_type="user", object_id=str(user.pk), action__startswith="token_")
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_issuing_and_revoking_a_token_are_audit_events_and_a_wrong_password_is_not(zjj_head):
    from feedback.models.security import AuditEvent

    browser = Client()
    browser.force_login(zjj_head)
    browser.post(reverse("api_tokens"), {"action": "create", "password": "wrong password"})
    assert token_events(zjj_head) == []
    browser.post(reverse("api_tokens"), {"action": "create", "password": PASSWORD})
    browser.post(reverse("api_tokens"), {"action": "create", "password": PASSWORD})
    browser.post(reverse("api_tokens"), {"action": "revoke"})
    browser.post(reverse("api_tokens"), {"action": "revoke"})  # nothing left to revoke: no event
    assert token_events(zjj_head) == ["token_issued", "token_issued", "token_revoked"]
    issued = AuditEvent.objects.filter(action="token_issued").order_by("id")
    assert [e.detail for e in issued] == [{"replaced": False}, {"replaced": True}]
    assert all(e.actor == zjj_head.username for e in issued)


def test_a_token_issued_or_deleted_in_the_admin_is_an_audit_event(zjj_head):
    from tests.conftest import make_user

    root = make_user("root", superuser=True)
    admin = Client()
    admin.force_login(root)
    response = admin.post("/admin/authtoken/tokenproxy/add/", {"user": zjj_head.pk})
    assert response.status_code == 302, response.content.decode()[:500]
    token = Token.objects.get(user=zjj_head)
    admin.post(f"/admin/authtoken/tokenproxy/{zjj_head.pk}/delete/", {"post": "yes"})
    assert not Token.objects.filter(pk=token.pk).exists()
    assert token_events(zjj_head) == ["token_issued", "token_revoked"]
