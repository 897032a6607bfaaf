"""政企直通车 in the browser: the registry, enterprise days, batch intake of problems, 三长会诊, who may
see and do what (404 out of scope), and the lists' query counts."""

from __future__ import annotations

import datetime
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from channels_enterprise import services
from channels_enterprise.models import Consultation, Enterprise, EnterpriseDay, EnterpriseIntake, EnterpriseLog
from feedback.access import Role
from feedback.models import Assignment, Category, Channel, Department, Issue, Notification
from tests.channels.enterprise_factories import (
    EnterpriseDayFactory,
    EnterpriseFactory,
    credit_code,
    wrong_check_digit,
)
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def move_to(time_machine: Any, day: datetime.date) -> None:
    time_machine.move_to(datetime.datetime(day.year, day.month, day.day, 10, 0, tzinfo=SHANGHAI), tick=False)


@pytest.fixture(autouse=True)
def frozen_clock(time_machine: Any) -> None:
    move_to(time_machine, datetime.date(2026, 11, 25))


def login(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def url(name: str, *args: Any) -> str:
    return reverse(f"channels_enterprise:{name}", args=args)


def dept(code: str) -> Department:
    return Department.objects.get(code=code)


def registry_form(**overrides: str) -> dict[str, str]:
    data = {
        "name": "洞口电子科技有限公司",
        "credit_code": credit_code(1),
        "park": "经开区电子信息产业园",
        "sector": "电子",
        "contact_name": "李经理",
        "contact_phone": "13812345678",
    }
    data.update(overrides)
    return data


# --- batch rows as the browser posts them --------------------------------------------------------


def management(total: int = 8) -> dict[str, str]:
    return {
        "rows-TOTAL_FORMS": str(total),
        "rows-INITIAL_FORMS": "0",
        "rows-MIN_NUM_FORMS": "0",
        "rows-MAX_NUM_FORMS": "100",
    }


def row(i: int, enterprise: Enterprise, **overrides: str) -> dict[str, str]:
    values = {
        "enterprise": str(enterprise.pk),
        "category": str(Category.objects.get(code="business").pk),
        "departments": "县住房和城乡建设局",
        "title": "",
        "content": f"第{i + 1}个问题：厂区道路破损，请修复。",
        "onsite_answer": "",
    }
    values.update(overrides)
    return {f"rows-{i}-{k}": v for k, v in values.items()}


# --- the whole cycle ---------------------------------------------------------------------------------


def test_the_whole_cycle_in_the_browser(
    client: Client, time_machine: Any, ezoneoffice: Any, leader: Any, zjj_head: Any, jtj_head: Any
) -> None:
    move_to(time_machine, datetime.date(2026, 11, 2))
    office = login(Client(), ezoneoffice)

    # The registry: an enterprise is registered on the page.
    response = office.post(url("enterprise_create"), registry_form())
    assert response.status_code == 302
    ent = Enterprise.objects.get()
    assert ent.contact_phone == "13812345678"
    assert EnterpriseLog.objects.filter(enterprise=ent, action=EnterpriseLog.Action.REGISTERED).exists()

    # Plan: the scheduler creates this month's day (the 23rd, a Monday) and the next month's.
    assert office.post(url("day_schedule")).status_code == 302
    day = EnterpriseDay.objects.get(month=datetime.date(2026, 11, 1))
    assert (day.held_on, day.notice_on, day.provisional) == (
        datetime.date(2026, 11, 23),
        datetime.date(2026, 11, 18),
        False,
    )
    listing = office.get(url("day_list")).content.decode()
    assert "2026-11-23" in listing and "2026-12-23" in listing
    page = office.get(url("day_detail", day.pk)).content.decode()
    assert "2026年11月18日（活动前第3个工作日）" in page and "到期自动发出" in page

    # Duty: the leader, two departments, the enterprise visited, the place.
    response = office.post(
        url("day_duty", day.pk),
        {
            "leaders": [leader.pk],
            "departments": [dept("zjj").pk, dept("jtj").pk],
            "enterprises": [ent.pk],
            "place": "电子信息产业园",
            "note": "县长带队",
        },
    )
    assert response.status_code == 302
    assert list(day.leaders.all()) == [leader] and day.departments.count() == 2

    # The notice goes on the 3rd working day before, to the office and the leader on duty.
    move_to(time_machine, datetime.date(2026, 11, 18))
    office.force_login(ezoneoffice)  # sessions last a working day
    assert office.post(url("day_schedule"))["Location"] == url("day_list")
    told = set(Notification.objects.filter(kind=services.NOTICE_KIND).values_list("recipient_id", flat=True))
    assert told == {ezoneoffice.pk, leader.pk}
    assert "已于" in office.get(url("day_detail", day.pk)).content.decode()

    # Hold it.
    move_to(time_machine, datetime.date(2026, 11, 23))
    office.force_login(ezoneoffice)
    response = office.post(url("day_held", day.pk), {"summary": "走访3家企业，现场答复2个问题。"})
    assert response["Location"] == url("day_detail", day.pk)
    day.refresh_from_db()
    assert day.held_at is not None and day.held_by == ezoneoffice

    # Enter the problems in one batch: registered as 政企 issues and assigned in the same step.
    form = office.get(url("day_intake", day.pk)).content.decode()
    assert 'name="rows-7-content"' in form and "csrfmiddlewaretoken" in form
    response = office.post(
        url("day_intake", day.pk),
        {
            **management(),
            **row(0, ent, title="员工通勤难", content="员工上下班没有公交，希望开通通勤线路。"),
            **row(1, ent, departments="交通运输局；住建局", onsite_answer="交通运输局现场答复：调研后开线。"),
        },
    )
    assert response.status_code == 302, response.content.decode()
    issues = list(Issue.objects.order_by("id"))
    assert [i.channel for i in issues] == [Channel.ENTERPRISE] * 2
    assert [i.status for i in issues] == [Issue.Status.ASSIGNED] * 2
    assert issues[0].title == "员工通勤难" and issues[1].title.startswith("第2个问题")
    assert issues[0].received_on == day.held_on and issues[1].onsite_answer.startswith("交通运输局")
    assert {(a.issue_id, a.department.code, a.role) for a in Assignment.objects.all()} == {
        (issues[0].pk, "zjj", "lead"),
        (issues[1].pk, "jtj", "lead"),
        (issues[1].pk, "zjj", "co"),
    }
    detail = office.get(url("day_detail", day.pk)).content.decode()
    assert issues[0].ref in detail and reverse("issue_detail", args=[issues[0].pk]) in detail

    # The departments see them in their inbox, and in the channel's problem list only their own.
    zjj = login(Client(), zjj_head)
    inbox = zjj.get(reverse("inbox")).content.decode()
    assert issues[0].ref in inbox and issues[1].ref in inbox
    jtj = login(Client(), jtj_head)
    inbox = jtj.get(reverse("inbox")).content.decode()
    assert issues[1].ref in inbox and issues[0].ref not in inbox
    problems = jtj.get(url("problem_list")).content.decode()
    assert issues[1].ref in problems and issues[0].ref not in problems
    assert "县住房和城乡建设局" not in problems  # a lead sees its assignment, not the co-handler's row

    # A hard one goes to 三长会诊.
    intake = EnterpriseIntake.objects.get(issue=issues[0])
    response = office.post(
        url("consultation_create", intake.pk),
        {
            "held_on": "2026-11-23",
            "county_leaders": "县长 张某",
            "bureau_heads": "县交通运输局局长 李某\n县住建局局长 王某",
            "bank_heads": "农商银行行长 赵某",
            "outcome": "开通三条通勤公交线路。",
        },
    )
    assert response.status_code == 302
    record = Consultation.objects.get()
    assert record.participants == ["县长 张某", "县交通运输局局长 李某", "县住建局局长 王某", "农商银行行长 赵某"]
    listing = office.get(url("consultation_list")).content.decode()
    assert "开通三条通勤公交线路。" in listing and issues[0].ref in listing
    assert issues[0].ref in zjj.get(url("consultation_list")).content.decode()
    assert issues[0].ref not in jtj.get(url("consultation_list")).content.decode()

    # The channel's page links to all of it.
    home = office.get(url("home")).content.decode()
    for name in ("enterprise_list", "day_list", "problem_list", "consultation_list"):
        assert url(name) in home


# --- the registry ---------------------------------------------------------------------------------


def test_a_wrong_check_digit_is_refused_on_the_page_with_the_expected_character(
    client: Client, ezoneoffice: Any
) -> None:
    good = credit_code(7)
    page = login(client, ezoneoffice).post(url("enterprise_create"), registry_form(credit_code=wrong_check_digit(good)))
    assert page.status_code == 200
    assert f"统一社会信用代码校验位错误：第18位应为“{good[17]}”" in page.content.decode()
    assert not Enterprise.objects.exists()


def test_a_credit_code_already_registered_is_refused(client: Client, ezoneoffice: Any) -> None:
    EnterpriseFactory(credit_code=credit_code(3))
    page = login(client, ezoneoffice).post(url("enterprise_create"), registry_form(credit_code=credit_code(3)))
    assert "已登记" in page.content.decode()
    assert Enterprise.objects.count() == 1


def test_an_edit_is_recorded_with_the_phone_masked_and_a_blank_phone_keeps_it(client: Client, ezoneoffice: Any) -> None:
    ent = EnterpriseFactory(contact_phone="13812345678")
    old_name = ent.name
    login(client, ezoneoffice)
    form = client.get(url("enterprise_edit", ent.pk)).content.decode()
    assert "13812345678" not in form and "138****5678" in form
    data = registry_form(
        name="洞口电子科技股份有限公司", credit_code=ent.credit_code.lower(), contact_phone="", active="on"
    )
    assert client.post(url("enterprise_edit", ent.pk), data).status_code == 302
    ent.refresh_from_db()
    assert ent.name == "洞口电子科技股份有限公司" and ent.contact_phone == "13812345678"
    client.post(url("enterprise_edit", ent.pk), {**data, "contact_phone": "13900001111", "active": ""})
    ent.refresh_from_db()
    assert ent.contact_phone == "13900001111" and not ent.active
    entries = list(EnterpriseLog.objects.filter(enterprise=ent, action=EnterpriseLog.Action.UPDATED).order_by("id"))
    assert ["企业名称", old_name, "洞口电子科技股份有限公司"] in entries[0].changes
    assert not any(change[0] == "统一社会信用代码" for change in entries[0].changes)  # only the case differed
    assert ["联系电话", "138****5678", "139****1111"] in entries[1].changes
    assert ["在册", "是", "否"] in entries[1].changes
    assert "13900001111" not in str(entries[1].changes)


def test_the_phone_is_masked_in_lists_and_shown_in_full_only_to_the_office_and_recorded(
    client: Client, ezoneoffice: Any, leader: Any, caplog: Any
) -> None:
    ent = EnterpriseFactory(contact_phone="13812345678")
    for user in (leader, ezoneoffice):
        login(client, user)
        assert "13812345678" not in client.get(url("enterprise_list")).content.decode()
        page = client.get(url("enterprise_detail", ent.pk)).content.decode()
        assert "138****5678" in page and "13812345678" not in page
    assert login(client, leader).post(url("enterprise_phone", ent.pk)).status_code == 404
    assert "显示完整号码" not in client.get(url("enterprise_detail", ent.pk)).content.decode()
    login(client, ezoneoffice)
    with caplog.at_level("INFO", logger="feedback.privacy"):
        shown = client.post(url("enterprise_phone", ent.pk))
    assert shown.status_code == 200 and "13812345678" in shown.content.decode()
    assert shown["Cache-Control"] == "private, no-store"
    assert "enterprise contact phone shown: user=ezoneoffice" in caplog.text
    entry = EnterpriseLog.objects.get(action=EnterpriseLog.Action.PHONE_SHOWN)
    assert (entry.enterprise, entry.actor) == (ent, ezoneoffice)
    assert client.get(url("enterprise_phone", ent.pk)).status_code == 405  # never by a plain link


def test_the_list_searches_name_code_park_and_sector_sorts_and_pages(client: Client, leader: Any) -> None:
    EnterpriseFactory.create_batch(27, park="经开区电子信息产业园")
    EnterpriseFactory(name="湘西南农产品加工厂", park="1号食品园", sector="食品", credit_code=credit_code(9999))
    EnterpriseFactory(name="已注销的厂", active=False)
    login(client, leader)
    first = client.get(url("enterprise_list")).content.decode()
    assert "共 28 条" in first and "已注销的厂" not in first
    for q in ("农产品", "食品园", "食品", credit_code(9999)[-8:].lower()):
        page = client.get(url("enterprise_list"), {"q": q}).content.decode()
        assert "湘西南农产品加工厂" in page and "共 1 条" in page, q
    page = client.get(url("enterprise_list"), {"active": "0"}).content.decode()
    assert "已注销的厂" in page
    ordered = client.get(url("enterprise_list"), {"sort": "park"}).context["page"].object_list
    assert ordered[0].park == "1号食品园"
    assert client.get(url("enterprise_list"), {"sort": "nonsense"}).status_code == 200
    second = client.get(url("enterprise_list"), {"page": "2"}).context["page"]
    assert second.number == 2 and len(second.object_list) == 3


def test_the_excel_export_has_chinese_headers_and_masked_phones(client: Client, leader: Any) -> None:
    EnterpriseFactory(name="洞口电子", contact_phone="13812345678")
    EnterpriseFactory(name='=HYPERLINK("http://x")', contact_phone="")
    response = login(client, leader).get(url("enterprise_export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:6] == ("企业名称", "统一社会信用代码", "所在园区", "行业", "联系人", "联系电话")
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["洞口电子"][5] == "138****5678"
    assert sheet.cell(row=2, column=1).data_type == "s" and sheet.cell(row=3, column=1).data_type == "s"


# --- enterprise days ------------------------------------------------------------------------------


@pytest.fixture
def november_day(reference: None) -> EnterpriseDay:
    day, _ = services.schedule_enterprise_days(today=datetime.date(2026, 11, 1))
    return day


def test_an_inactive_leader_is_refused_on_the_duty_page_with_the_reason(
    client: Client, ezoneoffice: Any, leader: Any, november_day: EnterpriseDay
) -> None:
    gone = make_user("retired_leader", role=Role.LEADER)
    gone.first_name = "老县长"
    gone.is_active = False
    gone.save()
    login(client, ezoneoffice)
    assert "老县长（已停用）" in client.get(url("day_duty", november_day.pk)).content.decode()
    page = client.post(url("day_duty", november_day.pk), {"leaders": [leader.pk, gone.pk], "place": "产业园"})
    assert page.status_code == 200
    assert "县领导“老县长”的账号已停用，不能安排带队。" in page.content.decode()
    november_day.refresh_from_db()
    assert not november_day.leaders.exists() and november_day.place == "经开区企业服务中心"


def test_a_day_is_not_marked_held_before_its_date_nor_without_a_leader(
    client: Client, time_machine: Any, ezoneoffice: Any, leader: Any, november_day: EnterpriseDay
) -> None:
    move_to(time_machine, datetime.date(2026, 11, 20))
    login(client, ezoneoffice)
    page = client.post(url("day_held", november_day.pk), {"summary": "x"}).content.decode()
    assert "尚未到期，不能确认已举行" in page
    move_to(time_machine, datetime.date(2026, 11, 23))
    client.force_login(ezoneoffice)
    page = client.post(url("day_held", november_day.pk), {"summary": "x"}).content.decode()
    assert "请先安排带队县领导" in page
    november_day.refresh_from_db()
    assert november_day.held_at is None


def test_a_provisional_day_shows_it(client: Client, leader: Any, reference: None) -> None:
    services.schedule_enterprise_days(today=datetime.date(2026, 12, 1))
    day = EnterpriseDay.objects.get(month=datetime.date(2027, 1, 1))
    assert day.provisional
    login(client, leader)
    assert "日期暂定" in client.get(url("day_list")).content.decode()
    assert "该年节假日安排尚未载入" in client.get(url("day_detail", day.pk)).content.decode()


def test_a_day_confirmed_held_by_nobody_in_particular_shows_the_system(
    client: Client, leader: Any, november_day: EnterpriseDay
) -> None:
    """held_by is empty when the system confirmed the day (or the account went): the page still opens."""
    from django.utils import timezone

    EnterpriseDay.objects.filter(pk=november_day.pk).update(held_at=timezone.now(), held_by=None, summary="导入")
    page = login(client, leader).get(url("day_detail", november_day.pk))
    assert page.status_code == 200
    assert "由 系统 确认举行" in page.content.decode() and "已举行" in page.content.decode()


def test_a_day_moved_by_a_calendar_change_shows_the_move(client: Client, leader: Any, reference: None) -> None:
    from feedback.models import CalendarDay
    from feedback.services.calendar import save_county_day

    (day,) = services.schedule_enterprise_days(today=datetime.date(2026, 11, 25))  # December's, the 23rd
    save_county_day(actor=None, day=CalendarDay(date=datetime.date(2026, 12, 23), is_workday=False, name="本县调整"))
    html = login(client, leader).get(url("day_detail", day.pk)).content.decode()
    assert "改期记录" in html and "由 12月23日 改为 12月24日" in html and "2026年工作日历调整" in html


def test_a_past_day_not_confirmed_has_one_name_and_is_not_listed_as_held(
    client: Client, leader: Any, november_day: EnterpriseDay
) -> None:
    login(client, leader)
    home = client.get(url("home")).content.decode()
    days = client.get(url("day_list")).content.decode()
    for page in (home, days):
        assert f"day-{november_day.pk}" in page or url("day_detail", november_day.pk) in page
        assert "待确认举行" in page and "未确认举行" not in page
    assert "已举行的企业家日" not in home and "往期企业家日" in home
    EnterpriseDay.objects.filter(pk=november_day.pk).update(held_at=datetime.datetime(2026, 11, 24, tzinfo=SHANGHAI))
    home = client.get(url("home")).content.decode()
    assert "待确认举行" not in home and "已举行" in home


def test_the_filters_label_with_the_full_width_colon(client: Client, leader: Any, reference: None) -> None:
    login(client, leader)
    for name in ("enterprise_list", "problem_list"):
        page = client.get(url(name)).content.decode()
        assert "状态：</label>" in page and ":</label>" not in page


# --- batch intake -----------------------------------------------------------------------------------


def test_one_bad_row_refuses_the_whole_batch_with_a_message_per_row(
    client: Client, ezoneoffice: Any, november_day: EnterpriseDay
) -> None:
    ent = EnterpriseFactory()
    login(client, ezoneoffice)
    target = url("day_intake", november_day.pk)
    # A form error (an unknown department code) in row 2 …
    page = client.post(target, {**management(), **row(0, ent), **row(1, ent, departments="住建局；nosuch")})
    html = page.content.decode()
    assert page.status_code == 200 and "第 2 行：未知单位“nosuch”，请从列表中选择单位名称" in html
    assert "有 1 行填写不完整或有误，本批问题均未登记" in html
    # … and errors only the service finds (the lead again as co-handler, a co-handler twice).
    page = client.post(
        target,
        {
            **management(),
            **row(0, ent),
            **row(1, ent, departments="zjj；zjj"),
            **row(2, ent, departments="zjj；jtj；jtj"),
        },
    )
    html = page.content.decode()
    assert "有 2 行填写有误，本批问题均未登记" in html
    assert "第 2 行：协办单位“县住房和城乡建设局”与主办单位相同。" in html
    assert "第 3 行：协办单位“县交通运输局”重复。" in html
    assert not Issue.objects.exists() and not EnterpriseIntake.objects.exists()
    assert not Assignment.objects.exists() and not november_day.enterprises.exists()


def test_an_enterprise_taken_off_the_register_cannot_be_chosen(
    client: Client, ezoneoffice: Any, november_day: EnterpriseDay
) -> None:
    gone = EnterpriseFactory(active=False)
    page = login(client, ezoneoffice).post(url("day_intake", november_day.pk), {**management(), **row(0, gone)})
    assert page.status_code == 200 and not Issue.objects.exists()


def test_problems_of_a_day_not_yet_held_are_refused(client: Client, ezoneoffice: Any, reference: None) -> None:
    (day,) = services.schedule_enterprise_days(today=datetime.date(2026, 11, 25))  # December's
    ent = EnterpriseFactory()
    login(client, ezoneoffice)
    assert "企业家日尚未举行" in client.get(url("day_intake", day.pk)).content.decode()
    page = client.post(url("day_intake", day.pk), {**management(), **row(0, ent)})
    assert "企业家日尚未举行，不能登记现场问题。" in page.content.decode()
    assert not Issue.objects.exists()


def test_an_empty_batch_asks_for_a_row(client: Client, ezoneoffice: Any, november_day: EnterpriseDay) -> None:
    page = login(client, ezoneoffice).post(url("day_intake", november_day.pk), management())
    assert "请至少填写一行问题。" in page.content.decode()


def test_the_lead_department_is_listed_before_its_co_handler(
    client: Client, ezoneoffice: Any, november_day: EnterpriseDay
) -> None:
    problems_for(ezoneoffice, november_day, 1)  # 住建局 leads, 交通运输局 co-handles
    login(client, ezoneoffice)
    for page in (url("day_detail", november_day.pk), url("problem_list")):
        assert "县住房和城乡建设局（主办）、县交通运输局（协办）" in client.get(page).content.decode()


def test_a_consultation_without_people_or_a_past_one_without_an_outcome_is_refused(
    client: Client, ezoneoffice: Any, november_day: EnterpriseDay
) -> None:
    intake = _hard_problem(ezoneoffice, november_day)
    login(client, ezoneoffice)
    page = client.post(url("consultation_create", intake.pk), {"held_on": "2026-11-24", "outcome": "x"})
    assert "请填写参加会诊的人员" in page.content.decode()
    page = client.post(url("consultation_create", intake.pk), {"held_on": "2026-11-24", "county_leaders": "县长"})
    assert "请填写会诊结果" in page.content.decode()
    assert not Consultation.objects.exists()


def test_a_consultation_requested_for_a_later_date_is_planned_then_held(
    client: Client, ezoneoffice: Any, november_day: EnterpriseDay, time_machine: Any
) -> None:
    intake = _hard_problem(ezoneoffice, november_day)
    login(client, ezoneoffice)
    later = timezone.localdate() + datetime.timedelta(days=5)
    response = client.post(
        url("consultation_create", intake.pk),
        {"held_on": later.isoformat(), "county_leaders": "县长 张某", "bank_heads": "农商银行行长 王某"},
    )
    assert response.status_code == 302
    planned = Consultation.objects.get()
    assert (planned.status, planned.held_on, planned.outcome) == ("planned", later, "")
    listing = client.get(url("consultation_list")).content.decode()
    assert "计划会诊" in listing and "待会诊" in listing
    # Before the day: the outcome cannot be recorded yet.
    client.post(url("consultation_held", planned.pk), {"outcome": "同意贷款贴息"})
    assert Consultation.objects.get().status == "planned"
    time_machine.move_to(
        datetime.datetime.combine(later, datetime.time(15), tzinfo=timezone.get_current_timezone()), tick=False
    )
    login(client, ezoneoffice)  # the session of five days ago has expired
    assert "记录会诊结果" in client.get(url("consultation_list")).content.decode()
    client.post(url("consultation_held", planned.pk), {"outcome": "同意贷款贴息"})
    held = Consultation.objects.get()
    assert (held.status, held.held_on, held.outcome) == ("held", later, "同意贷款贴息")
    # Recorded once: a second outcome is refused, the first stands.
    client.post(url("consultation_held", planned.pk), {"outcome": "改了"})
    assert Consultation.objects.get().outcome == "同意贷款贴息"


def _hard_problem(office: Any, day: EnterpriseDay) -> Any:
    ent = EnterpriseFactory()
    (intake,) = services.raise_problems(
        actor=office,
        day=day,
        problems=[
            services.ProblemData(
                enterprise=ent, category=Category.objects.get(code="business"), title="融资难", content="流动资金贷款。"
            )
        ],
    )
    return intake


# --- who sees what ---------------------------------------------------------------------------------


@pytest.fixture
def world(ezoneoffice: Any, november_day: EnterpriseDay) -> dict[str, Any]:
    ent = EnterpriseFactory()
    zjj_problem, jtj_problem = services.raise_problems(
        actor=ezoneoffice,
        day=november_day,
        problems=[
            services.ProblemData(
                enterprise=ent,
                category=Category.objects.get(code="business"),
                title="用电报装慢",
                content="请加快。",
                lead=dept("zjj"),
            ),
            services.ProblemData(
                enterprise=ent,
                category=Category.objects.get(code="business"),
                title="道路破损",
                content="请修复。",
                lead=dept("jtj"),
            ),
        ],
    )
    services.record_consultation(
        actor=ezoneoffice,
        intake=jtj_problem,
        held_on=datetime.date(2026, 11, 24),
        participants=["县长"],
        outcome="已协调",
    )
    return {"enterprise": ent, "day": november_day, "zjj": zjj_problem, "jtj": jtj_problem}


def read_urls(w: dict[str, Any]) -> list[str]:
    return [
        url("enterprise_list"),
        url("enterprise_export"),
        url("enterprise_detail", w["enterprise"].pk),
        url("day_list"),
        url("day_detail", w["day"].pk),
    ]


def write_urls(w: dict[str, Any]) -> list[str]:
    return [
        url("enterprise_create"),
        url("enterprise_edit", w["enterprise"].pk),
        url("day_duty", w["day"].pk),
        url("day_held", w["day"].pk),
        url("day_intake", w["day"].pk),
        url("consultation_create", w["zjj"].pk),
    ]


def test_another_channel_office_finds_nothing(client: Client, netoffice: Any, world: dict[str, Any]) -> None:
    login(client, netoffice)
    for target in [*read_urls(world), *write_urls(world), url("problem_list"), url("consultation_list")]:
        assert client.get(target).status_code == 404, target
    assert client.post(url("day_schedule")).status_code == 404
    assert client.post(url("enterprise_phone", world["enterprise"].pk)).status_code == 404


def test_a_leader_reads_everything_and_writes_nothing(client: Client, leader: Any, world: dict[str, Any]) -> None:
    login(client, leader)
    for target in [*read_urls(world), url("problem_list"), url("consultation_list"), url("home")]:
        assert client.get(target).status_code == 200, target
    for target in write_urls(world):
        assert client.get(target).status_code == 404, target
        assert client.post(target, {}).status_code == 404, target
    assert client.post(url("day_schedule")).status_code == 404
    page = client.get(url("day_detail", world["day"].pk)).content.decode()
    assert "批量登记企业问题" not in page and world["zjj"].issue.ref in page


def test_a_department_sees_only_the_problems_assigned_to_it(
    client: Client, zjj_head: Any, world: dict[str, Any]
) -> None:
    login(client, zjj_head)
    for target in [*read_urls(world), *write_urls(world)]:
        assert client.get(target).status_code == 404, target
    problems = client.get(url("problem_list")).content.decode()
    assert world["zjj"].issue.ref in problems and world["jtj"].issue.ref not in problems
    assert "提请会诊" not in problems
    assert client.get(url("problem_list"), {"day": world["day"].pk}).status_code == 404  # the day is not theirs
    assert "已协调" not in client.get(url("consultation_list")).content.decode()
    assert client.get(url("home")).status_code == 200


def test_anonymous_visitors_are_sent_to_the_login(client: Client, world: dict[str, Any]) -> None:
    for target in [*read_urls(world), url("problem_list"), url("home")]:
        response = client.get(target)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], target


def test_forms_require_the_csrf_token(ezoneoffice: Any, world: dict[str, Any]) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(ezoneoffice)
    assert strict.post(url("enterprise_create"), registry_form(credit_code=credit_code(987654321))).status_code == 403
    assert strict.post(url("day_schedule")).status_code == 403
    assert not Enterprise.objects.filter(credit_code=credit_code(987654321)).exists()


def test_what_people_typed_is_escaped(client: Client, ezoneoffice: Any, november_day: EnterpriseDay) -> None:
    ent = EnterpriseFactory(name="<script>alert(1)</script>厂", park="<b>园</b>")
    services.raise_problems(
        actor=ezoneoffice,
        day=november_day,
        problems=[
            services.ProblemData(
                enterprise=ent,
                category=Category.objects.get(code="business"),
                title="<img src=x onerror=alert(1)>",
                content="x",
                lead=dept("zjj"),
            )
        ],
    )
    login(client, ezoneoffice)
    for target in (
        url("enterprise_list"),
        url("enterprise_detail", ent.pk),
        url("problem_list"),
        url("day_detail", november_day.pk),
    ):
        html = client.get(target).content.decode()
        assert "<script>alert(1)" not in html and "<img src=x" not in html and "<b>园" not in html, target


# --- query counts: the same at two sizes -------------------------------------------------------------


def queries(client: Client, target: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(target).status_code == 200
    return len(ctx)


def problems_for(actor: Any, day: EnterpriseDay, count: int) -> None:
    ent = EnterpriseFactory()
    services.raise_problems(
        actor=actor,
        day=day,
        problems=[
            services.ProblemData(
                enterprise=ent,
                category=Category.objects.get(code="business"),
                title=f"问题{i}",
                content="内容",
                lead=dept("zjj"),
                co=[dept("jtj")],
            )
            for i in range(count)
        ],
    )


# Session, user, scope (membership, department, groups) and the unread notifications are 6 of them.
LIST_QUERIES = {"enterprise_list": 8, "day_list": 10, "problem_list": 9, "consultation_list": 8, "home": 18}


@pytest.mark.parametrize("name", list(LIST_QUERIES))
def test_the_lists_take_the_same_queries_at_two_sizes(
    client: Client, ezoneoffice: Any, leader: Any, name: str, reference: None, django_assert_max_num_queries: Any
) -> None:
    login(client, ezoneoffice)

    def grow(n: int) -> None:
        for _ in range(n):
            day = EnterpriseDayFactory()
            day.leaders.add(leader)
            day.departments.add(dept("zjj"), dept("jtj"))
            ent = EnterpriseFactory()
            day.enterprises.add(ent)
            problems_for(ezoneoffice, day, 2)
        for intake in EnterpriseIntake.objects.filter(consultations__isnull=True):
            services.record_consultation(
                actor=ezoneoffice,
                intake=intake,
                held_on=intake.issue.received_on,
                participants=["县长", "行长"],
                outcome="已协调",
            )

    grow(2)
    small = queries(client, url(name))
    with django_assert_max_num_queries(LIST_QUERIES[name]):
        client.get(url(name))
    grow(13)
    with django_assert_max_num_queries(LIST_QUERIES[name]):
        client.get(url(name))
    assert queries(client, url(name)) == small
