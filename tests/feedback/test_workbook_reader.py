"""feedback.ledger.workbook reads an .xlsx's cells with python-calamine as openpyxl's read-only mode gives
them (issue 16 goal 4: the import's reading at a fraction of openpyxl's cost; decision 0662), reads an
.xls as xlrd did, and the parse hands a workbook calamine refuses to openpyxl."""

from __future__ import annotations

import datetime
import io
import re
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.styles import numbers

from feedback.ledger import parse, workbook
from tests.feedback.test_clerk_ledgers import LEDGERS, clerk_xlsx


def by_openpyxl(data: bytes) -> dict[str, list[tuple[int, list]]]:
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return {
            name: without_trailing_blank_rows(
                [(n, trimmed(list(cells))) for n, cells in enumerate(book[name].iter_rows(values_only=True), 1)]
            )
            for name in book.sheetnames
        }
    finally:
        book.close()


def by_reader(data: bytes) -> dict[str, list[tuple[int, list]]]:
    book = workbook.Workbook(data)
    return {
        name: without_trailing_blank_rows([(n, trimmed(cells)) for n, cells in book.rows(name)])
        for name in book.sheetnames
    }


def trimmed(cells: list) -> list:
    """Without trailing empty cells: openpyxl pads a row to the sheet's recorded dimension, the reader to
    its widest row; the ledger checks read a missing cell as an empty one either way."""
    while cells and cells[-1] is None:
        cells.pop()
    return cells


def without_trailing_blank_rows(rows: list[tuple[int, list]]) -> list[tuple[int, list]]:
    """Without the empty rows after the last value: openpyxl yields the rows Excel keeps formatted and
    empty at the end (up to the recorded dimension), calamine stops at the last value; the ledger
    skips blank rows either way."""
    while rows and not rows[-1][1]:
        rows.pop()
    return rows


def saved(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def every_kind_of_cell() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "诉求台账"
    sheet.append(["编号", "受理日期", "电话", "件数", "比例", "是否", "时间", "备注"])
    sheet.append(
        [
            "ZW-1",
            datetime.datetime.fromisoformat("2024-03-05T00:00"),
            13812345678,
            3,
            0.25,
            True,
            datetime.datetime.fromisoformat("2024-03-05T14:30"),
            "=不是公式",
        ]
    )
    sheet["H2"].data_type = "s"
    sheet.append([])  # an empty row keeps its number
    sheet.append([None, None, None, 1.5e20, -7, False])
    sheet["B5"] = 45000
    sheet["B5"].number_format = "yyyy年m月d日"  # a custom date format
    sheet["C5"] = 45000
    sheet["C5"].number_format = numbers.FORMAT_NUMBER_00  # a number, not a date
    sheet["D6"] = 0.5
    sheet["D6"].number_format = "[h]:mm:ss"  # a duration
    book.create_sheet("交办明细").append(["编号", "承办单位"])
    book["交办明细"].append(["ZW-1", "zjj"])
    book["交办明细"]["A10"] = "第十行"
    return saved(book)


@pytest.mark.parametrize(
    "data",
    [pytest.param(clerk_xlsx(), id="clerk"), pytest.param(every_kind_of_cell(), id="every-kind")],
)
def test_the_reader_gives_openpyxls_values_row_for_row(data):
    assert by_reader(data) == by_openpyxl(data)


def test_rich_text_inline_strings_and_cells_without_references_read_as_openpyxl_reads_them():
    """What Excel and WPS write and openpyxl never does: rich-text runs with a phonetic guide in the
    shared strings, inline strings, cells and rows without their ``r``, a 1904 workbook."""
    data = every_kind_of_cell()
    source = zipfile.ZipFile(io.BytesIO(data))
    # openpyxl writes its strings inline; Excel keeps them in a shared table, here one rich-text item.
    strings = (
        '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        ' count="1" uniqueCount="1"><si><r><t>洞口</t></r><r><rPr><b/></rPr><t>县</t></r>'
        '<rPh sb="0" eb="1"><t>dong</t></rPh></si></sst>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                # The recorded dimension grows with the rows (openpyxl's read-only mode stops at it).
                content = re.sub(rb'<dimension ref="A1:H\d+"', b'<dimension ref="A1:H9"', content)
                content = content.replace(
                    b"</sheetData>",
                    '<row r="8"><c t="inlineStr"><is><t>内联</t></is></c><c t="s"><v>0</v></c></row>'
                    '<row><c r="C9" t="inlineStr"><is><r><t>富</t></r><r><t>文本</t></r></is></c>'
                    '<c r="E9"><v>2</v></c></row></sheetData>'.encode(),
                )
            elif item.filename == "xl/workbook.xml":
                content = content.replace(b"<workbookPr", b'<workbookPr date1904="1"', 1)
            elif item.filename == "xl/_rels/workbook.xml.rels":
                content = content.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdStrings" Target="sharedStrings.xml" Type="http://schemas.openxmlformats.org'
                    b'/officeDocument/2006/relationships/sharedStrings"/></Relationships>',
                )
            elif item.filename == "[Content_Types].xml":
                content = content.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                    b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            target.writestr(item, content)
        target.writestr("xl/sharedStrings.xml", strings)
    data = out.getvalue()
    read = by_reader(data)
    assert read == by_openpyxl(data)
    assert read["诉求台账"][7] == (8, ["内联", "洞口县"])
    assert read["诉求台账"][8] == (9, [None, None, "富文本", None, 2])
    assert read["诉求台账"][1][1][1] == datetime.datetime.fromisoformat("2028-03-06T00:00")  # 1904 epoch


