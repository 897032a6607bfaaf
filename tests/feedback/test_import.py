"""import_issues (docs/ledger-format.md): CSV and XLSX ledgers, all or nothing, every bad row reported,
the browser's upload → preview → confirm, and export → import reproducing the issues."""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.core.management.color import no_style
from django.db import connection
from django.urls import reverse
from openpyxl import Workbook

from feedback import services
from feedback.ledger.parse import COLUMNS, check_ledger
from feedback.models import Assignment, DeadlineStep, Department, HistoryEntry, Issue, Notification, Requester
from feedback.workcalendar import deadline_for
from tests.conftest import reply_pdf
from tests.factories import assigned, register

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 30)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime.datetime(2026, 11, 30, 2, 0, tzinfo=datetime.UTC), tick=False):
        yield


def ledger_row(**values: str) -> dict[str, str]:
    row = {
        "ref": "ZW2024-00001",
        "channel": "net",
        "received_on": "2024-03-01",
        "requester": "山村支教亮亮老师",
        "requester_phone": "",
        "requester_org": "",
        "category": "housing",
        "title": "学校门口修建人行天桥",
        "content": "上下学高峰人车混行，建议修建天桥。",
        "departments": "zjj",
        "deadline_amount": "",
        "deadline_unit": "",
        "replied_on": "",
        "closed_on": "",
        "satisfaction": "",
    }
    row.update(values)
    return row


def csv_bytes(
    rows: list[dict[str, str]], *, bom: bool = False, columns: tuple[str, ...] = COLUMNS, encoding: str = "utf-8"
) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return ("\ufeff" if bom else "").encode("utf-8") + out.getvalue().encode(encoding)


