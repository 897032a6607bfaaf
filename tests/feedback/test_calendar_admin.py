"""The yearly holiday update: the notice file, the command, the admin pages, county overrides,
the administrators' warning and the live deadline preview on the registration form."""

from __future__ import annotations

import datetime
import io
import json
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from feedback.access import Role, scope_of
from feedback.admin import notice_digest
from feedback.calendar_notice import MISSING_KIND, NoticeError, calendar_warning, parse_notice, warning_for
from feedback.models import Assignment, CalendarDay, CalendarYear, HistoryEntry, Notification
from feedback.services.calendar import delete_county_day, load_year, save_county_day, warn_missing_calendar
from tests.conftest import make_user
from tests.factories import assigned

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
D = datetime.date
LOAD_URL = "/admin/feedback/calendaryear/load/"

# Made up for the tests (the real 2027 notice may differ): New Year's Day Fri Jan 1 to Mon Jan 4,
# Saturday Jan 9 worked instead; Spring Festival from Fri Feb 5, Saturday Feb 20 worked.
NOTICE_2027 = """\ufeff# 测试用：假想的2027年部分节假日安排
日期,类型,名称

2027-01-01,休,元旦
2027-01-02,休息,元旦
2027-01-03，rest，元旦
2027-01-04\t休\t元旦补休
2027-01-09,班,元旦调休上班   # 周六
2027-02-05,休,春节
2027-02-06,REST,春节
2027-02-07,休
2027-02-20,上班,春节调休上班
2027-02-13,work,测试
"""


def at(year: int, month: int, day: int, hour: int = 10) -> time_machine.travel:
    return time_machine.travel(datetime.datetime(year, month, day, hour, tzinfo=SHANGHAI), tick=False)


def provisional_assignment(netoffice) -> Assignment:
    # Thu 2026-12-24 + 10 working days runs into 2027: Mon–Fri minus Jan 1 → Fri 2027-01-08, provisional.
    with at(2026, 12, 24):
        _, (a,) = assigned(netoffice, assigned_on=D(2026, 12, 24))
    assert a.provisional and a.due_date == D(2027, 1, 8)
    return a


def national_rows(year: int) -> list[tuple]:
    return list(
        CalendarDay.objects.filter(source="national", date__year=year)
        .values_list("date", "is_workday", "name")
        .order_by("date")
    )


# --- the notice file ------------------------------------------------------------------------------


def test_a_notice_accepts_comments_blank_lines_a_header_and_every_spelling_of_rest_and_work():
    days = parse_notice(NOTICE_2027, year=2027)

    assert [(d.date, d.is_workday) for d in days] == [
        (D(2027, 1, 1), False),
        (D(2027, 1, 2), False),
        (D(2027, 1, 3), False),
        (D(2027, 1, 4), False),
        (D(2027, 1, 9), True),
        (D(2027, 2, 5), False),
        (D(2027, 2, 6), False),
        (D(2027, 2, 7), False),
        (D(2027, 2, 13), True),
        (D(2027, 2, 20), True),
    ]
    assert days[4].name == "元旦调休上班"  # the trailing comment is not part of the name
    assert days[7].name == ""
    assert days[3].line == 7 and days[3].weekday == "周一"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("2027-01-05", "格式不对"),
        ("2027-01-05,,元旦", "格式不对"),
        ("2027-02-30,休,春节", "日期“2027-02-30”无效"),
        ("2027/01/05,休,元旦", "应写成 YYYY-MM-DD"),
        ("2027-1-5,休,元旦", "应写成 YYYY-MM-DD"),
        ("2026-12-31,休,元旦", "不在 2027 年内"),
        ("2027-01-05,放假,元旦", "类型“放假”无效"),
        ("2027-01-05,班,元旦调休上班", "是周二，本来就是工作日"),
        ("2027-01-05,休," + "长" * 51, "超过 50 个字"),
    ],
)
def test_each_kind_of_bad_line_is_reported_with_its_line_number(line, reason):
    with pytest.raises(NoticeError) as caught:
        parse_notice(["# 注释", "2027-01-01,休,元旦", line], year=2027)

    assert len(caught.value.errors) == 1
    assert caught.value.errors[0].startswith("第3行：")
    assert reason in caught.value.errors[0]


