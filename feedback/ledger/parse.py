"""Ledgers (台账) to import: read a CSV or XLSX file and check every row before anything is written.

The columns are fixed by docs/ledger-format.md ("Ledger columns for import_issues")::

    ref, channel, received_on, requester, requester_phone, requester_org, category, title, content,
    departments, deadline_amount, deadline_unit, replied_on, closed_on, satisfaction

All fifteen must be in the header, each by that name or by one of its Chinese names
(``CHINESE_COLUMNS``: the variants docs/ledger-format.md lists, "Ledger files clerks keep"); other columns are
ignored and named as such. The header is the first row naming at least three columns: a title block
above it is skipped; so are rows whose first cell is 合计/总计/小计. A problem is reported as
``row N: column: reason``, or, when the file names the column in Chinese, ``第 N 行 受理时间：reason``
with the file's own header, where N is the row of the spreadsheet as the clerk sees it. In a CSV
file that is the line number, except that a cell holding line breaks (quoted) still counts as one
row, as Excel shows it. Blank rows are
skipped but keep their number.

Rules beyond the contract's wording (docs/user-guide.md "导入台账" says the same in Chinese):

- ``departments`` may be empty: the issue is registered and not yet assigned. Then the deadline,
  ``replied_on``, ``closed_on`` and ``satisfaction`` must be empty too.
- ``closed_on`` requires ``replied_on`` (an issue is closed only after every written reply was
  accepted — the state machine's rule) and may not be before it; ``satisfaction`` requires
  ``replied_on`` as well. Without a separate follow-up date, the follow-up is dated ``closed_on``
  when there is one, else ``replied_on``.
- dates are ``YYYY-MM-DD``; ``YYYY/M/D``, ``YYYY.M.D``, ``YYYY年M月D日`` and Excel date cells are
  accepted too. A 9–11 digit phone starting neither with 0 nor 1 is a landline that lost its 0: an
  error, never stored as is. CSV in UTF-8 (BOM or not) or GBK/GB18030; .xlsx and .xls (python-calamine,
  feedback.ledger.workbook).
  No date may lie in the future, and none may be before ``received_on``.
- a round-trip workbook (``manage.py export_issues``) has a second sheet 交办明细: then the optional
  columns (nature, status, follow-up and first re-handling dates, accused unit) are read too, and the
  assignments are taken from that sheet as they were.
- the requester's kind follows the channel: 网民 (net), 企业 (enterprise), 群众 (citizen).
- a ``ref`` already in the database is skipped ("already present"): importing a file twice creates
  nothing new. A ``ref`` already used by an issue of another channel is an error.
- a text cell that starts with ``'`` followed by ``= + - @`` loses the apostrophe: our own export
  adds it so that Excel does not run such a cell as a formula (CSV injection).

This module only reads and checks. The writes are ``services.import_ledger``.
"""

from __future__ import annotations

import csv
import datetime
import io
import itertools
import logging
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils import timezone

from feedback.deadlines import MIN_YEAR
from feedback.ledger.statements import unprepared
from feedback.models import (
    Assignment,
    Category,
    Channel,
    DeadlinePolicy,
    DeadlineStep,
    DeadlineUnit,
    Department,
    ExtensionRequest,
    Issue,
    Objection,
    Requester,
    SignedReply,
)

COLUMNS: tuple[str, ...] = (
    "ref",
    "channel",
    "received_on",
    "requester",
    "requester_phone",
    "requester_org",
    "category",
    "title",
    "content",
    "departments",
    "deadline_amount",
    "deadline_unit",
    "replied_on",
    "closed_on",
    "satisfaction",
)
# The Chinese column names a clerk may write instead (the portal's own words: the export, the forms).
CHINESE_COLUMNS: dict[str, str] = {
    "编号": "ref",
    "诉求编号": "ref",
    "台账编号": "ref",
    "渠道": "channel",
    "来源渠道": "channel",
    "受理日期": "received_on",
    "受理时间": "received_on",
    "登记日期": "received_on",
    "收到日期": "received_on",
    "诉求人": "requester",
    "诉求人姓名": "requester",
    "姓名": "requester",
    "反映人": "requester",
    "网民昵称": "requester",
    "诉求人电话": "requester_phone",
    "联系电话": "requester_phone",
    "联系方式": "requester_phone",
    "电话": "requester_phone",
    "诉求人单位": "requester_org",
    "企业名称": "requester_org",
    "单位名称": "requester_org",
    "分类": "category",
    "诉求分类": "category",
    "类别": "category",
    "诉求类别": "category",
    "标题": "title",
    "诉求标题": "title",
    "诉求内容": "content",
    "内容": "content",
    "具体诉求": "content",
    "承办单位": "departments",
    "交办单位": "departments",
    "责任单位": "departments",
    "办理单位": "departments",
    "办理时限": "deadline_amount",
    "时限": "deadline_amount",
    "时限单位": "deadline_unit",
    "回复日期": "replied_on",
    "答复日期": "replied_on",
    "回复时间": "replied_on",
    "办结日期": "closed_on",
    "办结时间": "closed_on",
    "回访评价": "satisfaction",
    "满意度": "satisfaction",
    "回访结果": "satisfaction",
}
# The header is the first row naming at least this many columns (rows above it: a title block).
HEADER_MIN_NAMES = 3
HEADER_SEARCH_ROWS = 30
# Under the data: a row whose first non-empty cell says it is a total.
TOTAL_WORDS = ("合计", "总计", "小计")
# Columns our own export adds (feedback.ledger.export.ROUND_TRIP_COLUMNS): optional, read when present.
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "nature",
    "accused_department",
    "status",
    "followed_up_on",
    "rehandled_on",
    "follow_up_skipped",
    "follow_up_skip_note",
    "kind",
    "onsite_answer",
    "follow_up_comment",
    "session_name",
    "session_date",
)
CHINESE_COLUMNS.update(
    {
        "性质": "nature",
        "诉求性质": "nature",
        "被举报单位": "accused_department",
        "状态": "status",
        "回访日期": "followed_up_on",
        "重办日期": "rehandled_on",
        "未能回访原因": "follow_up_skipped",
        "未能回访说明": "follow_up_skip_note",
        "诉求人类型": "kind",
        "现场回应": "onsite_answer",
        "回访意见": "follow_up_comment",
        "来源会议": "session_name",
        "会议日期": "session_date",
    }
)
SESSION_COLUMNS = ("session_name", "session_date")
# The per-department sheet of the round-trip workbook.
DETAIL_SHEET = "交办明细"
DETAIL_COLUMNS: dict[str, str] = {
    "编号": "ref",
    "承办单位": "department",
    "角色": "role",
    "状态": "status",
    "交办日期": "assigned_on",
    "办理时限": "deadline_amount",
    "时限单位": "deadline_unit",
    "办理期限": "due_date",
    "原定期限": "original_due_date",
    "期限暂定": "provisional",
    "签收日期": "acknowledged_on",
    "回复日期": "replied_on",
    "办理结果": "result",
    "期限版本": "deadline_version",
}
DETAIL_REQUIRED = (
    "ref",
    "department",
    "role",
    "status",
    "assigned_on",
    "deadline_amount",
    "deadline_unit",
    "due_date",
    "original_due_date",
    "replied_on",
)
# Every version of every written reply (feedback.ledger.export.REPLY_SHEET); the scans themselves
# travel with the backup, the sheet names each by its stored path.
REPLY_SHEET = "回复函"
REPLY_COLUMNS: dict[str, str] = {
    "编号": "ref",
    "交办序号": "ordinal",
    "承办单位": "department",
    "版本": "version",
    "扫描件文件": "file",
    "原文件名": "original_name",
    "文件类型": "content_type",
    "文件大小": "size",
    "SHA-256": "sha256",
    "签发人": "signer_name",
    "签发人职务": "signer_title",
    "签发日期": "signed_on",
    "办理结果": "result",
    "答复摘要": "summary",
    "审核": "review_status",
    "审核意见": "review_reason",
    "提交时间": "submitted_at",
    "审核时间": "reviewed_at",
}
# The assignments' other records (feedback.ledger.export): extension requests, the reminder and
# escalation steps already taken (提醒、超期、催办、督办、列入通报) and objections, one
# row each, tied to the issue's n-th assignment of 交办明细 (交办序号). Kinds: text, date, datetime,
# int, ordinal (of an assignment), department, or choice (the model field's choices); "!" marks a
# required cell.
RECORD_SHEETS: dict[str, tuple[str, tuple[tuple[str, str, str], ...]]] = {
    "延期申请": (
        "extension",
        (
            ("编号", "ref", "text!"),
            ("交办序号", "assignment", "ordinal!"),
            ("申请时的期限", "current_due_date", "date!"),
            ("申请延至", "requested_due_date", "date!"),
            ("延期理由", "reason", "text!"),
            ("状态", "status", "choice!"),
            ("申请时间", "requested_at", "datetime!"),
            ("审批时间", "decided_at", "datetime"),
            ("审批意见", "decision_note", "text"),
        ),
    ),
    "催办督办": (
        "step",
        (
            ("编号", "ref", "text!"),
            ("交办序号", "assignment", "ordinal!"),
            ("步骤", "step", "choice!"),
            ("期限版本", "deadline_version", "int!"),
            ("当时的办理期限", "due_date", "date!"),
            ("应执行时间", "scheduled_for", "datetime!"),
            ("执行时间", "taken_at", "datetime!"),
            ("通知时间", "announced_at", "datetime"),
        ),
    ),
    "异议": (
        "objection",
        (
            ("编号", "ref", "text!"),
            ("交办序号", "assignment", "ordinal!"),
            ("异议理由", "reason", "text!"),
            ("建议改派单位", "suggested_department", "department"),
            ("状态", "status", "choice!"),
            ("提出时间", "raised_at", "datetime!"),
            ("决定时间", "decided_at", "datetime"),
            ("决定意见", "decision_note", "text"),
            ("改派后期限", "clock", "choice"),
            ("改派后交办序号", "new_assignment", "ordinal"),
        ),
    ),
}
RECORD_MODELS = {"extension": ExtensionRequest, "objection": Objection, "step": DeadlineStep}
ENCODING_MESSAGE = "文件既不是 UTF-8 也不是 GBK/GB18030 编码，请在 Excel 中另存为“CSV UTF-8（逗号分隔）”后重新导入"
# A zip whose parts unpack to more than this is refused before calamine or openpyxl reads it (a "zip bomb").
MAX_UNPACKED_XLSX = 200 * 1024 * 1024
MAX_AMOUNT = 365  # the same bound as the registration form's 办理时限
CHECK_BATCH = 5_000  # checked rows looked up in the database's refs at a time

