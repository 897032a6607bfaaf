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


@pytest.mark.parametrize(
    "month, starts, ends, provisional",
    [
        # February 2026: the Spring Festival ends on the 23rd and the 28th is a Saturday make-up day.
        (D(2026, 2, 1), D(2026, 2, 24), D(2026, 2, 28), False),
        (D(2026, 11, 1), D(2026, 11, 24), D(2026, 11, 30), False),
        # 2027 is not in the stored calendar: Monday–Friday, marked provisional.
        (D(2027, 1, 1), D(2027, 1, 25), D(2027, 1, 29), True),
    ],
)
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


def test_an_administrator_confirms_or_moves_the_week_within_its_month(petitionoffice, admin_user, leader):
    week = services.plan_week(actor=petitionoffice, month=D(2027, 1, 1))
    assert week.provisional
    with pytest.raises(NotPermitted, match="只有县信访局或系统管理员"):
        services.confirm_week(actor=leader, week=week)
    with pytest.raises(InvalidInput, match="必须在2027年01月之内"):
        services.confirm_week(actor=admin_user, week=week, starts_on=D(2027, 1, 28), ends_on=D(2027, 2, 3))
    week = services.confirm_week(actor=admin_user, week=week, starts_on=D(2027, 1, 18), ends_on=D(2027, 1, 22))
    assert (week.starts_on, week.ends_on, week.confirmed, week.provisional) == (
        D(2027, 1, 18),
        D(2027, 1, 22),
        True,
        False,
    )
    assert week.confirmed_by == admin_user


def test_a_week_cannot_be_moved_away_from_its_recorded_visits(petitionoffice, admin_user):
    week = services.plan_week(actor=petitionoffice, month=D(2026, 11, 1))
    services.record_visit(
        actor=petitionoffice, week=week, kind="reception", township=dept("hqz"), held_on=D(2026, 11, 25)
    )
    with pytest.raises(InvalidInput, match="2026-11-25"):
        services.confirm_week(actor=admin_user, week=week, starts_on=D(2026, 11, 26), ends_on=D(2026, 11, 30))


def test_the_roster_sends_a_leader_to_a_township_with_departments(petitionoffice, leader):
    week = services.plan_week(actor=petitionoffice, month=D(2026, 11, 1))
    entry = services.add_roster_entry(
        actor=petitionoffice, week=week, leader=leader, township=dept("hqz"), departments=[dept("zjj"), dept("jtj")]
    )
    assert {d.code for d in entry.departments.all()} == {"zjj", "jtj"}
    with pytest.raises(InvalidInput, match="已安排县领导到黄桥镇"):
        services.add_roster_entry(actor=petitionoffice, week=week, leader=leader, township=dept("hqz"))


def test_the_roster_refuses_an_inactive_leader_a_non_leader_and_a_bureau_as_township(petitionoffice, leader, zjj_head):
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
    response = client.post(
        reverse("channels_citizen:week_confirm", args=[week.pk]),
        {"starts_on": "2026-11-23", "ends_on": "2026-11-27"},
        follow=True,
    )
    assert "已确认" in response.content.decode()
    week.refresh_from_db()
    assert (week.starts_on, week.confirmed) == (D(2026, 11, 23), True)


def test_the_office_confirms_through_the_page_and_a_leader_cannot(client, petitionoffice, leader):
    week = services.plan_week(actor=petitionoffice, month=D(2026, 11, 1))
    client.force_login(leader)
    response = client.post(
        reverse("channels_citizen:week_confirm", args=[week.pk]), {"starts_on": "2026-11-23", "ends_on": "2026-11-27"}
    )
    assert response.status_code == 404
    assert not NoMeetingWeek.objects.get(pk=week.pk).confirmed
    client.force_login(petitionoffice)
    response = client.post(
        reverse("channels_citizen:week_confirm", args=[week.pk]),
        {"starts_on": "2026-11-23", "ends_on": "2026-11-27"},
        follow=True,
    )
    assert "已确认" in response.content.decode()
    assert NoMeetingWeek.objects.get(pk=week.pk).confirmed_by == petitionoffice


def test_a_department_cannot_open_the_week_page(client, petitionoffice, zjj_head):
    week = services.plan_week(actor=petitionoffice, month=D(2026, 11, 1))
    client.force_login(zjj_head)
    assert client.get(reverse("channels_citizen:week_detail", args=[week.pk])).status_code == 404


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


# --- the scheduler, and re-planning when the calendar changes ------------------------------------

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
# Enough of a 2027 notice for September: Sunday the 26th is a make-up working day, so the last five
# working days are 26–30 September instead of the Monday–Friday guess 24–30.
NOTICE_2027 = "2027-01-01,休,元旦\n2027-09-26,班,国庆节调休上班\n2027-10-01,休,国庆节\n"
SEPTEMBER = D(2027, 9, 1)


def at(time_machine, day: datetime.date) -> None:
    time_machine.move_to(datetime.datetime(day.year, day.month, day.day, 10, 0, tzinfo=SHANGHAI), tick=False)


@pytest.fixture
def without_2027(reference):
    from feedback.models import CalendarDay, CalendarYear

    CalendarDay.objects.filter(date__year__gte=2027).delete()
    CalendarYear.objects.filter(year__gte=2027).delete()


def load_2027() -> None:
    from feedback.services.calendar import load_year

    load_year(actor=None, year=2027, lines=NOTICE_2027, source="测试")


def kept_notices():
    from feedback.models import Notification

    return Notification.objects.filter(kind=services.KEPT_KIND)


