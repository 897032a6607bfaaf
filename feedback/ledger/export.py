"""Excel ledgers (台账) with Chinese headers."""

from __future__ import annotations

import csv
import datetime
import io
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from feedback.channels import REGISTRY
from feedback.ledger.parse import COLUMNS, RECORD_SHEETS, formula_guard
from feedback.models import Assignment, Issue

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

LEDGER_COLUMNS = [
    ("编号", 18),
    ("渠道", 12),
    ("受理日期", 12),
    ("诉求人", 16),
    ("分类", 12),
    ("性质", 8),
    ("标题", 36),
    ("主办单位", 20),
    ("协办单位", 24),
    ("办理期限", 12),
    ("状态", 12),
    ("回复日期", 12),
    ("办结日期", 12),
    ("回访评价", 10),
]


INBOX_COLUMNS = [
    ("编号", 18),
    ("标题", 40),
    ("渠道", 12),
    ("角色", 8),
    ("交办日期", 12),
    ("办理期限", 12),
    ("状态", 14),
    ("回复日期", 12),
]


def sheet_with_header(book: Workbook, title: str, columns: list[tuple[str, int]]) -> Worksheet:
    sheet = book.active
    # Excel refuses sheet titles over 31 characters or with []:*?/\ in them.
    sheet.title = "".join(ch for ch in title if ch not in "[]:*?/\\")[:31] or "Sheet1"
    _header(sheet, columns)
    return sheet


def finish_sheet(book: Workbook, sheet: Worksheet | None = None) -> bytes:
    """Dates as dates, formulas as text, the header frozen and filterable, ready to print
    (landscape, fitted to the page's width, the header repeated on every page); the workbook's
    bytes. Every workbook the portal writes ends here (the channels' too); without ``sheet``,
    every sheet of ``book`` is finished."""
    for one in [sheet] if sheet is not None else book.worksheets:
        _finish(one)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _finish(sheet: Worksheet) -> None:
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, datetime.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            elif hasattr(cell.value, "year"):
                cell.number_format = "yyyy-mm-dd"
            elif cell.data_type == "f":
                # openpyxl stores any text starting with "=" as a formula; the ledgers hold only what
                # people typed (a title like "=HYPERLINK(…)"), which must reach Excel as text.
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as it takes
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"


def text_cells(sheet: Worksheet, column: int) -> None:
    """Keep a column as text (phone numbers: a leading 0 survives any spreadsheet)."""
    for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
        if cell.value is not None:
            cell.value = str(cell.value)
            cell.data_type = "s"
        cell.number_format = "@"


def inbox_workbook(assignments: Iterable[Assignment], *, title: str = "待办事项") -> bytes:
    """The inbox as the department sees it (one tab, one search): one row per assignment.

    The caller passes ``assignments`` with ``issue`` selected: one query, whatever the number of rows.
    """
    book = Workbook()
    sheet = sheet_with_header(book, title, INBOX_COLUMNS)
    for a in assignments:
        sheet.append(
            [
                a.issue.ref,
                a.issue.title,
                a.issue.get_channel_display(),
                a.get_role_display(),
                a.assigned_on,
                a.due_date,
                a.get_status_display(),
                a.replied_on,
            ]
        )
    return finish_sheet(book, sheet)


def issues_workbook(issues: Iterable[Issue]) -> bytes:
    """The issue list's workbook (the list's columns, one row an issue), in memory: for the few
    thousand rows exported in the request. A background export writes the same cells through
    ``write_issues_workbook``."""
    book = Workbook()
    sheet = sheet_with_header(book, "诉求台账", LEDGER_COLUMNS)
    for issue in issues:
        assignments = [
            (a.role, a.department.name, a.due_date, a.replied_on)
            for a in issue.assignments.all()  # prefetched by the caller, in the model's order
        ]
        sheet.append(
            ledger_list_row(
                ref=issue.ref,
                channel=issue.channel,
                received_on=issue.received_on,
                requester=issue.requester.name,
                category=issue.category.name,
                nature=issue.nature,
                title=issue.title,
                status=issue.status,
                closed_on=issue.closed_on,
                satisfaction=issue.satisfaction,
                assignments=assignments,
            )
        )
    return finish_sheet(book, sheet)