CHANNEL_WORDS = {
    **{c.value: c.value for c in Channel},
    **{c.label: c.value for c in Channel},
    "政网": Channel.NET,
    "政企": Channel.ENTERPRISE,
    "政民": Channel.CITIZEN,
}
UNIT_WORDS = {**{u.value: u.value for u in DeadlineUnit}, **{u.label: u.value for u in DeadlineUnit}}
NATURE_WORDS = {**{n.value: n.value for n in Issue.Nature}, **{n.label: n.value for n in Issue.Nature}}
ISSUE_STATUS_WORDS = {**{x.value: x.value for x in Issue.Status}, **{x.label: x.value for x in Issue.Status}}
FOLLOW_UP_SKIP_WORDS = {
    **{x.value: x.value for x in Issue.FollowUpSkip},
    **{x.label: x.value for x in Issue.FollowUpSkip},
}
ASSIGNMENT_STATUS_WORDS = {
    **{x.value: x.value for x in Assignment.Status},
    **{x.label: x.value for x in Assignment.Status},
}
KIND_WORDS = {**{x.value: x.value for x in Requester.Kind}, **{x.label: x.value for x in Requester.Kind}}
RESULT_WORDS = {**{x.value: x.value for x in SignedReply.Result}, **{x.label: x.value for x in SignedReply.Result}}
REVIEW_WORDS = {**{x.value: x.value for x in SignedReply.Review}, **{x.label: x.value for x in SignedReply.Review}}
ROLE_WORDS = {**{x.value: x.value for x in Assignment.Role}, **{x.label: x.value for x in Assignment.Role}}
SATISFACTION_WORDS = {
    **{s.value: s.value for s in Issue.Satisfaction},
    **{s.label: s.value for s in Issue.Satisfaction},
}
REQUESTER_KIND = {
    Channel.NET: Requester.Kind.NETIZEN,
    Channel.ENTERPRISE: Requester.Kind.ENTERPRISE,
    Channel.CITIZEN: Requester.Kind.PERSON,
}
DEPARTMENT_SEPARATORS = re.compile(r"[;；、,，/]")
# Also what Excel writes for a date cell saved as CSV: 2024/3/1, sometimes with a midnight time;
# and the Chinese way, 2024年3月5日.
DATE_PATTERN = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]0?0:00(?::00)?)?")
CHINESE_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?(?:\s*0?0:00(?::00)?)?")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

REF_MAX = Issue._meta.get_field("ref").max_length
TITLE_MAX = Issue._meta.get_field("title").max_length
NAME_MAX = Requester._meta.get_field("name").max_length
ORG_MAX = Requester._meta.get_field("organization").max_length


@dataclass(frozen=True, order=True)
class LedgerProblem:
    """``row`` as the clerk sees it in the file; ``label`` the column's header in the file, when it
    is not the contract's name (a Chinese header): the problem is then told in Chinese."""

    row: int
    column: str
    reason: str
    label: str = ""

    def __str__(self) -> str:
        if self.label and self.label != self.column:
            return f"第 {self.row} 行 {self.label}：{self.reason}"
        return f"row {self.row}: {self.column}: {self.reason}"