def write(tmp_path: Path, data: bytes, name: str = "ledger.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def run(path: Path, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_issues", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(path: Path, *args: str) -> list[str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("import_issues", str(path), *args, stdout=out, stderr=err)
    assert "未写入任何数据" in str(failure.value) or "UTF-8" in err.getvalue()
    return err.getvalue().splitlines()


def nothing_written() -> bool:
    return not (
        Issue.objects.exists()
        or Requester.objects.exists()
        or HistoryEntry.objects.exists()
        or Assignment.objects.exists()
    )


THREE_ROWS = [
    ledger_row(
        ref="ZW2024-00001",
        departments="zjj;jtj",
        replied_on="2024-03-12",
        closed_on="2024-03-20",
        satisfaction="满意",
        requester_phone="13812345678",
    ),
    ledger_row(ref="ZW2024-00002", received_on="2024-09-27", replied_on="2024-10-10", title="路灯不亮"),
    ledger_row(
        ref="ZW2024-00003",
        received_on="2026-11-20",
        departments="hqz",
        title="村道破损",
        deadline_amount="15",
        deadline_unit="calendar_day",
    ),
]


# --- reading: CSV with and without BOM, XLSX, encodings -----------------------------------------


def test_a_csv_ledger_imports_every_row_with_its_dates_replies_and_closure(tmp_path, reference, hqz_head, zjj_head):
    out, err = run(write(tmp_path, csv_bytes(THREE_ROWS)))
    assert "created: 3, already present: 0" in out and err == ""

    closed = Issue.objects.get(ref="ZW2024-00001")
    assert (closed.status, closed.closed_on, closed.satisfaction) == ("closed", datetime.date(2024, 3, 20), "satisfied")
    assert closed.followed_up_on == datetime.date(2024, 3, 20)
    lead, co = closed.assignments.order_by("-role")
    assert (lead.department.code, lead.role, co.department.code, co.role) == ("zjj", "lead", "jtj", "co")
    assert {a.status for a in (lead, co)} == {"accepted"}
    assert {a.replied_on for a in (lead, co)} == {datetime.date(2024, 3, 12)}
    assert {a.assigned_on for a in (lead, co)} == {datetime.date(2024, 3, 1)}
    # answered: nothing left to remind
    assert not DeadlineStep.objects.filter(assignment__issue=closed, taken_at=None).exists()

    replied = Issue.objects.get(ref="ZW2024-00002")
    assert (replied.status, replied.closed_on, replied.satisfaction) == ("replied", None, "")

    still_open = Issue.objects.get(ref="ZW2024-00003")
    (a,) = still_open.assignments.all()
    assert (still_open.status, a.status, a.replied_on) == ("assigned", "pending", None)
    assert a.steps.filter(taken_at=None).exists()  # its ladder is waiting for the sweep


def test_due_dates_are_computed_from_received_on_by_the_deadline_rules(tmp_path, reference):
    run(write(tmp_path, csv_bytes(THREE_ROWS)))
    # 10 working days from Friday 2024-09-27 across National Day (make-up Sunday 09-29 and Saturday 10-12).
    (a,) = Assignment.objects.filter(issue__ref="ZW2024-00002")
    assert (a.deadline_amount, a.deadline_unit, a.due_date) == (10, "working_day", datetime.date(2024, 10, 16))
    assert a.policy is not None and a.policy.channel == "net"
    (b,) = Assignment.objects.filter(issue__ref="ZW2024-00003")
    expected = deadline_for(datetime.date(2026, 11, 20), 15, "calendar_day").due_date
    assert (b.deadline_amount, b.deadline_unit, b.due_date, b.policy) == (15, "calendar_day", expected, None)
    assert b.due_date == datetime.date(2026, 12, 7)  # 12-05 is a Saturday: moved to Monday


def test_history_records_every_imported_step_and_only_open_assignments_are_announced(
    tmp_path, reference, zjj_head, hqz_head
):
    run(write(tmp_path, csv_bytes(THREE_ROWS)))
    closed = Issue.objects.get(ref="ZW2024-00001")
    actions = list(closed.history.values_list("action", flat=True))
    assert actions == [
        "register",
        "assign",
        "assigned_to",
        "assigned_to",
        "submit_reply",
        "accept_reply",
        "submit_reply",
        "accept_reply",
        "all_replied",
        "follow_up",
        "close",
    ]
    notes = list(closed.history.values_list("note", flat=True))
    assert notes.count("导入：书面回复日期 2024-03-12") == 3  # two acceptances and the issue's all_replied
    assert any(n.startswith("导入：主办：县住房和城乡建设局；协办：县交通运输局") for n in notes)
    # zjj answered long ago: no bell; hqz has a live assignment: told as usual.
    assert not Notification.objects.filter(recipient=zjj_head).exists()
    assert Notification.objects.filter(recipient=hqz_head, kind="assigned").count() == 1


def test_a_csv_with_a_bom_and_chinese_labels_imports(tmp_path, reference):
    rows = [
        ledger_row(
            channel="政网",
            category="住房和城乡建设",
            departments="县住房和城乡建设局；jtj；",
            deadline_amount="5",
            deadline_unit="工作日",
            replied_on="2024/3/8",
            closed_on="2024-03-09",
            satisfaction="基本满意",
        )
    ]
    out, _ = run(write(tmp_path, csv_bytes(rows, bom=True)))
    assert "created: 1" in out
    issue = Issue.objects.get()
    assert (issue.channel, issue.category.code, issue.satisfaction) == ("net", "housing", "basically")
    assert list(issue.assignments.order_by("-role").values_list("department__code", "deadline_amount")) == [
        ("zjj", 5),
        ("jtj", 5),
    ]
    assert issue.assignments.first().replied_on == datetime.date(2024, 3, 8)


def test_a_ledger_with_chinese_column_names_imports_like_the_english_one(tmp_path, reference):
    from feedback.ledger.parse import CHINESE_COLUMNS, OPTIONAL_COLUMNS

    chinese = {}
    for name, column in CHINESE_COLUMNS.items():
        chinese.setdefault(column, name)  # the first Chinese name of each column
    assert set(chinese) == set(COLUMNS) | set(OPTIONAL_COLUMNS)
    rows = [ledger_row(replied_on="2024-03-08", satisfaction="满意")]
    header = tuple(chinese[c] for c in COLUMNS)
    data = csv_bytes(rows, columns=COLUMNS).decode().split("\r\n", 1)[1]  # the rows without their header
    out, _ = run(write(tmp_path, ",".join(header).encode() + b"\r\n" + data.encode()))
    assert "created: 1" in out
    issue = Issue.objects.get()
    assert (issue.ref, issue.title, issue.satisfaction) == ("ZW2024-00001", "学校门口修建人行天桥", "satisfied")
    assert issue.assignments.get().replied_on == datetime.date(2024, 3, 8)


EXCEL_DATETIME = datetime.datetime.fromisoformat("2024-01-23T00:00")  # Excel's date cells are naive


def test_an_xlsx_ledger_imports_with_date_and_number_cells(tmp_path, reference):
    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    sheet.append(
        [
            "ZQ2024-00007",
            "政企",
            EXCEL_DATETIME,
            "张经理",
            13912345678,
            "某电子科技有限公司",
            "business",
            "员工通勤难",
            "建议开通园区通勤公交。",
            "jtj",
            15,
            "working_day",
            datetime.date(2024, 2, 20),
            datetime.date(2024, 3, 1),
            "满意",
        ]
    )
    sheet.append([None] * len(COLUMNS))  # a blank row is skipped
    out = io.BytesIO()
    book.save(out)
    stdout, _ = run(write(tmp_path, out.getvalue(), "ledger.xlsx"))
    assert "created: 1" in stdout
    issue = Issue.objects.get()
    assert (issue.channel, issue.received_on, issue.closed_on) == (
        "enterprise",
        datetime.date(2024, 1, 23),
        datetime.date(2024, 3, 1),
    )
    assert (issue.requester.phone, issue.requester.organization, issue.requester.kind) == (
        "13912345678",
        "某电子科技有限公司",
        "enterprise",
    )


def test_a_file_in_neither_utf8_nor_gb18030_is_refused_with_the_save_as_utf8_hint(tmp_path, reference):
    data = csv_bytes([ledger_row()]) + b"\x81\x30\xff\xff\r\n"  # not UTF-8, not GB18030 either
    lines = run_failing(write(tmp_path, data))
    assert lines == [
        "row 3: file: 文件既不是 UTF-8 也不是 GBK/GB18030 编码，请在 Excel 中另存为“CSV UTF-8（逗号分隔）”后重新导入"
    ]
    assert nothing_written()


def test_a_damaged_xls_file_is_refused(tmp_path, reference):
    lines = run_failing(write(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "ledger.xls"))
    assert lines[0].startswith("row 1: file: 无法读取该 .xls 文件")


# --- every problem, by row, nothing written ------------------------------------------------------------


def test_missing_columns_are_each_reported_once_on_row_1(tmp_path, reference):
    columns = tuple(c for c in COLUMNS if c not in ("category", "satisfaction"))
    lines = run_failing(write(tmp_path, csv_bytes([ledger_row(), ledger_row(ref="B")], columns=columns)))
    assert lines == ["row 1: category: missing column", "row 1: satisfaction: missing column"]
    assert nothing_written()


def test_every_bad_row_is_reported_as_row_column_reason_and_nothing_is_written(tmp_path, reference):
    tomorrow = (TODAY + datetime.timedelta(days=1)).isoformat()
    rows = [
        ledger_row(ref="OK-1"),  # row 2: fine, but not written
        ledger_row(ref="B-1", category="天文"),  # row 3
        ledger_row(ref="B-2", departments="zjj;县宇航局"),  # row 4
        ledger_row(ref="OK-1"),  # row 5: duplicate ref
        ledger_row(ref="B-3", received_on="2024-02-30"),  # row 6
        ledger_row(ref="B-4", received_on=tomorrow),  # row 7
        ledger_row(ref="B-5", replied_on="2024-02-01"),  # row 8: before received_on
        ledger_row(ref="B-6", closed_on="2024-03-05"),  # row 9: closed, never replied
        ledger_row(ref="B-7", deadline_amount="10"),  # row 10
        ledger_row(ref="B-8", replied_on="2024-03-05", satisfaction="还行"),  # row 11
        ledger_row(ref="B-9", requester="", title="", content=""),  # row 12
        ledger_row(ref="B-10", channel="政务"),  # row 13
        ledger_row(ref="B-11", departments="wxb", deadline_amount="x", deadline_unit="周"),  # row 14
    ]
    lines = run_failing(write(tmp_path, csv_bytes(rows)))
    assert [line.split(": ")[0] + ": " + line.split(": ")[1] for line in lines] == [
        "row 3: category",
        "row 4: departments",
        "row 5: ref",
        "row 6: received_on",
        "row 7: received_on",
        "row 8: replied_on",
        "row 9: closed_on",
        "row 10: deadline_unit",
        "row 11: satisfaction",
        "row 12: requester",
        "row 12: title",
        "row 12: content",
        "row 13: channel",
        "row 14: departments",
        "row 14: deadline_amount",
        "row 14: deadline_unit",
    ]
    assert "row 3: category: 未知分类“天文”" in lines
    assert "row 4: departments: 未知单位“县宇航局”" in lines
    assert "row 5: ref: 编号“OK-1”与第 2 行重复" in lines
    assert "row 6: received_on: 日期“2024-02-30”无效，应为 YYYY-MM-DD" in lines
    assert f"row 7: received_on: 日期 {tomorrow} 晚于今天" in lines
    assert nothing_written()


def test_a_ref_used_by_another_channel_is_an_error_not_a_skip(tmp_path, reference, ezoneoffice):
    register(ezoneoffice, channel="enterprise", ref="X-1", received_on=datetime.date(2024, 1, 5))
    lines = run_failing(write(tmp_path, csv_bytes([ledger_row(ref="X-1"), ledger_row(ref="X-2")])))
    assert lines == ["row 2: ref: 编号“X-1”已被政企直通车的诉求使用"]
    assert not Issue.objects.filter(ref="X-2").exists()


def test_checking_a_ledger_takes_a_fixed_number_of_queries(reference, django_assert_max_num_queries):
    rows = [ledger_row(ref=f"Q-{i}", departments="zjj;jtj") for i in range(300)]
    with django_assert_max_num_queries(5):
        ledger = check_ledger(csv_bytes(rows), "ledger.csv")
    assert ledger.ok and len(ledger.to_create) == 300


# --- idempotence, dry run, identity -------------------------------------------------------------------


def test_importing_the_same_file_twice_creates_nothing_new(tmp_path, reference):
    path = write(tmp_path, csv_bytes(THREE_ROWS))
    run(path)
    counts = (
        Issue.objects.count(),
        Assignment.objects.count(),
        HistoryEntry.objects.count(),
        Requester.objects.count(),
        Notification.objects.count(),
    )
    out, _ = run(path)
    assert "created: 0, already present: 3" in out
    assert counts == (
        Issue.objects.count(),
        Assignment.objects.count(),
        HistoryEntry.objects.count(),
        Requester.objects.count(),
        Notification.objects.count(),
    )


def test_a_dry_run_reports_what_would_be_created_and_writes_nothing(tmp_path, reference):
    out, _ = run(write(tmp_path, csv_bytes(THREE_ROWS)), "--dry-run")
    assert "would create: 3, already present: 0" in out
    assert nothing_written()
    bad = write(tmp_path, csv_bytes([ledger_row(category="天文")]), "bad.csv")
    assert run_failing(bad, "--dry-run") == ["row 2: category: 未知分类“天文”"]


def test_one_requester_per_phone_whatever_the_names_and_per_name_without_a_phone(tmp_path, reference, netoffice):
    existing = register(
        netoffice, ref="OLD-1", phone="13900001111", name="老王", received_on=datetime.date(2024, 1, 2)
    ).requester
    answered = {"replied_on": "2024-03-05"}  # answered rows are written set-based, open ones one by one
    rows = [
        ledger_row(ref="R-1", requester="王师傅", requester_phone="139 0000 1111", **answered),
        ledger_row(ref="R-2", requester="王建国", requester_phone="13900001111"),
        ledger_row(ref="R-3", requester="李四", requester_phone="13700002222", **answered),
        ledger_row(ref="R-4", requester="李四", requester_phone="13700002222", channel="政民", **answered),
        ledger_row(ref="R-5", requester="热心网友", **answered),
        ledger_row(ref="R-6", requester="热心网友"),
        ledger_row(ref="R-7", requester="另一位网友", **answered),
    ]
    run(write(tmp_path, csv_bytes(rows)))
    requester = dict(Issue.objects.values_list("ref", "requester_id"))
    assert requester["R-1"] == requester["R-2"] == existing.pk
    assert requester["R-3"] == requester["R-4"]
    assert requester["R-5"] == requester["R-6"] != requester["R-7"]
    assert Requester.objects.count() == 4


def test_one_row_through_the_service_and_again_is_none(reference, netoffice):
    ledger = check_ledger(csv_bytes([ledger_row(ref="S-1", replied_on="2024-03-05"), ledger_row(ref="S-2")]))
    first, second = ledger.rows
    for row in (first, second):
        issue = services.import_ledger_issue(actor=netoffice, row=row)
        assert issue is not None and issue.ref == row.ref and issue.registered_by == netoffice
        assert services.import_ledger_issue(actor=netoffice, row=row) is None
    assert dict(Issue.objects.values_list("ref", "status")) == {"S-1": "replied", "S-2": "assigned"}


def test_the_example_in_the_user_guide_imports(tmp_path, reference):
    guide = (Path(__file__).resolve().parents[2] / "docs" / "user-guide.md").read_text(encoding="utf-8")
    start = guide.index("ref,channel,received_on")
    example = guide[start : guide.index("```", start)]
    out, _ = run(write(tmp_path, example.encode("utf-8")))
    assert "created: 3, already present: 0" in out
    assert dict(Issue.objects.values_list("ref", "status")) == {
        "ZW2024-00001": "closed",
        "ZQ2024-00007": "closed",
        "ZM2024-00012": "assigned",
    }


def test_an_office_user_imports_only_its_own_channel_from_the_command(tmp_path, reference, ezoneoffice):
    path = write(tmp_path, csv_bytes([ledger_row(ref="Z-1", channel="enterprise"), ledger_row(ref="Z-2")]))
    assert run_failing(path, "--user", "ezoneoffice") == ["row 3: channel: 您只能导入政企直通车的诉求"]
    out, _ = run(
        write(tmp_path, csv_bytes([ledger_row(ref="Z-1", channel="enterprise")]), "ok.csv"), "--user", "ezoneoffice"
    )
    assert "created: 1" in out
    assert Issue.objects.get().registered_by == ezoneoffice


def test_imported_figures_come_out_of_the_statistics_api(client, tmp_path, reference, leader):
    run(write(tmp_path, csv_bytes(THREE_ROWS)))
    client.force_login(leader)
    figures = client.get(
        "/api/v1/stats/summary/", {"received_from": "2024-01-01", "received_to": "2024-12-31", "as_of": "2024-12-31"}
    ).json()
    assert {
        k: figures[k]
        for k in (
            "issues",
            "replied",
            "reply_rate",
            "closed",
            "rated",
            "satisfied",
            "assignments",
            "on_time",
            "late",
            "overdue_open",
        )
    } == {
        "issues": 2,
        "replied": 2,
        "reply_rate": 100.0,
        "closed": 1,
        "rated": 1,
        "satisfied": 1,
        "assignments": 3,
        "on_time": 3,
        "late": 0,
        "overdue_open": 0,
    }
    # As of the day before the replies, nothing had been replied yet.
    early = client.get(
        "/api/v1/stats/summary/", {"received_from": "2024-01-01", "received_to": "2024-12-31", "as_of": "2024-03-11"}
    ).json()
    assert (early["issues"], early["replied"], early["closed"]) == (2, 0, 0)


# --- the browser -----------------------------------------------------------------------------------


def upload(client, data: bytes, name: str = "ledger.csv"):
    return client.post(reverse("issue_import"), {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def test_an_office_uploads_sees_a_preview_then_confirms(client, reference, netoffice, settings):
    client.force_login(netoffice)
    assert client.get(reverse("issue_import")).status_code == 200
    preview = upload(client, csv_bytes(THREE_ROWS))
    page = preview.content.decode()
    assert preview.status_code == 200 and "将新建" in page and "确认导入 3 条" in page
    assert nothing_written()  # a preview writes nothing
    token = preview.context["token"]
    kept = Path(settings.MEDIA_ROOT) / "tmp" / "ledger-imports" / token
    assert kept.exists()

    done = client.post(reverse("issue_import"), {"action": "confirm", "token": token})
    assert done.status_code == 302 and done.url == reverse("issue_list")
    assert Issue.objects.count() == 3 and not kept.exists()
    assert set(Issue.objects.values_list("registered_by", flat=True)) == {netoffice.pk}
    message = client.get(reverse("issue_list")).content.decode()
    assert "新建 3 条" in message

    again = client.post(reverse("issue_import"), {"action": "confirm", "token": token})  # a second click
    assert again.status_code == 302 and Issue.objects.count() == 3


def test_the_preview_lists_every_problem_and_offers_no_confirmation(client, reference, netoffice):
    client.force_login(netoffice)
    rows = [ledger_row(category="天文"), ledger_row(ref="B", departments="")]
    page = upload(client, csv_bytes(rows)).content.decode()
    assert "row 2: category: 未知分类“天文”" in page and "确认导入" not in page
    assert nothing_written()


def test_an_office_may_not_import_another_channels_rows(client, reference, ezoneoffice):
    client.force_login(ezoneoffice)
    response = upload(client, csv_bytes([ledger_row(ref="E-1", channel="enterprise"), ledger_row(ref="N-1")]))
    assert "row 3: channel: 您只能导入政企直通车的诉求" in response.content.decode()
    assert response.context["token"] == "" and nothing_written()
    # Nor confirm with a token it was never given.
    client.post(reverse("issue_import"), {"action": "confirm", "token": "0" * 32})
    assert nothing_written()


def test_a_confirm_rechecks_the_file_against_the_database(client, reference, netoffice):
    client.force_login(netoffice)
    token = upload(client, csv_bytes([ledger_row(ref="C-1", departments="jtj")])).context["token"]
    Department.objects.filter(code="jtj").update(active=False)  # retired between preview and confirm
    page = client.post(reverse("issue_import"), {"action": "confirm", "token": token}).content.decode()
    assert "row 2: departments: 单位“县交通运输局”已停用" in page
    assert nothing_written()


def test_a_department_member_or_a_leader_gets_404(client, reference, zjj_head, leader):
    for user in (zjj_head, leader):
        client.force_login(user)
        assert client.get(reverse("issue_import")).status_code == 404
        assert upload(client, csv_bytes([ledger_row()])).status_code == 404
        assert client.get(reverse("issue_export_ledger")).status_code == 404
    assert nothing_written()


def test_the_issue_list_links_to_the_importable_export_and_the_import(client, reference, netoffice, zjj_head):
    client.force_login(netoffice)
    page = client.get(reverse("issue_list")).content.decode()
    assert "导出台账（可导入格式）" in page and reverse("issue_import") in page
    client.force_login(zjj_head)
    assert "导出台账（可导入格式）" not in client.get(reverse("issue_list")).content.decode()


# --- the round trip ---------------------------------------------------------------------------------


def snapshot() -> list[tuple]:
    rows = []
    for issue in Issue.objects.select_related("requester", "category").order_by("ref"):
        assignments = tuple(
            issue.assignments.order_by("-role", "department__code").values_list(
                "department__code",
                "role",
                "status",
                "assigned_on",
                "deadline_amount",
                "deadline_unit",
                "due_date",
                "replied_on",
            )
        )
        rows.append(
            (
                issue.ref,
                issue.channel,
                issue.received_on,
                issue.requester.name,
                issue.requester.phone,
                issue.requester.organization,
                issue.category.code,
                issue.title,
                issue.content,
                issue.status,
                issue.closed_on,
                issue.satisfaction,
                issue.followed_up_on,
                assignments,
            )
        )
    return rows


def empty_the_issue_tables() -> None:
    """An empty database for the re-import: every issue and requester, with what refers to them."""
    tables = [Issue._meta.db_table, Requester._meta.db_table]
    if connection.vendor == "postgresql":  # TRUNCATE refuses while deferred foreign-key checks are pending
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    connection.ops.execute_sql_flush(connection.ops.sql_flush(no_style(), tables, allow_cascade=True))


def test_the_importable_export_imports_back_into_an_empty_database_as_the_same_issues(
    client, tmp_path, reference, netoffice, zjj_head, jyj_head
):
    received, signed, closed = datetime.date(2026, 10, 12), datetime.date(2026, 10, 20), datetime.date(2026, 10, 26)

    def reply(assignment, user):
        services.accept_reply(
            actor=netoffice,
            reply=services.submit_reply(
                actor=user,
                assignment=assignment,
                file=reply_pdf(),
                signer_name="王",
                signer_title="局长",
                signed_on=signed,
                result="resolved",
                summary="已解决",
            ),
        )

    done, (lead, co) = assigned(
        netoffice,
        ref="RT-1",
        co=("jyj",),
        assigned_on=received,
        phone="13812345678",
        title="=1+1 公式样的标题",
        name="-网友",
    )
    reply(lead, zjj_head)
    reply(co, jyj_head)
    services.record_follow_up(actor=netoffice, issue=done, satisfaction="basically", on=closed)
    services.close_issue(actor=netoffice, issue=done, on=closed)
    _, (only,) = assigned(netoffice, ref="RT-2", assigned_on=received, phone="13812345678", name="同一个人")
    reply(only, zjj_head)
    assigned(netoffice, ref="RT-3", lead="jyj", assigned_on=datetime.date(2026, 11, 2), title="还在办理")
    register(netoffice, ref="RT-4", received_on=received, title="尚未交办", name="无电话的群众")
    issue = register(netoffice, ref="RT-5", received_on=received, title="自然日时限")
    services.assign_issue(
        actor=netoffice,
        issue=issue,
        lead=Department.objects.get(code="hqz"),
        assigned_on=received,
        deadline_amount=20,
        deadline_unit="calendar_day",
    )
    before, requesters = snapshot(), Requester.objects.count()

    client.force_login(netoffice)
    exported = client.get(reverse("issue_export_ledger"))
    assert exported["Content-Type"].startswith("text/csv") and exported.content.startswith(b"\xef\xbb\xbf")
    header = exported.content.decode("utf-8-sig").splitlines()[0]
    assert header == ",".join(COLUMNS)
    assert "'=1+1 公式样的标题" in exported.content.decode("utf-8-sig")  # Excel must not run it

    empty_the_issue_tables()
    assert not Issue.objects.exists()
    out, _ = run(write(tmp_path, exported.content))
    assert "created: 5, already present: 0" in out
    assert snapshot() == before
    assert Requester.objects.count() == requesters