_LABELS = {
    "channel": dict(Issue._meta.get_field("channel").flatchoices),
    "nature": dict(Issue.Nature.choices),
    "status": dict(Issue.Status.choices),
    "satisfaction": dict(Issue.Satisfaction.choices),
}


def ledger_list_row(
    *,
    ref: str,
    channel: str,
    received_on: datetime.date,
    requester: str,
    category: str,
    nature: str,
    title: str,
    status: str,
    closed_on: datetime.date | None,
    satisfaction: str,
    assignments: list[tuple[str, str, datetime.date, datetime.date | None]],
) -> list[Any]:
    """One row of the issue list's workbook (LEDGER_COLUMNS) from plain values; ``assignments`` as
    (role, department name, due date, reply date) in the model's order (due date, id)."""
    lead = next((a for a in assignments if a[0] == Assignment.Role.LEAD), None)
    replied = [a[3] for a in assignments if a[3]]
    return [
        ref,
        _LABELS["channel"].get(channel, channel),
        received_on,
        requester,
        category,
        _LABELS["nature"].get(nature, nature),
        title,
        lead[1] if lead else "",
        "；".join(a[1] for a in assignments if a[0] == Assignment.Role.CO),
        lead[2] if lead else None,
        _LABELS["status"].get(status, status),
        max(replied) if replied and len(replied) == len(assignments) else None,
        closed_on,
        _LABELS["satisfaction"].get(satisfaction, "") if satisfaction else "",
    ]


def write_issues_workbook(target: Any, rows: Iterable[list[Any]], *, title: str = "诉求台账") -> None:
    """The issue list's workbook written to ``target`` (a path) as the rows come, in constant memory:
    the same cells, styles and page set-up as ``issues_workbook`` (issue 16 goal 4: 100,000 rows in
    15 s and 250 MB).

    openpyxl writes the workbook's frame — styles, the header row, the frozen pane, the print titles,
    the filter — from a two-row sheet; the data rows are then written as the sheet's XML directly
    (inline strings, numbers, dates as serial numbers in the frame's date style), a few microseconds
    a cell where openpyxl's write-only mode spends ~25 (bench/README.md, export_ledger.py). The rows
    go to a temporary file first, so the sheet's dimension and filter can name the last row."""
    book = Workbook()
    sheet = sheet_with_header(book, title, LEDGER_COLUMNS)
    sheet.append([_EXCEL_EPOCH + datetime.timedelta(days=1)])  # a placeholder: its cell gives the date style
    frame = finish_sheet(book, sheet)
    with zipfile.ZipFile(io.BytesIO(frame)) as source:
        sheet_path = next(n for n in source.namelist() if n.startswith("xl/worksheets/sheet"))
        xml = source.read(sheet_path).decode()
        head, rest = xml.split("<sheetData>", 1)
        data, tail = rest.split("</sheetData>", 1)
        header = data[: data.index("</row>") + len("</row>")]
        date_style = re.search(r'<c r="A2" s="(\d+)"', data).group(1)  # type: ignore[union-attr]
        letters = [get_column_letter(n) for n in range(1, len(LEDGER_COLUMNS) + 1)]
        with tempfile.TemporaryFile() as body:
            number = 1  # the header's
            buffer: list[str] = []
            for number, row in enumerate(rows, start=2):
                buffer.append(_xml_row(number, row, letters, date_style))
                if len(buffer) >= 1000:
                    body.write("".join(buffer).encode())
                    buffer.clear()
            body.write("".join(buffer).encode())
            span = f"A1:{letters[-1]}{number}"
            head = re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="{span}"', head, count=1)
            tail = re.sub(r'<autoFilter ref="[^"]*"', f'<autoFilter ref="{span}"', tail, count=1)
            with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
                for item in source.infolist():
                    if item.filename != sheet_path:
                        out.writestr(item, source.read(item.filename))
                        continue
                    entry = zipfile.ZipInfo(sheet_path, date_time=item.date_time)
                    entry.compress_type = zipfile.ZIP_DEFLATED
                    with out.open(entry, "w", force_zip64=True) as stream:
                        stream.write(f"{head}<sheetData>{header}".encode())
                        body.seek(0)
                        shutil.copyfileobj(body, stream, 1 << 20)
                        stream.write(f"</sheetData>{tail}".encode())


