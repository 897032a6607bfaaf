"""Printable documents: the assignment slip (交办单), the reply-letter template (回复函, DOCX) and the
chase notice (催办通知书) of the escalation ladder.

The callers fetch the assignment through ``feedback.access`` (out of scope is already 404); the
builders only read what the document prints. Formal conventions follow GB/T 9704-2012 (党政机关公文格式):
dates in Arabic numerals with 年月日 and no leading zeros, document numbers as 代字〔年份〕序号号, body
text in 仿宋 at 三号 (16 pt), titles in 小标宋 at 二号 (22 pt).
"""

from __future__ import annotations

import datetime
import io
import re
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from feedback import selectors
from feedback.deadlines import working_days_between
from feedback.models import Assignment, Channel, DeadlineStep, Department, Issue, SignedReply
from feedback.workcalendar import load_calendar

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# The 代字 of each channel's documents: 政网交〔2026〕12号 is the twelfth 政网 issue of 2026, assigned.
CHANNEL_SHORT = {Channel.NET: "政网", Channel.ENTERPRISE: "政企", Channel.CITIZEN: "政民"}
_GENERATED_REF = re.compile(r"^[A-Z]{2}(?P<year>\d{4})-(?P<serial>\d+)$")

BODY_FONT = "仿宋_GB2312"
TITLE_FONT = "方正小标宋简体"
HEADING_FONT = "黑体"


def chinese_date(day: datetime.date) -> str:
    """2026年3月2日: GB/T 9704 writes the year in full and pads neither month nor day."""
    return f"{day.year}年{day.month}月{day.day}日"


def document_number(issue: Issue, kind: str) -> str:
    """政网交〔2026〕12号 from the generated reference ZW2026-00012; an imported reference that does
    not follow the pattern is kept whole (政网交〔2026〕A-17号) so the number still finds the issue."""
    short = CHANNEL_SHORT.get(issue.channel, "")
    match = _GENERATED_REF.match(issue.ref)
    if match:
        return f"{short}{kind}〔{match['year']}〕{int(match['serial'])}号"
    return f"{short}{kind}〔{issue.received_on.year}〕{issue.ref}号"


def office_name(issue: Issue) -> str:
    """The channel office that assigns and chases (县委网信办, 经开区管委会, 县信访局)."""
    office = Department.objects.filter(kind=Department.Kind.OFFICE, channel=issue.channel).first()
    return office.name if office else f"{issue.get_channel_display()}办公室"


def deadline_explanation(assignment: Assignment) -> tuple[str, ...]:
    """The same explanation the issue page gives (``selectors.explain_deadlines``), dates written
    the Chinese way."""
    selectors.explain_deadlines([assignment], date_text=chinese_date)
    return assignment.explanation  # type: ignore[attr-defined]


def _departments_of(issue: Issue) -> tuple[str, list[str]]:
    # Every department of the issue is named on each slip: the lead must know whom to coordinate and a
    # co-handler whom to report to. Only names are shown, nothing of the other assignments.
    rows = Assignment.objects.filter(issue=issue).select_related("department").order_by("id")
    lead = next((a.department.name for a in rows if a.role == Assignment.Role.LEAD), "")
    return lead, [a.department.name for a in rows if a.role == Assignment.Role.CO]


@dataclass(frozen=True)
class Slip:
    """交办单: what the channel office hands to one department."""

    title: str
    number: str
    assignment: Assignment
    issue: Issue
    addressee: str
    facts: list[tuple[str, str]]
    content: str
    onsite_answer: str
    lead: str
    co: list[str]
    assigned_on: str
    due_on: str
    provisional: bool
    explanation: tuple[str, ...]
    office: str
    dated: str


