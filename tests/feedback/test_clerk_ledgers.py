"""Ledgers as clerks keep them (docs/ledger-format.md, "Ledger files clerks keep"), hand-built in every kind the
county has: .xlsx with a merged title row, .xls (tests/feedback/ledgers/clerk.xls, written by
make_xls.py), CSV in GBK and in UTF-8; Chinese header variants, extra columns (序号, 备注), date cells
and text dates in the Chinese styles, mobiles stored as numbers, departments by short name, full name
or code joined by 、 / ， ；, an empty row and a 合计 row under the data. Each imports, unedited, to the
same issues; errors name the row as the clerk sees it and the column by the file's own header.
"""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from openpyxl import Workbook

from feedback.models import Department, Issue

pytestmark = pytest.mark.django_db

D = datetime.date
TITLE = "2024年政网直通车诉求台账"
CLERK_HEADER = [
    "序号",
    "诉求编号",
    "来源渠道",
    "受理时间",
    "反映人",
    "联系方式",
    "单位名称",
    "类别",
    "诉求标题",
    "具体诉求",
    "责任单位",
    "时限",
    "时限单位",
    "答复日期",
    "办结时间",
    "回访结果",
    "备注",
]
CLERK_ROWS = [
    [
        1,
        "ZW2024-00101",
        "政网",
        D(2024, 3, 5),
        "山村支教亮亮老师",
        13812345678,
        None,
        "住房和城乡建设",
        "学校门口修建人行天桥",
        "上下学高峰人车混行。",
        "住建局、交通运输局",
        None,
        None,
        "2024年3月15日",
        "2024.3.20",
        "满意",
        "已回复",
    ],
    [
        2,
        "ZQ2024-00102",
        "政企",
        "2024/1/23",
        "张经理",
        13912345678,
        "某电子科技有限公司",
        "营商环境",
        "员工通勤难",
        "建议开通园区通勤公交。",
        "交通运输局/县住房和城乡建设局",
        15,
        "工作日",
        D(2024, 2, 20),
        D(2024, 3, 1),
        "基本满意",
        None,
    ],
    [
        3,
        "ZM2024-00103",
        "政民",
        "2024年11月5日",
        "李大爷",
        None,
        None,
        "rural",
        "村道破损",
        "雨天无法通行。",
        "黄桥镇，jtj",
        None,
        None,
        None,
        None,
        None,
        None,
    ],
]
TOTAL = ["合计", None, None, None, None, None, None, None, None, None, None, None, None, None, None, None, "3 件"]
LEDGERS = Path(__file__).with_name("ledgers")


