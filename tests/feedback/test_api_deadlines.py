"""GET /api/v1/deadlines/preview/ (docs/api.md "HTTP API")."""

from __future__ import annotations

import re
from typing import Any

import pytest
from rest_framework.test import APIClient

URL = "/api/v1/deadlines/preview/"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def client(zjj_staff: Any) -> APIClient:
    api = APIClient()
    api.force_authenticate(zjj_staff)
    return api


def preview(client: APIClient, **params: Any) -> Any:
    return client.get(URL, params)


def test_preview_skips_the_2026_national_day_holiday_and_counts_the_saturday_make_up_day(client):
    # 2026-09-30 is a Wednesday; Oct 1–7 are rest days; Sat Oct 10 is a make-up working day:
    # day 1 = Thu Oct 8, day 2 = Fri Oct 9, day 3 = Sat Oct 10.
    response = preview(client, start="2026-09-30", amount=3, unit="working_day")

    assert response.status_code == 200
    body = response.json()
    assert body == {"due_date": "2026-10-10", "provisional": False, "explanation": body["explanation"]}
    assert any("国庆节" in line for line in body["explanation"])
    assert all(isinstance(line, str) for line in body["explanation"])


def test_preview_counts_the_sunday_make_up_day_before_national_day(client):
    # Fri 2026-09-18 + 1 working day: Sun Sep 20 is a make-up working day.
    response = preview(client, start="2026-09-18", amount=1, unit="working_day")

    assert response.json()["due_date"] == "2026-09-20"


def test_preview_rolls_a_calendar_day_limit_ending_in_the_holiday_forward_to_a_working_day(client):
    # Thu 2026-09-24 + 7 calendar days = Thu Oct 1 (holiday) → Thu Oct 8.
    response = preview(client, start="2026-09-24", amount=7, unit="calendar_day")

    assert response.status_code == 200
    assert response.json()["due_date"] == "2026-10-08"
    assert response.json()["provisional"] is False


def test_preview_into_2027_is_provisional_and_skips_new_years_day(client):
    # 2026-12-28 (Mon) + 10 working days, 2027 not loaded: Mon–Fri minus Jan 1 → Tue 2027-01-12.
    response = preview(client, start="2026-12-28", amount=10, unit="working_day")

    body = response.json()
    assert response.status_code == 200
    assert body["due_date"] == "2027-01-12"
    assert body["provisional"] is True
    assert any("2027" in line and "尚未载入" in line for line in body["explanation"])


def test_preview_accepts_the_chinese_unit_label(client):
    response = preview(client, start="2026-09-30", amount=3, unit="工作日")

    assert response.json()["due_date"] == "2026-10-10"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-02-30", "amount": 3, "unit": "working_day"}, "start"),
        ({"start": "2026/09/30", "amount": 3, "unit": "working_day"}, "start"),
        ({"start": "yesterday", "amount": 3, "unit": "working_day"}, "start"),
        ({"start": "9999-12-30", "amount": 3, "unit": "working_day"}, "start"),
        ({"start": "2026-09-30", "amount": 0, "unit": "working_day"}, "amount"),
        ({"start": "2026-09-30", "amount": -5, "unit": "working_day"}, "amount"),
        ({"start": "2026-09-30", "amount": "2.5", "unit": "working_day"}, "amount"),
        ({"start": "2026-09-30", "amount": "three", "unit": "working_day"}, "amount"),
        ({"start": "2026-09-30", "amount": 100000, "unit": "working_day"}, "amount"),
        ({"start": "2026-09-30", "amount": 3, "unit": "hour"}, "unit"),
        ({"amount": 3, "unit": "working_day"}, "start"),
        ({"start": "2026-09-30", "unit": "working_day"}, "amount"),
        ({"start": "2026-09-30", "amount": 3}, "unit"),
    ],
)
def test_preview_refuses_a_bad_parameter_with_a_chinese_message_naming_it(client, params, field):
    response = preview(client, **params)

    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field]
    assert CHINESE.search(body[field][0])


def test_preview_with_no_parameters_names_every_missing_one(client):
    response = client.get(URL)

    assert response.status_code == 400
    assert set(response.json()) == {"start", "amount", "unit"}


def test_preview_needs_a_signed_in_user(reference):
    response = APIClient().get(URL, {"start": "2026-09-30", "amount": 3, "unit": "working_day"})

    assert response.status_code == 401  # missing credentials: 401 with the Token challenge (docs/api.md)
    assert response["WWW-Authenticate"] == "Token"
    assert CHINESE.search(response.json()["detail"])