def assignment_slip(assignment: Assignment) -> Slip:
    issue = assignment.issue
    requester = issue.requester
    lead, co = _departments_of(issue)
    who = f"{requester.name}（{requester.get_kind_display()}）"
    if requester.organization:
        who += f"，{requester.organization}"
    return Slip(
        title=f"{issue.get_channel_display()}诉求交办单",
        number=document_number(issue, "交"),
        assignment=assignment,
        issue=issue,
        addressee=assignment.department.name,
        facts=[
            ("诉求编号", issue.ref),
            ("渠道", issue.get_channel_display()),
            ("受理日期", chinese_date(issue.received_on)),
            ("性质", issue.get_nature_display()),
            ("分类", str(issue.category)),
            ("诉求人", who),
            # Paper leaves the building: the phone number is always masked on it.
            ("联系电话", requester.masked_phone or "—"),
        ],
        content=issue.content,
        onsite_answer=issue.onsite_answer,
        lead=lead,
        co=co,
        assigned_on=chinese_date(assignment.assigned_on),
        due_on=chinese_date(assignment.due_date),
        provisional=assignment.provisional,
        explanation=deadline_explanation(assignment),
        office=office_name(issue),
        dated=chinese_date(assignment.assigned_on),
    )


@dataclass(frozen=True)
class ChaseNotice:
    """催办通知书: the chase step of the escalation ladder, addressed to the late department."""

    number: str
    assignment: Assignment
    issue: Issue
    addressee: str
    role: str
    assigned_on: str
    due_on: str
    chased_on: str
    working_days_late: int
    from_ladder: bool
    office: str


def chase_notice(assignment: Assignment, today: datetime.date | None = None) -> ChaseNotice | None:
    """The notice for the chase step of the current deadline, if the sweep took it; otherwise, for an
    assignment that is overdue now, a notice dated today. None when there is nothing to chase."""
    today = today or timezone.localdate()
    step = (
        DeadlineStep.objects.filter(
            assignment=assignment,
            step=DeadlineStep.Step.CHASE,
            deadline_version=assignment.deadline_version,
            taken_at__isnull=False,
        )
        .order_by("-taken_at")
        .first()
    )
    if step is not None:
        due, chased = step.due_date, timezone.localdate(step.taken_at)
    elif assignment.is_overdue(today):
        due, chased = assignment.due_date, today
    else:
        return None
    issue = assignment.issue
    return ChaseNotice(
        number=document_number(issue, "催"),
        assignment=assignment,
        issue=issue,
        addressee=assignment.department.name,
        role=assignment.get_role_display(),
        assigned_on=chinese_date(assignment.assigned_on),
        due_on=chinese_date(due),
        chased_on=chinese_date(chased),
        working_days_late=working_days_between(due, chased, load_calendar(due, chased)),
        from_ladder=step is not None,
        office=office_name(issue),
    )


# --- 回复函 (DOCX) -------------------------------------------------------------------------------------


