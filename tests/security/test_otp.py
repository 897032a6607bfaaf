"""Second factor (issue 15, part 3): TOTP required per role, enrolment with recovery codes, the admin and
the session API honour it, demo accounts skip it under DEBUG."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from feedback.access import Role
from feedback.models import AuditEvent
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-123"


@pytest.fixture(autouse=True)
def production_roles(settings):
    settings.OTP_REQUIRED_ROLES = ["admin", "leader", "office", "department_head"]
    settings.DEBUG = False


def login(username: str) -> Client:
    client = Client()
    assert client.post(reverse("login"), {"username": username, "password": PASSWORD}).status_code == 302
    return client


def code_for(device: TOTPDevice) -> str:
    """What the phone's authenticator shows now."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def enrol(client: Client, user) -> list[str]:
    page = client.get(reverse("otp_setup"))
    assert page.status_code == 200 and 'src="data:image/svg+xml;base64,' in page.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    done = client.post(reverse("otp_setup"), {"token": code_for(device), "next": "/"})
    assert done.status_code == 200
    return re.findall(r"<li><code>([0-9a-f]{8})</code></li>", done.content.decode())


@pytest.mark.parametrize(
    ("username", "kwargs"),
    [
        ("boss", {"superuser": True}),
        ("county_leader", {"role": Role.LEADER}),
        ("office1", {"department": "wxb", "role": Role.OFFICE}),
        ("head1", {"department": "zjj", "role": Role.DEPARTMENT, "is_head": True}),
    ],
)
def test_every_required_role_is_stopped_after_the_password(reference, username, kwargs):
    make_user(username, **kwargs)
    client = login(username)
    for url in ("/issues/", "/inbox/", "/dashboard/", "/admin/"):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("otp_verify")), url
    api = client.get("/api/v1/issues/")
    assert api.status_code == 403 and "动态口令" in api.json()["detail"]


def test_staff_who_are_not_heads_are_not_asked(reference):
    make_user("staff1", department="zjj", role=Role.DEPARTMENT)
    assert login("staff1").get("/inbox/").status_code == 200


def test_enrolment_gives_ten_single_use_recovery_codes_and_opens_the_portal(reference):
    user = make_user("office1", department="wxb", role=Role.OFFICE)
    client = login("office1")
    assert client.get("/issues/").url.startswith(reverse("otp_verify"))
    assert client.get(reverse("otp_verify")).url.startswith(reverse("otp_setup"))  # no device yet: enrol
    codes = enrol(client, user)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/issues/").status_code == 200
    assert AuditEvent.objects.filter(action="otp_enrolled", actor="office1").exists()

    # Next login: the code from the app, or once each, a recovery code.
    again = login("office1")
    assert again.get("/issues/").status_code == 302
    assert again.post(reverse("otp_verify"), {"token": codes[0], "next": "/issues/"}).status_code == 302
    assert again.get("/issues/").status_code == 200
    third = login("office1")
    assert third.post(reverse("otp_verify"), {"token": codes[0]}).status_code == 400  # used up


def test_a_wrong_or_replayed_code_is_refused_and_logged(reference):
    user = make_user("head1", department="zjj", role=Role.DEPARTMENT, is_head=True)
    client = login("head1")
    enrol(client, user)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    other = login("head1")
    assert other.post(reverse("otp_verify"), {"token": "000000"}).status_code == 400
    # The code just used for enrolment is spent: replaying it within its 30 s step is refused.
    assert other.post(reverse("otp_verify"), {"token": code_for(device)}).status_code == 400
    assert AuditEvent.objects.filter(action="otp_failed", actor="head1").count() == 2


def test_the_admin_honours_it(reference):
    user = make_user("boss", superuser=True)
    client = login("boss")
    assert client.get("/admin/").status_code == 302
    enrol(client, user)
    assert client.get("/admin/").status_code == 200


def test_demo_accounts_skip_it_under_debug_only(reference, settings):
    make_user("netoffice", department="wxb", role=Role.OFFICE)
    settings.DEBUG = True
    assert login("netoffice").get("/issues/").status_code == 200
    settings.DEBUG = False
    assert login("netoffice").get("/issues/").status_code == 302