class LedgerError(Exception):
    """The ledger cannot be imported; ``problems`` says why, row by row."""

    def __init__(self, problems: Sequence[LedgerProblem]) -> None:
        self.problems = sorted(problems, key=_problem_order)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class LedgerRow:
    """One checked row, with its reference data looked up."""

    row: int
    ref: str
    channel: str
    received_on: datetime.date
    requester: str
    requester_phone: str
    requester_org: str
    category: Category
    title: str
    content: str
    departments: tuple[Department, ...]  # the first is the lead
    deadline_amount: int | None
    deadline_unit: str | None
    replied_on: datetime.date | None
    closed_on: datetime.date | None
    satisfaction: str  # an Issue.Satisfaction value or ""
    # What the round-trip workbook adds (feedback.ledger.export); absent from a clerk's ledger.
    nature: str = ""
    accused_department: Department | None = None
    status: str = ""
    followed_up_on: datetime.date | None = None
    rehandled_on: datetime.date | None = None
    follow_up_skipped: str = ""  # an Issue.FollowUpSkip value or "" (未能回访, docs/decisions/0600)
    follow_up_skip_note: str = ""
    detail: tuple[DetailAssignment, ...] | None = None  # sheet 交办明细: the assignments as they were
    kind: str = ""  # 诉求人类型 as exported (else the channel's usual kind)
    onsite_answer: str = ""
    follow_up_comment: str = ""
    replies: tuple[ReplyRecord, ...] = ()  # sheet 回复函
    records: tuple[AssignmentRecord, ...] = ()  # sheets 延期申请 and 异议
    # The session the issue was raised at (座谈会, 企业家日, 无会周): the channel's plugin re-links it
    # by its date, or records it (feedback.channels.link_ledger_sessions, docs/decisions/0660).
    session_name: str = ""
    session_date: datetime.date | None = None

    @property
    def requester_kind(self) -> str:
        return self.kind or REQUESTER_KIND[self.channel]

    @property
    def channel_label(self) -> str:
        return Channel(self.channel).label

    @property
    def outcome(self) -> str:
        """The status the issue will have once imported, in Chinese (for the preview)."""
        if self.status:
            return Issue.Status(self.status).label
        if self.closed_on:
            return Issue.Status.CLOSED.label
        if self.satisfaction:
            return Issue.Status.FOLLOWED_UP.label
        if self.replied_on:
            return Issue.Status.REPLIED.label
        if self.departments:
            return Issue.Status.ASSIGNED.label
        return Issue.Status.REGISTERED.label


@dataclass(frozen=True)
class DetailAssignment:
    """One row of sheet 交办明细: an assignment exactly as exported."""

    row: int
    department: Department
    role: str
    status: str
    assigned_on: datetime.date
    deadline_amount: int
    deadline_unit: str
    due_date: datetime.date
    original_due_date: datetime.date
    provisional: bool
    acknowledged_on: datetime.date | None
    replied_on: datetime.date | None
    deadline_version: int = 1  # how many times the deadline was set (extensions), for the ladder's steps


@dataclass(frozen=True)
class ReplyRecord:
    """One row of sheet 回复函: a version of a written reply, to the issue's ``ordinal``-th assignment
    (in the order of 交办明细), its scan named by the stored path."""

    row: int
    ordinal: int
    version: int
    file: str
    original_name: str
    content_type: str
    size: int
    sha256: str
    signer_name: str
    signer_title: str
    signed_on: datetime.date
    result: str
    summary: str
    review_status: str
    review_reason: str
    submitted_at: datetime.datetime
    reviewed_at: datetime.datetime | None


@dataclass(frozen=True)
class AssignmentRecord:
    """One row of sheet 延期申请 or 异议: ``kind`` (RECORD_MODELS) and the model's field values, the
    assignments as ordinals of 交办明细 (``assignment``, ``new_assignment``)."""

    row: int
    sheet: str
    kind: str
    values: dict[str, Any]


@dataclass
class LedgerCheck:
    """The outcome of checking a whole file: rows to create, rows already present, problems."""

    rows: list[LedgerRow] = field(default_factory=list)
    present: list[LedgerRow] = field(default_factory=list)
    problems: list[LedgerProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    count: int = 0  # rows that passed, kept in ``rows`` or not (``check_ledger(keep_rows=False)``)
    present_refs: set[str] = field(default_factory=set)  # their refs already in the database
    labels: dict[str, str] = field(default_factory=dict)  # column → the file's own header for it

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def to_create(self) -> list[LedgerRow]:
        return [r for r in self.rows if r.ref not in self.present_refs]

    @property
    def new_count(self) -> int:
        return self.count - len(self.present_refs)


# --- Reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RawTable:
    header: list[str]
    # (spreadsheet row number, cells). The first sheet's rows are read as they are iterated, once
    # (``check_ledger`` and the import's second pass each read the file anew: decision 0720);
    # the round-trip workbook's further sheets are lists.
    rows: Iterable[tuple[int, list[Any]]]
    detail: RawTable | None = None  # sheet 交办明细 of a round-trip workbook
    replies: RawTable | None = None  # sheet 回复函 of a round-trip workbook
    records: dict[str, RawTable] = field(default_factory=dict)  # sheets 延期申请, 异议


def read_table(data: bytes, name: str = "") -> RawTable:
    """The first row and the non-blank rows of a CSV (UTF-8 with or without BOM, or GBK/GB18030),
    XLSX (and its 交办明细 sheet) or XLS file; ``check_table`` finds the header among them."""
    suffix = Path(name).suffix.lower()
    # By content first: calamine would read an .xlsx named .xls too, and every zip must pass the
    # unpacked-size check of _read_xlsx.
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data)
    if data.startswith(b"\xd0\xcf\x11\xe0") or suffix == ".xls":
        return _read_xls(data)
    if suffix == ".xlsx":
        return _read_xlsx(data)
    return _read_csv(data)


def _read_csv(data: bytes) -> RawTable:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 ("Unicode 文本")
        raise LedgerError([LedgerProblem(1, "file", ENCODING_MESSAGE)])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # What Excel writes as "CSV (逗号分隔)" on a Chinese Windows: GBK, of which GB18030 is the superset.
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            line = data[: exc.start].count(b"\n") + 1
            raise LedgerError([LedgerProblem(line, "file", ENCODING_MESSAGE)]) from None
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    numbered = _csv_rows(reader)
    first = next(numbered, None)
    return RawTable(
        [str(c) for c in first[1]] if first else [], (r for r in numbered if any(str(c).strip() for c in r[1]))
    )


def _csv_rows(reader: Any) -> Iterator[tuple[int, list[Any]]]:
    """The CSV's rows numbered as the clerk sees them; a malformed one (found as the rows are read,
    so by either pass) is a ``LedgerError`` naming its line."""
    number = 0
    try:
        for cells in reader:
            number += 1
            yield number, cells
    except csv.Error as exc:
        raise LedgerError([LedgerProblem(number + 1, "file", f"CSV 格式错误：{exc}")]) from None


def _read_xlsx(data: bytes) -> RawTable:
    from openpyxl import load_workbook

    from feedback.ledger.workbook import Workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_XLSX:
                raise LedgerError([LedgerProblem(1, "file", "Excel 文件解压后过大，请拆分后导入")])
            # calamine (feedback.ledger.workbook: openpyxl's values at a tenth of its cost); a workbook
            # it refuses goes to openpyxl, which reads it or names the damage (decision 0662).
            try:
                return _workbook_table(Workbook(data), lambda book, name: _raw_table(book.iter_rows(name)))
            except Exception:  # openpyxl below reads it, or names the damage
                logging.getLogger(__name__).debug("xlsx read by openpyxl instead", exc_info=True)
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except LedgerError:
        raise
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise LedgerError([LedgerProblem(1, "file", "无法读取该 Excel 文件，请确认是 .xlsx 格式且未损坏")]) from None
    try:  # read whole here: the workbook is closed below (openpyxl reads only what calamine refused)
        table = _workbook_table(book, lambda book, name: _sheet_table(book[name]))
        return RawTable(table.header, list(table.rows), table.detail, table.replies, table.records)
    finally:
        book.close()