def _font(run: Any, name: str, size: float, *, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    # Word takes Chinese glyphs from the East Asian slot, which python-docx does not set by itself.
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def _paragraph(
    doc: Any,
    text: str = "",
    *,
    font: str = BODY_FONT,
    size: float = 16,
    bold: bool = False,
    align: int | None = None,
    indent: bool = False,
    space_after: float = 0,
    keep_with_next: bool = False,
) -> Any:
    paragraph = doc.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    fmt = paragraph.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(space_after)
    # GB/T 9704: 22 lines of 28 characters on a page; smaller print gets tighter lines.
    fmt.line_spacing = Pt(28 if size >= 16 else size * 1.6)
    fmt.keep_with_next = keep_with_next
    if indent:
        fmt.first_line_indent = Pt(size * 2)
    if text:
        _font(paragraph.add_run(text), font, size, bold=bold)
    return paragraph


def _cell(cell: Any, text: str, *, bold: bool = False, size: float = 12) -> None:
    cell.text = ""
    paragraph = cell.paragraphs[0]
    for i, line in enumerate(text.split("\n")):
        if i:
            paragraph = cell.add_paragraph()
        paragraph.paragraph_format.space_after = Pt(0)
        _font(paragraph.add_run(line), HEADING_FONT if bold else BODY_FONT, size)


def _table(doc: Any, widths: list[Cm], rows: int) -> Any:
    table = doc.add_table(rows=rows, cols=len(widths))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    # Word reads the cell widths, LibreOffice the grid's: set both, and stop autofit from undoing them.
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
        for cell in column.cells:
            cell.width = width
    return table


def reply_letter_docx(assignment: Assignment) -> bytes:
    """A 回复函 the department prints, answers, signs and stamps, then scans and uploads.

    Pre-filled with the request (reference, title, requester name, content); blanks for the answer,
    the result, the seal (盖章处) and the head's signature (主要负责人签字). No phone number. A short
    request fits on one A4 page; the department edits the answer in, so the layout is only a start.
    """
    issue = assignment.issue
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    text_width = Cm(21 - 2.8 - 2.6)
    props = doc.core_properties
    props.title = f"关于{issue.ref}诉求的回复函"
    props.author = assignment.department.name
    props.comments = "由三个直通车诉求办理平台生成"

    # 函: the department's own document number at the top right, then the title (信函格式).
    _paragraph(doc, "〔　　　　〕　　　号", align=WD_ALIGN_PARAGRAPH.RIGHT, space_after=6)
    _paragraph(
        doc, f"关于“{issue.title}”的回复函", font=TITLE_FONT, size=22, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=12
    )
    _paragraph(doc, f"{office_name(issue)}：")
    _paragraph(
        doc,
        f"你办交由我单位{assignment.get_role_display()}的{issue.get_channel_display()}诉求"
        f"（编号：{issue.ref}）收悉，现答复如下：",
        indent=True,
    )

    _paragraph(doc, "一、诉求事项", font=HEADING_FONT, indent=True, keep_with_next=True)
    facts = [
        ("诉求编号", issue.ref),
        ("诉求标题", issue.title),
        ("诉求人", issue.requester.name),
        ("受理日期", chinese_date(issue.received_on)),
        ("办理期限", chinese_date(assignment.due_date)),
        ("诉求内容", issue.content),
    ]
    table = _table(doc, [Cm(2.6), text_width - Cm(2.6)], rows=len(facts))
    for row, (label, value) in zip(table.rows, facts, strict=True):
        row.height = Cm(0.65)  # a minimum: long content still grows the row
        _cell(row.cells[0], label, bold=True)
        _cell(row.cells[1], value)

    _paragraph(doc, "二、办理情况及答复意见", font=HEADING_FONT, indent=True, keep_with_next=True)
    answer = _table(doc, [text_width], rows=1)
    answer.rows[0].height = Cm(4.5)
    _cell(answer.rows[0].cells[0], "（请填写办理过程、依据和答复意见；篇幅不够可另附页）", size=10.5)

    _paragraph(doc, "三、办理结果（请勾选一项）：", font=HEADING_FONT, indent=True, keep_with_next=True)
    _paragraph(
        doc,
        "　".join(f"□{label}" for _, label in SignedReply.Result.choices),
        size=14,
        indent=True,
        keep_with_next=True,
    )
    _paragraph(
        doc, "联系人：__________　联系电话：______________", size=14, indent=True, space_after=12, keep_with_next=True
    )

    # The signature block stays together and with the lines above it: GB/T 9704 forbids a page that
    # carries only the seal and the date.
    _paragraph(
        doc, f"承办单位（盖章处）：{assignment.department.name}", align=WD_ALIGN_PARAGRAPH.RIGHT, keep_with_next=True
    )
    _paragraph(doc, "主要负责人签字：______________", align=WD_ALIGN_PARAGRAPH.RIGHT, keep_with_next=True)
    _paragraph(doc, "年　　月　　日", align=WD_ALIGN_PARAGRAPH.RIGHT)
    # In the footer (the bottom margin), so it takes no room from the letter.
    note = section.footer.paragraphs[0]
    _font(note.add_run("注：本函须加盖单位公章并由主要负责人签字，扫描后在平台“上传书面回复”提交。"), BODY_FONT, 10.5)

    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def reply_letter_filename(assignment: Assignment) -> str:
    return f"回复函-{assignment.issue.ref}-{assignment.department.name}.docx"
