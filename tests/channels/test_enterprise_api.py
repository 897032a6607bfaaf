"""/api/v1/enterprise/: 经开区 and administrators write, county leaders read, others see nothing."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rest_framework.test import APIClient

from channels_enterprise import services
from channels_enterprise.models import Enterprise, EnterpriseDay
from feedback.models import Channel, Issue
from tests.channels.test_enterprise_channel import VALID, WRONG, with_check_digit

NOW = datetime.datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def frozen_clock(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


def client_for(user: Any) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


ENTERPRISE = {
    "name": "洞口电子科技有限公司",
    "credit_code": VALID,
    "park": "电子信息产业园",
    "sector": "电子",
    "contact_name": "李经理",
    "contact_phone": "13812345678",
}


@pytest.fixture
def november_day(reference: None) -> EnterpriseDay:
    return services.schedule_enterprise_days(today=datetime.date(2026, 11, 1))[0]


def test_the_office_registers_an_enterprise_and_sees_the_phone_masked(ezoneoffice: Any) -> None:
    response = client_for(ezoneoffice).post("/api/v1/enterprise/enterprises/", ENTERPRISE, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["contact_phone"] == "138****5678"
    assert Enterprise.objects.get().contact_phone == "13812345678"


def test_a_wrong_check_digit_is_refused_with_the_reason(ezoneoffice: Any) -> None:
    response = client_for(ezoneoffice).post(
        "/api/v1/enterprise/enterprises/", {**ENTERPRISE, "credit_code": WRONG}, format="json"
    )
    assert response.status_code == 400
    assert "校验位错误" in str(response.json())
    assert not Enterprise.objects.exists()


def test_a_leader_reads_but_may_not_write(
    leader: Any, ezoneoffice: Any, november_day: EnterpriseDay, django_assert_max_num_queries: Any
) -> None:
    services.register_enterprise(actor=ezoneoffice, **ENTERPRISE)
    services.register_enterprise(
        actor=ezoneoffice, **{**ENTERPRISE, "name": "另一家", "credit_code": with_check_digit("91430525MA4L7B2K4")}
    )
    api = client_for(leader)
    with django_assert_max_num_queries(6):
        listing = api.get("/api/v1/enterprise/enterprises/")
    assert listing.status_code == 200 and listing.json()["count"] == 2
    with django_assert_max_num_queries(8):
        days = api.get("/api/v1/enterprise/days/")
    assert days.status_code == 200 and days.json()["count"] == 2
    assert api.post("/api/v1/enterprise/enterprises/", ENTERPRISE, format="json").status_code == 403
    assert (
        api.post(f"/api/v1/enterprise/days/{november_day.pk}/problems/", {"problems": []}, format="json").status_code
        == 403
    )
    assert api.post("/api/v1/enterprise/days/schedule/", {}, format="json").status_code == 403


def test_another_channel_office_sees_nothing(netoffice: Any, november_day: EnterpriseDay) -> None:
    api = client_for(netoffice)
    assert api.get("/api/v1/enterprise/days/").json()["count"] == 0
    assert api.get(f"/api/v1/enterprise/days/{november_day.pk}/").status_code == 404
    assert api.post("/api/v1/enterprise/enterprises/", ENTERPRISE, format="json").status_code == 403


def test_the_office_enters_a_batch_of_problems_as_issues(ezoneoffice: Any, november_day: EnterpriseDay) -> None:
    ent = services.register_enterprise(actor=ezoneoffice, **ENTERPRISE)
    api = client_for(ezoneoffice)
    url = f"/api/v1/enterprise/days/{november_day.pk}/problems/"
    response = api.post(
        url,
        {
            "problems": [
                {
                    "enterprise": ent.pk,
                    "category": "housing",
                    "title": "员工通勤难",
                    "content": "希望开通通勤公交。",
                    "lead": "zjj",
                },
                {"enterprise": ent.pk, "category": "housing", "title": "厂区道路破损", "content": "请修复。"},
            ]
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert [p["title"] for p in body] == ["员工通勤难", "厂区道路破损"]
    assert [p["status"] for p in body] == ["assigned", "registered"]
    assert Issue.objects.filter(channel=Channel.ENTERPRISE).count() == 2
    assert len(api.get(url).json()) == 2
    problem = body[0]["id"]
    consult = api.post(
        f"/api/v1/enterprise/problems/{problem}/consultations/",
        {
            "held_on": "2026-11-24",
            "participants": ["县长", "交通运输局局长", "农商行行长"],
            "outcome": "开通三条通勤线路",
        },
        format="json",
    )
    assert consult.status_code == 201, consult.json()


def test_a_bad_problem_in_the_batch_registers_none(ezoneoffice: Any, november_day: EnterpriseDay) -> None:
    ent = services.register_enterprise(actor=ezoneoffice, **ENTERPRISE)
    response = client_for(ezoneoffice).post(
        f"/api/v1/enterprise/days/{november_day.pk}/problems/",
        {
            "problems": [
                {"enterprise": ent.pk, "category": "housing", "title": "好", "content": "内容", "lead": "zjj"},
                {"enterprise": ent.pk, "category": "housing", "title": "协办无主办", "content": "内容", "co": ["jyj"]},
            ]
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["problems"] == {"1": {"lead": ["选择协办单位时必须同时选择主办单位。"]}}
    assert not Issue.objects.exists()


def test_duty_refuses_an_inactive_leader(ezoneoffice: Any, leader: Any, november_day: EnterpriseDay) -> None:
    leader.is_active = False
    leader.save()
    response = client_for(ezoneoffice).post(
        f"/api/v1/enterprise/days/{november_day.pk}/duty/", {"leaders": [leader.pk], "place": "产业园"}, format="json"
    )
    assert response.status_code == 400
    assert "已停用" in str(response.json())


def test_scheduling_on_demand_is_idempotent(admin_user: Any, reference: None) -> None:
    api = client_for(admin_user)
    first = api.post("/api/v1/enterprise/days/schedule/", {}, format="json")
    assert first.status_code == 200
    assert [d["held_on"] for d in first.json()["days"]] == ["2026-12-23"]
    assert api.post("/api/v1/enterprise/days/schedule/", {}, format="json").json()["days"] == []


def test_a_department_reads_only_the_problems_assigned_to_it(
    ezoneoffice: Any, zjj_head: Any, jtj_head: Any, november_day: EnterpriseDay
) -> None:
    ent = services.register_enterprise(actor=ezoneoffice, **ENTERPRISE)
    response = client_for(ezoneoffice).post(
        f"/api/v1/enterprise/days/{november_day.pk}/problems/",
        {
            "problems": [
                {"enterprise": ent.pk, "category": "housing", "title": "一", "content": "内容", "lead": "zjj"},
                {"enterprise": ent.pk, "category": "housing", "title": "二", "content": "内容", "lead": "jtj"},
            ]
        },
        format="json",
    )
    assert response.status_code == 201
    zjj = client_for(zjj_head)
    assert [p["title"] for p in zjj.get("/api/v1/enterprise/problems/").json()["results"]] == ["一"]
    other = response.json()[1]["id"]
    assert zjj.get(f"/api/v1/enterprise/problems/{other}/").status_code == 404
    assert zjj.get("/api/v1/enterprise/enterprises/").json()["count"] == 0
    consult = zjj.post(
        f"/api/v1/enterprise/problems/{response.json()[0]['id']}/consultations/",
        {"held_on": "2026-11-24", "participants": ["县长"], "outcome": "x"},
        format="json",
    )
    assert consult.status_code == 403
