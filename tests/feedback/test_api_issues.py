"""Issues: list, detail, registration and the office's transitions (docs/api.md "HTTP API")."""

from __future__ import annotations

import datetime
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.test import APIClient

from feedback import services
from feedback.models import Assignment, Department, Issue, Requester
from tests.conftest import reply_pdf
from tests.factories import assigned, register

URL = "/api/v1/issues/"
NOT_FOUND = {"detail": "未找到该记录，或您无权查看。"}
MONDAY = datetime.datetime(2026, 11, 16, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TODAY = MONDAY.date()


@pytest.fixture(autouse=True)
def frozen_clock(time_machine: Any) -> None:
    time_machine.move_to(MONDAY, tick=False)


def client_for(user: Any) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def replied(office: Any, member: Any, **kwargs: Any) -> Issue:
    """An issue whose only (zjj) assignment has an accepted reply: ready for follow-up."""
    issue, (assignment,) = assigned(office, lead="zjj", **kwargs)
    reply = services.submit_reply(
        actor=member,
        assignment=assignment,
        file=reply_pdf(),
        signer_name="王建国",
        signer_title="局长",
        signed_on=TODAY,
        result="resolved",
        summary="已处理。",
    )
    services.accept_reply(actor=office, reply=reply)
    issue.refresh_from_db()
    return issue


def new_issue(**overrides: Any) -> dict[str, Any]:
    data = {
        "category": "housing",
        "title": "老旧小区加装电梯",
        "content": "希望政府支持老旧小区加装电梯。",
        "received_on": "2026-11-13",
        "requester": {"name": "李大姐", "phone": "13812345678"},
    }
    data.update(overrides)
    return data


# --- list --------------------------------------------------------------------------------------------


def test_each_user_lists_only_the_issues_in_their_scope(netoffice, petitionoffice, jyj_head, leader):
    net, _ = assigned(netoffice, lead="zjj", co=("jyj",))
    register(netoffice)
    citizen = register(petitionoffice, channel="citizen")

    def refs(user: Any) -> set[str]:
        body = client_for(user).get(URL).json()
        assert set(body) == {"count", "next", "previous", "results"}
        return {row["ref"] for row in body["results"]}

    assert len(refs(netoffice)) == 2
    assert refs(petitionoffice) == {citizen.ref}
    assert refs(jyj_head) == {net.ref}
    assert len(refs(leader)) == 3


def test_the_issue_list_filters_by_channel_status_category_and_received_dates(netoffice, petitionoffice, leader):
    early = register(netoffice, received_on=datetime.date(2026, 10, 9), category="education")
    assigned_issue, _ = assigned(netoffice, lead="zjj", received_on=datetime.date(2026, 11, 2))
    citizen = register(petitionoffice, channel="citizen", received_on=datetime.date(2026, 11, 10))
    api = client_for(leader)

    def refs(**params: str) -> set[str]:
        response = api.get(URL, params)
        assert response.status_code == 200, response.json()
        return {row["ref"] for row in response.json()["results"]}

    assert refs(channel="citizen") == {citizen.ref}
    assert refs(status="assigned") == {assigned_issue.ref}
    assert refs(category="education") == {early.ref}
    assert refs(received_from="2026-11-01") == {assigned_issue.ref, citizen.ref}
    assert refs(received_from="2026-11-01", received_to="2026-11-05") == {assigned_issue.ref}
    assert refs(department="zjj") == {assigned_issue.ref}


def test_the_issue_list_searches_refs_and_titles(netoffice):
    bridge = register(netoffice, title="学校门口修建人行天桥")
    register(netoffice, title="菜市场噪音扰民")
    api = client_for(netoffice)

    assert [row["ref"] for row in api.get(URL, {"search": "天桥"}).json()["results"]] == [bridge.ref]
    assert [row["ref"] for row in api.get(URL, {"search": bridge.ref}).json()["results"]] == [bridge.ref]


def test_the_issue_list_orders_newest_received_first_unless_asked(netoffice):
    old = register(netoffice, received_on=datetime.date(2026, 10, 9))
    new = register(netoffice, received_on=datetime.date(2026, 11, 9))
    api = client_for(netoffice)

    assert [row["ref"] for row in api.get(URL).json()["results"]] == [new.ref, old.ref]
    assert [row["ref"] for row in api.get(URL, {"ordering": "received_on"}).json()["results"]] == [old.ref, new.ref]


def test_the_issue_list_refuses_an_impossible_date_filter(leader):
    response = client_for(leader).get(URL, {"received_from": "2026-02-30"})

    assert response.status_code == 400
    assert "received_from" in response.json()


@pytest.mark.parametrize("size", [3, 30])
def test_the_issue_list_runs_the_same_few_queries_however_many_rows(
    netoffice, leader, django_assert_max_num_queries, size
):
    for n in range(size):
        assigned(netoffice, lead="zjj", co=("jyj",), title=f"诉求{n}", phone=f"1390000{n:04d}")
    api = client_for(leader)

    # The user's role (at most membership, department, groups), the count, the page, its assignments.
    with django_assert_max_num_queries(6):
        response = api.get(URL)

    assert response.json()["count"] == size
    assert all(len(row["assignments"]) == 2 for row in response.json()["results"])


# --- detail ------------------------------------------------------------------------------------------


def test_the_issue_detail_shows_the_requester_with_the_phone_masked(netoffice):
    issue, _ = assigned(netoffice, lead="zjj", phone="13812345678", name="李大姐")

    response = client_for(netoffice).get(f"{URL}{issue.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["ref"] == issue.ref
    assert body["requester"]["name"] == "李大姐"
    assert body["requester"]["masked_phone"] == "138****5678"
    assert "phone" not in body["requester"]
    assert "13812345678" not in response.content.decode()


def test_the_issue_detail_holds_only_the_assignments_the_user_may_see(netoffice, jyj_head):
    issue, _ = assigned(netoffice, lead="zjj", co=("jyj",))

    office_view = client_for(netoffice).get(f"{URL}{issue.pk}/").json()
    co_view = client_for(jyj_head).get(f"{URL}{issue.pk}/").json()

    assert [(a["department"], a["role"]) for a in office_view["assignments"]] == [("zjj", "lead"), ("jyj", "co")]
    assert [(a["department"], a["role"]) for a in co_view["assignments"]] == [("jyj", "co")]


def test_an_issue_out_of_scope_is_not_found(netoffice, ezoneoffice, hqz_head):
    issue, _ = assigned(netoffice, lead="zjj")

    for user in (ezoneoffice, hqz_head):
        response = client_for(user).get(f"{URL}{issue.pk}/")
        assert (response.status_code, response.json()) == (404, NOT_FOUND)


# --- registration ------------------------------------------------------------------------------------


def test_the_channel_office_registers_an_issue_for_its_own_channel(netoffice):
    response = client_for(netoffice).post(URL, new_issue(), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["channel"] == "net"
    assert body["status"] == "registered"
    assert body["ref"].startswith("ZW2026-")
    assert body["assignments"] == []
    assert body["requester"]["masked_phone"] == "138****5678"
    issue = Issue.objects.get(pk=body["id"])
    assert issue.registered_by == netoffice
    assert issue.requester.kind == Requester.Kind.NETIZEN
    assert issue.received_on == datetime.date(2026, 11, 13)


def test_registering_with_departments_assigns_in_the_same_request(netoffice):
    response = client_for(netoffice).post(
        URL, new_issue(lead="zjj", co=["jyj", "hqz"], deadline_amount=5, deadline_unit="working_day"), format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "assigned"
    assert [(a["department"], a["role"]) for a in body["assignments"]] == [
        ("zjj", "lead"),
        ("jyj", "co"),
        ("hqz", "co"),
    ]
    # Assigned today, Mon 2026-11-16, + 5 working days.
    assert {a["due_date"] for a in body["assignments"]} == {"2026-11-23"}
    assert {a["deadline_amount"] for a in body["assignments"]} == {5}


def test_an_administrator_registers_for_any_channel_but_must_name_it(admin_user):
    api = client_for(admin_user)

    missing = api.post(URL, new_issue(), format="json")
    given = api.post(URL, new_issue(channel="政民直通车", lead="hqz"), format="json")

    assert missing.status_code == 400
    assert list(missing.json()) == ["channel"]
    assert given.status_code == 201
    assert given.json()["channel"] == "citizen"
    assert given.json()["assignments"][0]["deadline_amount"] == 60  # 政民 default: 60 calendar days


def test_an_unknown_department_code_is_refused_by_name_and_nothing_is_registered(netoffice):
    api = client_for(netoffice)

    lead = api.post(URL, new_issue(lead="xyz"), format="json")
    co = api.post(URL, new_issue(lead="zjj", co=["jyj", "abc", "def"]), format="json")

    assert lead.status_code == 400
    assert lead.json() == {"lead": ["未知单位：xyz"]}
    assert co.status_code == 400
    assert co.json() == {"co": ["未知单位：abc、def"]}
    assert not Issue.objects.exists()


def test_a_co_department_equal_to_the_lead_is_refused_and_nothing_is_registered(netoffice):
    response = client_for(netoffice).post(URL, new_issue(lead="zjj", co=["zjj"]), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["co"]
    assert not Issue.objects.exists()
    assert not Requester.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category": "nonsense"}, "category"),
        ({"title": ""}, "title"),
        ({"received_on": "2026-11-30"}, "received_on"),  # after today: refused by the service
        ({"requester": {"name": "李大姐", "phone": "12-ab"}}, "requester"),
        ({"lead": "zjj", "deadline_amount": 5}, "deadline_amount"),
        ({"lead": "wxb"}, "lead"),  # an office cannot handle issues
    ],
)
def test_a_bad_registration_names_the_field_and_registers_nothing(netoffice, overrides, field):
    response = client_for(netoffice).post(URL, new_issue(**overrides), format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Issue.objects.exists()


@pytest.mark.parametrize("who", ["zjj_head", "leader"])
def test_departments_and_leaders_may_not_register_issues(request, who):
    response = client_for(request.getfixturevalue(who)).post(URL, new_issue(), format="json")

    assert response.status_code == 403
    assert not Issue.objects.exists()


def test_an_office_may_not_register_for_another_channel(netoffice):
    response = client_for(netoffice).post(URL, new_issue(channel="citizen"), format="json")

    assert response.status_code == 403
    assert not Issue.objects.exists()


# --- transitions -------------------------------------------------------------------------------------


def test_the_office_assigns_a_registered_issue(netoffice):
    issue = register(netoffice)

    response = client_for(netoffice).post(f"{URL}{issue.pk}/assign/", {"lead": "zjj", "co": ["jyj"]}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "assigned"
    assert len(response.json()["assignments"]) == 2


def test_the_office_records_a_follow_up_given_as_a_chinese_label(netoffice, zjj_staff):
    issue = replied(netoffice, zjj_staff)

    response = client_for(netoffice).post(
        f"{URL}{issue.pk}/follow-up/", {"satisfaction": "基本满意", "comment": "希望尽快施工"}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["satisfaction"], body["follow_up_comment"]) == (
        "followed_up",
        "basically",
        "希望尽快施工",
    )
    assert body["followed_up_on"] == "2026-11-16"


def test_a_follow_up_needs_a_known_rating(netoffice, zjj_staff):
    issue = replied(netoffice, zjj_staff)

    response = client_for(netoffice).post(f"{URL}{issue.pk}/follow-up/", {"satisfaction": "还行"})

    assert response.status_code == 400
    assert list(response.json()) == ["satisfaction"]


def test_a_follow_up_before_the_replies_are_in_is_refused(netoffice):
    issue, _ = assigned(netoffice, lead="zjj")

    response = client_for(netoffice).post(f"{URL}{issue.pk}/follow-up/", {"satisfaction": "satisfied"})

    assert response.status_code == 400
    assert "办理中" in response.json()["detail"]


def test_the_office_closes_a_replied_issue_today_or_on_a_given_date(netoffice, zjj_staff):
    today_issue = replied(netoffice, zjj_staff)
    dated_issue = replied(netoffice, zjj_staff, received_on=datetime.date(2026, 11, 2))
    api = client_for(netoffice)
    for issue in (today_issue, dated_issue):
        services.record_follow_up(actor=netoffice, issue=issue, satisfaction="satisfied", on=issue.received_on)

    today = api.post(f"{URL}{today_issue.pk}/close/")
    dated = api.post(f"{URL}{dated_issue.pk}/close/", {"closed_on": "2026-11-13"})

    assert (today.status_code, today.json()["status"], today.json()["closed_on"]) == (200, "closed", "2026-11-16")
    assert (dated.status_code, dated.json()["closed_on"]) == (200, "2026-11-13")


def test_a_closing_date_before_receipt_is_reported_on_the_closed_on_field(netoffice, zjj_staff):
    issue = replied(netoffice, zjj_staff, received_on=datetime.date(2026, 11, 10))

    response = client_for(netoffice).post(f"{URL}{issue.pk}/close/", {"closed_on": "2026-11-09"})

    assert response.status_code == 400
    assert list(response.json()) == ["closed_on"]


def test_the_office_reopens_a_closed_issue_with_a_reason(netoffice, zjj_staff):
    issue = replied(netoffice, zjj_staff)
    services.record_follow_up(actor=netoffice, issue=issue, satisfaction="dissatisfied")
    services.close_issue(actor=netoffice, issue=issue)
    api = client_for(netoffice)

    refused = api.post(f"{URL}{issue.pk}/reopen/", {})
    response = api.post(f"{URL}{issue.pk}/reopen/", {"reason": "群众反映问题仍未解决"})

    assert refused.status_code == 400
    assert list(refused.json()) == ["reason"]
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "assigned"
    assert response.json()["closed_on"] is None
    lead = Assignment.objects.get(issue=issue)
    assert (lead.status, lead.deadline_version, lead.replied_on) == (Assignment.Status.ACKNOWLEDGED, 2, None)


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("follow-up/", {"satisfaction": "satisfied"}),
        ("close/", {}),
        ("reopen/", {"reason": "不满意"}),
        ("assign/", {"lead": "jyj"}),
    ],
)
@pytest.mark.parametrize("who", ["leader", "zjj_head"])
def test_users_who_see_an_issue_but_do_not_run_its_channel_may_not_change_it(
    request, netoffice, zjj_staff, action, data, who
):
    issue = replied(netoffice, zjj_staff)

    response = client_for(request.getfixturevalue(who)).post(f"{URL}{issue.pk}/{action}", data, format="json")

    assert response.status_code == 403
    issue.refresh_from_db()
    assert issue.status == Issue.Status.REPLIED


@pytest.mark.parametrize("action", ["follow-up/", "close/", "reopen/", "assign/"])
def test_another_channels_office_cannot_find_the_issue_to_change(netoffice, ezoneoffice, zjj_staff, action):
    issue = replied(netoffice, zjj_staff)

    response = client_for(ezoneoffice).post(f"{URL}{issue.pk}/{action}", {"reason": "x"}, format="json")

    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_the_page_its_export_and_the_api_list_the_same_issues_for_a_department(netoffice, zjj_head, client):
    """One definition (selectors.issue_list): a department filter counts live assignments only, so
    an issue handed over after an objection (its first assignment withdrawn) is listed under the
    department that now handles it, and no longer under the one that objected — on every surface."""
    handed_over, (first,) = assigned(netoffice, title="交错了单位的诉求", lead="zjj")
    kept, _ = assigned(netoffice, title="住建局的诉求", lead="zjj")
    objection = services.raise_objection(actor=zjj_head, assignment=first, reason="不属于本单位职责")
    services.accept_objection(
        actor=netoffice, objection=objection, department=Department.objects.get(code="jtj"), clock="continue"
    )

    api = {i["ref"] for i in client_for(netoffice).get("/api/v1/issues/", {"department": "zjj"}).json()["results"]}
    client.force_login(netoffice)
    zjj = Department.objects.get(code="zjj")
    page = client.get(reverse("issue_list"), {"department": zjj.pk}).context["page"].object_list
    export = load_workbook(io.BytesIO(client.get(reverse("issue_export"), {"department": zjj.pk}).content)).active
    exported = {row[0] for row in export.iter_rows(min_row=2, values_only=True)}
    assert api == {i.ref for i in page} == exported == {kept.ref}
    jtj = {i["ref"] for i in client_for(netoffice).get("/api/v1/issues/", {"department": "jtj"}).json()["results"]}
    assert jtj == {handed_over.ref}