def _workbook_table(book: Any, sheet_table: Any) -> RawTable:
    """The first sheet, and a round-trip workbook's further sheets (交办明细, 回复函, 延期申请 …)."""
    first = book.sheetnames[0]
    table = sheet_table(book, first)

    def listed(name: str) -> RawTable:  # read whole: checked by ref before the first sheet's rows
        sheet = sheet_table(book, name)
        return RawTable(sheet.header, list(sheet.rows))

    if DETAIL_SHEET in book.sheetnames and first != DETAIL_SHEET:
        replies = listed(REPLY_SHEET) if REPLY_SHEET in book.sheetnames else None
        records = {name: listed(name) for name in RECORD_SHEETS if name in book.sheetnames}
        table = RawTable(table.header, table.rows, listed(DETAIL_SHEET), replies, records)
    return table


def _read_xls(data: bytes) -> RawTable:
    """The first sheet of an old Excel (.xls) workbook, read by calamine as an .xlsx is: date cells
    as datetimes, whole numbers as ints."""
    from feedback.ledger.workbook import Workbook

    try:
        book = Workbook(data)
        return _raw_table(book.iter_rows(book.sheetnames[0]))
    except Exception:  # calamine raises several kinds for a damaged or foreign file
        raise LedgerError([LedgerProblem(1, "file", "无法读取该 .xls 文件，请确认未损坏，或另存为 .xlsx")]) from None


def _sheet_table(sheet: Any) -> RawTable:
    return _raw_table(enumerate((list(cells) for cells in sheet.iter_rows(values_only=True)), start=1))


def _raw_table(numbered: Iterable[tuple[int, list[Any]]]) -> RawTable:
    """The first row as the header, the non-blank rows under it as they are read."""
    rows = iter(numbered)
    first = next(rows, None)
    header = ["" if c is None else str(c) for c in first[1]] if first else []
    return RawTable(header, (r for r in rows if any(c is not None and str(c).strip() for c in r[1])))


# --- Checking --------------------------------------------------------------------------------------


@unprepared
def check_ledger(
    data: bytes,
    name: str = "",
    *,
    channels: Iterable[str] | None = None,
    today: datetime.date | None = None,
    keep_rows: bool = True,
) -> LedgerCheck:
    """Read and check a whole ledger. Never raises for bad content: every problem is in the result.

    ``channels`` limits the channels whose rows may be imported (an office imports only its own);
    None allows all three. ``keep_rows`` False checks and counts the rows without keeping them (the
    import's first pass, decision 0720): ``count``, ``present_refs`` and ``problems`` are filled,
    ``rows`` and ``present`` stay empty.
    """
    try:
        return check_table(read_table(data, name), channels=channels, today=today, keep_rows=keep_rows)
    except LedgerError as exc:  # the file itself (encoding, a malformed CSV line, a damaged workbook)
        return LedgerCheck(problems=list(exc.problems))


def _locate_header(
    table: RawTable,
) -> tuple[int, list[str], Iterator[tuple[int, list[Any]]]] | None:
    """The header row (the first naming at least ``HEADER_MIN_NAMES`` columns: rows above it are a
    title block), its cells, and the rows under it; None when no row looks like a header."""
    rows = iter(table.rows)
    candidates = [(1, list(table.header)), *itertools.islice(rows, HEADER_SEARCH_ROWS - 1)]
    for index, (number, cells) in enumerate(candidates):
        names = {_header_name(c) for c in cells}
        if len(names & set(COLUMNS)) >= HEADER_MIN_NAMES:
            return number, ["" if c is None else str(c) for c in cells], itertools.chain(candidates[index + 1 :], rows)
    return None


def _is_total(cells: list[Any]) -> bool:
    first = next((_text(c) for c in cells if _text(c)), "")
    return first.replace(" ", "").replace("\u3000", "").rstrip(":：").startswith(TOTAL_WORDS)


def check_table(
    table: RawTable,
    *,
    channels: Iterable[str] | None = None,
    today: datetime.date | None = None,
    keep_rows: bool = True,
) -> LedgerCheck:
    """Every row of ``table`` checked, read once in file order; see ``check_ledger``."""
    result = LedgerCheck()
    batch: list[LedgerRow] = []
    for row in iter_checked(table, result, channels=channels, today=today):
        result.count += 1
        if keep_rows:
            result.rows.append(row)
        batch.append(row)
        if len(batch) == CHECK_BATCH:
            _check_existing_refs(result, batch, keep=keep_rows)
            batch = []
    _check_existing_refs(result, batch, keep=keep_rows)
    result.present.sort(key=lambda r: r.row)
    result.problems = [
        p
        if p.label or p.column not in result.labels
        else LedgerProblem(p.row, p.column, p.reason, result.labels[p.column])
        for p in result.problems
    ]
    result.problems.sort(key=_problem_order)
    return result