def test_every_bad_line_is_reported_at_once_including_a_date_given_twice():
    text = "2027-01-01,休,元旦\n2027-13-01,休\n2027-01-01,休,元旦\n2027-01-02,放假\n"
    with pytest.raises(NoticeError) as caught:
        parse_notice(text, year=2027)

    assert caught.value.errors == [
        "第2行：日期“2027-13-01”无效，应写成 YYYY-MM-DD，例如 2027-01-01",
        "第3行：日期 2027-01-01 与第1行重复",
        "第4行：类型“放假”无效，应为 休（休息、rest）或 班（上班、work）",
    ]


@pytest.mark.parametrize(
    ("text", "year", "message"),
    [
        ("# 只有注释\n\n", 2027, "没有读到任何日期行"),
        ("2027-01-01,休,元旦", 1999, "年份应在"),
    ],
)
def test_an_empty_notice_or_an_impossible_year_is_refused(text, year, message):
    with pytest.raises(NoticeError, match=message):
        parse_notice(text, year=year)


def test_a_bad_notice_writes_nothing(reference, netoffice):
    a = provisional_assignment(netoffice)
    before = national_rows(2026)

    with pytest.raises(NoticeError):
        load_year(actor=None, year=2026, lines=NOTICE_2027, source="错年份")

    assert national_rows(2026) == before
    assert not CalendarYear.objects.filter(year=2027).exists()
    a.refresh_from_db()
    assert a.provisional and a.due_date == D(2027, 1, 8)


# --- loading a year -----------------------------------------------------------------------------


def test_loading_2027_makes_a_provisional_deadline_final_records_it_and_tells_the_department(
    reference, netoffice, admin_user, zjj_head
):
    a = provisional_assignment(netoffice)
    version = a.deadline_version

    with at(2026, 12, 25):
        result = load_year(actor=admin_user, year=2027, lines=NOTICE_2027, source="国办发明电〔2026〕测试号")

    assert (result.rest_days, result.work_days, result.replaced, result.recomputed) == (7, 3, 0, 1)
    a.refresh_from_db()
    # Jan 4 is now a rest day and Saturday Jan 9 a working day: the tenth working day is Jan 9.
    assert a.due_date == a.original_due_date == D(2027, 1, 9)
    assert not a.provisional
    assert a.deadline_version == version + 1
    entry = HistoryEntry.objects.get(assignment=a, action="deadline_recomputed")
    assert "2027-01-08" in entry.note and "2027-01-09" in entry.note and entry.actor == admin_user
    note = Notification.objects.get(recipient=zjj_head, kind="deadline_recomputed")
    assert note.assignment == a and "2027-01-09" in note.body
    year = CalendarYear.objects.get(year=2027)
    assert year.source == "国办发明电〔2026〕测试号"


def test_reloading_a_year_replaces_its_national_rows_and_keeps_county_overrides(reference, admin_user):
    load_year(actor=admin_user, year=2027, lines=NOTICE_2027, source="")
    CalendarDay.objects.create(date=D(2027, 3, 3), is_workday=False, name="县里放假", source="county")

    result = load_year(actor=admin_user, year=2027, lines="2027-01-01,休,元旦\n", source="更正")

    assert result.replaced == 10
    assert national_rows(2027) == [(D(2027, 1, 1), False, "元旦")]
    assert CalendarDay.objects.filter(source="county", date=D(2027, 3, 3)).exists()
    assert list(CalendarYear.objects.filter(year=2027).values_list("source", flat=True)) == ["更正"]


def test_a_year_loaded_without_a_source_names_the_notice(reference):
    load_year(actor=None, year=2027, lines="2027-01-01,休,元旦", source="  ")

    assert CalendarYear.objects.get(year=2027).source == "国务院办公厅关于2027年部分节假日安排的通知"


# --- the command ----------------------------------------------------------------------------------


