"""Sessions recorded afterwards (补录, issue 13 §3) for 政企 and 政民: an enterprise day, a no-meeting
week or a visit dated in the past is accepted with the day it was entered kept (``recorded_on``);
the requests raised there are received and assigned on the session's date, their deadlines run from
it, and the ladder steps already past are recorded, not announced (decision 0610). A session the
portal planned ahead and entered live keeps today's assignment date."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from channels_citizen import services as citizen
from channels_citizen.models import NoMeetingWeek, Visit
from channels_enterprise import services as enterprise
from channels_enterprise.models import EnterpriseDay
from feedback.errors import BatchRejected, InvalidInput, NotPermitted
from feedback.models import Category, DeadlineStep, Department, HistoryEntry, Issue, Notification
from tests.channels.enterprise_factories import EnterpriseFactory

pytestmark = pytest.mark.django_db
D = datetime.date
TODAY = D(2026, 11, 25)  # a Wednesday; November 2026's no-meeting week is 11-24 … 11-30


@pytest.fixture(autouse=True)
def frozen_clock(time_machine: Any) -> None:
    time_machine.move_to(datetime.datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)


def dept(code: str) -> Department:
    return Department.objects.get(code=code)


def passed_steps(issue: Issue) -> list[str]:
    return list(
        HistoryEntry.objects.filter(issue=issue, action="deadline_passed_before_import").values_list("note", flat=True)
    )


# ---- 政企: an enterprise day recorded afterwards ------------------------------------------------


def test_a_past_enterprise_day_is_recorded_on_the_rule_date_with_its_recording_date(ezoneoffice: Any) -> None:
    # 2024-03-23 is a Saturday: the rule moves the day to Monday the 25th.
    day = enterprise.record_past_day(actor=ezoneoffice, month=D(2024, 3, 9))
    assert (day.month, day.held_on, day.recorded_on) == (D(2024, 3, 1), D(2024, 3, 25), TODAY)
    assert day.notice_on is None and day.noticed_at is None
    # The daily run neither re-dates nor notices it: it is history.
    enterprise.schedule_enterprise_days(today=TODAY)
    assert enterprise.send_enterprise_day_notices(today=TODAY) == 0
    day.refresh_from_db()
    assert day.held_on == D(2024, 3, 25)


def test_a_past_enterprise_day_that_was_moved_is_recorded_on_its_actual_date(ezoneoffice: Any) -> None:
    day = enterprise.record_past_day(actor=ezoneoffice, month=D(2024, 3, 1), held_on=D(2024, 3, 27))
    assert (day.held_on, day.recorded_on) == (D(2024, 3, 27), TODAY)
    with pytest.raises(InvalidInput, match="须在2024年04月之内") as caught:
        enterprise.record_past_day(actor=ezoneoffice, month=D(2024, 4, 1), held_on=D(2024, 5, 2))
    assert caught.value.field == "held_on"


def test_only_a_day_before_today_can_be_recorded_afterwards(ezoneoffice: Any) -> None:
    with pytest.raises(InvalidInput, match="只能补录今天以前") as caught:
        enterprise.record_past_day(actor=ezoneoffice, month=D(2026, 11, 1), held_on=TODAY)
    assert caught.value.field == "held_on"
    with pytest.raises(InvalidInput, match="只能补录今天以前"):
        enterprise.record_past_day(actor=ezoneoffice, month=D(2026, 12, 1))  # the rule gives 12-23
    day = enterprise.record_past_day(actor=ezoneoffice, month=D(2026, 11, 1), held_on=TODAY - datetime.timedelta(1))
    assert day.recorded_on == TODAY
    assert EnterpriseDay.objects.count() == 1


def test_a_month_that_has_its_day_is_not_recorded_twice(ezoneoffice: Any) -> None:
    enterprise.record_past_day(actor=ezoneoffice, month=D(2025, 6, 1))
    with pytest.raises(InvalidInput, match="2025年06月的企业家日已存在"):
        enterprise.record_past_day(actor=ezoneoffice, month=D(2025, 6, 15), held_on=D(2025, 6, 24))


def test_only_the_zone_office_or_an_admin_records_a_past_day(leader: Any, netoffice: Any, admin_user: Any) -> None:
    for user in (leader, netoffice):
        with pytest.raises(NotPermitted):
            enterprise.record_past_day(actor=user, month=D(2025, 6, 1))
    assert enterprise.record_past_day(actor=admin_user, month=D(2025, 6, 1)).recorded_on == TODAY


def problem(**kwargs: Any) -> enterprise.ProblemData:
    return enterprise.ProblemData(
        enterprise=kwargs.pop("enterprise"),
        category=Category.objects.get(code="business"),
        title="员工通勤难",
        content="希望开通通勤公交线路。",
        lead=dept("zjj"),
        **kwargs,
    )


def test_problems_of_a_day_recorded_afterwards_are_received_and_assigned_on_its_date(
    ezoneoffice: Any, leader: Any, zjj_head: Any
) -> None:
    day = enterprise.record_past_day(actor=ezoneoffice, month=D(2026, 6, 1))  # 2026-06-23, a Tuesday
    enterprise.set_day_duty(actor=ezoneoffice, day=day, leaders=[leader])
    enterprise.mark_day_held(actor=ezoneoffice, day=day, summary="现场办公")
    (intake,) = enterprise.raise_problems(
        actor=ezoneoffice, day=day, problems=[problem(enterprise=EnterpriseFactory())]
    )
    issue = Issue.objects.get(pk=intake.issue_id)
    (a,) = issue.assignments.all()
    assert (issue.received_on, a.assigned_on) == (D(2026, 6, 23), D(2026, 6, 23))
    assert a.due_date < TODAY and a.overdue_at is not None  # 15 working days from the day: long past
    # No old alarms: every passed step is recorded, the department hears the current state once.
    notes = passed_steps(issue)
    assert len(notes) >= 2 and all("补录活动登记时已过" in n for n in notes)
    assert not DeadlineStep.objects.filter(
        assignment=a, taken_at__isnull=True, scheduled_for__lte=datetime.datetime.now(datetime.UTC)
    ).exists()
    assert sorted(Notification.objects.filter(recipient=zjj_head).values_list("kind", flat=True)) == [
        "assigned",
        "overdue",
    ]


def test_problems_of_a_day_the_portal_scheduled_are_assigned_on_the_day_they_are_registered(
    ezoneoffice: Any, zjj_head: Any
) -> None:
    (day, _) = enterprise.schedule_enterprise_days(today=D(2026, 11, 1))
    assert (day.held_on, day.recorded_on) == (D(2026, 11, 23), None)
    (intake,) = enterprise.raise_problems(
        actor=ezoneoffice, day=day, problems=[problem(enterprise=EnterpriseFactory())]
    )
    issue = Issue.objects.get(pk=intake.issue_id)
    assert (issue.received_on, issue.assignments.get().assigned_on) == (D(2026, 11, 23), TODAY)
    assert passed_steps(issue) == []


def test_the_day_pages_record_a_past_day_and_say_so(client: Client, ezoneoffice: Any, leader: Any) -> None:
    client.force_login(ezoneoffice)
    url = reverse("channels_enterprise:day_record")
    assert "补录已举行的企业家日" in client.get(url).content.decode()
    refused = client.post(url, {"month": "2026-12"})
    assert refused.status_code == 200 and "只能补录今天以前" in refused.content.decode()
    assert not EnterpriseDay.objects.exists()
    response = client.post(url, {"month": "2025-08", "held_on": ""})
    day = EnterpriseDay.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "channels_enterprise:day_detail", args=[day.pk]
    )
    assert "2026年11月25日补录" in client.get(response["Location"]).content.decode()
    assert "补录" in client.get(reverse("channels_enterprise:day_list")).content.decode()
    intake_page = client.get(reverse("channels_enterprise:day_intake", args=[day.pk])).content.decode()
    assert "本企业家日为补录，交办日期也为企业家日当天" in intake_page
    client.force_login(leader)
    assert client.get(url).status_code == 404


def test_a_scheduled_day_shows_no_recording_date(client: Client, ezoneoffice: Any) -> None:
    (day, _) = enterprise.schedule_enterprise_days(today=D(2026, 11, 1))
    client.force_login(ezoneoffice)
    assert "补录）" not in client.get(reverse("channels_enterprise:day_detail", args=[day.pk])).content.decode()
    intake_page = client.get(reverse("channels_enterprise:day_intake", args=[day.pk])).content.decode()
    assert "本企业家日为补录" not in intake_page


def test_the_api_records_a_past_day(client: Client, ezoneoffice: Any, leader: Any) -> None:
    client.force_login(ezoneoffice)
    url = "/api/v1/enterprise/days/record/"
    response = client.post(url, {"month": "2025-08-01"}, content_type="application/json")
    assert response.status_code == 201, response.content
    assert (response.json()["held_on"], response.json()["recorded_on"]) == ("2025-08-25", "2026-11-25")
    refused = client.post(url, {"month": "2026-12-01"}, content_type="application/json")
    assert refused.status_code == 400 and "只能补录今天以前" in refused.content.decode()
    client.force_login(leader)
    assert client.post(url, {"month": "2025-09-01"}, content_type="application/json").status_code == 403
    assert EnterpriseDay.objects.count() == 1


# ---- 政民: a no-meeting week and a visit recorded afterwards ----------------------------------------


def test_a_week_of_a_past_month_is_recorded_afterwards(petitionoffice: Any) -> None:
    past = citizen.plan_week(actor=petitionoffice, month=D(2025, 3, 1))
    assert (past.starts_on, past.ends_on, past.recorded_on) == (D(2025, 3, 25), D(2025, 3, 31), TODAY)
    # This month's week has not ended: it is planned, not recorded afterwards.
    assert citizen.plan_week(actor=petitionoffice, month=D(2026, 11, 1)).recorded_on is None
    assert citizen.plan_week(actor=petitionoffice, month=D(2026, 12, 1)).recorded_on is None


@pytest.fixture
def past_week(petitionoffice: Any) -> Any:
    return citizen.plan_week(actor=petitionoffice, month=D(2026, 6, 1))  # 06-24 … 06-30


@pytest.fixture
def this_week(petitionoffice: Any) -> Any:
    return citizen.plan_week(actor=petitionoffice, month=D(2026, 11, 1))  # 11-24 … 11-30


def visit(actor: Any, week: Any, held_on: D) -> Visit:
    return citizen.record_visit(actor=actor, week=week, kind="reception", township=dept("hqz"), held_on=held_on)


def test_a_visit_dated_before_today_is_recorded_afterwards_and_one_of_today_is_live(
    petitionoffice: Any, this_week: Any
) -> None:
    assert visit(petitionoffice, this_week, D(2026, 11, 24)).recorded_on == TODAY
    assert visit(petitionoffice, this_week, TODAY).recorded_on is None
    assert visit(petitionoffice, this_week, D(2026, 11, 26)).recorded_on is None


def test_moving_a_visit_into_the_past_marks_it_recorded_afterwards_and_back_clears_it(
    petitionoffice: Any, this_week: Any
) -> None:
    live = visit(petitionoffice, this_week, TODAY)

    def move(held_on: D) -> Visit:
        return citizen.update_visit(
            actor=petitionoffice, visit=live, kind="reception", township=dept("hqz"), held_on=held_on
        )

    assert move(TODAY).recorded_on is None  # same date, still live
    assert move(D(2026, 11, 24)).recorded_on == TODAY
    assert move(D(2026, 11, 24)).recorded_on == TODAY  # kept while its date stays
    assert move(D(2026, 11, 27)).recorded_on is None


def request_row(**kwargs: Any) -> citizen.VisitRequest:
    return citizen.VisitRequest(
        requester_name="王大爷",
        category=Category.objects.get(code="rural"),
        lead=dept("zjj"),
        content="村道年久失修，雨天无法通行。",
        **kwargs,
    )


def test_requests_of_a_visit_recorded_afterwards_are_received_and_assigned_on_its_date(
    petitionoffice: Any, past_week: Any, zjj_head: Any
) -> None:
    past = visit(petitionoffice, past_week, D(2026, 6, 24))
    assert past.recorded_on == TODAY
    (issue,) = citizen.record_visit_requests(actor=petitionoffice, visit=past, rows=[request_row()])
    (a,) = issue.assignments.all()
    assert (issue.received_on, a.assigned_on) == (D(2026, 6, 24), D(2026, 6, 24))
    # 60 calendar days from the visit (the 政民 default): 2026-08-23 is a Sunday, so Monday the 24th.
    assert a.due_date == D(2026, 8, 24) and a.overdue_at is not None
    notes = passed_steps(issue)
    assert len(notes) >= 2 and all("补录活动登记时已过" in n for n in notes)
    assert sorted(Notification.objects.filter(recipient=zjj_head).values_list("kind", flat=True)) == [
        "assigned",
        "overdue",
    ]
    assert issue.citizen_intake.visit == past


def test_requests_of_a_visit_entered_live_are_assigned_on_the_day_they_are_registered(
    petitionoffice: Any, this_week: Any
) -> None:
    live = visit(petitionoffice, this_week, TODAY)
    (issue,) = citizen.record_visit_requests(actor=petitionoffice, visit=live, rows=[request_row()])
    assert (issue.received_on, issue.assignments.get().assigned_on) == (TODAY, TODAY)
    assert passed_steps(issue) == []


def test_the_visit_pages_and_api_show_a_visit_recorded_afterwards(
    client: Client, petitionoffice: Any, past_week: Any
) -> None:
    client.force_login(petitionoffice)
    response = client.post(
        "/api/v1/citizen/visits/",
        {"week": past_week.pk, "visit_kind": "reception", "township": "hqz", "held_on": "2026-06-25"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["recorded_on"] == "2026-11-25"
    past = Visit.objects.get()
    page = client.get(reverse("channels_citizen:visit_detail", args=[past.pk])).content.decode()
    assert "2026年11月25日补录" in page
    intake_page = client.get(reverse("channels_citizen:visit_intake", args=[past.pk])).content.decode()
    assert "本次接访为补录，交办日期也为接访当日" in intake_page
    week_page = client.get(reverse("channels_citizen:week_detail", args=[past_week.pk])).content.decode()
    assert "2026年11月25日补录" in week_page
    assert client.get(f"/api/v1/citizen/weeks/{past_week.pk}/").json()["recorded_on"] == "2026-11-25"


def test_a_live_visit_page_shows_no_recording_note(client: Client, petitionoffice: Any, this_week: Any) -> None:
    live = visit(petitionoffice, this_week, TODAY)
    client.force_login(petitionoffice)
    assert "补录）" not in client.get(reverse("channels_citizen:visit_detail", args=[live.pk])).content.decode()
    intake_page = client.get(reverse("channels_citizen:visit_intake", args=[live.pk])).content.decode()
    assert "本次接访为补录" not in intake_page


def test_a_month_before_2000_is_refused_in_either_channel(ezoneoffice: Any, petitionoffice: Any) -> None:
    with pytest.raises(InvalidInput, match="企业家日月份有误") as caught:
        enterprise.record_past_day(actor=ezoneoffice, month=D(1999, 12, 1))
    assert caught.value.field == "month"
    with pytest.raises(InvalidInput, match="无会周月份有误"):
        citizen.plan_week(actor=petitionoffice, month=D(1999, 12, 1))
    assert enterprise.record_past_day(actor=ezoneoffice, month=D(2000, 1, 1)).held_on == D(2000, 1, 24)


# ---- the bulk forms the ledger import's session hooks call (record_days, record_weeks) ----------


def test_record_days_re_links_a_held_date_records_a_missing_one_and_keeps_the_order(ezoneoffice: Any) -> None:
    held = EnterpriseDay.objects.create(month=D(2024, 3, 1), held_on=D(2024, 3, 23))
    days = enterprise.record_days(actor=ezoneoffice, days=[D(2024, 5, 10), D(2024, 3, 23), D(2024, 5, 10)])
    assert days[1] == held and days[0] == days[2] != held
    assert (days[0].month, days[0].note, days[0].recorded_on) == (D(2024, 5, 1), "台账导入补录", TODAY)
    assert enterprise.record_days(actor=ezoneoffice, days=[TODAY])[0].recorded_on is None  # not over yet
    assert EnterpriseDay.objects.count() == 3


def test_record_days_refuses_every_clashing_date_at_once_and_records_none(ezoneoffice: Any) -> None:
    EnterpriseDay.objects.create(month=D(2024, 3, 1), held_on=D(2024, 3, 23))
    days = [D(2024, 5, 10), D(2024, 3, 25), D(2024, 5, 12), D(1999, 12, 1), TODAY + datetime.timedelta(1)]
    with pytest.raises(BatchRejected) as refused:
        enterprise.record_days(actor=ezoneoffice, days=days)
    assert {i: e.message for i, e in refused.value.rows.items()} == {
        1: "2024年03月企业家日是 2024-03-23，与会议日期 2024-03-25 不符（每月只有一个企业家日）",
        2: "会议日期 2024-05-12 与同月的 2024-05-10 不同（每月只有一个企业家日）",
        3: "企业家日月份有误。",
        4: "只能补录今天以前已举行的企业家日。",
    }
    assert EnterpriseDay.objects.count() == 1


def test_record_weeks_re_links_a_week_starting_that_date_and_records_a_missing_month(petitionoffice: Any) -> None:
    march = citizen.plan_week(actor=petitionoffice, month=D(2024, 3, 1))
    weeks = citizen.record_weeks(actor=petitionoffice, starts=[march.starts_on, D(2024, 6, 20), D(2024, 6, 20)])
    assert weeks[0] == march and weeks[1] == weeks[2]
    june = weeks[1]
    assert (june.starts_on, june.ends_on, june.recorded_on) == (D(2024, 6, 20), D(2024, 6, 28), TODAY)
    assert citizen.record_weeks(actor=petitionoffice, starts=[D(2026, 11, 24)])[0].recorded_on is None


def test_record_weeks_refuses_every_clashing_date_at_once_and_records_none(petitionoffice: Any) -> None:
    march = citizen.plan_week(actor=petitionoffice, month=D(2024, 3, 1))
    starts = [D(2024, 3, 20), D(2024, 6, 20), D(2024, 6, 21), D(1999, 12, 1)]
    with pytest.raises(BatchRejected) as refused:
        citizen.record_weeks(actor=petitionoffice, starts=starts)
    assert {i: e.message for i, e in refused.value.rows.items()} == {
        0: f"{march}从 {march.starts_on:%Y-%m-%d} 开始，与会议日期 2024-03-20 不符（每月只有一个无会周）",
        2: "会议日期 2024-06-21 与同月的 2024-06-20 不同（每月只有一个无会周）",
        3: "无会周月份有误。",
    }
    assert Visit.objects.count() == 0 and NoMeetingWeek.objects.count() == 1


def test_only_the_channels_office_or_an_admin_records_sessions_in_bulk(
    netoffice: Any, ezoneoffice: Any, petitionoffice: Any
) -> None:
    with pytest.raises(NotPermitted):
        enterprise.record_days(actor=netoffice, days=[D(2024, 5, 10)])
    with pytest.raises(NotPermitted):
        enterprise.record_days(actor=petitionoffice, days=[D(2024, 5, 10)])
    with pytest.raises(NotPermitted):
        citizen.record_weeks(actor=ezoneoffice, starts=[D(2024, 6, 20)])
    assert not EnterpriseDay.objects.exists()