def iter_checked(
    table: RawTable, result: LedgerCheck, *, channels: Iterable[str] | None = None, today: datetime.date | None = None
) -> Iterator[LedgerRow]:
    """The rows of ``table`` that pass every check of their own, in file order, as they are read;
    each problem found (and the ignored columns, and the header's Chinese labels) goes to ``result``.
    Whether a ref is already in the database is not checked here (``check_table`` does it in
    batches; the import's second pass as it writes). A problem of the header or of the whole table
    ends the rows with none."""
    rows = iter(table.rows)
    first = next(rows, None)
    if not any(str(h or "").strip() for h in table.header) and first is None:
        result.problems = [LedgerProblem(1, "file", "文件为空或缺少表头行（第 1 行应为列名）")]
        return
    table = RawTable(
        table.header,
        rows if first is None else itertools.chain([first], rows),
        table.detail,
        table.replies,
        table.records,
    )
    located = _locate_header(table)
    if located is None:
        first_cell = next((_text(c) for c in table.header if _text(c)), "")
        what = f"第 1 行“{first_cell[:30]}”像是标题行，" if first_cell else ""
        result.problems = [
            LedgerProblem(
                1,
                "file",
                f"{what}但在前 {HEADER_SEARCH_ROWS} 行中没有找到表头行（至少包含 {HEADER_MIN_NAMES} 个列名，"
                "如 编号、渠道、受理日期、诉求人、承办单位）",
            )
        ]
        return
    header_row, raw_header, data_rows = located
    header = [_header_name(h) for h in raw_header]
    labels = {column: raw.strip() for raw, column in zip(raw_header, header, strict=True) if column}
    problems = []
    for column in COLUMNS:
        if column not in header:
            problems.append(LedgerProblem(header_row, column, "missing column"))
        elif header.count(column) > 1:
            problems.append(LedgerProblem(header_row, column, "该列重复出现", labels.get(column, "")))
    if problems:
        result.problems = problems
        return
    data = ((n, c) for n, c in data_rows if not _is_total(c))
    first = next(data, None)
    if first is None:
        result.problems = [LedgerProblem(2, "ref", "台账没有数据行")]
        return
    # The round-trip workbook's own columns are read only with its 交办明细 sheet: in a clerk's ledger
    # a 状态 or 性质 column is free text, and ignored.
    # The session columns are read in any ledger: a clerk's own may say which forum a row came from.
    optional = OPTIONAL_COLUMNS if table.detail is not None else SESSION_COLUMNS
    index = {column: header.index(column) for column in (*COLUMNS, *optional) if column in header}
    result.ignored_columns = [raw for raw, h in zip(raw_header, header, strict=True) if h and h not in index]
    result.labels = labels
    checker = _RowChecker(channels=channels, today=today or timezone.localdate())
    details: dict[str, list[DetailAssignment]] = {}
    if table.detail is not None:
        details, detail_problems = _check_detail(table.detail, checker)
        result.problems.extend(detail_problems)
    replies: dict[str, list[ReplyRecord]] = {}
    if table.detail is not None and table.replies is not None:
        replies, reply_problems = _check_replies(table.replies, checker)
        result.problems.extend(reply_problems)
    records: dict[str, list[AssignmentRecord]] = {}
    if table.detail is not None:
        for name, sheet in table.records.items():
            found, record_problems = _check_records(name, sheet, checker)
            result.problems.extend(record_problems)
            for ref, rows_of_ref in found.items():
                records.setdefault(ref, []).extend(rows_of_ref)
    # What the check keeps across rows: each ref's first row, for the duplicates (decision 0720).
    first_row_of: dict[str, int] = {}
    for number, cells in itertools.chain([first], data):
        values = {column: cells[i] if i < len(cells) else None for column, i in index.items()}
        ref_text = _text(values["ref"])
        # In a round-trip workbook an issue never assigned has no 交办明细 rows, and is still one of its issues.
        detail = details.get(ref_text, [] if table.detail is not None else None)
        row, row_problems = checker.check(number, values, detail, replies.get(ref_text, []), records.get(ref_text, []))
        ref = _text(values["ref"])
        if ref and ref in first_row_of:
            row_problems.append(LedgerProblem(number, "ref", f"编号“{ref}”与第 {first_row_of[ref]} 行重复"))
        elif ref:
            first_row_of[ref] = number
        result.problems.extend(row_problems)
        if row is not None and not row_problems:
            yield row


def _problem_order(problem: LedgerProblem) -> tuple[int, int, str]:
    column = COLUMNS.index(problem.column) if problem.column in COLUMNS else -1
    return (problem.row, column, problem.reason)


def _check_existing_refs(result: LedgerCheck, rows: Sequence[LedgerRow], *, keep: bool = True) -> None:
    """Refs already in the database: the same channel's are skipped, another channel's are an error."""
    by_ref = {r.ref: r for r in rows}
    refs = list(by_ref)
    for start in range(0, len(refs), 900):  # keep under every database's parameter limit
        for ref, channel in Issue.objects.filter(ref__in=refs[start : start + 900]).values_list("ref", "channel"):
            row = by_ref[ref]
            if channel == row.channel:
                result.present_refs.add(ref)
                if keep:
                    result.present.append(row)
            else:
                reason = f"编号“{ref}”已被{Channel(channel).label}的诉求使用"
                result.problems.append(LedgerProblem(row.row, "ref", reason))


def _header_name(value: object) -> str:
    """The column a header cell names: the contract's name in any case, or its Chinese name."""
    name = str(value or "").replace("\ufeff", "").replace("\u200b", "").strip()
    return CHINESE_COLUMNS.get(name, name.lower())