@pytest.fixture
def notice_file(tmp_path):
    path = tmp_path / "2027.csv"
    path.write_text(NOTICE_2027, encoding="utf-8")
    return path


def test_the_command_dry_run_lists_the_days_and_writes_nothing(reference, notice_file):
    out = io.StringIO()
    call_command("load_calendar_year", str(notice_file), "--year", "2027", "--dry-run", stdout=out)

    assert "2027-01-09 周六 调休上班 元旦调休上班" in out.getvalue()
    assert "试运行，未写入" in out.getvalue()
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert national_rows(2027) == []


def test_the_command_loads_the_year_and_recomputes(reference, netoffice, notice_file):
    a = provisional_assignment(netoffice)
    out = io.StringIO()
    call_command("load_calendar_year", str(notice_file), "--year", "2027", stdout=out)

    assert "已载入2027年节假日安排：休息日 7 天、调休上班日 3 天" in out.getvalue()
    assert "重新计算了 1 项" in out.getvalue()
    a.refresh_from_db()
    assert a.due_date == D(2027, 1, 9) and not a.provisional


def test_the_command_refuses_a_bad_file_line_by_line_and_writes_nothing(reference, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("2027-01-01,休,元旦\n2027-01-05,班,调休\n2028-01-01,休,元旦\n", encoding="utf-8")
    err = io.StringIO()

    with pytest.raises(CommandError, match="2 处错误，未写入任何数据"):
        call_command("load_calendar_year", str(path), "--year", "2027", stderr=err)

    assert "第2行：" in err.getvalue() and "第3行：" in err.getvalue()
    assert national_rows(2027) == []
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_the_command_refuses_a_missing_or_non_utf8_file(reference, tmp_path):
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("load_calendar_year", str(tmp_path / "nope.csv"), "--year", "2027")
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("2027-01-01,休,元旦\n".encode("gbk"))
    with pytest.raises(CommandError, match="不是 UTF-8"):
        call_command("load_calendar_year", str(gbk), "--year", "2027")


# --- county overrides ---------------------------------------------------------------------------


def test_a_county_holiday_on_a_weekday_moves_an_open_deadline_and_removing_it_moves_it_back(
    reference, netoffice, admin_user, zjj_head
):
    # Tue 2026-12-01 + 10 working days → Tue 2026-12-15.
    with at(2026, 12, 1):
        _, (a,) = assigned(netoffice, assigned_on=D(2026, 12, 1))
    assert a.due_date == D(2026, 12, 15)

    day = CalendarDay(date=D(2026, 12, 9), is_workday=False, name="本县放假（测试）")
    assert save_county_day(actor=admin_user, day=day) == 1
    a.refresh_from_db()
    assert a.due_date == D(2026, 12, 16)
    assert day.source == "county"
    assert Notification.objects.filter(recipient=zjj_head, kind="deadline_recomputed").count() == 1

    assert delete_county_day(actor=admin_user, day=day) == 1
    a.refresh_from_db()
    assert a.due_date == D(2026, 12, 15)
    assert HistoryEntry.objects.filter(assignment=a, action="deadline_recomputed").count() == 2


def test_a_national_row_cannot_be_deleted_as_a_county_override(reference, admin_user):
    national = CalendarDay.objects.get(date=D(2026, 10, 1), source="national")
    with pytest.raises(ValueError, match="只能删除本县调整"):
        delete_county_day(actor=admin_user, day=national)
    assert CalendarDay.objects.filter(pk=national.pk).exists()


# --- admin pages --------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_the_calendar_year_list_offers_the_notice_page(reference, admin_client):
    response = admin_client.get(reverse("admin:feedback_calendaryear_changelist"))

    assert response.status_code == 200
    assert "载入国务院节假日安排" in response.text
    assert LOAD_URL in response.text
    assert reverse("admin:feedback_calendaryear_add") not in response.text  # years come only from a notice


def test_the_notice_page_previews_then_loads_on_confirmation(reference, admin_client, netoffice):
    a = provisional_assignment(netoffice)
    assert admin_client.get(LOAD_URL).status_code == 200

    response = admin_client.post(
        LOAD_URL, {"year": "2027", "source": "测试通知", "text": NOTICE_2027, "_preview": "预览"}
    )

    assert response.status_code == 200
    assert "预览：2027年 休息日 7 天，调休上班日 3 天" in response.text
    assert "2027-01-09" in response.text and "元旦调休上班" in response.text
    assert "确认载入2027年安排" in response.text
    assert not CalendarYear.objects.filter(year=2027).exists()  # nothing written by a preview
    digest = response.context["form"].initial["digest"]

    response = admin_client.post(
        LOAD_URL,
        {
            "year": "2027",
            "source": "测试通知",
            "text": NOTICE_2027.replace("\n", "\r\n"),
            "digest": digest,
            "_confirm": "确认",
        },
    )

    assert response.status_code == 302
    assert response.url == reverse("admin:feedback_calendaryear_changelist")
    assert CalendarYear.objects.get(year=2027).source == "测试通知"
    a.refresh_from_db()
    assert a.due_date == D(2027, 1, 9) and not a.provisional
    assert "重新计算了 1 项交办" in admin_client.get(response.url).text


def test_the_notice_page_takes_an_uploaded_file_into_the_text_box(reference, admin_client):
    upload = SimpleUploadedFile("2027.csv", NOTICE_2027.encode("utf-8"), content_type="text/csv")
    response = admin_client.post(LOAD_URL, {"year": "2027", "text": "", "file": upload, "_preview": "预览"})

    assert response.status_code == 200
    assert response.context["preview"]["rest"] == 7
    assert response.context["form"].initial["text"] == NOTICE_2027.lstrip("\ufeff")


def test_the_notice_page_shows_every_bad_line_and_writes_nothing(reference, admin_client):
    text = "2027-01-01,休,元旦\n2027-01-05,班,调休\n2026-05-01,休\n"
    response = admin_client.post(
        LOAD_URL, {"year": "2027", "text": text, "digest": notice_digest(2027, text), "_confirm": "确认"}
    )

    assert response.status_code == 200
    assert "未写入任何数据" in response.text
    assert "第2行：" in response.text and "第3行：" in response.text
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_a_confirmation_for_text_that_was_not_previewed_is_only_a_preview(reference, admin_client):
    previewed = "2027-01-01,休,元旦\n"
    changed = "2027-01-01,休,元旦\n2027-01-04,休,补休\n"
    response = admin_client.post(
        LOAD_URL, {"year": "2027", "text": changed, "digest": notice_digest(2027, previewed), "_confirm": "确认"}
    )

    assert response.status_code == 200
    assert "请核对下面的预览后再确认" in response.text
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_a_county_override_is_added_in_the_admin_and_recomputes(reference, client, admin_user, netoffice):
    # Sessions last 8 hours: sign in after the clock has moved.
    with at(2026, 12, 1):
        client.force_login(admin_user)
        _, (a,) = assigned(netoffice, assigned_on=D(2026, 12, 1))
        response = client.post(
            reverse("admin:feedback_calendarday_add"),
            {"date": "2026-12-09", "is_workday": "False", "name": "本县放假（测试）"},
        )

    assert response.status_code == 302
    day = CalendarDay.objects.get(date=D(2026, 12, 9))
    assert day.source == "county" and not day.is_workday
    a.refresh_from_db()
    assert a.due_date == D(2026, 12, 16)

    with at(2026, 12, 1):
        response = client.post(reverse("admin:feedback_calendarday_delete", args=[day.pk]), {"post": "yes"})
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.due_date == D(2026, 12, 15)


def test_a_county_override_that_changes_nothing_or_repeats_a_date_is_refused(reference, admin_client):
    add = reverse("admin:feedback_calendarday_add")
    response = admin_client.post(add, {"date": "2026-10-01", "is_workday": "False", "name": "国庆"})
    assert "本来就是休息日" in response.text
    response = admin_client.post(add, {"date": "2026-12-09", "is_workday": "True", "name": "照常上班"})
    assert "本来就是工作日" in response.text
    CalendarDay.objects.create(date=D(2026, 12, 9), is_workday=False, name="已有", source="county")
    response = admin_client.post(add, {"date": "2026-12-09", "is_workday": "False", "name": "再来一次"})
    assert "已有本县调整" in response.text
    assert CalendarDay.objects.filter(source="county").count() == 1


def test_national_rows_are_read_only_in_the_admin(reference, admin_client):
    national = CalendarDay.objects.get(date=D(2026, 10, 10), source="national")
    change = reverse("admin:feedback_calendarday_change", args=[national.pk])

    page = admin_client.get(change)
    assert page.status_code == 200
    assert 'name="date"' not in page.text  # shown, not editable
    assert admin_client.post(change, {"date": "2026-10-10", "is_workday": "False", "name": "x"}).status_code == 403
    delete = reverse("admin:feedback_calendarday_delete", args=[national.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    national.refresh_from_db()
    assert national.is_workday
    listing = admin_client.get(reverse("admin:feedback_calendarday_changelist"))
    assert listing.status_code == 200
    assert "delete_selected" not in listing.text


@pytest.mark.parametrize(
    "url",
    [
        LOAD_URL,
        "/admin/feedback/calendaryear/",
        "/admin/feedback/calendarday/",
        "/admin/feedback/calendarday/add/",
    ],
)
def test_the_calendar_admin_is_closed_to_everyone_but_administrators(reference, client, netoffice, url):
    assert client.get(url).status_code == 302  # anonymous: to the admin login
    client.force_login(netoffice)
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response.url  # not staff
    clerk = make_user("staff_clerk", department="wxb", role=Role.OFFICE)
    clerk.is_staff = True
    clerk.save()
    client.force_login(clerk)
    assert client.get(url).status_code == 403
    assert client.post(LOAD_URL, {"year": "2027", "text": "2027-01-01,休,元旦", "_preview": "1"}).status_code == 403


def test_a_staff_member_of_the_administrators_group_may_use_the_calendar_admin(reference, client):
    member = make_user("calendar_admin", role=Role.ADMIN)
    member.is_staff = True
    member.save()
    client.force_login(member)

    assert client.get(LOAD_URL).status_code == 200
    assert client.get("/admin/feedback/calendarday/add/").status_code == 200


# --- the missing-year warning -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "known", "expected"),
    [
        (D(2026, 10, 31), {2026}, None),
        (D(2026, 11, 1), {2026}, "2027年节假日安排尚未载入，跨年期限按周一至周五暂算。请在国务院公布后载入。"),
        (D(2026, 12, 31), {2026, 2027}, None),
        (D(2027, 1, 4), {2026}, "2027年节假日安排尚未载入，期限按周一至周五暂算。请尽快载入国务院公布的安排。"),
        (D(2027, 6, 1), {2027}, None),
    ],
)
def test_calendar_warning_from_november_for_next_year_and_always_for_this_year(today, known, expected):
    assert calendar_warning(today, known) == expected


def test_the_banner_shows_to_administrators_from_november_when_next_year_is_missing(
    reference, client, admin_user, netoffice
):
    with at(2026, 11, 1, 8):
        client.force_login(admin_user)
        page = client.get(reverse("issue_list"))
        admin_index = client.get(reverse("admin:index"))
    assert "2027年节假日安排尚未载入，跨年期限按周一至周五暂算。请在国务院公布后载入。" in page.text
    assert LOAD_URL in page.text
    assert "2027年节假日安排尚未载入" in admin_index.text

    with at(2026, 11, 1, 8):
        client.force_login(netoffice)
        assert "节假日安排尚未载入" not in client.get(reverse("issue_list")).text


def test_the_banner_is_absent_before_november_and_once_next_year_is_loaded(reference, client, admin_user):
    with at(2026, 10, 31, 22):
        client.force_login(admin_user)
        assert "节假日安排尚未载入" not in client.get(reverse("issue_list")).text
    CalendarYear.objects.create(year=2027, source="测试")
    with at(2026, 11, 15):
        client.force_login(admin_user)
        assert "节假日安排尚未载入" not in client.get(reverse("issue_list")).text


def test_the_banner_costs_administrators_one_query_and_everyone_else_none(
    reference, admin_user, netoffice, django_assert_num_queries
):
    scope_of(admin_user), scope_of(netoffice)  # computed once per request by the portal anyway
    with django_assert_num_queries(1):
        assert warning_for(admin_user, D(2026, 11, 2))
    with django_assert_num_queries(0):
        assert warning_for(netoffice, D(2026, 11, 2)) is None


def test_warn_missing_calendar_tells_each_administrator_once_per_year(reference, admin_user, netoffice):
    second = make_user("admin2", role=Role.ADMIN)
    gone = make_user("admin_gone", role=Role.ADMIN)
    gone.is_active = False
    gone.save()

    assert warn_missing_calendar(D(2026, 10, 31)) == 0
    assert warn_missing_calendar(D(2026, 11, 2)) == 2
    assert warn_missing_calendar(D(2026, 11, 3)) == 0  # a rerun, the next day's run: nothing new

    notes = Notification.objects.filter(kind=MISSING_KIND)
    assert sorted(notes.values_list("recipient__username", flat=True)) == ["admin", "admin2"]
    assert set(notes.values_list("deadline_version", flat=True)) == {2027}
    assert all(n.issue_id is None and n.assignment_id is None for n in notes)
    assert "载入国务院节假日安排" in notes.first().body
    assert not Notification.objects.filter(recipient__in=[netoffice, gone]).exists()
    assert second.notifications.count() == 1


def test_warn_missing_calendar_stays_quiet_once_the_year_is_loaded(reference, admin_user):
    load_year(actor=None, year=2027, lines="2027-01-01,休,元旦", source="")

    assert warn_missing_calendar(D(2026, 12, 1)) == 0
    assert not Notification.objects.filter(kind=MISSING_KIND).exists()


# --- the live deadline preview on the registration form ---------------------------------------------


def test_the_registration_form_carries_the_preview_box_and_the_default_policies(reference, client, netoffice):
    with at(2026, 12, 24):
        client.force_login(netoffice)
        response = client.get(reverse("issue_create"))

    assert response.status_code == 200
    box = re.search(r'<div [^>]*id="deadline-preview"[^>]*>', response.text).group(0)
    assert 'data-url="/api/v1/deadlines/preview/"' in box
    assert 'data-start="2026-12-24"' in box
    policies = json.loads(re.search(r'data-policies="([^"]*)"', box).group(1).replace("&quot;", '"'))
    assert policies == {
        "net": {
            "": {"amount": 10, "unit": "working_day", "label": "政网书面回复：10个工作日"},
            "consult": {"amount": 3, "unit": "working_day", "label": "政网咨询类回复：3个工作日"},
        }
    }
    assert "<script>" not in response.text and " onchange=" not in response.text  # CSP: script-src 'self'


def test_a_year_added_by_a_newer_chinesecalendar_recomputes_provisional_deadlines(netoffice):
    """load_reference_data adds years the package brings and recomputes open deadlines in them."""
    import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    from feedback.models import CalendarDay, CalendarYear
    from feedback.services.reference import load_reference_data
    from tests.factories import assigned

    with time_machine.travel(datetime.datetime(2026, 9, 28, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        # Pretend 2026 had not been loaded when this was assigned: its deadline was provisional.
        CalendarDay.objects.filter(date__year=2026).delete()
        CalendarYear.objects.filter(year=2026).delete()
        _, (a,) = assigned(netoffice, assigned_on=datetime.date(2026, 9, 28))
        assert a.provisional and a.due_date == datetime.date(2026, 10, 14)  # Mon–Fri minus Oct 1–3
        load_reference_data()  # the package still has 2026: the year is added back
    a.refresh_from_db()
    assert not a.provisional
    assert a.due_date == datetime.date(2026, 10, 16)  # Sep 29, 30, Oct 8, 9, 10 (Sat), 12 … 16
    assert a.history.filter(action="deadline_recomputed").exists()
