"""政民 visits: collective reception or a village visit inside the week, cases brought down,
a lawyer, courtyard meetings, the case of the week; and the 60-day petition clock."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from channels_citizen import services
from channels_citizen.models import Visit
from feedback import services as core
from feedback.errors import InvalidInput
from feedback.models import Category, Department
from tests.factories import register

pytestmark = pytest.mark.django_db
D = datetime.date


def dept(code: str) -> Department:
    return Department.objects.get(code=code)


@pytest.fixture
def week(petitionoffice):
    return services.plan_week(actor=petitionoffice, month=D(2026, 11, 1))  # 11-24 … 11-30


def test_a_visit_outside_its_week_is_refused_with_the_week_dates(petitionoffice, week):
    with pytest.raises(InvalidInput) as exc:
        services.record_visit(
            actor=petitionoffice, week=week, kind="reception", township=dept("hqz"), held_on=D(2026, 11, 20)
        )
    assert exc.value.message == "接访日期必须在本月无会周内（2026-11-24 至 2026-11-30）。"
    assert exc.value.field == "held_on"


def test_a_village_visit_brings_cases_a_lawyer_and_holds_courtyard_meetings(petitionoffice, week, leader):
    village = services.add_village(actor=petitionoffice, township=dept("hqz"), name="迴龙洲村")
    cases = [
        register(petitionoffice, channel="citizen", title="迴龙洲搬迁安置"),
        register(petitionoffice, channel="citizen", title="迴龙洲宅基地"),
    ]
    visit = services.record_visit(
        actor=petitionoffice,
        week=week,
        kind=Visit.Kind.VILLAGE,
        township=dept("hqz"),
        village=village,
        held_on=D(2026, 11, 25),
        leader=leader,
        cases=cases,
        lawyer_present=True,
        lawyer_name="李律师",
    )
    meeting = services.record_courtyard_meeting(
        actor=petitionoffice, visit=visit, attendance=36, outcome="达成安置方案", place="村部院坝"
    )
    assert set(visit.cases.values_list("pk", flat=True)) == {c.pk for c in cases}
    assert (visit.lawyer_present, visit.lawyer_name) == (True, "李律师")
    assert list(visit.courtyard_meetings.all()) == [meeting]


def test_visits_refuse_bad_input_with_the_reason(petitionoffice, week, leader):
    village = services.add_village(actor=petitionoffice, township=dept("hqz"), name="迴龙洲村")
    common = {"actor": petitionoffice, "week": week, "held_on": D(2026, 11, 25)}
    with pytest.raises(InvalidInput, match="进村走访须选择村"):
        services.record_visit(kind="village", township=dept("hqz"), **common)
    with pytest.raises(InvalidInput, match="不属于江口镇"):
        services.record_visit(kind="village", township=dept("jkz"), village=village, **common)
    with pytest.raises(InvalidInput, match="请填写律师姓名"):
        services.record_visit(kind="reception", township=dept("hqz"), lawyer_present=True, **common)
    leader.is_active = False
    leader.save()
    with pytest.raises(InvalidInput, match="账号已停用"):
        services.record_visit(kind="reception", township=dept("hqz"), leader=leader, **common)
    visit = services.record_visit(kind="reception", township=dept("hqz"), **common)
    with pytest.raises(InvalidInput, match="参会人数"):
        services.record_courtyard_meeting(actor=petitionoffice, visit=visit, attendance=0, outcome="x")


def test_cases_brought_down_must_be_citizen_issues(petitionoffice, netoffice, week):
    net_issue = register(netoffice, channel="net")
    with pytest.raises(InvalidInput, match="不是政民直通车的诉求"):
        services.record_visit(
            actor=petitionoffice,
            week=week,
            kind="reception",
            township=dept("hqz"),
            held_on=D(2026, 11, 25),
            cases=[net_issue],
        )


def test_one_case_of_the_week(petitionoffice, netoffice, week):
    issue = register(petitionoffice, channel="citizen")
    assert services.set_case_of_week(actor=petitionoffice, week=week, issue=issue).case_of_week == issue
    other = register(petitionoffice, channel="citizen", title="另一件")
    assert services.set_case_of_week(actor=petitionoffice, week=week, issue=other).case_of_week == other
    with pytest.raises(InvalidInput, match="一周一案只能选择政民"):
        services.set_case_of_week(actor=petitionoffice, week=week, issue=register(netoffice, channel="net"))


@time_machine.travel(datetime.datetime(2026, 6, 2, 10, 0, tzinfo=datetime.UTC), tick=False)
def test_a_citizen_issue_is_due_in_60_calendar_days_rolled_to_a_working_day(petitionoffice):
    issue = core.register_and_assign_issue(
        actor=petitionoffice,
        channel="citizen",
        category=Category.objects.get(code="housing"),
        requester=core.RequesterData(name="群众"),
        title="征地补偿",
        content="征地补偿未到位",
        received_on=timezone.localdate(),
        nature="help",
        lead=dept("hqz"),
    )
    assignment = issue.assignments.get()
    # 2026-06-02 + 60 days = Saturday 2026-08-01 → Monday 2026-08-03.
    assert (assignment.deadline_amount, assignment.deadline_unit) == (60, "calendar_day")
    assert assignment.due_date == D(2026, 8, 3)
    # One extension of at most 30 calendar days.
    assert core.extension_limit(assignment) == D(2026, 9, 2)
