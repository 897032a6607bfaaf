"""Excel ledgers (台账) with Chinese headers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from feedback.ledger.parse import COLUMNS, formula_guard
from feedback.models import Assignment, Issue

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

LEDGER_COLUMNS = [
    ("编号", 18), ("渠道", 12), ("受理日期", 12), ("诉求人", 16), ("分类", 12), ("性质", 8), ("标题", 36),
    ("主办单位", 20), ("协办单位", 24), ("办理期限", 12), ("状态", 12), ("回复日期", 12), ("办结日期", 12),
    ("回访评价", 10),
]


INBOX_COLUMNS = [
    ("编号", 18), ("标题", 40), ("渠道", 12), ("角色", 8), ("交办日期", 12), ("办理期限", 12), ("状态", 14),
    ("回复日期", 12),
]


def sheet_with_header(book: Workbook, title: str, columns: list[tuple[str, int]]) -> Worksheet:
    sheet = book.active
    # Excel refuses sheet titles over 31 characters or with []:*?/\ in them.
    sheet.title = "".join(ch for ch in title if ch not in "[]:*?/\\")[:31] or "Sheet1"
    sheet.append([name for name, _ in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="B22222")
        cell.alignment = Alignment(horizontal="center", vertical="center")
    for index, (_, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    return sheet


def finish_sheet(book: Workbook, sheet: Worksheet) -> bytes:
    """Dates as dates, formulas as text, the header frozen and filterable; the workbook's bytes.
    Every workbook the portal writes ends here (the channels' too)."""
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if hasattr(cell.value, "year"):
                cell.number_format = "yyyy-mm-dd"
            elif cell.data_type == "f":
                # openpyxl stores any text starting with "=" as a formula; the ledgers hold only what
                # people typed (a title like "=HYPERLINK(…)"), which must reach Excel as text.
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def inbox_workbook(assignments: Iterable[Assignment], *, title: str = "待办事项") -> bytes:
    """The inbox as the department sees it (one tab, one search): one row per assignment.

    The caller passes ``assignments`` with ``issue`` selected: one query, whatever the number of rows.
    """
    book = Workbook()
    sheet = sheet_with_header(book, title, INBOX_COLUMNS)
    for a in assignments:
        sheet.append([
            a.issue.ref, a.issue.title, a.issue.get_channel_display(), a.get_role_display(), a.assigned_on,
            a.due_date, a.get_status_display(), a.replied_on,
        ])
    return finish_sheet(book, sheet)


def issues_workbook(issues: Iterable[Issue]) -> bytes:
    book = Workbook()
    sheet = sheet_with_header(book, "诉求台账", LEDGER_COLUMNS)
    for issue in issues:
        assignments = list(issue.assignments.all())  # prefetched by the caller
        lead = next((a for a in assignments if a.role == Assignment.Role.LEAD), None)
        co = [a.department.name for a in assignments if a.role == Assignment.Role.CO]
        replied = [a.replied_on for a in assignments if a.replied_on]
        sheet.append([
            issue.ref, issue.get_channel_display(), issue.received_on, issue.requester.name, issue.category.name,
            issue.get_nature_display(), issue.title, lead.department.name if lead else "", "；".join(co),
            lead.due_date if lead else None, issue.get_status_display(),
            max(replied) if replied and len(replied) == len(assignments) else None, issue.closed_on,
            issue.get_satisfaction_display() if issue.satisfaction else "",
        ])
    return finish_sheet(book, sheet)


# --- The importable ledger: CONTRACT.md's columns, read back by ``import_issues`` -----------------

def importable_ledger_rows(issues: Iterable[Issue]) -> Iterator[list[str]]:
    """The header and one row per issue, in the column format ``import_issues`` reads (codes for
    channel, category and departments; dates as YYYY-MM-DD), so export → import reproduces the issues.

    What the format cannot carry is not exported: the nature, the on-the-spot answer, the reply
    letters themselves, extensions and a later assignment date (an imported issue is assigned on
    the day it was received). ``replied_on`` is the last accepted reply when every department's
    reply was accepted, else empty. The deadline is written out (not left to the default policy)
    so that the due dates come out the same wherever the file is imported.
    """
    yield list(COLUMNS)
    for issue in issues:
        assignments = sorted(issue.assignments.all(), key=lambda a: (a.role != Assignment.Role.LEAD, a.pk))
        lead = assignments[0] if assignments else None
        replied = [a.replied_on for a in assignments]
        replied_on = max(replied) if assignments and all(replied) else None
        requester = issue.requester
        yield [
            formula_guard(issue.ref), issue.channel, f"{issue.received_on:%Y-%m-%d}", formula_guard(requester.name),
            requester.phone, formula_guard(requester.organization), issue.category.code,
            formula_guard(issue.title), formula_guard(issue.content),
            ";".join(a.department.code for a in assignments),
            str(lead.deadline_amount) if lead else "", lead.deadline_unit if lead else "",
            f"{replied_on:%Y-%m-%d}" if replied_on else "",
            f"{issue.closed_on:%Y-%m-%d}" if issue.closed_on else "",
            issue.get_satisfaction_display() if issue.satisfaction else "",
        ]


def importable_ledger_csv(issues: Iterable[Issue]) -> bytes:
    """CSV UTF-8 with a BOM (so that Excel shows the Chinese), the format Excel calls “CSV UTF-8”."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(importable_ledger_rows(issues))
    return out.getvalue().encode("utf-8-sig")


REPORT_COLUMNS = [("指标", 14), ("数值", 14), ("口径", 90)]


def report_workbook(lines: Iterable[Any], *, title: str) -> bytes:
    """The county report (feedback.report.Line rows) as a sheet: 指标, 数值, 口径 (the channels' parts
    and the note before the formula, as on the page); ``title`` names the sheet."""
    book = Workbook()
    sheet = sheet_with_header(book, title, REPORT_COLUMNS)
    for line in lines:
        parts = "、".join(f"{part.label} {part.value}" for part in line.parts)
        explained = "；".join(text for text in (f"其中{parts}" if parts else "", line.note, line.formula) if text)
        sheet.append([line.label, line.value, explained])
    for row in sheet.iter_rows(min_row=2):
        row[2].alignment = Alignment(wrap_text=True, vertical="top")
    return finish_sheet(book, sheet)