_EXCEL_EPOCH = datetime.date(1899, 12, 30)  # serial 0 of the 1900 date system, past its 1900-02-29 bug
# Characters XML 1.0 cannot carry (openpyxl refuses them); the ledgers hold what people typed or pasted.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xml_row(number: int, values: list[Any], letters: list[str], date_style: str) -> str:
    cells = []
    for letter, value in zip(letters, values, strict=False):
        if value is None or value == "":
            continue
        ref = f"{letter}{number}"
        if isinstance(value, str):
            text = xml_escape(_ILLEGAL_XML.sub("", value))
            space = ' xml:space="preserve"' if text != text.strip() else ""
            cells.append(f'<c r="{ref}" t="inlineStr"><is><t{space}>{text}</t></is></c>')
        elif isinstance(value, bool):
            cells.append(f'<c r="{ref}" t="b"><v>{int(value)}</v></c>')
        elif isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            cells.append(f'<c r="{ref}" s="{date_style}"><v>{(value - _EXCEL_EPOCH).days}</v></c>')
        elif isinstance(value, int | float):
            cells.append(f'<c r="{ref}"><v>{value}</v></c>')
        else:
            raise TypeError(f"no cell for {type(value).__name__}")
    return f'<row r="{number}">{"".join(cells)}</row>'


# --- The importable ledger: docs/ledger-format.md's columns, read back by ``import_issues`` -----------------


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
            formula_guard(issue.ref),
            issue.channel,
            f"{issue.received_on:%Y-%m-%d}",
            formula_guard(requester.name),
            requester.phone,
            formula_guard(requester.organization),
            issue.category.code,
            formula_guard(issue.title),
            formula_guard(issue.content),
            ";".join(a.department.code for a in assignments),
            str(lead.deadline_amount) if lead else "",
            lead.deadline_unit if lead else "",
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


REPORT_COLUMNS = [("指标（单位）", 22), ("数值", 12), ("口径", 90)]
_VALUE = re.compile(r"(-?\d+(?:\.\d+)?)\s*(%|\S*)")


def report_value(value: str) -> tuple[int | float | None, str]:
    """``"12 件"`` → ``(12, "件")``, ``"42.9%"`` → ``(42.9, "%")``, ``"—"`` → ``(None, "")``."""
    match = _VALUE.fullmatch(value.strip())
    if not match:
        return None, ""
    number = match.group(1)
    return (float(number) if "." in number else int(number)), match.group(2)