def test_a_workbook_the_reader_does_not_know_is_read_by_openpyxl(monkeypatch):
    calls = []

    def refuse(data):
        calls.append(data)
        raise ValueError("for the test")

    monkeypatch.setattr(workbook, "Workbook", refuse)
    table = parse.read_table(clerk_xlsx(), "clerk.xlsx")
    assert calls and any("2024年" in str(c) for c in table.header + [v for _, row in table.rows for v in row])


def test_the_ledger_table_is_the_same_through_either_reader(monkeypatch):
    data = every_kind_of_cell()
    fast = parse.read_table(data, "x.xlsx")
    monkeypatch.setattr(workbook, "Workbook", lambda data: (_ for _ in ()).throw(ValueError("off")))
    slow = parse.read_table(data, "x.xlsx")
    assert fast.header[: len(slow.header)] == slow.header
    assert [(n, trimmed(list(c))) for n, c in fast.rows] == [(n, trimmed(list(c))) for n, c in slow.rows]
    assert [(n, trimmed(list(c))) for n, c in fast.detail.rows] == [(n, trimmed(list(c))) for n, c in slow.detail.rows]


def test_numbers_come_back_as_openpyxl_gives_them():
    """calamine gives every number as a float and an empty cell as ""; openpyxl an int for a whole
    number (a mobile stays 13812345678, not 13812345678.0) and None."""
    rows = by_reader(every_kind_of_cell())["诉求台账"]
    phone, count, share = rows[1][1][2], rows[1][1][3], rows[1][1][4]
    assert (phone, type(phone)) == (13812345678, int)
    assert (count, type(count)) == (3, int)
    assert (share, type(share)) == (0.25, float)
    assert rows[3] == (4, [None, None, None, 1.5e20, -7, False])
    assert type(rows[3][1][3]) is float  # beyond 2**53 a float is not made an int
    assert type(rows[1][1][1]) is datetime.datetime  # a date cell at midnight: a datetime, as openpyxl
    assert rows[2] == (3, [])  # the empty row keeps its number, its cells None


def test_an_xls_is_read_with_its_dates_and_numbers():
    data = (LEDGERS / "clerk.xls").read_bytes()
    book = workbook.Workbook(data)
    rows = book.rows(book.sheetnames[0])
    cells = [c for _, row in rows for c in row]
    assert any(isinstance(c, datetime.datetime) for c in cells)
    assert "" not in cells
    assert all(not (isinstance(c, float) and c.is_integer()) for c in cells)


def test_an_xlsx_named_xls_is_read_as_an_xlsx_through_the_unpacked_size_check(monkeypatch):
    data = clerk_xlsx()
    assert parse.read_table(data, "台账.xls").header == parse.read_table(data, "台账.xlsx").header
    monkeypatch.setattr(parse, "MAX_UNPACKED_XLSX", 1000)
    with pytest.raises(parse.LedgerError) as refused:
        parse.read_table(data, "台账.xls")
    assert "解压后过大" in refused.value.problems[0].reason
