"""The net channel's API: /api/v1/net/forums/ and the batch intake, per role."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from channels_net.models import Forum
from feedback.access import Role
from feedback.models import Issue
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
FORUMS = "/api/v1/net/forums/"


def api(user: object) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def in_days(n: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=n)).isoformat()


@pytest.fixture
def held_forum(reference: None) -> Forum:
    return Forum.objects.create(title="第八次网民座谈会", held_on=timezone.localdate() - datetime.timedelta(days=1))


def request_row(**overrides: object) -> dict[str, object]:
    data = {
        "handle": "山村支教亮亮老师",
        "category": "housing",
        "lead": "zjj",
        "content": "学校门口修建人行天桥",
        "onsite_answer": "现场答复：测算后书面回复",
    }
    data.update(overrides)
    return data


def test_the_net_office_plans_a_forum_and_a_leader_reads_it(netoffice: object, leader: object) -> None:
    response = api(netoffice).post(
        FORUMS,
        {
            "title": "第九次网民座谈会",
            "held_on": in_days(20),
            "chair": leader.pk,
            "chair_title": "县委书记",
            "departments_present": ["zjj", "jtj"],
            "representatives": [{"handle": "山村支教亮亮老师", "phone": "13812345678"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    body = response.data
    assert body["leaders"] == [leader.pk] and body["representatives"][0]["phone"] == "138****5678"
    read = api(leader).get(f"{FORUMS}{body['id']}/")
    assert read.status_code == 200 and read.data["title"] == "第九次网民座谈会"
    assert api(leader).get(FORUMS).data["count"] == 1


def test_a_forum_in_the_past_is_recorded_afterwards_and_an_inactive_leader_is_refused(netoffice: object) -> None:
    response = api(netoffice).post(FORUMS, {"title": "过去", "held_on": in_days(-1)}, format="json")
    assert response.status_code == 201 and response.data["recorded_on"] == in_days(0)
    Forum.objects.all().delete()
    gone = make_user("retired", role=Role.LEADER)
    gone.is_active = False
    gone.save()
    response = api(netoffice).post(
        FORUMS, {"title": "将来", "held_on": in_days(5), "leaders": [gone.pk]}, format="json"
    )
    assert response.status_code == 400 and "账号已停用" in response.data["leaders"][0]
    assert not Forum.objects.exists()


def test_who_may_do_what_with_forums(
    held_forum: Forum, netoffice: object, leader: object, ezoneoffice: object, zjj_head: object, admin_user: object
) -> None:
    plan = {"title": "座谈会", "held_on": in_days(9)}
    intake = f"{FORUMS}{held_forum.pk}/intake/"
    assert api(leader).post(FORUMS, plan, format="json").status_code == 403
    assert api(leader).post(intake, {"rows": [request_row()]}, format="json").status_code == 403
    for outsider in (ezoneoffice, zjj_head):  # out of scope is 404, never 403 (issue 15)
        assert api(outsider).get(FORUMS).status_code == 404
        assert api(outsider).get(f"{FORUMS}{held_forum.pk}/").status_code == 404
        assert api(outsider).post(FORUMS, plan, format="json").status_code == 404
        assert api(outsider).post(intake, {"rows": [request_row()]}, format="json").status_code == 404
    assert api(netoffice).get(f"{FORUMS}999999/").status_code == 404
    assert api(netoffice).post(f"{FORUMS}999999/intake/", {"rows": [request_row()]}, format="json").status_code == 404
    assert api(admin_user).post(FORUMS, plan, format="json").status_code == 201
    assert APIClient().get(FORUMS).status_code in (401, 403)


def test_the_batch_intake_registers_and_assigns_every_row(netoffice: object, held_forum: Forum) -> None:
    response = api(netoffice).post(
        f"{FORUMS}{held_forum.pk}/intake/",
        {
            "rows": [
                request_row(),
                request_row(handle="洞口小哥", lead="jtj", co=["zjj"], title="公交线路延伸"),
            ]
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    issues = Issue.objects.filter(pk__in=response.data["issues"])
    assert {i.status for i in issues} == {Issue.Status.ASSIGNED}
    detail = api(netoffice).get(f"{FORUMS}{held_forum.pk}/").data
    assert [r["handle"] for r in detail["requests"]] == ["山村支教亮亮老师", "洞口小哥"]
    assert detail["requests"][0]["onsite_answer"] == "现场答复：测算后书面回复"


def test_the_batch_intake_answers_400_per_row_and_writes_nothing(netoffice: object, held_forum: Forum) -> None:
    url = f"{FORUMS}{held_forum.pk}/intake/"
    response = api(netoffice).post(url, {"rows": [request_row(), request_row(co=["zjj"])]}, format="json")
    assert response.status_code == 400
    assert list(response.data["rows"]) == [1] and "与主办单位相同" in response.data["rows"][1]["co"][0]
    response = api(netoffice).post(url, {"rows": [request_row(), request_row(lead="nosuch")]}, format="json")
    assert response.status_code == 400 and list(response.data["rows"]) == [1] and "lead" in response.data["rows"][1]
    assert not Issue.objects.exists()


def test_the_forum_list_takes_few_queries(
    netoffice: object, reference: None, django_assert_max_num_queries: object
) -> None:
    for i in range(5):
        Forum.objects.create(title=f"座谈会{i}", held_on=timezone.localdate() + datetime.timedelta(days=i + 1))
    with django_assert_max_num_queries(15):
        assert api(netoffice).get(FORUMS).data["count"] == 5
