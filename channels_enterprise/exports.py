"""The enterprise registry (企业名录) as an Excel workbook with Chinese headers."""

from __future__ import annotations

import io
from collections.abc import Iterable

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .models import Enterprise

REGISTRY_COLUMNS = [
    ("企业名称", 36), ("统一社会信用代码", 22), ("所在园区", 22), ("行业", 14), ("联系人", 12),
    ("联系电话", 16), ("在册", 8), ("企业问题数", 12), ("登记日期", 12),
]
EXPORT_LIMIT = 20000


def registry_workbook(enterprises: Iterable[Enterprise]) -> bytes:
    """One row per enterprise; ``problem_count`` annotated by the caller. Phones are masked as in
    the list (the file leaves the portal and its audit)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "企业名录"
    sheet.append([name for name, _ in REGISTRY_COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="B22222")
        cell.alignment = Alignment(horizontal="center", vertical="center")
    for index, (_, width) in enumerate(REGISTRY_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for e in enterprises:
        sheet.append([e.name, e.credit_code, e.park, e.sector, e.contact_name, e.masked_phone,
                      "是" if e.active else "否", getattr(e, "problem_count", None),
                      timezone.localtime(e.created_at).date()])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if hasattr(cell.value, "year"):
                cell.number_format = "yyyy-mm-dd"
            elif cell.data_type == "f":
                # openpyxl stores any text starting with "=" as a formula; a name typed that way
                # must reach Excel as text, never run.
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
