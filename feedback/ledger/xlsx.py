"""Reading the cells of an .xlsx workbook straight from its XML, as openpyxl's read-only mode gives
them (``values_only``, ``data_only``), at a fraction of its cost.

openpyxl builds a Python object per cell and converts each through several layers; a 100,000-row
ledger has 1.6 million cells, and reading them was ~40 % of the import (bench/README.md). This
module keeps only what the ledger needs: the value of each cell, numbered rows, date cells as
datetimes (by the cell's number format, as openpyxl decides it), shared and inline strings, rich
text without its phonetic guide (``rPh``), cached formula results. Its results equal openpyxl's on
every workbook of the tests (tests/feedback/test_xlsx_reader.py), and the parse falls back to openpyxl
for anything it does not know (a sheet stored elsewhere than the relationships say, a strict-OOXML
file).
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator
from typing import Any

# The standard library's parser, as openpyxl's own without defusedxml: it resolves no external
# entity, and the expat it is built on (≥ 2.4.1) refuses entity-expansion bombs.
from xml.etree.ElementTree import Element, iterparse

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
ROW, CELL, VALUE, INLINE, TEXT, RUN = (f"{MAIN}{t}" for t in ("row", "c", "v", "is", "t", "r"))


class Unsupported(Exception):
    """The workbook uses something this reader does not handle: read it with openpyxl instead."""


Rows = list[tuple[int, list[Any]]]


class Workbook:
    """The sheets of an opened .xlsx archive, by name, in the workbook's order."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        names = set(archive.namelist())
        if "xl/workbook.xml" not in names:
            raise Unsupported("no xl/workbook.xml")
        book = _parse(archive, "xl/workbook.xml")
        properties = book.find(f"{MAIN}workbookPr")
        date1904 = properties is not None and properties.get("date1904", "").lower() in ("1", "true")
        self.epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
        targets = {}
        if "xl/_rels/workbook.xml.rels" in names:
            for rel in _parse(archive, "xl/_rels/workbook.xml.rels").iter(f"{PACKAGE_REL}Relationship"):
                target = rel.get("Target", "")
                path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
                targets[rel.get("Id")] = path
        self.sheets: dict[str, str] = {}
        for sheet in book.iter(f"{MAIN}sheet"):
            path = targets.get(sheet.get(f"{REL}id"))
            if path not in names:
                raise Unsupported(f"sheet {sheet.get('name')!r} not found")
            self.sheets[sheet.get("name", "")] = path
        self.strings = _shared_strings(archive) if "xl/sharedStrings.xml" in names else []
        self.formats = _date_styles(archive) if "xl/styles.xml" in names else []

    @property
    def sheetnames(self) -> list[str]:
        return list(self.sheets)

    def rows(self, name: str) -> Rows:
        """Every row from row 1 to the last one holding a cell, numbered as Excel numbers them, each
        padded to the sheet's widest row: what ``iter_rows(values_only=True)`` yields in openpyxl's
        read-only mode (a row missing from the file is a row of None)."""
        found: Rows = []
        width = 0
        for number, cells in self._rows(self.sheets[name]):
            found.append((number, cells))
            width = max(width, len(cells))
        out: Rows = []
        expected = 1
        for number, cells in found:
            for missing in range(expected, number):
                out.append((missing, [None] * width))
            cells.extend([None] * (width - len(cells)))
            out.append((number, cells))
            expected = number + 1
        return out

    def _rows(self, path: str) -> Iterator[tuple[int, list[Any]]]:
        strings, formats, epoch = self.strings, self.formats, self.epoch
        last_row = 0
        with self.archive.open(path) as stream:
            for _, element in iterparse(stream, events=("end",)):  # noqa: S314
                if element.tag != ROW:
                    continue
                number = int(element.get("r") or last_row + 1)
                last_row = number
                cells: list[Any] = []
                for cell in element.iter(CELL):
                    ref = cell.get("r")
                    if ref:
                        column = column_index_from_string(ref.rstrip("0123456789"))
                        if column > len(cells) + 1:
                            cells.extend([None] * (column - len(cells) - 1))
                    kind = cell.get("t", "n")
                    if kind == "inlineStr":
                        node = cell.find(INLINE)
                        value: Any = _text(node) if node is not None else None
                    else:
                        node = cell.find(VALUE)
                        raw = node.text if node is not None else None
                        if raw is None:
                            value = None
                        elif kind == "s":
                            value = strings[int(raw)]
                        elif kind == "n":
                            value = float(raw) if ("." in raw or "E" in raw or "e" in raw) else int(raw)
                            style = cell.get("s")
                            if style is not None and int(style) < len(formats) and formats[int(style)]:
                                value = from_excel(value, epoch, timedelta=formats[int(style)] == "timedelta")
                        elif kind == "b":
                            value = raw == "1" or raw.lower() == "true"
                        elif kind in ("str", "e"):
                            value = raw
                        else:  # "d" (an ISO date cell) and anything newer: openpyxl's own rules
                            raise Unsupported(f"cell type {kind!r}")
                    cells.append(value)
                element.clear()
                yield number, cells


def _parse(archive: zipfile.ZipFile, path: str) -> Element:
    with archive.open(path) as stream:
        root = None
        for _, element in iterparse(stream, events=("end",)):  # noqa: S314
            root = element
        if root is None:
            raise Unsupported(f"{path} is empty")
        return root


def _text(node: Element) -> str:
    """A string item's text: its ``t``, or its rich-text runs' ``t`` in order; the phonetic guide
    (``rPh``, furigana/pinyin hints) is not part of the value, as in openpyxl."""
    direct = node.find(TEXT)
    if direct is not None:
        return direct.text or ""
    return "".join((run.findtext(TEXT) or "") for run in node.findall(RUN))


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    out = []
    with archive.open("xl/sharedStrings.xml") as stream:
        for _, element in iterparse(stream, events=("end",)):  # noqa: S314
            if element.tag == f"{MAIN}si":
                out.append(_text(element))
                element.clear()
    return out


def _date_styles(archive: zipfile.ZipFile) -> list[str]:
    """Per cell style (``s``): "date", "timedelta" or "" — openpyxl's ``is_date_format`` and
    ``is_timedelta_format`` on the style's number format."""
    styles = _parse(archive, "xl/styles.xml")
    custom = {int(f.get("numFmtId", "0")): f.get("formatCode", "") for f in styles.iter(f"{MAIN}numFmt")}
    xfs = styles.find(f"{MAIN}cellXfs")
    out = []
    for xf in xfs.findall(f"{MAIN}xf") if xfs is not None else []:
        number = int(xf.get("numFmtId", "0"))
        code = custom.get(number) or BUILTIN_FORMATS.get(number, "General")
        if is_date_format(code):
            out.append("timedelta" if is_timedelta_format(code) else "date")
        else:
            out.append("")
    return out
