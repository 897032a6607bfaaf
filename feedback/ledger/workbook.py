"""Reading the cells of an .xlsx workbook with python-calamine (the Rust calamine reader), as
openpyxl's read-only mode gives them (``values_only``, ``data_only``), at a fraction of its cost.

openpyxl builds a Python object per cell and converts each through several layers; a 100,000-row
ledger has 1.6 million cells, and reading them was ~40 % of the import (bench/README.md). calamine
reads shared and inline strings, rich text without its phonetic guide, cached formula results, 1904
workbooks and date cells by their number format. What it gives differently from openpyxl is turned
into openpyxl's values here, so the parse sees the same cells whichever reader ran
(tests/feedback/test_xlsx_reader.py compares the two on every workbook of the tests):

- an empty cell is ``""`` in calamine, ``None`` in openpyxl;
- every number is a float in calamine; openpyxl gives an int for a cell written without a fraction
  (a mobile number 13812345678 stays an int, which the parse reads as digits);
- a date cell at midnight is a ``date`` in calamine, a ``datetime`` in openpyxl.

The parse falls back to openpyxl for a workbook calamine refuses (decision 0662).
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterator
from typing import Any

from python_calamine import CalamineWorkbook

Rows = list[tuple[int, list[Any]]]

# Above 2**53 a float no longer holds every integer: such a number stays as calamine gives it.
_EXACT = 2**53


class Workbook:
    """The sheets of an .xlsx workbook's bytes, by name, in the workbook's order."""

    def __init__(self, data: bytes) -> None:
        self.book = CalamineWorkbook.from_filelike(io.BytesIO(data))

    @property
    def sheetnames(self) -> list[str]:
        return list(self.book.sheet_names)

    def rows(self, name: str) -> Rows:
        """Every row from row 1 to the last one holding a cell, numbered as Excel numbers them, each
        as wide as the sheet's widest row: what ``iter_rows(values_only=True)`` yields in openpyxl's
        read-only mode (a row missing from the file is a row of None)."""
        return list(self.iter_rows(name))

    def iter_rows(self, name: str) -> Iterator[tuple[int, list[Any]]]:
        """``rows`` one at a time: the import's two passes never hold a sheet's cells as Python
        objects (issue 16 goal 4, decision 0720). The sheet is opened here, not at the first row, so
        that a sheet calamine refuses fails the call (the parse then reads the file with openpyxl).
        calamine's iterator starts at row 1 but at the sheet's first used column: the columns before
        it are put back, as ``to_python`` has them."""
        sheet = self.book.get_sheet_by_name(name)
        pad: list[Any] = [None] * sheet.start[1] if sheet.start else []
        return ((number, [*pad, *(_value(v) for v in cells)]) for number, cells in enumerate(sheet.iter_rows(), 1))


def _value(value: Any) -> Any:
    if value == "" and isinstance(value, str):
        return None
    if isinstance(value, float):
        if value.is_integer() and -_EXACT < value < _EXACT:
            return int(value)
        return value
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return datetime.datetime.combine(value, datetime.time())  # Excel's dates are naive, as openpyxl's
    return value