def clerk_xlsx(rows=CLERK_ROWS, header=CLERK_HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append([TITLE])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    sheet.append([])
    sheet.append(header)
    for row in rows:
        # A date cell as Excel keeps it: a datetime at midnight.
        sheet.append([datetime.datetime.combine(v, datetime.time()) if isinstance(v, D) else v for v in row])
    sheet.append([])
    sheet.append(TOTAL)
    for _ in range(3):
        sheet.append([None] * len(header))  # trailing rows Excel keeps formatted and empty
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def clerk_csv(encoding: str, rows=CLERK_ROWS) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([TITLE])
    writer.writerow(CLERK_HEADER)
    for row in rows:
        writer.writerow(["" if v is None else (f"{v:%Y/%m/%d}" if isinstance(v, D) else v) for v in row])
    writer.writerow([])
    writer.writerow(["" if v is None else v for v in TOTAL])
    return out.getvalue().encode(encoding)


def run(path: Path, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_issues", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(path: Path) -> list[str]:
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_issues", str(path), stdout=io.StringIO(), stderr=err)
    return err.getvalue().splitlines()


def assert_the_clerks_issues() -> None:
    assert Issue.objects.count() == 3
    zw = Issue.objects.get(ref="ZW2024-00101")
    assert (zw.received_on, zw.requester.phone, zw.category.code) == (D(2024, 3, 5), "13812345678", "housing")
    assert [(a.department.code, a.role, a.replied_on) for a in zw.assignments.order_by("id")] == [
        ("zjj", "lead", D(2024, 3, 15)),
        ("jtj", "co", D(2024, 3, 15)),
    ]
    assert (zw.closed_on, zw.satisfaction) == (D(2024, 3, 20), "satisfied")
    zq = Issue.objects.get(ref="ZQ2024-00102")
    assert zq.received_on == D(2024, 1, 23) and zq.requester.organization == "某电子科技有限公司"
    assert [(a.department.code, a.deadline_amount, a.deadline_unit) for a in zq.assignments.order_by("id")] == [
        ("jtj", 15, "working_day"),
        ("zjj", 15, "working_day"),
    ]
    assert zq.satisfaction == "basically"
    zm = Issue.objects.get(ref="ZM2024-00103")
    assert zm.received_on == D(2024, 11, 5)
    assert [a.department.code for a in zm.assignments.order_by("id")] == ["hqz", "jtj"]


@pytest.mark.parametrize("kind", ["xlsx", "xls", "csv-gbk", "csv-gb18030", "csv-utf8-bom"])
def test_a_clerks_ledger_imports_without_editing(tmp_path, reference, kind):
    data = {
        "xlsx": clerk_xlsx,
        "xls": lambda: (LEDGERS / "clerk.xls").read_bytes(),
        "csv-gbk": lambda: clerk_csv("gbk"),
        "csv-gb18030": lambda: clerk_csv("gb18030"),
        "csv-utf8-bom": lambda: clerk_csv("utf-8-sig"),
    }[kind]()
    path = tmp_path / f"台账.{kind.split('-')[0]}"
    path.write_bytes(data)

    out, err = run(path, "--dry-run")
    assert "would create: 3" in out
    assert "忽略的列：序号, 备注" in err  # named as ignored
    assert not Issue.objects.exists()
    out, _ = run(path)
    assert "created: 3" in out
    assert_the_clerks_issues()


def test_short_names_are_reference_data_an_administrator_edits(tmp_path, reference, admin_client):
    assert Department.objects.get(code="cgj").short_name_list == ["城管局"]
    department = Department.objects.get(code="scj")
    response = admin_client.post(
        reverse("admin:feedback_department_change", args=[department.pk]),
        {
            "code": "scj",
            "name": department.name,
            "kind": department.kind,
            "channel": "",
            "active": "on",
            "sort_order": department.sort_order,
            "short_names": "市场监管局、市监局",
        },
    )
    assert response.status_code == 302
    rows = [[*CLERK_ROWS[2][:1], "ZM2024-00104", *CLERK_ROWS[2][2:10], "市监局", *CLERK_ROWS[2][11:]]]
    path = tmp_path / "l.xlsx"
    path.write_bytes(clerk_xlsx(rows))
    run(path)
    assert Issue.objects.get(ref="ZM2024-00104").assignments.get().department.code == "scj"


def test_errors_name_the_row_as_seen_and_the_column_by_the_files_header(tmp_path, reference):
    bad = [row[:] for row in CLERK_ROWS]
    bad[0][3] = "2024-13-01"  # file row 4 (title, empty row, header above it)
    bad[1][5] = 7395551234  # a landline whose 0 the spreadsheet dropped
    bad[2][10] = "黄桥镇、县宇航局"
    path = tmp_path / "bad.xlsx"
    path.write_bytes(clerk_xlsx(bad))

    lines = run_failing(path)
    assert lines == [
        "第 4 行 受理时间：日期“2024-13-01”无效，应为 YYYY-MM-DD",
        "第 5 行 联系方式：联系电话“7395551234”像是丢了开头 0 的固定电话（应为 07395551234？）："
        "请把该列设为“文本”格式后重新填写",
        "第 6 行 责任单位：未知单位“县宇航局”",
    ]
    assert not Issue.objects.exists()  # all or nothing


def test_a_title_with_no_header_under_it_says_so(tmp_path, reference):
    path = tmp_path / "t.csv"
    path.write_bytes(f"{TITLE}\r\n制表：网信办\r\n".encode("gbk"))
    (line,) = run_failing(path)
    assert line.startswith(f"row 1: file: 第 1 行“{TITLE}”像是标题行，但在前 30 行中没有找到表头行")


def test_the_upload_page_takes_an_xls_and_names_the_ignored_columns(client, reference, netoffice):
    client.force_login(netoffice)
    data = (LEDGERS / "clerk.xls").read_bytes()
    preview = client.post(reverse("issue_import"), {"file": SimpleUploadedFile("台账.xls", data)})
    page = preview.content.decode()
    assert "以下列不属于台账格式，已忽略：序号、备注" in page
    # 网信办 imports only 政网: the other rows are refused by the file's own header.
    assert "第 5 行 来源渠道：您只能导入政网直通车的诉求" in page
    assert not Issue.objects.exists()
