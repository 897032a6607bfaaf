"""The enterprise registry (企业名录) as an Excel workbook with Chinese headers."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone
from openpyxl import Workbook

from feedback.ledger.export import finish_sheet, sheet_with_header

from .models import Enterprise

REGISTRY_COLUMNS = [
    ("企业名称", 36),
    ("统一社会信用代码", 22),
    ("所在园区", 22),
    ("行业", 14),
    ("联系人", 12),
    ("联系电话", 16),
    ("在册", 8),
    ("企业问题数", 12),
    ("登记日期", 12),
]
EXPORT_LIMIT = 20000


def registry_workbook(enterprises: Iterable[Enterprise]) -> bytes:
    """One row per enterprise; ``problem_count`` annotated by the caller. Phones are masked as in
    the list (the file leaves the portal and its audit)."""
    book = Workbook()
    sheet = sheet_with_header(book, "企业名录", REGISTRY_COLUMNS)
    for e in enterprises:
        sheet.append(
            [
                e.name,
                e.credit_code,
                e.park,
                e.sector,
                e.contact_name,
                e.masked_phone,
                "是" if e.active else "否",
                getattr(e, "problem_count", None),
                timezone.localtime(e.created_at).date(),
            ]
        )
    return finish_sheet(book, sheet)
