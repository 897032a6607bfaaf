"""更正登记信息 (issue 13 §3): the office corrects an open issue; each change is a history row with the
old and new value and who made it; phones masked; refused when closed or out of scope."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from feedback import services
from feedback.errors import IllegalTransition, InvalidInput, NotPermitted
from feedback.models import Category, HistoryEntry, Issue, Requester
from tests.factories import assigned, register

pytestmark = pytest.mark.django_db


def correction(issue: Issue, **changes: Any) -> services.IssueCorrection:
    who = issue.requester
    data: dict[str, Any] = {
        "title": issue.title,
        "content": issue.content,
        "category": issue.category,
        "nature": issue.nature,
        "requester": services.RequesterData(
            name=who.name, phone=who.phone, kind=who.kind, organization=who.organization
        ),
    }
    data.update(changes)
    return services.IssueCorrection(**data)


def edits(issue: Issue) -> list[tuple[str, str]]:
    rows = HistoryEntry.objects.filter(issue=issue, action="issue_edited").order_by("id")
    return [(h.actor.username, h.note) for h in rows.select_related("actor")]


def test_each_changed_field_is_one_history_row_with_old_and_new_value_and_the_actor(netoffice) -> None:
    issue = register(netoffice, title="天桥")
    changed = services.edit_issue(
        actor=netoffice,
        issue=issue,
        correction=correction(
            issue,
            title="学校门口人行天桥",
            category=Category.objects.get(code="transport"),
            nature=Issue.Nature.HELP,
        ),
    )
    assert changed == ["标题", "分类", "性质"]
    issue.refresh_from_db()
    assert (issue.title, issue.category.code, issue.nature) == ("学校门口人行天桥", "transport", "help")
    assert edits(issue) == [
        ("netoffice", "标题：天桥 → 学校门口人行天桥"),
        ("netoffice", "分类：住房和城乡建设 → 交通出行"),
        ("netoffice", "性质：建议 → 求助"),
    ]


def test_nothing_changed_records_nothing(netoffice) -> None:
    issue = register(netoffice)
    assert services.edit_issue(actor=netoffice, issue=issue, correction=correction(issue)) == []
    assert edits(issue) == []


def test_a_new_requester_is_shown_with_the_phone_masked(netoffice) -> None:
    issue = register(netoffice, name="张三", phone="13812345678")
    new = services.RequesterData(name="李四", phone="13987654321")
    services.edit_issue(actor=netoffice, issue=issue, correction=correction(issue, requester=new))
    issue.refresh_from_db()
    assert issue.requester.phone == "13987654321"
    assert edits(issue) == [("netoffice", "诉求人：张三（138****5678） → 李四（139****4321）")]
    assert "13812345678" not in str(HistoryEntry.objects.filter(issue=issue).values_list("note", flat=True))


def test_the_same_person_under_a_corrected_name_keeps_the_requester_row(netoffice) -> None:
    issue = register(netoffice, name="张山", phone="13812345678")
    person = issue.requester_id
    new = services.RequesterData(name="张三", phone="13812345678")
    services.edit_issue(actor=netoffice, issue=issue, correction=correction(issue, requester=new))
    assert Requester.objects.get(pk=person).name == "张三"
    assert edits(issue) == [("netoffice", "诉求人姓名：张山 → 张三")]


def test_a_closed_issue_is_not_corrected(netoffice) -> None:
    issue = register(netoffice)
    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.CLOSED, closed_on=issue.received_on)
    with pytest.raises(IllegalTransition, match="已办结"):
        services.edit_issue(actor=netoffice, issue=issue, correction=correction(issue, title="新标题"))
    assert Issue.objects.get(pk=issue.pk).title == issue.title


def test_only_the_channels_office_corrects(netoffice, ezoneoffice, zjj_head) -> None:
    issue, _ = assigned(netoffice)
    for someone in (ezoneoffice, zjj_head):
        with pytest.raises(NotPermitted):
            services.edit_issue(actor=someone, issue=issue, correction=correction(issue, title="新标题"))


def test_empty_title_or_a_nature_that_contradicts_the_accused_unit_is_refused(netoffice) -> None:
    issue = register(netoffice)
    with pytest.raises(InvalidInput, match="标题"):
        services.edit_issue(actor=netoffice, issue=issue, correction=correction(issue, title="  "))
    with pytest.raises(InvalidInput, match="内容"):
        services.edit_issue(actor=netoffice, issue=issue, correction=correction(issue, content=""))
    from feedback.models import Department

    jtj = Department.objects.get(code="jtj")
    Issue.objects.filter(pk=issue.pk).update(nature="report", accused_department=jtj)
    issue.refresh_from_db()
    with pytest.raises(InvalidInput, match="被举报单位"):
        services.edit_issue(actor=netoffice, issue=issue, correction=correction(issue, nature="suggestion"))


def test_the_history_rows_stay_append_only_after_an_edit(netoffice) -> None:
    issue = register(netoffice, title="天桥")
    services.edit_issue(actor=netoffice, issue=issue, correction=correction(issue, title="人行天桥"))
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic():
        HistoryEntry.objects.filter(issue=issue, action="issue_edited").update(note="改掉")


def test_the_office_corrects_on_the_page_and_the_timeline_shows_it(client, netoffice) -> None:
    issue = register(netoffice, title="天桥", name="张三", phone="13812345678")
    client.force_login(netoffice)
    detail = client.get(reverse("issue_detail", args=[issue.pk])).content.decode()
    assert reverse("issue_edit", args=[issue.pk]) in detail
    form = client.get(reverse("issue_edit", args=[issue.pk])).content.decode()
    assert "13812345678" not in form and "138****5678" in form  # the phone is not unmasked to edit
    response = client.post(
        reverse("issue_edit", args=[issue.pk]),
        {
            "nature": "suggestion",
            "category": Category.objects.get(code="housing").pk,
            "title": "学校门口<b>人行天桥</b>",
            "content": issue.content,
            "requester_kind": "person",
            "requester_name": "张三",
            "requester_phone": "",  # empty: unchanged
            "requester_org": "",
        },
    )
    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.title == "学校门口<b>人行天桥</b>" and issue.requester.phone == "13812345678"
    page = client.get(reverse("issue_detail", args=[issue.pk])).content.decode()
    assert "更正登记信息" in page and "标题：天桥 → 学校门口&lt;b&gt;人行天桥&lt;/b&gt;" in page


def test_the_edit_page_is_not_found_for_other_channels_and_departments(
    client, netoffice, ezoneoffice, zjj_head
) -> None:
    issue, _ = assigned(netoffice)
    for someone in (ezoneoffice, zjj_head):
        client.force_login(someone)
        assert client.get(reverse("issue_edit", args=[issue.pk])).status_code == 404
    client.force_login(netoffice)
    detail = client.get(reverse("issue_detail", args=[issue.pk])).content.decode()
    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.CLOSED, closed_on=issue.received_on)
    closed_detail = client.get(reverse("issue_detail", args=[issue.pk])).content.decode()
    assert "更正登记信息" in detail and reverse("issue_edit", args=[issue.pk]) not in closed_detail
    assert "已办结" in client.get(reverse("issue_edit", args=[issue.pk])).content.decode()


def test_the_api_patch_corrects_for_the_office_and_answers_403_or_404_to_others(
    netoffice, ezoneoffice, zjj_head
) -> None:
    issue, _ = assigned(netoffice, title="天桥")
    url = f"/api/v1/issues/{issue.pk}/"
    api = APIClient()
    api.force_authenticate(zjj_head)  # sees it (its assignment) but may not correct it
    assert api.patch(url, {"title": "x"}, format="json").status_code == 403
    api.force_authenticate(ezoneoffice)  # another channel: does not see it
    assert api.patch(url, {"title": "x"}, format="json").status_code == 404
    api.force_authenticate(netoffice)
    answer = api.patch(url, {"title": "人行天桥", "category": "transport"}, format="json")
    assert answer.status_code == 200, answer.json()
    assert (answer.json()["title"], answer.json()["category"]) == ("人行天桥", "transport")
    assert [n for _, n in edits(issue)] == ["标题：天桥 → 人行天桥", "分类：住房和城乡建设 → 交通出行"]
    assert api.patch(url, {"category": "nope"}, format="json").status_code == 400
    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.CLOSED, closed_on=issue.received_on)
    refused = api.patch(url, {"title": "再改"}, format="json")
    assert refused.status_code == 400 and "已办结" in str(refused.json())
