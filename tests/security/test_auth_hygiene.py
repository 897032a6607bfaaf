"""Authentication hygiene (issue 15, part 7): spraying throttled per IP, lockouts that do not grow while
locked, idle and absolute session limits, a password change page."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from feedback.demo import DEMO_PASSWORD
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-123"


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.LOGIN_IP_FAILURE_LIMIT = 30


def login(client: Client, username: str, password: str) -> int:
    return client.post(reverse("login"), {"username": username, "password": password}).status_code


def test_password_spraying_from_one_ip_is_stopped_across_usernames(reference, axes_on):
    users = [make_user(f"user{n:02d}") for n in range(23)]
    client = Client()
    # The probe's pattern: 53 guesses spread over 23 accounts, never 5 on one account.
    statuses = [login(client, users[n % 23].username, f"guess-{n}") for n in range(53)]
    assert statuses[:30] == [200] * 30  # wrong password, the form again
    assert set(statuses[30:]) == {429}  # then the address is refused, whatever the username
    # Even the right password of an untouched account is refused from that address for now.
    fresh = make_user("fresh")
    assert login(client, fresh.username, PASSWORD) == 429
    # Another address is not affected (the throttle is per IP, not global).
    assert login(Client(REMOTE_ADDR="10.0.0.8"), fresh.username, PASSWORD) == 302


def test_a_lockout_is_not_extended_by_attempts_while_locked(reference, axes_on):
    user = make_user("zjj_head", department="zjj")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            login(Client(), user.username, "wrong")
        assert login(Client(), user.username, PASSWORD) == 429
    with time_machine.travel(start + datetime.timedelta(minutes=10), tick=False):
        assert login(Client(), user.username, "wrong-again") == 429  # still locked; must not restart the clock
    with time_machine.travel(start + datetime.timedelta(minutes=15, seconds=5), tick=False):
        assert login(Client(), user.username, PASSWORD) == 302  # 15 minutes from the lockout, not from the retry


def test_an_idle_session_ends_after_30_minutes(reference, client):
    user = make_user("netoffice", department="wxb")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert login(client, user.username, PASSWORD) == 302
        assert client.get(reverse("notifications")).status_code == 200
    with time_machine.travel(start + datetime.timedelta(minutes=29), tick=False):
        assert client.get(reverse("notifications")).status_code == 200
    with time_machine.travel(start + datetime.timedelta(minutes=29 + 31), tick=False):
        response = client.get(reverse("notifications"))
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
        assert "_auth_user_id" not in client.session


def test_an_active_session_ends_12_hours_after_login(reference, client):
    user = make_user("netoffice", department="wxb")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert login(client, user.username, PASSWORD) == 302
    for minutes in range(10, 12 * 60, 10):  # busy all day, a page every 10 minutes
        with time_machine.travel(start + datetime.timedelta(minutes=minutes), tick=False):
            assert client.get(reverse("notifications")).status_code == 200, minutes
    with time_machine.travel(start + datetime.timedelta(hours=12, minutes=1), tick=False):
        assert client.get(reverse("notifications")).status_code == 302


def test_the_password_change_page_refuses_the_demo_password_and_ends_other_sessions(reference):
    user = make_user("zjj_head", department="zjj")
    elsewhere, here = Client(), Client()
    assert login(elsewhere, "zjj_head", PASSWORD) == 302 and login(here, "zjj_head", PASSWORD) == 302
    page = here.get(reverse("password_change"))
    assert page.status_code == 200 and "修改密码" in page.content.decode()

    refused = here.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": DEMO_PASSWORD, "new_password2": DEMO_PASSWORD},
    )
    assert refused.status_code == 200 and "演示密码" in refused.content.decode()
    named = here.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "Zhitongche#2026x", "new_password2": "Zhitongche#2026x"},
    )
    assert named.status_code == 200 and "系统名称" in named.content.decode()

    done = here.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "Rain-on-Zi-42-river", "new_password2": "Rain-on-Zi-42-river"},
    )
    assert done.status_code == 302
    get_user_model().objects.get(pk=user.pk).check_password("Rain-on-Zi-42-river")
    assert here.get(reverse("notifications")).status_code == 200  # this session stays
    assert elsewhere.get(reverse("notifications")).status_code == 302  # the other one is ended
