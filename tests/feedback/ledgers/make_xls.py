"""Writes clerk.xls, the old-Excel ledger of tests/feedback/test_clerk_ledgers.py (committed; run again
only to change it: needs ``pip install xlwt``, which the portal itself never uses)."""

import datetime
from pathlib import Path

import xlwt

from tests.feedback.test_clerk_ledgers import CLERK_HEADER, CLERK_ROWS, TITLE

book = xlwt.Workbook(encoding="utf-8")
sheet = book.add_sheet("台账")
day = xlwt.easyxf(num_format_str="yyyy-mm-dd")
sheet.write_merge(0, 0, 0, len(CLERK_HEADER) - 1, TITLE)
for col, name in enumerate(CLERK_HEADER):
    sheet.write(2, col, name)
for r, row in enumerate(CLERK_ROWS, start=3):
    for col, value in enumerate(row):
        if isinstance(value, datetime.date):
            sheet.write(r, col, value, day)
        elif value is not None:
            sheet.write(r, col, value)
book.save(str(Path(__file__).with_name("clerk.xls")))
