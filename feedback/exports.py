"""Excel ledgers (台账) with Chinese headers."""

from __future__ import annotations

import io
from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .models import Assignment, Issue

LEDGER_COLUMNS = [
    ("编号", 18), ("渠道", 12), ("受理日期", 12), ("诉求人", 16), ("分类", 12), ("性质", 8), ("标题", 36),
    ("主办单位", 20), ("协办单位", 24), ("办理期限", 12), ("状态", 12), ("回复日期", 12), ("办结日期", 12),
    ("回访评价", 10),
]


def issues_workbook(issues: Iterable[Issue]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "诉求台账"
    sheet.append([name for name, _ in LEDGER_COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="B22222")
        cell.alignment = Alignment(horizontal="center", vertical="center")
    for index, (_, width) in enumerate(LEDGER_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
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
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if hasattr(cell.value, "year"):
                cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
