"""Batch intake after a forum: every row registered and assigned in one transaction, or none."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from channels_net import services
from channels_net.models import Forum, NetIntake
from feedback.errors import BatchRejected, InvalidInput, NotPermitted
from feedback.models import Assignment, Category, Department, Issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def held_forum(reference: None) -> Forum:
    return Forum.objects.create(title="第八次网民座谈会", held_on=timezone.localdate() - datetime.timedelta(days=1))


def row(**overrides: object) -> services.ForumRequest:
    data = {
        "handle": "山村支教亮亮老师",
        "category": Category.objects.get(code="housing"),
        "lead": Department.objects.get(code="zjj"),
        "content": "学校门口修建人行天桥",
        "onsite_answer": "住建局现场表示将测算人车流量。",
    }
    data.update(overrides)
    return services.ForumRequest(**data)


def test_a_batch_registers_and_assigns_every_row_with_its_onsite_answer(netoffice: object, held_forum: Forum) -> None:
    issues = services.record_forum_requests(
        actor=netoffice,
        forum=held_forum,
        rows=[
            row(),
            row(
                handle="洞口小哥",
                lead=Department.objects.get(code="jtj"),
                co=[Department.objects.get(code="zjj")],
                title="公交线路延伸",
            ),
        ],
    )
    assert [i.status for i in issues] == [Issue.Status.ASSIGNED] * 2
    assert issues[0].onsite_answer == "住建局现场表示将测算人车流量。"
    assert issues[0].received_on == held_forum.held_on and issues[0].title == "学校门口修建人行天桥"
    assert set(NetIntake.objects.filter(forum=held_forum).values_list("handle", flat=True)) == {
        "山村支教亮亮老师",
        "洞口小哥",
    }
    assert Assignment.objects.filter(issue=issues[1]).count() == 2


def test_a_batch_with_one_bad_row_writes_nothing_and_names_the_row(netoffice: object, held_forum: Forum) -> None:
    with pytest.raises(BatchRejected) as caught:
        services.record_forum_requests(
            actor=netoffice,
            forum=held_forum,
            rows=[
                row(),
                row(co=[Department.objects.get(code="zjj")]),
                row(),
            ],
        )
    assert list(caught.value.rows) == [1]
    assert "与主办单位相同" in caught.value.rows[1].message
    assert not Issue.objects.exists() and not NetIntake.objects.exists() and not Assignment.objects.exists()


def test_requests_of_a_forum_not_yet_held_are_refused(netoffice: object, reference: None) -> None:
    forum = Forum.objects.create(title="将来", held_on=timezone.localdate() + datetime.timedelta(days=3))
    with pytest.raises(InvalidInput, match="尚未召开"):
        services.record_forum_requests(actor=netoffice, forum=forum, rows=[row()])


def test_only_the_net_office_enters_a_batch(ezoneoffice: object, held_forum: Forum) -> None:
    with pytest.raises(NotPermitted):
        services.record_forum_requests(actor=ezoneoffice, forum=held_forum, rows=[row()])


def form_row(i: int, **values: str) -> dict[str, str]:
    return {f"rows-{i}-{k}": v for k, v in values.items()}


def management(total: int = 8) -> dict[str, str]:
    return {
        "rows-TOTAL_FORMS": str(total),
        "rows-INITIAL_FORMS": "0",
        "rows-MIN_NUM_FORMS": "0",
        "rows-MAX_NUM_FORMS": "100",
    }


def good(i: int, **overrides: str) -> dict[str, str]:
    values = {
        "handle": f"网友{i}",
        "category": str(Category.objects.get(code="housing").pk),
        "departments": "县住房和城乡建设局",
        "title": "",
        "content": f"第{i}条诉求内容",
        "onsite_answer": "现场答复",
    }
    values.update(overrides)
    return form_row(i, **values)


def test_the_batch_page_registers_the_filled_rows_and_skips_blank_ones(
    client: Client, netoffice: object, held_forum: Forum
) -> None:
    client.force_login(netoffice)
    url = reverse("channels_net:forum_intake", args=[held_forum.pk])
    assert 'name="rows-7-handle"' in client.get(url).content.decode()
    response = client.post(url, {**management(), **good(0), **good(1, departments="住建局；jtj、县教育局")})
    assert response.status_code == 302
    assert held_forum.intakes.count() == 2
    assert Assignment.objects.filter(issue__net_intake__handle="网友1").count() == 3


def test_the_batch_page_shows_each_bad_row_and_writes_nothing(
    client: Client, netoffice: object, held_forum: Forum
) -> None:
    client.force_login(netoffice)
    url = reverse("channels_net:forum_intake", args=[held_forum.pk])
    # Row 1: an unknown department (form, with the nearest one offered); row 2: the lead again as
    # co-handler (service).
    page = client.post(
        url,
        {**management(), **good(0), **good(1, departments="住建局；县交通局"), **good(2, departments="zjj；住建局")},
    )
    html = page.content.decode()
    assert page.status_code == 200 and "未知单位“县交通局”，是否为 县交通运输局？" in html
    assert not Issue.objects.exists()
    page = client.post(url, {**management(), **good(0), **good(2, departments="zjj；住建局")})
    html = page.content.decode()
    assert "本批诉求均未登记" in html and "与主办单位相同" in html
    assert not Issue.objects.exists()


def test_the_batch_page_asks_for_the_departments_and_suggests_nothing_when_nothing_is_near(
    client: Client, netoffice: object, held_forum: Forum
) -> None:
    client.force_login(netoffice)
    url = reverse("channels_net:forum_intake", args=[held_forum.pk])
    html = client.post(
        url, {**management(), **good(0, departments=""), **good(1, departments="县财政局")}
    ).content.decode()
    assert "第 1 行：请填写承办单位（主办在前，协办在后）。" in html
    # 县财政局 is not a department of this county: no "是否为" pointing at some other bureau.
    assert "未知单位“县财政局”，请从列表中选择单位名称" in html and "是否为" not in html
    assert not Issue.objects.exists()


def test_adding_rows_without_the_script_keeps_what_was_typed_and_saves_nothing(
    client: Client, netoffice: object, held_forum: Forum
) -> None:
    client.force_login(netoffice)
    url = reverse("channels_net:forum_intake", args=[held_forum.pk])
    page = client.post(url, {**management(), **good(0), "add_rows": "5"})
    html = page.content.decode()
    assert page.status_code == 200 and 'name="rows-12-handle"' in html and 'value="网友0"' in html
    assert not Issue.objects.exists()


def test_the_batch_page_is_not_found_for_other_offices(client: Client, ezoneoffice: object, held_forum: Forum) -> None:
    client.force_login(ezoneoffice)
    assert client.get(reverse("channels_net:forum_intake", args=[held_forum.pk])).status_code == 404


def test_a_forum_recorded_afterwards_has_its_requests_received_and_assigned_on_its_date(
    netoffice: object, zjj_head: object
) -> None:
    from feedback.models import HistoryEntry, Notification

    held = timezone.localdate() - datetime.timedelta(days=60)
    forum = services.plan_forum(actor=netoffice, data=services.ForumData(title="补录的座谈会", held_on=held))
    assert forum.recorded_on == timezone.localdate()
    (issue,) = services.record_forum_requests(actor=netoffice, forum=forum, rows=[row()])
    (a,) = issue.assignments.all()
    assert (issue.received_on, a.assigned_on) == (held, held)
    assert a.due_date < timezone.localdate()  # ten working days from the forum: long past
    # No old alarms: the passed steps are recorded, the department is told once that it is overdue.
    passed = HistoryEntry.objects.filter(issue=issue, action="deadline_passed_before_import")
    assert passed.count() >= 2 and all("补录活动登记时已过" in n for n in passed.values_list("note", flat=True))
    kinds = sorted(Notification.objects.filter(recipient=zjj_head).values_list("kind", flat=True))
    assert kinds == ["assigned", "overdue"]


def test_a_forum_planned_ahead_and_held_has_its_requests_assigned_on_the_day_they_are_registered(
    netoffice: object, held_forum: Forum
) -> None:
    assert held_forum.recorded_on is None
    (issue,) = services.record_forum_requests(actor=netoffice, forum=held_forum, rows=[row()])
    assert issue.received_on == held_forum.held_on
    assert issue.assignments.get().assigned_on == timezone.localdate()
