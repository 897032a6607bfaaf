"""The 政民 API: /api/v1/citizen/weeks/, …/roster/, visits/, villages/ (office and admin write, leaders read)."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from rest_framework.test import APIClient

from channels_citizen import services
from feedback.models import Department
from tests.factories import register

pytestmark = pytest.mark.django_db
D = datetime.date


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def week(petitionoffice):
    return services.plan_week(actor=petitionoffice, month=D(2026, 11, 1))


def test_the_office_creates_a_week_and_leaders_read_it(petitionoffice, leader):
    response = api(petitionoffice).post("/api/v1/citizen/weeks/", {"month": "2026-11-05"}, format="json")
    assert response.status_code == 201
    assert response.json()["starts_on"] == "2026-11-24" and response.json()["confirmed"] is False
    assert api(leader).get("/api/v1/citizen/weeks/").json()["count"] == 1
    assert api(leader).post("/api/v1/citizen/weeks/", {"month": "2026-12-01"}, format="json").status_code == 403


def test_departments_and_other_offices_are_refused(week, zjj_head, netoffice):
    for user in (zjj_head, netoffice):  # out of scope is 404, never 403 (issue 15)
        assert api(user).get("/api/v1/citizen/weeks/").status_code == 404
        assert api(user).get("/api/v1/citizen/villages/").status_code == 404
        assert api(user).get(f"/api/v1/citizen/weeks/{week.pk}/").status_code == 404
        assert api(user).post(f"/api/v1/citizen/weeks/{week.pk}/confirm/", {}, format="json").status_code == 404


def test_the_office_or_an_administrator_confirms_a_week_and_a_leader_cannot(week, petitionoffice, admin_user, leader):
    url = f"/api/v1/citizen/weeks/{week.pk}/confirm/"
    assert api(leader).post(url, {}, format="json").status_code == 403
    response = api(admin_user).post(url, {"starts_on": "2026-11-23", "ends_on": "2026-11-27"}, format="json")
    assert response.status_code == 200
    assert (response.json()["starts_on"], response.json()["confirmed"]) == ("2026-11-23", True)
    response = api(petitionoffice).post(url, {"starts_on": "2026-11-24", "ends_on": "2026-11-30"}, format="json")
    assert (response.status_code, response.json()["starts_on"]) == (200, "2026-11-24")


def test_the_roster_endpoint_adds_and_lists_and_refuses_an_inactive_leader(week, petitionoffice, leader):
    url = f"/api/v1/citizen/weeks/{week.pk}/roster/"
    response = api(petitionoffice).post(
        url, {"leader": leader.pk, "township": "hqz", "departments": ["zjj"]}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert api(leader).get(url).json()[0]["township_name"] == "黄桥镇"
    leader.is_active = False
    leader.save()
    response = api(petitionoffice).post(url, {"leader": leader.pk, "township": "jkz"}, format="json")
    assert response.status_code == 400
    assert "账号已停用" in response.json()["leader"][0]


def test_a_visit_outside_the_week_is_refused_and_one_inside_is_recorded(week, petitionoffice, leader):
    issue = register(petitionoffice, channel="citizen")
    body = {"week": week.pk, "visit_kind": "reception", "township": "hqz", "held_on": "2026-11-20"}
    response = api(petitionoffice).post("/api/v1/citizen/visits/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"held_on": ["接访日期必须在本月无会周内（2026-11-24 至 2026-11-30）。"]}
    body.update(held_on="2026-11-25", cases=[issue.pk], lawyer_present=True, lawyer_name="李律师")
    response = api(petitionoffice).post("/api/v1/citizen/visits/", body, format="json")
    assert response.status_code == 201, response.json()
    visit = response.json()
    assert visit["cases"] == [issue.pk] and visit["lawyer_name"] == "李律师"
    response = api(petitionoffice).post(
        f"/api/v1/citizen/visits/{visit['id']}/courtyard-meetings/",
        {"attendance": 40, "outcome": "化解矛盾"},
        format="json",
    )
    assert response.status_code == 201
    assert api(leader).get(f"/api/v1/citizen/visits/{visit['id']}/").json()["courtyard_meetings"][0]["attendance"] == 40


def test_the_case_of_the_week_through_the_api(week, petitionoffice):
    issue = register(petitionoffice, channel="citizen")
    response = api(petitionoffice).post(
        f"/api/v1/citizen/weeks/{week.pk}/case-of-week/", {"issue": issue.pk}, format="json"
    )
    assert response.json()["case_of_week"] == issue.pk


@time_machine.travel(datetime.datetime(2026, 11, 29, 10, 0, tzinfo=datetime.UTC), tick=False)
def test_villages_and_their_quiet_count(petitionoffice, leader):
    response = api(petitionoffice).post(
        "/api/v1/citizen/villages/", {"township": "hqz", "name": "桥头村"}, format="json"
    )
    assert response.status_code == 201
    assert api(leader).get("/api/v1/citizen/villages/").json()["count"] == 1
    rows = api(leader).get("/api/v1/citizen/villages/quiet/?since=2025").json()
    # Nothing recorded in the channel either year: no figure, not "every village quiet".
    assert rows == [{"year": 2025, "villages": 1, "quiet": None}, {"year": 2026, "villages": 1, "quiet": None}]


def test_lists_use_a_bounded_number_of_queries(week, petitionoffice, leader, django_assert_max_num_queries):
    for code in ("hqz", "jkz", "gsz"):
        services.add_roster_entry(
            actor=petitionoffice, week=week, leader=leader, township=Department.objects.get(code=code)
        )
        services.record_visit(
            actor=petitionoffice,
            week=week,
            kind="reception",
            township=Department.objects.get(code=code),
            held_on=D(2026, 11, 25),
        )
    with django_assert_max_num_queries(12):
        assert api(leader).get("/api/v1/citizen/weeks/").status_code == 200
    with django_assert_max_num_queries(12):
        assert api(leader).get("/api/v1/citizen/visits/").json()["count"] == 3
