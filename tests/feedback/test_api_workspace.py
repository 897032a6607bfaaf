"""The department workspace through the API: objections (异议) and the whole path from assignment to
closure for a lead and a co-handling department (docs/api.md "HTTP API"; issue 5 item 8)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rest_framework.test import APIClient

from feedback.models import Assignment, HistoryEntry, Issue, Objection
from tests.conftest import make_user, reply_pdf
from tests.factories import assigned

pytestmark = pytest.mark.django_db
D = datetime.date
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOT_FOUND = {"detail": "未找到该记录，或您无权查看。"}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(datetime.datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI), tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def client_for(user: Any) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def objections_url(assignment: Assignment | int) -> str:
    return f"/api/v1/assignments/{getattr(assignment, 'pk', assignment)}/objections/"


@pytest.fixture
def lead(netoffice: Any) -> Assignment:
    _, (a,) = assigned(netoffice, lead="zjj", assigned_on=D(2026, 11, 2))
    return a


@pytest.fixture
def objection(lead: Assignment, zjj_head: Any) -> dict[str, Any]:
    body = {"reason": "属交通运输局职责", "suggested_department": "jtj"}
    response = client_for(zjj_head).post(objections_url(lead), body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


# --- POST/GET /api/v1/assignments/{id}/objections/ ------------------------------------------------------


def test_a_department_objects_and_reads_its_objections(lead, zjj_staff, objection):
    assert objection["status"] == "pending" and objection["status_label"] == "待决定"
    assert (objection["department"], objection["suggested_department"]) == ("zjj", "jtj")
    assert objection["issue_ref"] == lead.issue.ref and objection["new_assignment"] is None
    listed = client_for(zjj_staff).get(objections_url(lead))
    assert listed.status_code == 200 and [o["id"] for o in listed.json()] == [objection["id"]]
    assert client_for(zjj_staff).get(f"/api/v1/assignments/{lead.pk}/").json()["status"] == "pending"


def test_an_objection_needs_a_reason(lead, zjj_head):
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        response = client_for(zjj_head).post(objections_url(lead), body, format="json")
        assert response.status_code == 400, body
        assert "异议理由" in response.json()["reason"][0]
    assert not Objection.objects.exists()


def test_an_unknown_suggested_department_is_named(lead, zjj_head):
    response = client_for(zjj_head).post(objections_url(lead), {"reason": "x", "suggested_department": "nope"})
    assert response.status_code == 400 and response.json() == {"suggested_department": ["未知单位：nope"]}


def test_an_objection_after_five_working_days_is_refused_with_the_last_day(lead, zjj_head, clock):
    clock.move_to(datetime.datetime(2026, 11, 10, 9, 0, tzinfo=SHANGHAI))
    response = client_for(zjj_head).post(objections_url(lead), {"reason": "不属于我局"})
    assert response.status_code == 400
    assert "最后一天是 2026年11月09日" in response.json()["detail"]


def test_a_second_pending_objection_is_a_conflict(lead, zjj_staff, objection):
    response = client_for(zjj_staff).post(objections_url(lead), {"reason": "再提一次"})
    assert response.status_code == 409 and "等待直通车办公室决定" in response.json()["detail"]


def test_another_department_gets_404_and_the_office_and_leader_403(lead, jyj_head, netoffice, leader):
    assert client_for(jyj_head).post(objections_url(lead), {"reason": "x"}).json() == NOT_FOUND
    assert client_for(jyj_head).get(objections_url(lead)).status_code == 404
    for who in (netoffice, leader):
        response = client_for(who).post(objections_url(lead), {"reason": "x"})
        assert response.status_code == 403, who
    assert not Objection.objects.exists()


# --- /api/v1/objections/ ------------------------------------------------------------------------------


def test_the_office_accepts_and_re_assigns_with_a_restarted_clock(lead, objection, netoffice, clock):
    clock.move_to(datetime.datetime(2026, 11, 6, 9, 0, tzinfo=SHANGHAI))
    response = client_for(netoffice).post(
        f"/api/v1/objections/{objection['id']}/accept/", {"department": "jtj", "clock": "restart", "note": "同意"}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["clock"], body["new_department"]) == ("accepted", "restart", "jtj")
    new = client_for(netoffice).get(f"/api/v1/assignments/{body['new_assignment']}/").json()
    assert (new["department"], new["role"], new["assigned_on"], new["due_date"]) == (
        "jtj",
        "lead",
        "2026-11-06",
        "2026-11-20",
    )
    old = client_for(netoffice).get(f"/api/v1/assignments/{lead.pk}/").json()
    assert (old["status"], old["status_label"]) == ("withdrawn", "已退回改派")


def test_the_clock_may_be_given_by_its_chinese_label(lead, objection, netoffice):
    response = client_for(netoffice).post(
        f"/api/v1/objections/{objection['id']}/accept/", {"department": "jtj", "clock": "沿用原办理期限"}
    )
    assert response.status_code == 200 and response.json()["clock"] == "continue"


def test_bad_acceptances_are_refused(lead, objection, netoffice):
    url = f"/api/v1/objections/{objection['id']}/accept/"
    api = client_for(netoffice)
    same = api.post(url, {"department": "zjj", "clock": "continue"})
    assert same.status_code == 400 and "不能是提出异议的单位" in same.json()["department"][0]
    assert api.post(url, {"department": "jtj", "clock": "later"}).status_code == 400
    assert api.post(url, {"clock": "continue"}).status_code == 400
    assert api.post(url, {"department": "jtj", "clock": "continue"}).status_code == 200
    again = api.post(url, {"department": "jyj", "clock": "continue"})
    assert again.status_code == 400 and "已同意改派" in again.json()["detail"]
    assert lead.issue.assignments.count() == 2


def test_rejecting_needs_a_note(lead, objection, netoffice, zjj_head):
    url = f"/api/v1/objections/{objection['id']}/reject/"
    missing = client_for(netoffice).post(url, {})
    assert missing.status_code == 400 and missing.json() == {"note": ["驳回异议时请写明理由。"]}
    response = client_for(netoffice).post(url, {"note": "属住建局职责范围"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["decision_note"]) == ("rejected", "属住建局职责范围")
    assert client_for(zjj_head).post(objections_url(lead), {"reason": "再议"}).status_code == 400


def test_only_the_channel_office_decides(lead, objection, zjj_head, leader, ezoneoffice, jyj_head):
    for action, body in (("accept", {"department": "jtj", "clock": "continue"}), ("reject", {"note": "x"})):
        url = f"/api/v1/objections/{objection['id']}/{action}/"
        for who in (zjj_head, leader):  # they see the objection, but may not decide it
            assert client_for(who).post(url, body).status_code == 403, (action, who)
        for who in (ezoneoffice, jyj_head):
            assert client_for(who).post(url, body).json() == NOT_FOUND, (action, who)
    assert Objection.objects.get().status == "pending"


def test_the_objection_list_is_scoped_and_takes_a_constant_number_of_queries(
    netoffice, ezoneoffice, zjj_head, leader, django_assert_max_num_queries
):
    for n in range(4):
        _, (a,) = assigned(netoffice, lead="zjj", title=f"诉求{n}", assigned_on=D(2026, 11, 2))
        client_for(zjj_head).post(objections_url(a), {"reason": f"理由{n}", "suggested_department": "jtj"})
    for who, count in ((netoffice, 4), (zjj_head, 4), (leader, 4), (ezoneoffice, 0)):
        api = client_for(who)
        with django_assert_max_num_queries(6):
            body = api.get("/api/v1/objections/", {"status": "pending"}).json()
        assert body["count"] == count, who


def test_the_schema_lists_the_objection_endpoints(client):
    paths = client.get("/api/v1/schema/", {"format": "json"}).json()["paths"]
    assert {
        "/api/v1/assignments/{id}/objections/",
        "/api/v1/objections/",
        "/api/v1/objections/{id}/",
        "/api/v1/objections/{id}/accept/",
        "/api/v1/objections/{id}/reject/",
    } <= set(paths)


# --- the whole path, lead and co-handler, through the API ----------------------------------------------


def test_from_assignment_to_closure_through_the_api_with_an_objection_on_the_way(
    clock, netoffice, zjj_head, jyj_head, reference
):
    fgj_head = make_user("fgj_head", department="fgj", role="department", is_head=True)
    office, zjj, jyj, fgj = (client_for(u) for u in (netoffice, zjj_head, jyj_head, fgj_head))

    created = office.post(
        "/api/v1/issues/",
        {
            "title": "工业园区道路照明不足",
            "content": "夜间下班路段无路灯。",
            "category": "urban",
            "requester": {"name": "园区职工"},
            "lead": "zjj",
            "co": ["jyj"],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    issue_id = created.json()["id"]
    by_dept = {a["department"]: a["id"] for a in created.json()["assignments"]}

    assert jyj.post(f"/api/v1/assignments/{by_dept['jyj']}/acknowledge/").status_code == 200
    objection = zjj.post(
        objections_url(by_dept["zjj"]), {"reason": "道路照明属发改局立项", "suggested_department": "fgj"}
    )
    assert objection.status_code == 201
    accepted = office.post(
        f"/api/v1/objections/{objection.json()['id']}/accept/", {"department": "fgj", "clock": "continue"}
    )
    assert accepted.status_code == 200
    new_lead = accepted.json()["new_assignment"]
    assert fgj.post(f"/api/v1/assignments/{new_lead}/acknowledge/").status_code == 200

    def reply(api: APIClient, assignment_id: int, summary: str) -> dict[str, Any]:
        response = api.post(
            f"/api/v1/assignments/{assignment_id}/replies/",
            {
                "file": reply_pdf(),
                "signer_name": "负责人",
                "signer_title": "局长",
                "signed_on": "2026-11-02",
                "result": "planned",
                "summary": summary,
            },
            format="multipart",
        )
        assert response.status_code == 201, response.json()
        return response.json()

    co_reply = reply(jyj, by_dept["jyj"], "协办：学校周边路段先行安装")
    assert office.post(f"/api/v1/replies/{co_reply['id']}/return/", {"reason": "未加盖公章"}).status_code == 200
    co_reply = reply(jyj, by_dept["jyj"], "协办：学校周边路段先行安装（已盖章）")
    # The new lead reads the co-handler's reply before writing the formal one; the old lead no longer does.
    assert co_reply["id"] in {r["id"] for r in fgj.get("/api/v1/replies/").json()["results"]}
    assert zjj.get(f"/api/v1/replies/{co_reply['id']}/").status_code == 404
    extension = fgj.post(
        f"/api/v1/assignments/{new_lead}/extensions/",
        {"requested_due_date": "2026-11-20", "reason": "需与电力公司协调"},
    )
    assert extension.status_code == 201
    assert office.post(f"/api/v1/extensions/{extension.json()['id']}/approve/").status_code == 200
    assert fgj.get(f"/api/v1/assignments/{new_lead}/").json()["due_date"] == "2026-11-20"
    assert jyj.get(f"/api/v1/assignments/{by_dept['jyj']}/").json()["due_date"] == "2026-11-16"  # its own clock
    lead_reply = reply(fgj, new_lead, "主办：已列入明年路灯建设计划")
    for r in (co_reply, lead_reply):
        assert office.post(f"/api/v1/replies/{r['id']}/accept/").status_code == 200
    assert office.get(f"/api/v1/issues/{issue_id}/").json()["status"] == "replied"
    assert office.post(f"/api/v1/issues/{issue_id}/follow-up/", {"satisfaction": "satisfied"}).status_code == 200
    closed = office.post(f"/api/v1/issues/{issue_id}/close/")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    issue = Issue.objects.get(pk=issue_id)
    assert list(issue.assignments.order_by("id").values_list("department__code", "status")) == [
        ("zjj", "withdrawn"),
        ("jyj", "accepted"),
        ("fgj", "accepted"),
    ]
    assert HistoryEntry.objects.filter(issue=issue, action__startswith="objection_").count() == 2