class _RowChecker:
    """Checks one row at a time against reference data loaded once."""

    def __init__(self, *, channels: Iterable[str] | None, today: datetime.date) -> None:
        self.today = today
        self.channels = set(channels) if channels is not None else set(Channel.values)
        self.categories: dict[str, list[Category]] = {}
        for category in Category.objects.select_related("parent").order_by("id"):
            self.categories.setdefault(category.code.lower(), []).append(category)
            if category.name != category.code:
                self.categories.setdefault(category.name, []).append(category)
            if category.parent_id:
                self.categories.setdefault(str(category), []).append(category)  # 上级 / 下级
        self.departments: dict[str, Department] = {}
        for department in Department.objects.order_by("-id"):  # the oldest wins a shared short name
            for short in (*department.short_name_list, department.name.removeprefix("县")):
                self.departments[short] = department
        for department in Department.objects.order_by("id"):  # codes and full names before short names
            self.departments[department.code.lower()] = department
            self.departments[department.name] = department
        self.policy_channels = set(
            DeadlinePolicy.objects.filter(active=True, nature="").values_list("channel", flat=True)
        )

    def check(
        self,
        number: int,
        values: dict[str, Any],
        detail: list[DetailAssignment] | None = None,
        replies: list[ReplyRecord] | None = None,
        records: list[AssignmentRecord] | None = None,
    ) -> tuple[LedgerRow | None, list[LedgerProblem]]:
        problems: list[LedgerProblem] = []

        def bad(column: str, reason: str) -> None:
            problems.append(LedgerProblem(number, column, reason))

        text = {column: _text(value) for column, value in values.items()}
        for column in OPTIONAL_COLUMNS:
            text.setdefault(column, "")
        ref = text["ref"]
        if not ref:
            bad("ref", "编号不能为空")
        elif len(ref) > REF_MAX:
            bad("ref", f"编号不能超过 {REF_MAX} 个字符")

        channel = CHANNEL_WORDS.get(text["channel"]) or CHANNEL_WORDS.get(text["channel"].lower())
        if not text["channel"]:
            bad("channel", "渠道不能为空（net/enterprise/citizen 或 政网/政企/政民）")
        elif channel is None:
            bad("channel", f"未知渠道“{text['channel']}”，应为 net/enterprise/citizen 或 政网/政企/政民")
        elif channel not in self.channels:
            bad("channel", f"您只能导入{'、'.join(Channel(c).label for c in sorted(self.channels))}的诉求")

        received_on = self._date(values["received_on"], "received_on", bad, required=True)
        if received_on and received_on.year < MIN_YEAR:
            bad("received_on", f"受理日期早于 {MIN_YEAR} 年，无法计算办理期限")
            received_on = None

        requester = text["requester"]
        if not requester:
            bad("requester", "诉求人（姓名或网名）不能为空")
        elif len(requester) > NAME_MAX:
            bad("requester", f"诉求人不能超过 {NAME_MAX} 个字符")
        phone = text["requester_phone"].replace(" ", "").replace("-", "")
        if phone and not (phone.isdigit() and 7 <= len(phone) <= 15):
            bad("requester_phone", f"联系电话“{text['requester_phone']}”格式不正确，应为 7–15 位数字")
        elif phone and 9 <= len(phone) <= 11 and phone[0] not in "01":
            # A mobile starts with 1, a landline with its area code's 0: a spreadsheet that took the
            # number for a number dropped that 0 (7395551234 for 0739-5551234). Not stored silently.
            bad(
                "requester_phone",
                f"联系电话“{text['requester_phone']}”像是丢了开头 0 的固定电话"
                f"（应为 0{phone}？）：请把该列设为“文本”格式后重新填写",
            )
        if len(text["requester_org"]) > ORG_MAX:
            bad("requester_org", f"所在企业/单位不能超过 {ORG_MAX} 个字符")

        category = self._category(text["category"], bad)

        if not text["title"]:
            bad("title", "标题不能为空")
        elif len(text["title"]) > TITLE_MAX:
            bad("title", f"标题不能超过 {TITLE_MAX} 个字符")
        if not text["content"]:
            bad("content", "诉求内容不能为空")

        departments = self._departments(text["departments"], bad)
        amount, unit = self._deadline(text["deadline_amount"], text["deadline_unit"], bad)
        if not text["departments"] and (amount is not None or unit is not None):
            bad("deadline_amount", "未填写承办单位（departments）时不能填写办理时限")
        elif (
            text["departments"]
            and channel
            and not text["deadline_amount"]
            and not text["deadline_unit"]
            and channel not in self.policy_channels
        ):
            bad("deadline_amount", f"{Channel(channel).label}尚未设置默认办理时限，请填写办理时限和时限单位")

        replied_on = self._date(values["replied_on"], "replied_on", bad)
        closed_on = self._date(values["closed_on"], "closed_on", bad)
        satisfaction = ""
        if text["satisfaction"]:
            satisfaction = SATISFACTION_WORDS.get(text["satisfaction"], "")
            if not satisfaction:
                bad("satisfaction", f"回访评价“{text['satisfaction']}”无效，应为 满意/基本满意/不满意（或 未联系上）")
        if received_on:
            for column, day in (("replied_on", replied_on), ("closed_on", closed_on)):
                if day and day < received_on:
                    bad(column, f"日期 {day:%Y-%m-%d} 早于受理日期 {received_on:%Y-%m-%d}")
        extra = self._round_trip(text, values, bad)
        if detail is not None:
            self._check_detail_issue(detail, closed_on, extra["status"], bad)
            for record in records or []:
                for column in ("assignment", "new_assignment"):
                    if (record.values.get(column) or 0) > len(detail):
                        reason = f"该诉求在{DETAIL_SHEET}中只有 {len(detail)} 个交办"
                        problems.append(LedgerProblem(record.row, f"{record.sheet}·交办序号", reason))
            for reply in replies or []:
                if reply.ordinal > len(detail):
                    problems.append(
                        LedgerProblem(
                            reply.row, f"{REPLY_SHEET}·交办序号", f"该诉求在{DETAIL_SHEET}中只有 {len(detail)} 个交办"
                        )
                    )
        else:
            if replied_on and not text["departments"]:
                bad("replied_on", "未填写承办单位（departments），不能有书面回复日期")
            if text["closed_on"] and not text["replied_on"]:
                bad("closed_on", "办结的诉求须填写书面回复日期（replied_on）：全部单位书面回复通过后才能办结")
            elif closed_on and replied_on and closed_on < replied_on:
                bad("closed_on", f"办结日期 {closed_on:%Y-%m-%d} 早于书面回复日期 {replied_on:%Y-%m-%d}")
            if text["satisfaction"] and not text["replied_on"]:
                bad("satisfaction", "有回访评价的诉求须填写书面回复日期（replied_on）：回复通过后才能回访")
        if problems:
            return None, problems
        assert channel is not None and received_on is not None and category is not None
        return LedgerRow(
            row=number,
            ref=ref,
            channel=channel,
            received_on=received_on,
            requester=requester,
            requester_phone=phone,
            requester_org=text["requester_org"],
            category=category,
            title=text["title"],
            content=text["content"],
            departments=departments,
            deadline_amount=amount,
            deadline_unit=unit,
            replied_on=replied_on,
            closed_on=closed_on,
            satisfaction=satisfaction,
            detail=tuple(detail) if detail is not None else None,
            replies=tuple(replies or ()),
            records=tuple(records or ()),
            **extra,
        ), problems

    def _round_trip(self, text: dict[str, str], values: dict[str, Any], bad: Any) -> dict[str, Any]:
        """The optional columns of the round-trip workbook."""
        nature = NATURE_WORDS.get(text["nature"], "") if text["nature"] else ""
        if text["nature"] and not nature:
            bad("nature", f"性质“{text['nature']}”无效，应为 {'/'.join(Issue.Nature.labels)}")
        accused = None
        if text["accused_department"]:
            accused = self.departments.get(text["accused_department"].lower()) or self.departments.get(
                text["accused_department"]
            )
            if accused is None:
                bad("accused_department", f"未知单位“{text['accused_department']}”")
            elif nature not in (Issue.Nature.REPORT, Issue.Nature.COMPLAINT):
                bad("accused_department", "只有举报、投诉类诉求才能填写被举报单位")
        status = ISSUE_STATUS_WORDS.get(text["status"], "") if text["status"] else ""
        if text["status"] and not status:
            bad("status", f"状态“{text['status']}”无效")
        skipped = FOLLOW_UP_SKIP_WORDS.get(text["follow_up_skipped"], "") if text["follow_up_skipped"] else ""
        if text["follow_up_skipped"] and not skipped:
            bad("follow_up_skipped", f"未能回访原因“{text['follow_up_skipped']}”无效")
        # The database's checks (docs/decisions/0600), said as row problems rather than a failed INSERT.
        if skipped and text.get("satisfaction", "") not in ("", "未联系上", "unreachable"):
            bad("follow_up_skipped", "已有回访评价的诉求不能同时填写未能回访原因")
        if skipped == Issue.FollowUpSkip.OTHER and not text["follow_up_skip_note"]:
            bad("follow_up_skip_note", "未能回访原因为“其他”时须写明说明")
        kind = KIND_WORDS.get(text["kind"], "") if text["kind"] else ""
        if text["kind"] and not kind:
            bad("kind", f"诉求人类型“{text['kind']}”无效，应为 {'/'.join(Requester.Kind.labels)}")
        session_date = self._date(values.get("session_date"), "session_date", bad)
        if bool(text["session_name"]) != bool(text["session_date"]):
            bad("session_date" if text["session_name"] else "session_name", "来源会议和会议日期须同时填写或同时留空")
        return {
            "session_name": text["session_name"],
            "session_date": session_date,
            "follow_up_skipped": skipped,
            "follow_up_skip_note": text["follow_up_skip_note"],
            "kind": kind,
            "onsite_answer": text["onsite_answer"],
            "follow_up_comment": text["follow_up_comment"],
            "nature": nature,
            "accused_department": accused,
            "status": status,
            "followed_up_on": self._date(values.get("followed_up_on"), "followed_up_on", bad),
            "rehandled_on": self._date(values.get("rehandled_on"), "rehandled_on", bad),
        }

    def _check_detail_issue(
        self, detail: list[DetailAssignment], closed_on: datetime.date | None, status: str, bad: Any
    ) -> None:
        counted = [a for a in detail if a.status != Assignment.Status.WITHDRAWN]
        if len([a for a in counted if a.role == Assignment.Role.LEAD]) > 1:
            bad("departments", f"{DETAIL_SHEET}中该诉求有不止一个主办单位")
        if len({a.department.pk for a in counted}) < len(counted):
            bad("departments", f"{DETAIL_SHEET}中该诉求的同一单位出现两次")
        if bool(closed_on) != (status == Issue.Status.CLOSED) and status:
            bad("closed_on", "状态为“已办结”的诉求须有办结日期，其他状态不能有办结日期")

    def _date(
        self, value: Any, column: str, bad: Any, *, required: bool = False, future: bool = False
    ) -> datetime.date | None:
        if isinstance(value, datetime.datetime):
            day = value.date()
        elif isinstance(value, datetime.date):
            day = value
        else:
            raw = _text(value)
            if not raw:
                if required:
                    bad(column, "日期不能为空（YYYY-MM-DD）")
                return None
            match = DATE_PATTERN.fullmatch(raw) or CHINESE_DATE.fullmatch(raw)
            try:
                if not match:
                    raise ValueError
                day = datetime.date(*(int(part) for part in match.groups()))
            except ValueError:
                hint = "" if match else "（或 2024/3/5、2024.3.5、2024年3月5日）"
                bad(column, f"日期“{raw}”无效，应为 YYYY-MM-DD{hint}")
                return None
        if day > self.today and not future:
            bad(column, f"日期 {day:%Y-%m-%d} 晚于今天")
            return None
        return day

    def _category(self, raw: str, bad: Any) -> Category | None:
        if not raw:
            bad("category", "分类不能为空")
            return None
        found = self.categories.get(raw.lower()) or self.categories.get(raw)
        if not found:
            bad("category", f"未知分类“{raw}”")
            return None
        if len({c.pk for c in found}) > 1:
            bad("category", f"分类名称“{raw}”对应多个分类，请填写分类代码")
            return None
        if not found[0].active:
            bad("category", f"分类“{found[0].name}”已停用")
            return None
        return found[0]

    def _departments(self, raw: str, bad: Any) -> tuple[Department, ...]:
        chosen: list[Department] = []
        for word in (w.strip() for w in DEPARTMENT_SEPARATORS.split(raw)):
            if not word:
                continue
            department = self.departments.get(word.lower()) or self.departments.get(word)
            if department is None:
                bad("departments", f"未知单位“{word}”")
            elif department.kind == Department.Kind.OFFICE:
                bad("departments", f"直通车办公室“{department.name}”不能作为承办单位")
            elif not department.active:
                bad("departments", f"单位“{department.name}”已停用")
            elif department in chosen:
                bad("departments", f"单位“{department.name}”重复")
            else:
                chosen.append(department)
        return tuple(chosen)

    def _deadline(self, raw_amount: str, raw_unit: str, bad: Any) -> tuple[int | None, str | None]:
        if not raw_amount and not raw_unit:
            return None, None
        if not raw_amount or not raw_unit:
            column = "deadline_amount" if not raw_amount else "deadline_unit"
            bad(column, "办理时限和时限单位需同时填写，或同时留空（按渠道默认时限）")
            return None, None
        amount = None
        try:
            number = float(raw_amount)
            if number.is_integer() and 1 <= number <= MAX_AMOUNT:
                amount = int(number)
        except ValueError:
            pass
        if amount is None:
            bad("deadline_amount", f"办理时限“{raw_amount}”无效，应为 1–{MAX_AMOUNT} 的整数")
        unit = UNIT_WORDS.get(raw_unit) or UNIT_WORDS.get(raw_unit.lower())
        if unit is None:
            bad("deadline_unit", f"时限单位“{raw_unit}”无效，应为 working_day/calendar_day 或 工作日/自然日")
        return amount, unit


