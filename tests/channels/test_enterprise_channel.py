"""政企直通车: the registry, the enterprise-day scheduler and notice, duty, problems and 三长会诊."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from channels_enterprise import creditcode, services
from channels_enterprise.models import EnterpriseDay
from channels_enterprise.schedule import plan_month
from feedback import services as core
from feedback.deadlines import WorkCalendar
from feedback.errors import BatchRejected, InvalidInput, NotPermitted
from feedback.models import Category, Channel, Department, Issue, Notification
from tests.conftest import make_user, reply_pdf

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def with_check_digit(first17: str) -> str:
    """Computed here independently of the code under test (GB 32100-2015)."""
    total = sum(CHARSET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return first17 + CHARSET[(31 - total % 31) % 31]


VALID = with_check_digit("91430525MA4L7B2K3")
WRONG = VALID[:17] + CHARSET[(CHARSET.index(VALID[17]) + 1) % 31]


@pytest.fixture(autouse=True)
def frozen_clock(time_machine: Any) -> None:
    time_machine.move_to(datetime.datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI), tick=False)


def enterprise(actor: Any, code: str = VALID, **kwargs: Any) -> Any:
    return services.register_enterprise(
        actor=actor,
        name=kwargs.pop("name", "洞口电子科技有限公司"),
        credit_code=code,
        park="经开区电子信息产业园",
        sector="电子",
        contact_name="李经理",
        contact_phone="13812345678",
        **kwargs,
    )


# ---- the registry --------------------------------------------------------------------------


def test_a_credit_code_with_a_wrong_check_digit_is_refused_with_the_expected_digit(ezoneoffice: Any) -> None:
    with pytest.raises(InvalidInput) as exc:
        enterprise(ezoneoffice, WRONG)
    assert exc.value.field == "credit_code"
    assert f"第18位应为“{VALID[17]}”" in exc.value.message


def test_a_real_format_credit_code_with_its_check_digit_is_accepted(ezoneoffice: Any) -> None:
    ent = enterprise(ezoneoffice, VALID.lower())
    assert ent.credit_code == VALID
    assert creditcode.credit_code_problem(VALID) == ""


def test_a_credit_code_of_wrong_length_or_letters_is_refused() -> None:
    assert "18位" in creditcode.credit_code_problem("91430525MA4L7B2K")
    assert "不允许的字符" in creditcode.credit_code_problem("91430525MA4L7B2KI" + "0")


def test_the_contact_phone_is_masked_for_display(ezoneoffice: Any) -> None:
    assert enterprise(ezoneoffice).masked_phone == "138****5678"


def test_a_leader_may_not_register_an_enterprise(leader: Any) -> None:
    with pytest.raises(NotPermitted):
        enterprise(leader)


# ---- the scheduler -------------------------------------------------------------------------

EXPECTED_2026 = {1: 23, 2: 24, 3: 23, 4: 23, 5: 25, 6: 23, 7: 23, 8: 24, 9: 23, 10: 23, 11: 23, 12: 23}


def test_enterprise_days_fall_on_the_23rd_or_the_next_working_day_through_2027(reference: None) -> None:
    for year in (2026, 2027):
        for month in range(1, 13):
            services.schedule_enterprise_days(today=datetime.date(year, month, 1))
    days = {d.month: d for d in EnterpriseDay.objects.all()}
    for month, day_of_month in EXPECTED_2026.items():
        day = days[datetime.date(2026, month, 1)]
        assert day.held_on == datetime.date(2026, month, day_of_month), month
        assert not day.provisional
    for month in range(1, 13):
        day = days[datetime.date(2027, month, 1)]
        assert day.provisional, month
        assert day.held_on.weekday() < 5 and day.held_on.month == month
        assert day.held_on - datetime.date(2027, month, 23) < datetime.timedelta(days=3)
    assert days[datetime.date(2027, 1, 1)].held_on == datetime.date(2027, 1, 25)  # the 23rd is a Saturday
    assert len(days) == 25  # and January 2028, a month ahead of the last run


def test_the_notice_date_is_three_working_days_before() -> None:
    plan = plan_month(2026, 5, WorkCalendar(known_years=frozenset({2026})))
    assert (plan.held_on, plan.notice_on) == (datetime.date(2026, 5, 25), datetime.date(2026, 5, 20))


def test_scheduling_is_idempotent_and_creates_the_coming_month_a_month_ahead(reference: None) -> None:
    first = services.schedule_enterprise_days(today=datetime.date(2026, 11, 25))
    again = services.schedule_enterprise_days(today=datetime.date(2026, 11, 25))
    assert [d.held_on for d in first] == [datetime.date(2026, 12, 23)]  # November's has passed
    assert again == []
    assert EnterpriseDay.objects.count() == 1


def test_a_provisional_day_is_redated_when_its_year_is_loaded(reference: None) -> None:
    from feedback.models import CalendarDay, CalendarYear

    services.schedule_enterprise_days(today=datetime.date(2026, 12, 1))
    day = EnterpriseDay.objects.get(month=datetime.date(2027, 1, 1))
    assert day.provisional
    CalendarYear.objects.create(year=2027, source="测试")
    CalendarDay.objects.create(date=datetime.date(2027, 1, 25), is_workday=False, name="测试休息")
    redated = services.schedule_enterprise_days(today=datetime.date(2026, 12, 1))
    day.refresh_from_db()
    assert redated == [day]
    assert (day.held_on, day.provisional) == (datetime.date(2027, 1, 26), False)


def test_the_daily_run_also_moves_a_definite_day_when_the_calendar_changed_behind_the_hooks_back(
    reference: None,
) -> None:
    from feedback.models import CalendarDay

    (day,) = services.schedule_enterprise_days(today=datetime.date(2026, 11, 25))  # December, definite
    CalendarDay.objects.create(
        date=datetime.date(2026, 12, 23), is_workday=False, name="直接写入", source=CalendarDay.Source.COUNTY
    )
    assert services.schedule_enterprise_days(today=datetime.date(2026, 11, 25)) == [day]
    day.refresh_from_db()
    assert (day.held_on, day.provisional) == (datetime.date(2026, 12, 24), False)
    assert day.changes.get().held_on_before == datetime.date(2026, 12, 23)


# ---- re-dating when the calendar changes ---------------------------------------------------


def move_to(time_machine: Any, day: datetime.date) -> None:
    time_machine.move_to(datetime.datetime(day.year, day.month, day.day, 10, 0, tzinfo=SHANGHAI), tick=False)


def county_rest(day: datetime.date) -> Any:
    from feedback.models import CalendarDay
    from feedback.services.calendar import save_county_day

    row = CalendarDay(date=day, is_workday=False, name="本县调整（测试）")
    save_county_day(actor=None, day=row)
    return row


def test_a_definite_day_not_yet_noticed_moves_at_once_with_a_record_and_no_notification(
    december_day: EnterpriseDay,
) -> None:
    county_rest(datetime.date(2026, 12, 23))  # the office saves a county rest day on 25 November
    december_day.refresh_from_db()
    assert (december_day.held_on, december_day.notice_on) == (datetime.date(2026, 12, 24), datetime.date(2026, 12, 18))
    change = december_day.changes.get()
    assert (change.action, change.held_on_before, change.held_on_after, change.corrected_notice) == (
        "moved",
        datetime.date(2026, 12, 23),
        datetime.date(2026, 12, 24),
        False,
    )
    assert change.reason == "2026年工作日历调整"
    assert not Notification.objects.exists()  # the notice goes out in time, with the new date


def test_a_day_moved_after_its_notice_went_out_gets_a_corrected_notice_once(
    time_machine: Any, ezoneoffice: Any, netoffice: Any, leader: Any, december_day: EnterpriseDay
) -> None:
    services.set_day_duty(actor=ezoneoffice, day=december_day, leaders=[leader], place="电子信息产业园")
    move_to(time_machine, datetime.date(2026, 12, 18))
    assert services.send_enterprise_day_notices() == 2
    move_to(time_machine, datetime.date(2026, 12, 21))
    rest = county_rest(datetime.date(2026, 12, 23))
    december_day.refresh_from_db()
    assert december_day.held_on == datetime.date(2026, 12, 24)
    assert december_day.changes.get().corrected_notice
    moved = list(Notification.objects.filter(kind=services.MOVED_KIND))
    assert {n.recipient_id for n in moved} == {ezoneoffice.pk, leader.pk}  # those told before; not 网信办
    assert {n.deadline_version for n in moved} == {20261224}
    assert "由2026年12月23日改为2026年12月24日" in moved[0].body and "电子信息产业园" in moved[0].body
    # The daily notice run counts the correction as the new date's notice: only a leader put on
    # duty since is told.
    other = make_user("other_leader", role="leader")
    services.set_day_duty(actor=ezoneoffice, day=december_day, leaders=[leader, other], place="电子信息产业园")
    assert services.send_enterprise_day_notices() == 1
    assert Notification.objects.get(kind=services.NOTICE_KIND, deadline_version=20261224).recipient == other
    # The override withdrawn: the day moves back, and everyone told is told again.
    from feedback.services.calendar import delete_county_day

    delete_county_day(actor=None, day=rest)
    december_day.refresh_from_db()
    assert december_day.held_on == datetime.date(2026, 12, 23)
    back = Notification.objects.filter(kind=services.MOVED_KIND, deadline_version=20261223)
    assert {n.recipient_id for n in back} == {ezoneoffice.pk, leader.pk, other.pk}
    assert december_day.changes.count() == 2


@pytest.mark.parametrize("activity", ["held", "problems", None])
def test_a_day_held_or_with_problems_recorded_never_moves(
    time_machine: Any, ezoneoffice: Any, leader: Any, december_day: EnterpriseDay, activity: str | None
) -> None:
    move_to(time_machine, datetime.date(2026, 12, 23))
    if activity == "held":
        services.set_day_duty(actor=ezoneoffice, day=december_day, leaders=[leader])
        services.mark_day_held(actor=ezoneoffice, day=december_day, summary="走访三家企业")
    elif activity == "problems":
        services.raise_problems(
            actor=ezoneoffice,
            day=december_day,
            problems=[
                services.ProblemData(
                    enterprise=enterprise(ezoneoffice),
                    category=Category.objects.get(code="housing"),
                    title="员工通勤难",
                    content="希望开通通勤公交线路。",
                    lead=Department.objects.get(code="zjj"),
                )
            ],
        )
    county_rest(datetime.date(2026, 12, 23))  # declared on the day itself
    services.schedule_enterprise_days(today=datetime.date(2026, 12, 23))
    december_day.refresh_from_db()
    if activity:
        assert december_day.held_on == datetime.date(2026, 12, 23) and not december_day.changes.exists()
    else:  # nothing recorded yet: the day is not held, the rule moves it to the next working day
        assert december_day.held_on == datetime.date(2026, 12, 24)


def test_a_day_whose_new_date_has_passed_keeps_its_date_and_the_office_is_told_once(
    time_machine: Any, ezoneoffice: Any, leader: Any, reference: None
) -> None:
    from feedback.services.calendar import load_year

    services.schedule_enterprise_days(today=datetime.date(2026, 12, 1))
    january = EnterpriseDay.objects.get(month=datetime.date(2027, 1, 1))
    assert (january.held_on, january.provisional) == (datetime.date(2027, 1, 25), True)  # Saturday 23rd
    # Sunday 24 January: a (late) notice makes Saturday the 23rd a make-up working day.
    move_to(time_machine, datetime.date(2027, 1, 24))
    load_year(actor=None, year=2027, lines="2027-01-01,休,元旦\n2027-01-23,班,调休上班（测试）", source="测试")
    january.refresh_from_db()
    assert (january.held_on, january.provisional) == (datetime.date(2027, 1, 25), False)
    change = january.changes.get()
    assert (change.action, change.held_on_before, change.held_on_after) == (
        "kept",
        datetime.date(2027, 1, 25),
        datetime.date(2027, 1, 23),
    )
    kept = Notification.objects.get(kind=services.KEPT_KIND)
    assert kept.recipient == ezoneoffice and "仍定于2027年01月25日举行" in kept.body
    for today in (datetime.date(2027, 1, 24), datetime.date(2027, 1, 25)):
        services.schedule_enterprise_days(today=today)
    assert january.changes.count() == 1 and Notification.objects.filter(kind=services.KEPT_KIND).count() == 1


# ---- duty and the notice -------------------------------------------------------------------


@pytest.fixture
def december_day(reference: None) -> EnterpriseDay:
    (day,) = services.schedule_enterprise_days(today=datetime.date(2026, 11, 25))
    return day


def test_an_inactive_leader_is_refused(ezoneoffice: Any, leader: Any, december_day: EnterpriseDay) -> None:
    leader.is_active = False
    leader.save()
    with pytest.raises(InvalidInput, match="已停用"):
        services.set_day_duty(actor=ezoneoffice, day=december_day, leaders=[leader])
    assert not december_day.leaders.exists()


def test_a_user_who_is_not_a_county_leader_is_refused(
    ezoneoffice: Any, zjj_head: Any, december_day: EnterpriseDay
) -> None:
    with pytest.raises(InvalidInput, match="不是县领导"):
        services.set_day_duty(actor=ezoneoffice, day=december_day, leaders=[zjj_head])


def test_the_notice_goes_once_to_the_office_and_the_leaders_on_duty(
    ezoneoffice: Any, netoffice: Any, leader: Any, december_day: EnterpriseDay
) -> None:
    other_leader = make_user("other_leader", role="leader")
    services.set_day_duty(
        actor=ezoneoffice,
        day=december_day,
        leaders=[leader],
        place="电子信息产业园",
        departments=[Department.objects.get(code="zjj")],
    )
    assert december_day.notice_on == datetime.date(2026, 12, 18)
    assert services.send_enterprise_day_notices(today=datetime.date(2026, 12, 17)) == 0
    assert services.send_enterprise_day_notices(today=datetime.date(2026, 12, 18)) == 2
    assert services.send_enterprise_day_notices(today=datetime.date(2026, 12, 21)) == 0
    notes = Notification.objects.filter(kind=services.NOTICE_KIND)
    told = {n.recipient_id for n in notes}
    assert told == {ezoneoffice.pk, leader.pk}
    assert other_leader.pk not in told and netoffice.pk not in told
    assert "电子信息产业园" in notes[0].body
    december_day.refresh_from_db()
    assert december_day.noticed_at is not None


# ---- problems and joint consultation -------------------------------------------------------


@pytest.fixture
def november_day(reference: None) -> EnterpriseDay:
    (day, _) = services.schedule_enterprise_days(today=datetime.date(2026, 11, 1))
    assert day.held_on == datetime.date(2026, 11, 23)
    return day


def test_problems_raised_at_an_enterprise_day_become_assigned_issues(
    ezoneoffice: Any, november_day: EnterpriseDay
) -> None:
    ent = enterprise(ezoneoffice)
    category = Category.objects.get(code="housing")
    intakes = services.raise_problems(
        actor=ezoneoffice,
        day=november_day,
        problems=[
            services.ProblemData(
                enterprise=ent,
                category=category,
                title="员工通勤难",
                content="希望开通通勤公交线路。",
                lead=Department.objects.get(code="zjj"),
            ),
            services.ProblemData(enterprise=ent, category=category, title="厂区道路破损", content="请修复。"),
        ],
    )
    first, second = (Issue.objects.get(pk=i.issue_id) for i in intakes)
    assert first.channel == Channel.ENTERPRISE and first.received_on == november_day.held_on
    assert first.status == Issue.Status.ASSIGNED and first.assignments.count() == 1
    assert second.status == Issue.Status.REGISTERED
    assert first.requester.organization == ent.name
    assert all(i.enterprise == ent and i.day == november_day for i in intakes)
    assert list(november_day.enterprises.all()) == [ent]


def test_a_batch_of_problems_is_all_or_nothing(ezoneoffice: Any, november_day: EnterpriseDay) -> None:
    ent = enterprise(ezoneoffice)
    category = Category.objects.get(code="housing")
    with pytest.raises(BatchRejected) as caught:
        services.raise_problems(
            actor=ezoneoffice,
            day=november_day,
            problems=[
                services.ProblemData(enterprise=ent, category=category, title="好的", content="内容"),
                services.ProblemData(enterprise=ent, category=category, title="", content="  "),
                services.ProblemData(enterprise=ent, category=category, title="好的", content="内容"),
            ],
        )
    assert list(caught.value.rows) == [1]
    assert (caught.value.rows[1].field, caught.value.rows[1].message) == ("content", "请填写问题内容。")
    assert not Issue.objects.exists()


def test_a_joint_consultation_is_recorded_with_participants_and_outcome(
    ezoneoffice: Any, november_day: EnterpriseDay
) -> None:
    ent = enterprise(ezoneoffice)
    (intake,) = services.raise_problems(
        actor=ezoneoffice,
        day=november_day,
        problems=[
            services.ProblemData(
                enterprise=ent, category=Category.objects.get(code="housing"), title="融资难", content="流动资金贷款。"
            )
        ],
    )
    record = services.record_consultation(
        actor=ezoneoffice,
        intake=intake,
        held_on=datetime.date(2026, 11, 24),
        participants=["县长", "财政局局长", " ", "农商行行长"],
        outcome="贷款获批",
    )
    assert record.participants == ["县长", "财政局局长", "农商行行长"]
    with pytest.raises(InvalidInput, match="参加会诊"):
        services.record_consultation(
            actor=ezoneoffice, intake=intake, held_on=datetime.date(2026, 11, 24), participants=[], outcome="x"
        )


def test_the_channel_page_counts_problems_solved_per_month_and_year(
    client: Any, ezoneoffice: Any, zjj_head: Any, november_day: EnterpriseDay
) -> None:
    ent = enterprise(ezoneoffice)
    (intake,) = services.raise_problems(
        actor=ezoneoffice,
        day=november_day,
        problems=[
            services.ProblemData(
                enterprise=ent,
                category=Category.objects.get(code="housing"),
                title="用电报装慢",
                content="请加快。",
                lead=Department.objects.get(code="zjj"),
            )
        ],
    )
    assignment = intake.issue.assignments.get()
    core.acknowledge_assignment(actor=zjj_head, assignment=assignment)
    reply = core.submit_reply(
        actor=zjj_head,
        assignment=assignment,
        file=reply_pdf(),
        signer_name="王建国",
        signer_title="局长",
        signed_on=datetime.date(2026, 11, 25),
        result="resolved",
        summary="已解决。",
    )
    core.accept_reply(actor=ezoneoffice, reply=reply)
    from channels_enterprise import figures

    assert [(r.year, r.month, r.solved) for r in figures.solved_per_month(Issue.objects.all())] == [(2026, 11, 1)]
    assert [(r.year, r.solved) for r in figures.solved_per_year(Issue.objects.all())] == [(2026, 1)]
    client.force_login(ezoneoffice)
    page = client.get("/enterprise/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "2026年11月" in text and "解决企业问题" in text and "2026-11-23" in text
