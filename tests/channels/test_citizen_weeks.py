"""政民 no-meeting weeks: the default dates, confirmation by an administrator, the roster."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from channels_citizen import services
from channels_citizen.models import NoMeetingWeek
from feedback.access import Role
from feedback.errors import InvalidInput, NotPermitted
from feedback.models import Department
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
D = datetime.date


def dept(code: str) -> Department:
    return Department.objects.get(code=code)


@pytest.mark.parametrize("month, starts, ends, provisional", [
    # February 2026: the Spring Festival ends on the 23rd and the 28th is a Saturday make-up day.
    (D(2026, 2, 1), D(2026, 2, 24), D(2026, 2, 28), False),
    (D(2026, 11, 1), D(2026, 11, 24), D(2026, 11, 30), False),
    # 2027 is not in the stored calendar: Monday–Friday, marked provisional.
    (D(2027, 1, 1), D(2027, 1, 25), D(2027, 1, 29), True),
])
def test_the_default_week_is_the_last_five_working_days_of_the_month(reference, month, starts, ends, provisional):
    dates = services.default_week(month)
    assert (dates.starts_on, dates.ends_on, dates.provisional) == (starts, ends, provisional)


def test_the_office_plans_a_week_once_and_it_waits_for_confirmation(petitionoffice):
    week = services.plan_week(actor=petitionoffice, month=D(2026, 11, 17))
    assert week.month == D(2026, 11, 1) and not week.confirmed
    assert services.plan_week(actor=petitionoffice, month=D(2026, 11, 3)).pk == week.pk


def test_another_channel_office_or_a_department_cannot_plan(netoffice, zjj_head):
    for user in (netoffice, zjj_head):
        with pytest.raises(NotPermitted):
            services.plan_week(actor=user, month=D(2026, 11, 1))


def test_an_administrator_confirms_or_moves_the_week_within_its_month(petitionoffice, admin_user):
    week = services.plan_week(actor=petitionoffice, month=D(2027, 1, 1))
    assert week.provisional
    with pytest.raises(NotPermitted, match="只有系统管理员"):
        services.confirm_week(actor=petitionoffice, week=week)
    with pytest.raises(InvalidInput, match="必须在2027年01月之内"):
        services.confirm_week(actor=admin_user, week=week, starts_on=D(2027, 1, 28), ends_on=D(2027, 2, 3))
    week = services.confirm_week(actor=admin_user, week=week, starts_on=D(2027, 1, 18), ends_on=D(2027, 1, 22))
    assert (week.starts_on, week.ends_on, week.confirmed, week.provisional) == (D(2027, 1, 18), D(2027, 1, 22),
                                                                              True, False)
    assert week.confirmed_by == admin_user


def test_a_week_cannot_be_moved_away_from_its_recorded_visits(petitionoffice, admin_user):
    week = services.plan_week(actor=petitionoffice, month=D(2026, 11, 1))
    services.record_visit(actor=petitionoffice, week=week, kind="reception", township=dept("hqz"),
                          held_on=D(2026, 11, 25))
    with pytest.raises(InvalidInput, match="2026-11-25"):
        services.confirm_week(actor=admin_user, week=week, starts_on=D(2026, 11, 26), ends_on=D(2026, 11, 30))


def test_the_roster_sends_a_leader_to_a_township_with_departments(petitionoffice, leader):
    week = services.plan_week(actor=petitionoffice, month=D(2026, 11, 1))
    entry = services.add_roster_entry(actor=petitionoffice, week=week, leader=leader, township=dept("hqz"),
                                      departments=[dept("zjj"), dept("jtj")])
    assert {d.code for d in entry.departments.all()} == {"zjj", "jtj"}
    with pytest.raises(InvalidInput, match="已安排县领导到黄桥镇"):
        services.add_roster_entry(actor=petitionoffice, week=week, leader=leader, township=dept("hqz"))


def test_the_roster_refuses_an_inactive_leader_a_non_leader_and_a_bureau_as_township(petitionoffice, leader,
                                                                                       zjj_head):
    week = services.plan_week(actor=petitionoffice, month=D(2026, 11, 1))
    leader.is_active = False
    leader.save()
    with pytest.raises(InvalidInput, match="账号已停用，不能排入无会周") as exc:
        services.add_roster_entry(actor=petitionoffice, week=week, leader=leader, township=dept("hqz"))
    assert exc.value.field == "leader"
    with pytest.raises(InvalidInput, match="不是县领导"):
        services.add_roster_entry(actor=petitionoffice, week=week, leader=zjj_head, township=dept("hqz"))
    other = make_user("county_head", role=Role.LEADER)
    with pytest.raises(InvalidInput, match="不是乡镇"):
        services.add_roster_entry(actor=petitionoffice, week=week, leader=other, township=dept("zjj"))


def test_the_admin_page_confirms_and_moves_the_week(client, petitionoffice, admin_user):
    week = services.plan_week(actor=petitionoffice, month=D(2026, 11, 1))
    client.force_login(admin_user)
    page = client.get(reverse("channels_citizen:week_detail", args=[week.pk])).content.decode()
    assert "确认无会周" in page
    response = client.post(reverse("channels_citizen:week_confirm", args=[week.pk]),
                           {"starts_on": "2026-11-23", "ends_on": "2026-11-27"}, follow=True)
    assert "已确认" in response.content.decode()
    week.refresh_from_db()
    assert (week.starts_on, week.confirmed) == (D(2026, 11, 23), True)


def test_the_office_cannot_confirm_through_the_page(client, petitionoffice):
    week = services.plan_week(actor=petitionoffice, month=D(2026, 11, 1))
    client.force_login(petitionoffice)
    response = client.post(reverse("channels_citizen:week_confirm", args=[week.pk]),
                           {"starts_on": "2026-11-23", "ends_on": "2026-11-27"}, follow=True)
    assert "只有系统管理员" in response.content.decode()
    assert not NoMeetingWeek.objects.get(pk=week.pk).confirmed


def test_a_department_cannot_open_the_week_page(client, petitionoffice, zjj_head):
    week = services.plan_week(actor=petitionoffice, month=D(2026, 11, 1))
    client.force_login(zjj_head)
    assert client.get(reverse("channels_citizen:week_detail", args=[week.pk])).status_code == 403


@time_machine.travel(datetime.datetime(2026, 11, 29, 10, 0, tzinfo=datetime.UTC), tick=False)
def test_weeks_feed_the_common_calendar_and_leader_attendance(petitionoffice, leader):
    from feedback.channels import REGISTRY

    week = services.plan_week(actor=petitionoffice, month=D(2026, 11, 1))
    later = services.plan_week(actor=petitionoffice, month=D(2027, 1, 1))
    services.add_roster_entry(actor=petitionoffice, week=week, leader=leader, township=dept("hqz"))
    services.add_roster_entry(actor=petitionoffice, week=later, leader=leader, township=dept("hqz"))
    plugin = REGISTRY["citizen"]
    entries = plugin.sessions(D(2026, 11, 1), D(2027, 1, 31))
    assert [(e.starts_on, e.provisional) for e in entries] == [(D(2026, 11, 24), False), (D(2027, 1, 25), True)]
    assert entries[0].leaders == ["leader"] and entries[0].place == "黄桥镇"
    assert plugin.attendance(2026) == {leader.pk: 1}
    assert timezone.localdate() == D(2026, 11, 29)
