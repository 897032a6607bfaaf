"""The session an issue was raised at travels with the ledger (issue 14 §3; columns 来源会议 and
会议日期, docs/ledger-format.md, docs/decisions/0660): the import re-links each issue to the channel's
session of that date, or records it, all or nothing."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels_citizen.models import CitizenIntake, NoMeetingWeek
from channels_enterprise.models import Enterprise, EnterpriseDay, EnterpriseIntake
from channels_net.models import Forum, NetIntake
from feedback import services
from feedback.ledger.parse import check_ledger
from feedback.models import Issue
from tests.feedback.test_import import COLUMNS, csv_bytes, ledger_row, nothing_written, run, run_failing, write

pytestmark = pytest.mark.django_db
WITH_SESSION = (*COLUMNS, "来源会议", "会议日期")


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime.datetime(2026, 11, 30, 2, 0, tzinfo=datetime.UTC), tick=False):
        yield


def row(ref: str, channel: str, session: str, day: str, **values: str) -> dict[str, str]:
    return ledger_row(ref=ref, channel=channel, **{"来源会议": session, "会议日期": day}, **values)


def test_a_forum_of_that_date_is_re_linked_and_a_missing_one_recorded(reference, tmp_path):
    held = Forum.objects.create(title="2024年第一季度网民座谈会", held_on=datetime.date(2024, 3, 12))
    rows = [
        row("ZW-1", "net", "第一季度座谈会（台账里的叫法）", "2024-03-12", received_on="2024-03-12"),
        row("ZW-2", "net", "2024年第二季度网民座谈会", "2024/6/18", received_on="2024-06-18", requester="亮亮老师"),
        row("ZW-3", "net", "", "", received_on="2024-06-19"),
    ]
    run(write(tmp_path, csv_bytes(rows, columns=WITH_SESSION)))
    intakes = {i.issue.ref: i for i in NetIntake.objects.select_related("issue", "forum")}
    assert intakes["ZW-1"].forum == held  # the date is the key: re-linked, not a second forum
    recorded = intakes["ZW-2"].forum
    assert (recorded.title, recorded.held_on, recorded.recorded_on) == (
        "2024年第二季度网民座谈会",
        datetime.date(2024, 6, 18),
        datetime.date(2026, 11, 30),  # 补录 on the day of the import
    )
    assert intakes["ZW-2"].handle == "亮亮老师"
    assert "ZW-3" not in intakes  # no session named: none invented
    assert Forum.objects.count() == 2


def test_an_enterprise_day_and_a_no_meeting_week_are_recorded_with_the_ledger_dates(reference, tmp_path):
    Enterprise.objects.create(name="湘中电子有限公司", credit_code="91430525MA4L12345X")
    rows = [
        row("ZQ-1", "enterprise", "2024年03月企业家日", "2024-03-25", requester_org="湘中电子有限公司"),
        row("ZQ-2", "enterprise", "2024年03月企业家日", "2024-03-25", requester_org="未登记的企业"),
        row("ZM-1", "citizen", "2024年03月无会周", "2024-03-25"),
    ]
    run(write(tmp_path, csv_bytes(rows, columns=WITH_SESSION)))
    day = EnterpriseDay.objects.get()
    assert (day.month, day.held_on) == (datetime.date(2024, 3, 1), datetime.date(2024, 3, 25))
    assert day.recorded_on == datetime.date(2026, 11, 30)  # 补录 on the day of the import, as a forum
    by_ref = {i.issue.ref: i for i in EnterpriseIntake.objects.select_related("issue", "enterprise")}
    assert by_ref["ZQ-1"].day == by_ref["ZQ-2"].day == day
    assert by_ref["ZQ-1"].enterprise.name == "湘中电子有限公司"  # tied to the registry by name
    assert (by_ref["ZQ-2"].enterprise, by_ref["ZQ-2"].enterprise_name) == (None, "未登记的企业")
    week = NoMeetingWeek.objects.get()
    assert (week.starts_on, week.ends_on) == (datetime.date(2024, 3, 25), datetime.date(2024, 3, 29))
    assert week.recorded_on == datetime.date(2026, 11, 30)
    assert CitizenIntake.objects.get().week == week


def test_sessions_not_yet_over_on_the_import_day_are_not_marked_recorded_afterwards(reference, tmp_path):
    rows = [
        row("ZQ-1", "enterprise", "2026年11月企业家日", "2026-11-30"),
        row("ZM-1", "citizen", "2026年11月无会周", "2026-11-27"),  # its week runs to Friday 12-04
    ]
    run(write(tmp_path, csv_bytes(rows, columns=WITH_SESSION)))
    assert EnterpriseDay.objects.get().recorded_on is None
    week = NoMeetingWeek.objects.get()
    assert week.ends_on >= datetime.date(2026, 11, 30) and week.recorded_on is None


def test_an_enterprise_day_of_that_month_on_another_date_refuses_the_whole_file(reference, tmp_path):
    EnterpriseDay.objects.create(month=datetime.date(2024, 3, 1), held_on=datetime.date(2024, 3, 23))
    rows = [
        row("ZW-1", "net", "2024年第一季度网民座谈会", "2024-03-12"),
        row("ZQ-1", "enterprise", "2024年03月企业家日", "2024-03-25", requester_org="湘中电子"),
    ]
    problems = run_failing(write(tmp_path, csv_bytes(rows, columns=WITH_SESSION)))
    assert any(p.startswith("第 3 行 会议日期：") for p in problems), problems
    assert any("2024-03-23" in p and "每月只有一个企业家日" in p for p in problems), problems
    assert nothing_written() and not Forum.objects.exists() and not NetIntake.objects.exists()


@pytest.mark.parametrize("channel", ["enterprise", "citizen"])
def test_two_dates_in_one_month_for_a_new_session_are_refused(reference, tmp_path, channel):
    rows = [
        row("A-1", channel, "三月", "2024-03-25", requester_org="湘中电子"),
        row("A-2", channel, "三月", "2024-03-26", requester_org="湘中电子"),
    ]
    problems = run_failing(write(tmp_path, csv_bytes(rows, columns=WITH_SESSION)))
    assert any("2024-03-26" in p and "2024-03-25" in p for p in problems), problems
    assert nothing_written() and not EnterpriseDay.objects.exists() and not NoMeetingWeek.objects.exists()


def test_a_week_of_that_month_starting_another_day_refuses_the_file(reference, tmp_path):
    NoMeetingWeek.objects.create(
        month=datetime.date(2024, 3, 1), starts_on=datetime.date(2024, 3, 25), ends_on=datetime.date(2024, 3, 29)
    )
    ok = [row("ZM-1", "citizen", "2024年03月无会周", "2024-03-25")]
    run(write(tmp_path, csv_bytes(ok, columns=WITH_SESSION)))
    assert CitizenIntake.objects.get().week.starts_on == datetime.date(2024, 3, 25)  # re-linked
    bad = [row("ZM-2", "citizen", "2024年03月无会周", "2024-03-20")]
    problems = run_failing(write(tmp_path, csv_bytes(bad, columns=WITH_SESSION), "bad.csv"))
    assert any("2024-03-25" in p and "每月只有一个无会周" in p for p in problems), problems
    assert not Issue.objects.filter(ref="ZM-2").exists() and NoMeetingWeek.objects.count() == 1


@pytest.mark.parametrize(("name", "day"), [("2024年第一季度网民座谈会", ""), ("", "2024-03-12")])
def test_a_session_needs_both_its_name_and_its_date(reference, tmp_path, name, day):
    problems = run_failing(write(tmp_path, csv_bytes([row("ZW-1", "net", name, day)], columns=WITH_SESSION)))
    assert any("来源会议和会议日期须同时填写或同时留空" in p for p in problems), problems
    assert nothing_written()


def test_a_bad_session_date_is_a_row_problem(reference, tmp_path):
    problems = run_failing(write(tmp_path, csv_bytes([row("ZW-1", "net", "座谈会", "三月")], columns=WITH_SESSION)))
    assert any("会议日期" in p and "三月" in p for p in problems), problems


def test_importing_twice_links_once(reference, tmp_path):
    path = write(tmp_path, csv_bytes([row("ZW-1", "net", "座谈会", "2024-03-12")], columns=WITH_SESSION))
    run(path)
    run(path)
    assert NetIntake.objects.count() == 1 and Forum.objects.count() == 1


def test_the_sessions_cost_a_few_queries_whatever_the_rows(reference):
    def queries(rows: int, offset: int) -> int:
        data = csv_bytes(
            [
                row(f"ZW-{offset + n}", "net", "座谈会", f"2024-03-{1 + n % 3:02d}", replied_on="2024-03-20")
                for n in range(rows)
            ],
            columns=WITH_SESSION,
        )
        with CaptureQueriesContext(connection) as captured:
            ledger = check_ledger(data, "ledger.csv")
            assert ledger.ok, ledger.problems[:3]
            services.import_ledger(actor=None, ledger=ledger)
        return len(captured)

    few, many = queries(6, 0), queries(60, 100)
    assert many <= few + 2, (few, many)
    assert NetIntake.objects.count() == 66


def test_one_row_imported_through_the_service_is_linked_too(reference):
    ledger = check_ledger(csv_bytes([row("ZW-9", "net", "座谈会", "2024-03-12")], columns=WITH_SESSION), "l.csv")
    assert ledger.ok, ledger.problems
    issue = services.import_ledger_issue(actor=None, row=ledger.rows[0])
    assert NetIntake.objects.get(issue=issue).forum.held_on == datetime.date(2024, 3, 12)
    assert services.import_ledger_issue(actor=None, row=ledger.rows[0]) is None  # present: nothing linked again
    assert NetIntake.objects.count() == 1


@pytest.mark.parametrize(("channel", "reason"), [("enterprise", "企业家日月份有误"), ("citizen", "无会周月份有误")])
def test_a_session_before_2000_is_refused_as_the_channels_services_refuse_it(reference, tmp_path, channel, reason):
    """The hooks record sessions through the channel's bulk services (record_days, record_weeks),
    which keep record_past_day's and plan_week's check of the month."""
    rows = [row("A-1", channel, "补录", "1999-03-25", requester_org="湘中电子")]
    problems = run_failing(write(tmp_path, csv_bytes(rows, columns=WITH_SESSION)))
    assert problems == [f"第 2 行 会议日期：{reason}。"], problems  # the file's own header, in Chinese
    assert nothing_written() and not EnterpriseDay.objects.exists() and not NoMeetingWeek.objects.exists()


def test_an_office_importing_its_own_channel_records_its_sessions(reference, tmp_path, ezoneoffice):
    rows = [row("ZQ-1", "enterprise", "2024年03月企业家日", "2024-03-25", requester_org="湘中电子")]
    run(write(tmp_path, csv_bytes(rows, columns=WITH_SESSION)), "--user", ezoneoffice.username)
    assert EnterpriseIntake.objects.get().day.held_on == datetime.date(2024, 3, 25)
