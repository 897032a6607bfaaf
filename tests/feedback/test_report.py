"""The county's report, reproduced: a hand-computed period and the lists behind each figure.

Received in May 2026 (and I7 in April, outside the period):

| issue | channel | nature | requester | assignments → accepted reply (result)        |
|-------|---------|--------|-----------|----------------------------------------------|
| I1    | 政网    | 建议   | 张三      | zjj → 已解决                                  |
| I2    | 政网    | 建议   | 张三      | zjj → none                                    |
| I3    | 政网    | 咨询   | 李四      | zjj → 解释说明                                |
| I4    | 政企    | 求助   | 甲公司    | jtj → 已解决                                  |
| I5    | 政企    | 求助   | 乙公司    | jtj → 列入计划                                |
| I6    | 政企    | 建议   | 丙公司    | zjj lead → 已解决, jtj co → 不予支持           |
| I7    | 政企    | 求助   | 丁公司    | jtj → 已解决 (April: outside)                  |

Requesters 5 (张三 twice); issues 6; replied 5 (all but I2) → 83.3%; suggestions collected 3 (I1, I2, I6),
handled 2 (I1, I6); enterprise problems solved 2 (I4, and I6 whose lead says 已解决).
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from feedback import services
from feedback.models import Category, Department, Issue
from tests.conftest import reply_pdf

pytestmark = pytest.mark.django_db

D = datetime.date
PERIOD = {"from": "2026-05-01", "to": "2026-05-31"}


def make(name: str, *, channel: str, nature: str, received: D, results: dict[str, str | None]) -> Issue:
    issue = services.register_issue(
        actor=None, channel=channel, category=Category.objects.get(code="housing"), nature=nature,
        requester=services.RequesterData(name=name), title=f"{name}的诉求", content="请研究答复。",
        received_on=received)
    codes = list(results)
    assignments = services.assign_issue(actor=None, issue=issue, lead=Department.objects.get(code=codes[0]),
                                        co=[Department.objects.get(code=c) for c in codes[1:]], assigned_on=received)
    for a in assignments:
        result = results[a.department.code]
        if result:
            submitted = services.submit_reply(
                actor=None, assignment=a, file=reply_pdf(), signer_name="王局长", signer_title="局长",
                signed_on=received + datetime.timedelta(days=5), result=result, summary="答复如下。")
            services.accept_reply(actor=None, reply=submitted)
    return issue


@pytest.fixture
def may(reference):
    return {
        "i1": make("张三", channel="net", nature="suggestion", received=D(2026, 5, 4), results={"zjj": "resolved"}),
        "i2": make("张三", channel="net", nature="suggestion", received=D(2026, 5, 5), results={"zjj": None}),
        "i3": make("李四", channel="net", nature="consult", received=D(2026, 5, 6), results={"zjj": "explained"}),
        "i4": make("甲公司", channel="enterprise", nature="help", received=D(2026, 5, 7),
                   results={"jtj": "resolved"}),
        "i5": make("乙公司", channel="enterprise", nature="help", received=D(2026, 5, 8),
                   results={"jtj": "planned"}),
        "i6": make("丙公司", channel="enterprise", nature="suggestion", received=D(2026, 5, 9),
                   results={"zjj": "resolved", "jtj": "declined"}),
        "i7": make("丁公司", channel="enterprise", nature="help", received=D(2026, 4, 9),
                   results={"jtj": "resolved"}),
    }


def lines(response) -> dict[str, object]:
    return {line.label: line for line in response.context["lines"]}


def refs_listed(client, url: str) -> set[str]:
    page = client.get(url)
    return {issue.ref for issue in page.context["page"].object_list}


def test_the_report_reproduces_a_hand_computed_period(may, leader, client):
    client.force_login(leader)
    got = lines(client.get(reverse("county_report"), PERIOD))
    assert got["诉求人"].value == "5 人"
    assert got["诉求"].value == "6 件"
    assert got["回复率"].value == "83.3%"
    assert got["收集建议"].value == "3 条"
    assert got["办理建议"].value == "2 条"
    assert got["解决企业问题"].value == "2 个"


def test_each_figure_links_to_exactly_its_issues(may, leader, client):
    client.force_login(leader)
    got = lines(client.get(reverse("county_report"), PERIOD))
    ref = {k: v.ref for k, v in may.items()}
    assert refs_listed(client, got["诉求"].link) == {ref[k] for k in ("i1", "i2", "i3", "i4", "i5", "i6")}
    assert refs_listed(client, got["回复率"].link) == {ref["i2"]}  # what is missing from 100%
    assert refs_listed(client, got["收集建议"].link) == {ref["i1"], ref["i2"], ref["i6"]}
    assert refs_listed(client, got["办理建议"].link) == {ref["i1"], ref["i6"]}
    assert refs_listed(client, got["解决企业问题"].link) == {ref["i4"], ref["i6"]}


def test_figures_without_session_data_say_so_instead_of_a_number(may, leader, client):
    client.force_login(leader)
    got = lines(client.get(reverse("county_report"), PERIOD))
    for label in ("县级领导带队场次", "无访村"):
        assert got[label].value == "—"
        assert got[label].note == "待政民/政企场次数据（议题4）"
        assert got[label].link == ""


def test_an_office_sees_its_channels_figures(may, ezoneoffice, client):
    client.force_login(ezoneoffice)
    got = lines(client.get(reverse("county_report"), PERIOD))
    assert got["诉求"].value == "3 件"
    assert got["解决企业问题"].value == "2 个"


def test_an_empty_period_shows_zeros_and_a_dash_for_the_rate(reference, leader, client):
    client.force_login(leader)
    got = lines(client.get(reverse("county_report"), {"from": "2026-02-01", "to": "2026-02-28"}))
    assert got["诉求"].value == "0 件" and got["回复率"].value == "—"


def test_bad_dates_get_400_with_a_message(reference, leader, client):
    client.force_login(leader)
    response = client.get(reverse("county_report"), {"from": "2026-06-01", "to": "2026-05-01"})
    assert response.status_code == 400
    assert "结束日期不能早于开始日期" in response.content.decode()
    assert client.get(reverse("county_report"), {"from": "yesterday"}).status_code == 400


def test_departments_get_404(reference, zjj_head, client):
    client.force_login(zjj_head)
    assert client.get(reverse("county_report")).status_code == 404


@pytest.mark.parametrize("size", [1, 6])
def test_the_report_takes_a_constant_number_of_queries(reference, leader, client, django_assert_max_num_queries,
                                                       size):
    for n in range(size):
        make(f"企业{n}", channel="enterprise", nature="suggestion", received=D(2026, 5, 4),
             results={"jtj": "resolved", "zjj": None})
    client.force_login(leader)
    client.get(reverse("county_report"), PERIOD)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("county_report"), PERIOD)
    assert lines(response)["解决企业问题"].value == f"{size} 个"