def report_workbook(lines: Iterable[Any], *, title: str) -> bytes:
    """The county report (feedback.report.Line rows) as a sheet: 指标（单位）, 数值 (a number, so that
    it can be summed and charted; empty where the page shows “—”), 口径 (the channels' parts and the
    note before the formula, as on the page, wrapped and fully visible); ``title`` names the sheet."""
    book = Workbook()
    sheet = sheet_with_header(book, title, REPORT_COLUMNS)
    for line in lines:
        parts = "、".join(f"{part.label} {part.value}" for part in line.parts)
        explained = "；".join(text for text in (f"其中{parts}" if parts else "", line.note, line.formula) if text)
        number, unit = report_value(line.value)
        sheet.append([f"{line.label}（{unit}）" if unit else line.label, number, explained])
    for row in sheet.iter_rows(min_row=2):
        row[1].number_format = "0.0" if isinstance(row[1].value, float) else "0"
        row[2].alignment = Alignment(wrap_text=True, vertical="top")
        # Excel does not grow a row for wrapped text it did not lay out itself: about 45 CJK
        # characters a line in a 90-wide column, 15 points a line.
        lines_needed = max(1, -(-len(str(row[2].value or "")) // 45))
        sheet.row_dimensions[row[0].row].height = 15 * lines_needed + 3
    return finish_sheet(book, sheet)


# --- The round-trip workbook (manage.py export_issues) ------------------------------------------------

# Sheet 1: the import columns (Chinese names import_issues reads) and what the figures need beyond them.
ROUND_TRIP_COLUMNS = [
    ("编号", 18),
    ("渠道", 8),
    ("受理日期", 12),
    ("诉求人", 16),
    ("诉求人电话", 15),
    ("诉求人单位", 20),
    ("分类", 14),
    ("标题", 30),
    ("诉求内容", 40),
    ("承办单位", 16),
    ("办理时限", 8),
    ("时限单位", 10),
    ("回复日期", 12),
    ("办结日期", 12),
    ("回访评价", 10),
    ("性质", 8),
    ("被举报单位", 10),
    ("状态", 10),
    ("回访日期", 12),
    ("重办日期", 12),
    ("未能回访原因", 14),
    ("未能回访说明", 20),
    ("诉求人类型", 10),
    ("现场回应", 30),
    ("回访意见", 30),
    ("来源会议", 24),
    ("会议日期", 12),
]
DETAIL_SHEET = "交办明细"
DETAIL_COLUMNS = [
    ("编号", 18),
    ("承办单位", 10),
    ("单位名称", 22),
    ("角色", 6),
    ("状态", 10),
    ("交办日期", 12),
    ("办理时限", 8),
    ("时限单位", 10),
    ("办理期限", 12),
    ("原定期限", 12),
    ("期限暂定", 8),
    ("签收日期", 12),
    ("回复日期", 12),
    ("办理结果", 10),
    ("期限版本", 8),
]
# Sheet 回复函: every version of every written reply, its letter named by the stored file's path.
REPLY_SHEET = "回复函"
REPLY_COLUMNS = [
    ("编号", 18),
    ("交办序号", 8),
    ("承办单位", 10),
    ("版本", 6),
    ("扫描件文件", 40),
    ("原文件名", 24),
    ("文件类型", 16),
    ("文件大小", 10),
    ("SHA-256", 20),
    ("签发人", 10),
    ("签发人职务", 10),
    ("签发日期", 12),
    ("办理结果", 10),
    ("答复摘要", 40),
    ("审核", 8),
    ("审核意见", 30),
    ("提交时间", 18),
    ("审核时间", 18),
]
SCANS_NOTE = (
    "扫描件本身不在本工作簿中：它们随备份（manage.py backup 的 media/ 部分）恢复到存储的同一路径；"
    "这里记的是存储路径（导入后原样链接）和 SHA-256，可据此核对。"
)


def _local(moment: Any) -> Any:
    """A timestamp as the county's local wall time to the second (Excel has no time zones)."""
    return timezone.localtime(moment).replace(tzinfo=None, microsecond=0) if moment else None


def round_trip_workbook(
    issues: Iterable[Issue],
    rehandled_on: dict[int, Any],
    results: dict[int, str],
    replies: dict[int, list[Any]] | None = None,
    records: dict[str, list[Any]] | None = None,
    sessions: dict[int, tuple[str, Any]] | None = None,
) -> bytes:
    """Every issue with what every figure depends on: sheet 诉求台账 (one row an issue: the ledger
    columns, plus nature, accused unit, status, follow-up date and the first re-handling date) and
    sheet 交办明细 (one row an assignment, withdrawn ones included: status, assigned date, limit,
    due date and the date before any extension, acknowledgement, accepted-reply date, the latest
    accepted reply's result) and sheet 回复函 (every version of every written reply: who signed it,
    when, the result, the review, and the stored scan's path — the scans travel with the backup).
    ``import_issues`` reads them all back (feedback.ledger.parse).

    ``issues`` with requester, category, accused department and assignments (with their departments)
    prefetched; ``rehandled_on`` and ``results`` keyed by issue and assignment id, ``replies`` (the
    SignedReply rows, oldest version first) by assignment id; ``records`` the ExtensionRequest and
    Objection rows and the DeadlineSteps taken, by kind (parse.RECORD_SHEETS), each written on its own
    sheet (延期申请, 催办督办, 异议); ``sessions`` the session each issue was raised at, (name, date)
    by issue id (the channels' ``ledger_sessions``)."""
    replies = replies or {}
    sessions = sessions or {}
    records = records or {}
    issues = list(issues)
    book = Workbook()
    sheet = sheet_with_header(book, "诉求台账", ROUND_TRIP_COLUMNS)
    detail = book.create_sheet(DETAIL_SHEET)
    _header(detail, DETAIL_COLUMNS)
    letters = book.create_sheet(REPLY_SHEET)
    _header(letters, REPLY_COLUMNS)
    letters.cell(row=1, column=5).comment = Comment(SCANS_NOTE, "三个直通车诉求办理平台")
    for issue in issues:
        assignments = sorted(issue.assignments.all(), key=lambda a: (a.role != Assignment.Role.LEAD, a.pk))
        counted = [a for a in assignments if a.status != Assignment.Status.WITHDRAWN]
        lead = counted[0] if counted else None
        replied = [a.replied_on for a in counted]
        requester = issue.requester
        sheet.append(
            [
                formula_guard(issue.ref),
                issue.get_channel_display(),
                issue.received_on,
                formula_guard(requester.name),
                requester.phone,
                formula_guard(requester.organization),
                issue.category.code,
                formula_guard(issue.title),
                formula_guard(issue.content),
                ";".join(a.department.code for a in counted),
                lead.deadline_amount if lead else None,
                lead.get_deadline_unit_display() if lead else "",
                max(replied) if counted and all(replied) else None,
                issue.closed_on,
                issue.get_satisfaction_display() if issue.satisfaction else "",
                issue.get_nature_display(),
                issue.accused_department.code if issue.accused_department else "",
                issue.get_status_display(),
                issue.followed_up_on,
                rehandled_on.get(issue.pk),
                issue.get_follow_up_skipped_display() if issue.follow_up_skipped else "",
                formula_guard(issue.follow_up_skip_note),
                requester.get_kind_display(),
                formula_guard(issue.onsite_answer),
                formula_guard(issue.follow_up_comment),
                *(
                    (formula_guard(sessions[issue.pk][0]), sessions[issue.pk][1])
                    if issue.pk in sessions
                    else ("", None)
                ),
            ]
        )
        for ordinal, a in enumerate(assignments, start=1):
            for r in replies.get(a.pk, []):
                letters.append(
                    [
                        formula_guard(issue.ref),
                        ordinal,
                        a.department.code,
                        r.version,
                        r.file.name,
                        formula_guard(r.original_name),
                        r.content_type,
                        r.size,
                        r.sha256,
                        formula_guard(r.signer_name),
                        formula_guard(r.signer_title),
                        r.signed_on,
                        r.get_result_display(),
                        formula_guard(r.summary),
                        r.get_review_status_display(),
                        formula_guard(r.review_reason),
                        _local(r.submitted_at),
                        _local(r.reviewed_at),
                    ]
                )
        for a in assignments:
            acknowledged = timezone.localtime(a.acknowledged_at).date() if a.acknowledged_at else None
            detail.append(
                [
                    formula_guard(issue.ref),
                    a.department.code,
                    a.department.name,
                    a.get_role_display(),
                    a.get_status_display(),
                    a.assigned_on,
                    a.deadline_amount,
                    a.get_deadline_unit_display(),
                    a.due_date,
                    a.original_due_date,
                    "是" if a.provisional else "",
                    acknowledged,
                    a.replied_on,
                    results.get(a.pk, ""),
                    a.deadline_version,
                ]
            )
    text_cells(sheet, 5)  # 诉求人电话
    ordinals = {
        a.pk: (issue.ref, n)
        for issue in issues
        for n, a in enumerate(sorted(issue.assignments.all(), key=lambda a: (a.role != Assignment.Role.LEAD, a.pk)), 1)
    }
    for name, (kind, columns) in RECORD_SHEETS.items():
        tab = book.create_sheet(name)
        _header(
            tab, [(label, 12 if how.startswith(("date", "ordinal", "choice")) else 24) for label, _, how in columns]
        )
        for record in sorted(records.get(kind, []), key=lambda r: ordinals.get(r.assignment_id, ("", 0))):
            if record.assignment_id not in ordinals:
                continue
            ref, ordinal = ordinals[record.assignment_id]
            tab.append([_record_cell(record, attr, how, ref, ordinal, ordinals) for _, attr, how in columns])
    return finish_sheet(book)


def _record_cell(record: Any, attr: str, how: str, ref: str, ordinal: int, ordinals: dict[int, tuple[str, int]]) -> Any:
    how = how.rstrip("!")
    if attr == "ref":
        return formula_guard(ref)
    if attr == "assignment":
        return ordinal
    if how == "ordinal":
        target = getattr(record, f"{attr}_id")
        return ordinals[target][1] if target in ordinals else None
    if how == "department":
        department = getattr(record, attr)
        return department.code if department else ""
    if how == "choice":
        return getattr(record, f"get_{attr}_display")() if getattr(record, attr) else ""
    if how == "datetime":
        return _local(getattr(record, attr))
    value = getattr(record, attr)
    return formula_guard(value) if isinstance(value, str) else value


def _header(sheet: Worksheet, columns: list[tuple[str, int]]) -> None:
    sheet.append([name for name, _ in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="B22222")
        cell.alignment = Alignment(horizontal="center", vertical="center")
    for index, (_, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def export_round_trip(issues: QuerySet[Issue]) -> bytes:
    """``round_trip_workbook`` of ``issues`` (a scoped queryset): eight queries and one a channel, whatever their number
    (the issues, their assignments, the first re-handling dates, the accepted replies' results, the
    replies, the extension requests, the steps taken, the objections; the sessions)."""
    from django.db.models import Min, OuterRef, Subquery

    from feedback.models import HistoryEntry, SignedReply

    issues = (
        issues.select_related("requester", "category", "accused_department")
        .prefetch_related(Prefetch("assignments", queryset=Assignment.objects.select_related("department")))
        .order_by("received_on", "id")
    )
    rehandled = {
        row["issue"]: timezone.localtime(row["first"]).date()
        for row in HistoryEntry.objects.filter(issue__in=issues.values("pk"), action__in=("reopen", "return_reply"))
        .values("issue")
        .annotate(first=Min("at"))
    }
    latest = (
        SignedReply.objects.filter(assignment=OuterRef("pk"), review_status=SignedReply.Review.ACCEPTED)
        .order_by("-version")
        .values("result")[:1]
    )
    labels = dict(SignedReply.Result.choices)
    results = {
        pk: labels.get(result, result)
        for pk, result in Assignment.objects.filter(issue__in=issues.values("pk"))
        .annotate(result=Subquery(latest))
        .exclude(result=None)
        .values_list("pk", "result")
    }
    replies: dict[int, list[SignedReply]] = {}
    for reply in SignedReply.objects.filter(assignment__issue__in=issues.values("pk")).order_by(
        "assignment_id", "version"
    ):
        replies.setdefault(reply.assignment_id, []).append(reply)
    from feedback.models import DeadlineStep, ExtensionRequest, Objection

    records = {
        "extension": list(ExtensionRequest.objects.filter(assignment__issue__in=issues.values("pk")).order_by("id")),
        "step": list(
            DeadlineStep.objects.filter(assignment__issue__in=issues.values("pk"), taken_at__isnull=False).order_by(
                "assignment_id", "deadline_version", "scheduled_for", "id"
            )
        ),
        "objection": list(
            Objection.objects.filter(assignment__issue__in=issues.values("pk"))
            .select_related("suggested_department")
            .order_by("id")
        ),
    }
    sessions: dict[int, tuple[str, Any]] = {}
    for plugin in REGISTRY.values():
        if plugin.ledger_sessions is not None:
            sessions.update(plugin.ledger_sessions(issues.filter(channel=plugin.channel).values("pk")))
    return round_trip_workbook(issues, rehandled, results, replies, records, sessions)
