"""The published monthly bulletin (月度通报) as a Word document (DOCX, python-docx).

Built from ``Bulletin.figures`` alone, through the same cells as the page
(``feedback.bulletins.bulletin_tables``): a correction made after publication never reaches it,
and no figure is computed twice. Layout follows GB/T 9704-2012 as ``feedback.documents.printed`` does:
A4, 仿宋 at 三号 for the text, 小标宋 at 二号 for the title, 黑体 for the headings (一、二、…),
dates as 2026年6月1日, the page number as "— 1 —" at the foot. The tables use the plain grid
style with a shaded header row repeated on every page and rows that never split across pages,
so they print the same on any printer, in Word, WPS or LibreOffice. Every number frozen with its
records is a hyperlink to the portal's page of those records (``settings.PORTAL_URL`` + the
bulletin's item list), as on the page.

Why DOCX and not PDF: a PDF needs a CJK font embedded (none is installed on the county's servers,
and the PyPI wheels we have either only render PDFs, pypdfium2, or only edit them, pikepdf), and an
office edits the bulletin's wording before sealing it, which a DOCX allows.
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.utils import timezone
from docx import Document
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from feedback.documents.printed import (
    BODY_FONT,
    DOCX_CONTENT_TYPE,
    HEADING_FONT,
    TITLE_FONT,
    _font,
    _paragraph,
    chinese_date,
)
from feedback.figures.bulletins import BulletinTable, bulletin_tables, month_bounds, unlinked_note
from feedback.models import Bulletin, Channel

__all__ = ["DOCX_CONTENT_TYPE", "bulletin_docx_bytes", "bulletin_filename", "bulletin_title"]

KAI_FONT = "楷体_GB2312"
TEXT_WIDTH_CM = 21 - 2.8 - 2.6
TABLE_SIZE = 12  # 小四: a ranking of 15 bureaus fits on one page
NUMERALS = "一二三四五六七八九十"
LINK_COLOUR = RGBColor(0x1F, 0x4E, 0x9A)  # every number links to its frozen list on the portal
HEADER_SHADE = "D9D9D9"  # light grey: prints on a monochrome laser printer without hiding the text
# Column widths (cm) by the number of columns: 总体情况 (3), the listed items (5), the rankings (6).
WIDTHS = {3: [4.6, 5.5, 5.5], 5: [2.8, 5.0, 3.4, 2.2, 2.2], 6: [1.4, 5.0, 1.8, 2.4, 2.4, 2.6]}
CENTRED = {3: {1, 2}, 5: {3, 4}, 6: {0, 2, 3, 4, 5}}  # the columns of numbers and dates
FORMULA_ORDER = (
    "reply_rate",
    "on_time_rate",
    "closure_rate",
    "satisfaction_rate",
    "overdue_open",
    "department_reply_rate",
)


def bulletin_title(bulletin: Bulletin) -> str:
    """2026年5月政网直通车办理情况通报 (no leading zero in a formal date, GB/T 9704)."""
    scope = Channel(bulletin.channel).label if bulletin.channel else "三个直通车"
    return f"{bulletin.month.year}年{bulletin.month.month}月{scope}办理情况通报"


def bulletin_filename(bulletin: Bulletin) -> str:
    return f"{bulletin_title(bulletin)}.docx"


def _widths(count: int) -> list[float]:
    return WIDTHS.get(count, [TEXT_WIDTH_CM / count] * count)


def _shade(cell: Any, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _row_flags(row: Any, *, header: bool = False) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:cantSplit"))  # a row never breaks across two pages
    if header:
        tr_pr.append(OxmlElement("w:tblHeader"))  # repeated at the top of every page the table spans


def _write(cell: Any, text: str, *, font: str = BODY_FONT, centred: bool = False) -> None:
    cell.text = ""
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.space_before = paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.line_spacing = 1.15
    if centred:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(paragraph.add_run(text), font, TABLE_SIZE)


def _hyperlink(cell: Any, url: str) -> None:
    """Turn the cell's text into a hyperlink to ``url`` (an external relationship, as Word writes it),
    underlined in blue so that it reads as a link on screen and still prints legibly."""
    paragraph = cell.paragraphs[0]
    r_id = paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), r_id)
    for run in list(paragraph.runs):
        run.font.underline = True
        run.font.color.rgb = LINK_COLOUR
        paragraph._p.remove(run._r)
        link.append(run._r)
    paragraph._p.append(link)


def _table(doc: Any, table: BulletinTable) -> None:
    count = len(table.columns)
    widths = [Cm(w) for w in _widths(count)]
    grid = doc.add_table(rows=1 + max(len(table.rows), 1), cols=count)
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    # Word reads the cell widths, LibreOffice the grid's: set both, and stop autofit undoing them.
    grid.autofit = False
    for column, width in zip(grid.columns, widths, strict=True):
        column.width = width
        for cell in column.cells:
            cell.width = width
    header = grid.rows[0]
    _row_flags(header, header=True)
    for cell, label in zip(header.cells, table.columns, strict=True):
        _shade(cell, HEADER_SHADE)  # before _write's vAlign: the schema puts w:shd ahead of it in w:tcPr
        _write(cell, label, font=HEADING_FONT, centred=True)
    centred = CENTRED.get(count, set())
    if not table.rows:
        row = grid.rows[1]
        _row_flags(row)
        merged = row.cells[0].merge(row.cells[-1])
        _write(merged, table.empty, centred=True)
        return
    for row, cells in zip(grid.rows[1:], table.rows, strict=True):
        _row_flags(row)
        for index, (cell, value) in enumerate(zip(row.cells, cells, strict=True)):
            _write(cell, value.text, centred=index in centred)
            if value.link:
                _hyperlink(cell, value.link)


def _page_number(section: Any) -> None:
    """ "— 1 —" centred in the footer (GB/T 9704 7.5), as a PAGE field so Word and WPS number each page."""
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(paragraph.add_run("— "), "宋体", 14)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = paragraph.add_run("1")
    _font(run, "宋体", 14)
    paragraph._p.remove(run._r)
    field.append(run._r)
    paragraph._p.append(field)
    _font(paragraph.add_run(" —"), "宋体", 14)


def bulletin_docx_bytes(bulletin: Bulletin, *, issuer: str) -> bytes:
    """The published bulletin, from its frozen figures; ``issuer`` is the office that signs it."""
    f = bulletin.figures
    first, last = month_bounds(bulletin.month)
    published = timezone.localdate(bulletin.published_at) if bulletin.published_at else None

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    normal = doc.styles["Normal"]
    normal.font.name = BODY_FONT
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
    props = doc.core_properties
    props.title = bulletin_title(bulletin)
    props.author = props.last_modified_by = issuer
    props.comments = "由三个直通车诉求办理平台根据发布时冻结的通报数据生成"
    if bulletin.published_at:
        props.created = props.modified = bulletin.published_at

    _paragraph(doc, bulletin_title(bulletin), font=TITLE_FONT, size=22, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=6)
    period = f"{chinese_date(first)}至{chinese_date(last)}"
    _paragraph(
        doc,
        f"（{period}受理，数据截至{chinese_date(last)}）",
        font=KAI_FONT,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        space_after=12,
    )
    _paragraph(
        doc,
        f"现将{period}受理诉求的办理情况通报如下。本月数据按{chinese_date(last)}当日结束时的办理状态"
        f"计算；本年累计为{first.year}年1月1日起受理的诉求，按同一时点计算。",
        indent=True,
    )

    tables = bulletin_tables(f, link_items=True, bulletin_id=bulletin.pk, base=settings.PORTAL_URL.rstrip("/"))
    note = unlinked_note(f)
    if note:
        _paragraph(doc, note, size=12, indent=True)
    for number, table in zip(NUMERALS, tables, strict=False):
        _paragraph(doc, f"{number}、{table.heading}", font=HEADING_FONT, indent=True, keep_with_next=True)
        _table(doc, table)
        if table.note:
            _paragraph(doc, table.note, size=14, indent=True)

    formulas = f.get("formulas", {})
    if formulas:
        _paragraph(doc, "附：指标口径", font=HEADING_FONT, size=14, indent=True, keep_with_next=True)
        for key in FORMULA_ORDER:
            if key in formulas:
                _paragraph(doc, formulas[key], size=12, indent=True)

    # The signature block stays together: GB/T 9704 forbids a page carrying only the date.
    _paragraph(doc, "", keep_with_next=True)
    _paragraph(doc, issuer, align=WD_ALIGN_PARAGRAPH.RIGHT, keep_with_next=True)
    _paragraph(doc, chinese_date(published) if published else "", align=WD_ALIGN_PARAGRAPH.RIGHT)
    _page_number(section)

    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