def _check_detail(
    table: RawTable, checker: _RowChecker
) -> tuple[dict[str, list[DetailAssignment]], list[LedgerProblem]]:
    """Sheet 交办明细: its assignments by ref. Problems name the sheet and its column."""
    header = [str(h or "").strip() for h in table.header]
    names = {DETAIL_COLUMNS[h]: i for i, h in enumerate(header) if h in DETAIL_COLUMNS}
    missing = [h for h, c in DETAIL_COLUMNS.items() if c in DETAIL_REQUIRED and c not in names]
    if missing:
        return {}, [LedgerProblem(1, f"{DETAIL_SHEET}·{h}", "缺少该列") for h in missing]
    label = {c: h for h, c in DETAIL_COLUMNS.items()}
    found: dict[str, list[DetailAssignment]] = {}
    problems: list[LedgerProblem] = []
    for number, cells in table.rows:
        values = {c: cells[i] if i < len(cells) else None for c, i in names.items()}

        def bad(column: str, reason: str, number: int = number) -> None:
            problems.append(LedgerProblem(number, f"{DETAIL_SHEET}·{label.get(column, column)}", reason))

        text = {c: _text(v) for c, v in values.items()}
        department = checker.departments.get(text["department"].lower()) or checker.departments.get(text["department"])
        if department is None:
            bad("department", f"未知单位“{text['department']}”")
        role = ROLE_WORDS.get(text["role"])
        if role is None:
            bad("role", f"角色“{text['role']}”无效，应为 主办/协办")
        status = ASSIGNMENT_STATUS_WORDS.get(text["status"])
        if status is None:
            bad("status", f"状态“{text['status']}”无效")
        dates = {
            c: checker._date(
                values.get(c),
                c,
                bad,
                required=c in ("assigned_on", "due_date", "original_due_date"),
                future=c in ("due_date", "original_due_date"),
            )
            for c in ("assigned_on", "due_date", "original_due_date", "acknowledged_on", "replied_on")
        }
        amount, unit = checker._deadline(text["deadline_amount"], text["deadline_unit"], bad)
        if amount is None or unit is None:
            bad("deadline_amount", "办理时限和时限单位不能为空")
        if dates["due_date"] and dates["assigned_on"] and dates["due_date"] <= dates["assigned_on"]:
            bad("due_date", "办理期限须晚于交办日期")
        if dates["replied_on"] and status != Assignment.Status.ACCEPTED:
            bad("replied_on", "只有“已通过”的交办才有回复日期")
        if (
            department is None
            or role is None
            or status is None
            or amount is None
            or unit is None
            or not all(dates[c] for c in ("assigned_on", "due_date", "original_due_date"))
        ):
            continue
        found.setdefault(text["ref"], []).append(
            DetailAssignment(
                row=number,
                department=department,
                role=role,
                status=status,
                assigned_on=dates["assigned_on"],
                deadline_amount=amount,
                deadline_unit=unit,
                due_date=dates["due_date"],
                original_due_date=dates["original_due_date"],
                provisional=text.get("provisional", "") in ("是", "True", "1"),
                acknowledged_on=dates["acknowledged_on"],
                replied_on=dates["replied_on"],
                deadline_version=int(text["deadline_version"]) if text.get("deadline_version", "").isdigit() else 1,
            )
        )
    return found, problems