def test_the_scheduler_creates_this_and_next_months_week_once(time_machine, without_2027):
    at(time_machine, D(2026, 11, 1))
    created = services.schedule_no_meeting_weeks()
    assert [(w.month, w.starts_on, w.ends_on, w.provisional, w.confirmed) for w in created] == [
        (D(2026, 11, 1), D(2026, 11, 24), D(2026, 11, 30), False, False),
        (D(2026, 12, 1), D(2026, 12, 25), D(2026, 12, 31), False, False),
    ]
    assert services.schedule_no_meeting_weeks() == []
    (january,) = services.schedule_no_meeting_weeks(today=D(2026, 12, 1))  # a month ahead, provisional
    assert (january.starts_on, january.ends_on, january.provisional) == (D(2027, 1, 25), D(2027, 1, 29), True)


def test_the_scheduler_does_not_create_a_week_already_over(reference):
    # Saturday 31 October 2026: October's week ended on Friday the 30th.
    created = services.schedule_no_meeting_weeks(today=D(2026, 10, 31))
    assert [w.month for w in created] == [D(2026, 11, 1)]


def test_the_beat_task_runs_the_scheduler(time_machine, reference):
    from channels_citizen.tasks import plan_no_meeting_weeks

    at(time_machine, D(2026, 11, 1))
    assert plan_no_meeting_weeks() == {"scheduled": 2}
    assert plan_no_meeting_weeks() == {"scheduled": 0}


@pytest.fixture
def september(time_machine, without_2027, petitionoffice) -> NoMeetingWeek:
    at(time_machine, D(2026, 11, 29))
    week = services.plan_week(actor=petitionoffice, month=SEPTEMBER)
    assert (week.starts_on, week.ends_on, week.provisional) == (D(2027, 9, 24), D(2027, 9, 30), True)
    return week


def test_loading_the_year_moves_an_unconfirmed_week_at_once_and_makes_it_definite(september):
    load_2027()
    september.refresh_from_db()
    assert (september.starts_on, september.ends_on, september.provisional) == (D(2027, 9, 26), D(2027, 9, 30), False)
    assert not kept_notices().exists()


def test_planning_again_re_plans_a_provisional_week_once_its_year_is_known(september, petitionoffice):
    """Even when the calendar was written without the hook (e.g. straight into the tables)."""
    from feedback.models import CalendarDay, CalendarYear

    CalendarYear.objects.create(year=2027, source="测试")
    CalendarDay.objects.create(date=D(2027, 9, 26), is_workday=True, name="国庆节调休上班")
    week = services.plan_week(actor=petitionoffice, month=SEPTEMBER)
    assert week.pk == september.pk
    assert (week.starts_on, week.ends_on, week.provisional) == (D(2027, 9, 26), D(2027, 9, 30), False)


def test_a_rostered_week_keeps_its_dates_and_the_office_is_told_once(september, petitionoffice, leader, netoffice):
    services.add_roster_entry(actor=petitionoffice, week=september, leader=leader, township=dept("hqz"))
    load_2027()
    september.refresh_from_db()
    assert (september.starts_on, september.ends_on, september.provisional) == (D(2027, 9, 24), D(2027, 9, 30), True)
    (notice,) = kept_notices()
    assert notice.recipient == petitionoffice  # 信访局 only
    assert "按默认应为2027年09月26日至2027年09月30日" in notice.body and "已安排 1 位县领导" in notice.body
    services.schedule_no_meeting_weeks(today=D(2026, 11, 30))  # the daily run tells nobody twice
    services.plan_week(actor=petitionoffice, month=SEPTEMBER)
    assert kept_notices().count() == 1
    september.refresh_from_db()
    assert september.starts_on == D(2027, 9, 24)
    # The office moves it itself, by confirming the new dates.
    week = services.confirm_week(actor=petitionoffice, week=september, starts_on=D(2027, 9, 26), ends_on=D(2027, 9, 30))
    assert (week.starts_on, week.provisional, week.confirmed) == (D(2027, 9, 26), False, True)


@pytest.mark.parametrize("visit_on, moved", [(D(2027, 9, 27), True), (D(2027, 9, 24), False)])
def test_a_week_with_recorded_visits_moves_only_if_they_stay_inside(september, petitionoffice, visit_on, moved):
    services.record_visit(
        actor=petitionoffice, week=september, kind="reception", township=dept("hqz"), held_on=visit_on
    )
    load_2027()
    september.refresh_from_db()
    assert september.starts_on == (D(2027, 9, 26) if moved else D(2027, 9, 24))
    assert kept_notices().count() == (0 if moved else 1)
    if not moved:
        assert "已登记的接访活动（2027-09-24）不在新日期内" in kept_notices().get().body


def test_a_confirmed_week_and_a_week_begun_are_left_alone(september, admin_user, petitionoffice):
    from feedback.models import CalendarDay
    from feedback.services.calendar import save_county_day

    services.confirm_week(actor=admin_user, week=september)  # confirmed on the guessed dates
    november = services.plan_week(actor=petitionoffice, month=D(2026, 11, 1))  # 24–30 Nov, begun on the 24th
    load_2027()
    save_county_day(actor=None, day=CalendarDay(date=D(2026, 11, 30), is_workday=False, name="本县调整（测试）"))
    september.refresh_from_db()
    november.refresh_from_db()
    assert (september.starts_on, september.confirmed) == (D(2027, 9, 24), True)
    assert (november.starts_on, november.ends_on) == (D(2026, 11, 24), D(2026, 11, 30))
    assert not kept_notices().exists()
