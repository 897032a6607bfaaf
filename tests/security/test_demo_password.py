"""Demo passwords in production (issue 15, part 2): refused on every authentication path when DEBUG is off,
and ``check --deploy`` fails while an active account still has one."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import RequestFactory
from django.urls import reverse

from feedback.demo import DEMO_PASSWORD
from feedback.security.checks import check_no_demo_passwords
from feedback.security.validators import ForbiddenWordsValidator
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_admin(reference):
    user = make_user("admin", superuser=True)
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user


def admin_login(client):
    return client.post(reverse("admin:login"), {"username": "admin", "password": DEMO_PASSWORD, "next": "/admin/"})


def test_admin_login_refuses_the_demo_password_when_debug_is_off(client, settings, demo_admin):
    settings.DEBUG = False
    response = admin_login(client)
    assert response.status_code == 200  # the form again, not the redirect into the admin
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still sent to the login page


def test_admin_login_accepts_the_demo_password_under_debug(client, settings, demo_admin):
    settings.DEBUG = True
    assert admin_login(client).status_code == 302
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize("path", ["login", "admin:login"])
def test_no_login_path_accepts_it(client, settings, demo_admin, path):
    settings.DEBUG = False
    client.post(reverse(path), {"username": "admin", "password": DEMO_PASSWORD})
    assert "_auth_user_id" not in client.session


def test_the_refusal_is_in_the_backend_not_a_form(settings, demo_admin):
    # Any caller of authenticate() (a future login view, a token endpoint, a script) gets the same answer.
    request = RequestFactory().post("/anything/")
    settings.DEBUG = False
    assert authenticate(request, username="admin", password=DEMO_PASSWORD) is None
    settings.DEBUG = True
    assert authenticate(request, username="admin", password=DEMO_PASSWORD) == demo_admin


def test_deploy_check_fails_while_an_active_account_has_the_demo_password(demo_admin):
    errors = check_no_demo_passwords()
    assert [e.id for e in errors] == ["zhitongche.E001"] and "admin" in errors[0].msg
    with pytest.raises(SystemCheckError, match=r"zhitongche\.E001"):
        call_command("check", "--deploy", "--tag", "security")

    demo_admin.set_password("a-real-passphrase-4821")
    demo_admin.save()
    assert check_no_demo_passwords() == []


def test_the_check_finds_seed_demo_accounts_and_skips_deactivated_ones(settings, reference):
    settings.DEBUG = True
    from feedback.demo import seed_accounts

    seed_accounts()
    errors = check_no_demo_passwords()
    assert errors and "admin" in errors[0].msg
    get_user_model().objects.update(is_active=False)
    assert check_no_demo_passwords() == []


@pytest.mark.parametrize("password", [DEMO_PASSWORD, "ZhiTongChe-2026!", "我的直通车密码2026", "dongkou#2026xyz"])
def test_validators_refuse_the_demo_password_and_the_project_name(password):
    with pytest.raises(ValidationError):
        ForbiddenWordsValidator().validate(password)


def test_validators_are_installed(settings):
    from django.contrib.auth.password_validation import validate_password

    with pytest.raises(ValidationError, match="演示密码"):
        validate_password(DEMO_PASSWORD)
    validate_password("Rain-on-the-Zi-river-42")