def _check_records(
    name: str, table: RawTable, checker: _RowChecker
) -> tuple[dict[str, list[AssignmentRecord]], list[LedgerProblem]]:
    """Sheet 延期申请 or 异议 (RECORD_SHEETS): its rows by ref, each cell checked by its kind."""
    kind, columns = RECORD_SHEETS[name]
    model = RECORD_MODELS[kind]
    header = [str(h or "").strip() for h in table.header]
    missing = [h for h, _, _ in columns if h not in header]
    if missing:
        return {}, [LedgerProblem(1, f"{name}·{h}", "缺少该列") for h in missing]
    index = {h: header.index(h) for h, _, _ in columns}
    found: dict[str, list[AssignmentRecord]] = {}
    problems: list[LedgerProblem] = []
    for number, cells in table.rows:
        before = len(problems)
        values: dict[str, Any] = {}
        ref = ""
        for label, attr, how in columns:
            cell = cells[index[label]] if index[label] < len(cells) else None
            raw, required = _text(cell), how.endswith("!")

            def bad(column: str, reason: str, number: int = number, label: str = label) -> None:
                problems.append(LedgerProblem(number, f"{name}·{label}", reason))

            if not raw:
                if required:
                    bad(attr, "不能为空")
                values[attr] = None if how.rstrip("!") in ("date", "datetime", "int", "ordinal", "department") else ""
                continue
            how = how.rstrip("!")
            if attr == "ref":
                ref = raw
            elif how == "text":
                values[attr] = raw
            elif how == "date":
                values[attr] = checker._date(cell, attr, bad)
            elif how == "datetime":
                values[attr] = _moment(cell, raw, bad, attr)
            elif how == "ordinal":
                values[attr] = int(raw) if raw.isdigit() and int(raw) > 0 else bad(attr, f"“{raw}”应为从 1 起的整数")
            elif how == "int":
                values[attr] = int(raw) if raw.isdigit() else bad(attr, f"“{raw}”应为整数")
            elif how == "department":
                values[attr] = checker.departments.get(raw.lower()) or checker.departments.get(raw)
                if values[attr] is None:
                    bad(attr, f"未知单位“{raw}”")
            else:  # a choice of the model's field, by code or Chinese label
                choices = dict(model._meta.get_field(attr).choices or [])
                words = {**{k: k for k in choices}, **{str(v): k for k, v in choices.items()}}
                values[attr] = words.get(raw)
                if values[attr] is None:
                    bad(attr, f"“{raw}”无效，应为 {'/'.join(str(v) for v in choices.values())}")
        if len(problems) == before:
            found.setdefault(ref, []).append(AssignmentRecord(number, name, kind, values))
    return found, problems


def _moment(cell: Any, raw: str, bad: Any, column: str) -> datetime.datetime | None:
    """A time cell (an Excel date-time, or text YYYY-MM-DD HH:MM:SS) in the county's time zone."""
    if isinstance(cell, datetime.datetime):
        return timezone.make_aware(cell) if cell.tzinfo is None else cell
    try:
        return timezone.make_aware(datetime.datetime.fromisoformat(raw))
    except ValueError:
        bad(column, f"时间“{raw}”无法识别，应为 YYYY-MM-DD HH:MM:SS")
        return None


def _check_replies(table: RawTable, checker: _RowChecker) -> tuple[dict[str, list[ReplyRecord]], list[LedgerProblem]]:
    """Sheet 回复函: the replies by ref. Problems name the sheet and its column."""
    header = [str(h or "").strip() for h in table.header]
    names = {REPLY_COLUMNS[h]: i for i, h in enumerate(header) if h in REPLY_COLUMNS}
    missing = [h for h, c in REPLY_COLUMNS.items() if c not in names]
    if missing:
        return {}, [LedgerProblem(1, f"{REPLY_SHEET}·{h}", "缺少该列") for h in missing]
    label = {c: h for h, c in REPLY_COLUMNS.items()}
    found: dict[str, list[ReplyRecord]] = {}
    problems: list[LedgerProblem] = []
    for number, cells in table.rows:
        values = {c: cells[i] if i < len(cells) else None for c, i in names.items()}
        before = len(problems)

        def bad(column: str, reason: str, number: int = number) -> None:
            problems.append(LedgerProblem(number, f"{REPLY_SHEET}·{label.get(column, column)}", reason))

        text = {c: _text(v) for c, v in values.items()}
        numbers = {}
        for column in ("ordinal", "version", "size"):
            if not text[column].isdigit():
                bad(column, f"“{text[column]}”应为整数")
            numbers[column] = int(text[column]) if text[column].isdigit() else 0
        if not numbers["ordinal"] or not numbers["version"]:
            bad("version", "交办序号和版本须从 1 开始")
        result = RESULT_WORDS.get(text["result"])
        if result is None:
            bad("result", f"办理结果“{text['result']}”无效，应为 {'/'.join(SignedReply.Result.labels)}")
        review = REVIEW_WORDS.get(text["review_status"])
        if review is None:
            bad("review_status", f"审核“{text['review_status']}”无效，应为 {'/'.join(SignedReply.Review.labels)}")
        if not text["file"] or not text["signer_name"] or not text["summary"]:
            bad("file", "扫描件文件、签发人和答复摘要不能为空")
        signed_on = checker._date(values.get("signed_on"), "signed_on", bad, required=True)
        moments: dict[str, datetime.datetime | None] = {}
        for column in ("submitted_at", "reviewed_at"):
            value = values.get(column)
            if isinstance(value, datetime.datetime):
                moments[column] = timezone.make_aware(value) if value.tzinfo is None else value
            elif value in (None, "") or (column == "reviewed_at" and not text[column]):
                moments[column] = None
            else:
                try:
                    moments[column] = timezone.make_aware(datetime.datetime.fromisoformat(text[column]))
                except ValueError:
                    bad(column, f"时间“{text[column]}”无法识别，应为 YYYY-MM-DD HH:MM:SS")
                    moments[column] = None
        if moments["submitted_at"] is None:
            bad("submitted_at", "提交时间不能为空")
        if len(problems) > before:
            continue
        assert result is not None and review is not None and signed_on is not None
        submitted = moments["submitted_at"]
        assert submitted is not None
        found.setdefault(text["ref"], []).append(
            ReplyRecord(
                row=number,
                ordinal=numbers["ordinal"],
                version=numbers["version"],
                file=text["file"],
                original_name=text["original_name"],
                content_type=text["content_type"],
                size=numbers["size"],
                sha256=text["sha256"],
                signer_name=text["signer_name"],
                signer_title=text["signer_title"],
                signed_on=signed_on,
                result=result,
                summary=text["summary"],
                review_status=review,
                review_reason=text["review_reason"],
                submitted_at=submitted,
                reviewed_at=moments["reviewed_at"],
            )
        )
    return found, problems


def _text(value: Any) -> str:
    """A cell as text: numbers from Excel without a trailing .0, formula guards removed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (datetime.datetime, datetime.date)):
        return f"{value:%Y-%m-%d}"
    text = str(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_STARTS:
        text = text[1:]
    return text


def formula_guard(text: str) -> str:
    """The inverse of the guard removed by ``_text``, for exports that Excel will open."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text
