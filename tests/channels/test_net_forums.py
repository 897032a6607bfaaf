"""政网 forums: planning with leaders, representatives and departments; the channel page."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from channels_net import services
from channels_net.models import Forum
from feedback.access import Role
from feedback.errors import InvalidInput, NotPermitted
from feedback.models import Department
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def soon(days: int = 10) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


def plan(actor: object, **overrides: object) -> Forum:
    data = {"title": "第九次网民座谈会", "held_on": soon(), "place": "县委会议中心"}
    data.update(overrides)
    return services.plan_forum(actor=actor, data=services.ForumData(**data))


def test_a_forum_is_planned_with_chair_leaders_representatives_and_departments(
    netoffice: object, leader: object
) -> None:
    other = make_user("county_head", role=Role.LEADER)
    forum = plan(
        netoffice,
        chair=leader,
        chair_title="县委书记",
        leaders=[other],
        departments_present=[Department.objects.get(code="zjj")],
        representatives=[services.RepresentativeData("山村支教亮亮老师", "李亮", "13812345678")],
    )
    assert set(forum.leaders.all()) == {leader, other}  # the chair attends
    assert list(forum.departments_present.values_list("code", flat=True)) == ["zjj"]
    rep = forum.representatives.get()
    assert rep.phone == "13812345678" and rep.masked_phone == "138****5678"


def test_a_forum_dated_in_the_past_is_recorded_afterwards_with_its_recording_date(netoffice: object) -> None:
    held = timezone.localdate() - datetime.timedelta(days=20)
    forum = plan(netoffice, held_on=held)
    assert (forum.held_on, forum.recorded_on) == (held, timezone.localdate())
    planned = plan(netoffice, held_on=soon(), title="下一次座谈会")
    assert planned.recorded_on is None


def test_a_held_forum_keeps_its_date_when_its_minutes_are_recorded(netoffice: object) -> None:
    past = timezone.localdate() - datetime.timedelta(days=3)
    forum = Forum.objects.create(title="已召开", held_on=past)
    forum = services.record_forum(
        actor=netoffice, forum=forum, data=services.ForumData(title="已召开", held_on=past, minutes="会议纪要")
    )
    assert forum.minutes == "会议纪要"


def test_an_inactive_leader_is_refused_with_the_reason(netoffice: object, leader: object) -> None:
    gone = make_user("retired", role=Role.LEADER)
    gone.is_active = False
    gone.save()
    with pytest.raises(InvalidInput, match="账号已停用"):
        plan(netoffice, leaders=[leader, gone])
    with pytest.raises(InvalidInput, match="账号已停用"):
        plan(netoffice, chair=gone)
    assert not Forum.objects.exists()


def test_a_user_who_is_not_a_county_leader_cannot_attend_as_one(netoffice: object, zjj_head: object) -> None:
    with pytest.raises(InvalidInput, match="不是县领导"):
        plan(netoffice, leaders=[zjj_head])


def test_only_the_net_office_or_an_admin_plans_forums(ezoneoffice: object, leader: object, admin_user: object) -> None:
    for user in (ezoneoffice, leader):
        with pytest.raises(NotPermitted):
            plan(user)
    assert plan(admin_user).pk


def test_the_forum_page_records_a_past_forum_and_refuses_an_inactive_leader(
    client: Client, netoffice: object, leader: object
) -> None:
    gone = make_user("retired", role=Role.LEADER)
    gone.is_active = False
    gone.save()
    client.force_login(netoffice)
    url = reverse("channels_net:forum_create")
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    page = client.post(url, {"title": "已开的座谈会", "held_on": yesterday.isoformat()})
    assert page.status_code == 302
    past = Forum.objects.get(title="已开的座谈会")
    assert past.recorded_on == timezone.localdate()
    assert "补录" in client.get(reverse("channels_net:forum_detail", args=[past.pk])).content.decode()
    past.delete()
    page = client.post(url, {"title": "座谈会", "held_on": soon().isoformat(), "leaders": [gone.pk]})
    assert "账号已停用" in page.content.decode()
    response = client.post(
        url,
        {
            "title": "座谈会",
            "held_on": soon().isoformat(),
            "chair": leader.pk,
            "representatives": "山村支教亮亮老师，李亮，13812345678\n洞口小哥",
        },
    )
    forum = Forum.objects.get()
    assert response.status_code == 302 and forum.representatives.count() == 2
    detail = client.get(reverse("channels_net:forum_detail", args=[forum.pk])).content.decode()
    assert "138****5678" in detail and "13812345678" not in detail


def test_the_edit_page_keeps_the_forums_dates_so_saving_it_again_works(client: Client, netoffice: object) -> None:
    """<input type="date"> takes only YYYY-MM-DD; the zh-hans input format (2026/12/09) was dropped by the
    browser and the record could not be saved without typing the date again."""
    forum = plan(netoffice, collect_from=soon(1), collect_until=soon(5))
    client.force_login(netoffice)
    html = client.get(reverse("channels_net:forum_edit", args=[forum.pk])).content.decode()
    for name, value in (("held_on", forum.held_on), ("collect_from", soon(1)), ("collect_until", soon(5))):
        assert f'name="{name}" value="{value.isoformat()}"' in html, name


def test_the_channel_page_shows_this_years_figures_and_the_forums(client: Client, netoffice: object) -> None:
    Forum.objects.create(title="即将召开的座谈会", held_on=soon())
    client.force_login(netoffice)
    html = client.get(reverse("channels_net:home")).content.decode()
    assert "办理回复率" in html and "按期回复率" in html and "即将召开的座谈会" in html


def test_a_department_sees_the_channel_figures_but_no_forum(client: Client, zjj_head: object) -> None:
    forum = Forum.objects.create(title="内部座谈会", held_on=soon())
    client.force_login(zjj_head)
    assert "内部座谈会" not in client.get(reverse("channels_net:home")).content.decode()
    assert client.get(reverse("channels_net:forum_detail", args=[forum.pk])).status_code == 404
    assert client.get(reverse("channels_net:forum_create")).status_code == 404


def test_the_channel_page_takes_few_queries(
    client: Client, netoffice: object, django_assert_max_num_queries: object
) -> None:
    for i in range(5):
        Forum.objects.create(title=f"座谈会{i}", held_on=soon(i + 1))
    client.force_login(netoffice)
    with django_assert_max_num_queries(20):
        client.get(reverse("channels_net:home"))
