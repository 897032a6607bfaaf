"""GET /api/v1/assignments/, its detail and POST …/acknowledge/ (docs/api.md "HTTP API")."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from feedback.models import Assignment, HistoryEntry
from tests.factories import assigned

URL = "/api/v1/assignments/"
NOT_FOUND = {"detail": "未找到该记录，或您无权查看。"}
MONDAY = datetime.datetime(2026, 11, 16, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def frozen_clock(time_machine: Any) -> None:
    time_machine.move_to(MONDAY, tick=False)


def client_for(user: Any) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.fixture
def zjj_assignment(netoffice: Any) -> Assignment:
    _, (assignment,) = assigned(netoffice, lead="zjj", title="小区雨污分流改造")
    return assignment


def test_assignment_list_is_paginated_and_holds_only_the_departments_own_assignments(netoffice, zjj_head):
    assigned(netoffice, lead="zjj", co=("jyj",), title="学校周边道路积水")
    assigned(netoffice, lead="jyj", title="校车接送")

    response = client_for(zjj_head).get(URL)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 1
    row = body["results"][0]
    assert row["department"] == "zjj"
    assert row["department_name"] == "县住房和城乡建设局"
    assert row["role"] == "lead"
    assert row["status"] == "pending"
    assert row["status_label"] == "待签收"
    # Assigned Mon 2026-11-16 under the 政网 default of 10 working days.
    assert row["assigned_on"] == "2026-11-16"
    assert row["due_date"] == row["original_due_date"] == "2026-11-30"
    assert row["deadline_amount"] == 10
    assert row["deadline_unit"] == "working_day"
    assert row["provisional"] is False
    assert row["acknowledged_at"] is None
    assert row["replied_on"] is None
    assert row["issue_ref"].startswith("ZW2026-")


def test_assignment_list_for_the_channel_office_and_the_leader_holds_every_visible_assignment(
    netoffice, leader, petitionoffice
):
    assigned(netoffice, lead="zjj", co=("jyj",))
    assigned(petitionoffice, channel="citizen", lead="hqz")

    assert client_for(netoffice).get(URL).json()["count"] == 2
    assert client_for(petitionoffice).get(URL).json()["count"] == 1
    assert client_for(leader).get(URL).json()["count"] == 3


def test_assignment_list_filters_by_department_status_and_issue_ref(netoffice, leader, zjj_staff):
    issue, _ = assigned(netoffice, lead="zjj", co=("jyj",))
    _, (other,) = assigned(netoffice, lead="zjj")
    client_for(zjj_staff).post(f"{URL}{other.pk}/acknowledge/")
    api = client_for(leader)

    def ids(**params: str) -> set[int]:
        return {row["id"] for row in api.get(URL, params).json()["results"]}

    assert ids(department="jyj") == set(Assignment.objects.filter(department__code="jyj").values_list("id", flat=True))
    assert ids(status="acknowledged") == {other.pk}
    assert ids(issue_ref=issue.ref) == set(issue.assignments.values_list("id", flat=True))
    assert ids(department="zjj", status="pending") == {issue.assignments.get(department__code="zjj").pk}


def test_assignment_list_refuses_an_unknown_status_filter(leader):
    response = client_for(leader).get(URL, {"status": "lost"})

    assert response.status_code == 400
    assert "status" in response.json()


def test_assignment_list_orders_by_due_date_or_assigned_on(netoffice, leader):
    _, (early,) = assigned(netoffice, lead="zjj", assigned_on=datetime.date(2026, 11, 2))
    _, (late,) = assigned(netoffice, lead="zjj", assigned_on=datetime.date(2026, 11, 10))
    api = client_for(leader)

    def order(ordering: str) -> list[int]:
        return [row["id"] for row in api.get(URL, {"ordering": ordering}).json()["results"]]

    assert order("due_date") == [early.pk, late.pk]
    assert order("-due_date") == [late.pk, early.pk]
    assert order("-assigned_on") == [late.pk, early.pk]


@pytest.mark.parametrize("size", [3, 30])
def test_assignment_list_runs_the_same_few_queries_however_many_rows(
    netoffice, zjj_head, django_assert_max_num_queries, size
):
    for n in range(size):
        assigned(netoffice, lead="zjj", title=f"诉求{n}")
    api = client_for(zjj_head)

    # The user's role (at most membership, department, groups), the count and the page.
    with django_assert_max_num_queries(5):
        response = api.get(URL)

    assert response.json()["count"] == size


def test_assignment_detail_shows_one_assignment(zjj_assignment, zjj_head):
    response = client_for(zjj_head).get(f"{URL}{zjj_assignment.pk}/")

    assert response.status_code == 200
    assert response.json()["id"] == zjj_assignment.pk
    assert response.json()["issue_ref"] == zjj_assignment.issue.ref


def test_another_departments_assignment_is_not_found_for_detail_acknowledge_and_reply(zjj_assignment, jyj_head):
    api = client_for(jyj_head)

    detail = api.get(f"{URL}{zjj_assignment.pk}/")
    acknowledge = api.post(f"{URL}{zjj_assignment.pk}/acknowledge/")
    reply = api.post(f"{URL}{zjj_assignment.pk}/replies/", {}, format="multipart")

    assert (detail.status_code, detail.json()) == (404, NOT_FOUND)
    assert (acknowledge.status_code, acknowledge.json()) == (404, NOT_FOUND)
    assert (reply.status_code, reply.json()) == (404, NOT_FOUND)
    zjj_assignment.refresh_from_db()
    assert zjj_assignment.status == Assignment.Status.PENDING


def test_an_assignment_that_does_not_exist_is_not_found(zjj_head):
    response = client_for(zjj_head).get(f"{URL}999999/")

    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_a_department_member_acknowledges_an_assignment(zjj_assignment, zjj_staff):
    response = client_for(zjj_staff).post(f"{URL}{zjj_assignment.pk}/acknowledge/")

    assert response.status_code == 200
    assert response.json()["status"] == "acknowledged"
    assert response.json()["acknowledged_at"] is not None
    zjj_assignment.refresh_from_db()
    assert zjj_assignment.status == Assignment.Status.ACKNOWLEDGED


def test_acknowledging_twice_is_harmless(zjj_assignment, zjj_staff, zjj_head):
    first = client_for(zjj_staff).post(f"{URL}{zjj_assignment.pk}/acknowledge/")
    second = client_for(zjj_head).post(f"{URL}{zjj_assignment.pk}/acknowledge/")

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["acknowledged_at"] == first.json()["acknowledged_at"]
    assert HistoryEntry.objects.filter(assignment=zjj_assignment, action="acknowledge").count() == 1


@pytest.mark.parametrize("who", ["netoffice", "leader", "admin_user"])
def test_someone_who_sees_the_assignment_but_is_not_in_the_department_may_not_acknowledge_it(
    request, zjj_assignment, who
):
    response = client_for(request.getfixturevalue(who)).post(f"{URL}{zjj_assignment.pk}/acknowledge/")

    assert response.status_code == 403
    assert response.json() == {"detail": "只有承办单位的人员可以执行此操作。"}
    zjj_assignment.refresh_from_db()
    assert zjj_assignment.status == Assignment.Status.PENDING


def test_a_token_authenticates_an_api_client(zjj_assignment, zjj_head):
    token = Token.objects.create(user=zjj_head)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    listing = api.get(URL)
    acknowledge = api.post(f"{URL}{zjj_assignment.pk}/acknowledge/")

    assert listing.status_code == 200
    assert listing.json()["count"] == 1
    assert acknowledge.status_code == 200


def test_a_wrong_token_is_refused(reference):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert api.get(URL).status_code in (401, 403)


def test_a_session_login_works_like_a_token(zjj_assignment, zjj_head):
    api = APIClient()
    api.force_login(zjj_head)

    assert api.get(URL).json()["count"] == 1


def test_assignment_list_searches_issue_refs_and_titles(netoffice, zjj_head):
    issue, _ = assigned(netoffice, lead="zjj", title="小区雨污分流改造")
    assigned(netoffice, lead="zjj", title="路灯不亮")
    api = client_for(zjj_head)

    assert [row["issue_ref"] for row in api.get(URL, {"search": "雨污"}).json()["results"]] == [issue.ref]
