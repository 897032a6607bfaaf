"""Printable documents (交办单, 回复函, 催办通知书), first-page previews and the inbox in Excel (issue 5)."""

from __future__ import annotations

import datetime
import io
import re
import struct
import zlib
from email.message import Message

import pikepdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook
from PIL import Image

from feedback import services
from feedback.documents.printed import chinese_date, document_number
from feedback.models import Assignment, DeadlineStep, Issue, SignedReply
from tests.conftest import make_user, reply_pdf
from tests.factories import assigned

pytestmark = pytest.mark.django_db

PHONE = "13812345678"


def overdue_issue(office, *, days_ago: int = 40, co: tuple[str, ...] = ("jtj",), **kwargs) -> tuple[Issue, list]:
    return assigned(
        office,
        lead="zjj",
        co=co,
        assigned_on=timezone.localdate() - datetime.timedelta(days=days_ago),
        phone=PHONE,
        **kwargs,
    )


def submit(user, assignment: Assignment, upload: SimpleUploadedFile) -> SignedReply:
    return services.submit_reply(
        actor=user,
        assignment=assignment,
        file=upload,
        signer_name="王建国",
        signer_title="局长",
        signed_on=timezone.localdate(),
        result="explained",
        summary="经实地测量，人车流量未达到建设标准。",
    )


def jpeg_upload(size: tuple[int, int], *, orientation: int | None = None, name: str = "IMG_0001.jpg"):
    image = Image.new("RGB", size, "white")
    image.paste(Image.new("RGB", (size[0] // 2, size[1] // 4), "red"), (0, 0))  # a mark at the top left
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, exif=exif)
    return SimpleUploadedFile(name, out.getvalue())


def png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def a4_pdf_upload() -> SimpleUploadedFile:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    out = io.BytesIO()
    pdf.save(out)
    return SimpleUploadedFile("回复函.pdf", out.getvalue())


def disposition_filename(header: str) -> str:
    message = Message()
    message["content-disposition"] = header
    return message.get_filename()


# --- formal conventions --------------------------------------------------------------------------------


def test_dates_are_written_the_formal_chinese_way():
    assert chinese_date(datetime.date(2026, 3, 2)) == "2026年3月2日"
    assert chinese_date(datetime.date(2026, 11, 15)) == "2026年11月15日"


@pytest.mark.parametrize(
    ("channel", "ref", "kind", "expected"),
    [
        ("net", "ZW2026-00012", "交", "政网交〔2026〕12号"),
        ("enterprise", "ZQ2025-00301", "催", "政企催〔2025〕301号"),
        ("citizen", "XF-旧台账-17", "交", "政民交〔2024〕XF-旧台账-17号"),
    ],
)
def test_document_numbers_are_built_from_the_issue_reference(channel, ref, kind, expected):
    issue = Issue(channel=channel, ref=ref, received_on=datetime.date(2024, 5, 6))

    assert document_number(issue, kind) == expected


# --- 交办单 ----------------------------------------------------------------------------------------------


def test_assignment_slip_is_a_formal_print_page_with_the_facts_of_the_assignment(client, netoffice):
    issue, (_lead, co) = overdue_issue(netoffice, days_ago=3, ref="ZW2026-00012")
    client.force_login(netoffice)

    response = client.get(reverse("assignment_slip", args=[co.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "政网直通车诉求交办单" in page and "政网交〔2026〕12号" in page
    assert "县委网信办" in page  # the issuing office, at the top and in the signature
    assert "县交通运输局：" in page and "交你单位协办办理" in page
    assert "138****5678" in page and PHONE not in page
    assert issue.content in page
    assert "县住房和城乡建设局" in page and "县交通运输局" in page  # lead and co-handlers
    assert chinese_date(co.assigned_on) in page and chinese_date(co.due_date) in page
    assert "当日不计入" in page  # the due date explains itself
    assert "data-print hidden" in page and "Ctrl+P" in page
    assert "onclick" not in page and not re.search(r"<script(?![^>]*\ssrc=)", page)  # CSP: no inline script


def test_assignment_slip_is_not_found_outside_the_users_scope(client, netoffice, jyj_head):
    _, (lead, _co) = overdue_issue(netoffice)
    client.force_login(jyj_head)

    assert client.get(reverse("assignment_slip", args=[lead.pk])).status_code == 404


# --- 催办通知书 ---------------------------------------------------------------------------------------------


def test_chase_notice_without_a_ladder_step_is_dated_today(client, netoffice):
    issue, (lead, _co) = overdue_issue(netoffice)
    client.force_login(netoffice)

    page = client.get(reverse("assignment_chase_notice", args=[lead.pk])).content.decode()

    assert "催办通知书" in page and document_number(issue, "催") in page
    assert "县住房和城乡建设局：" in page
    assert f"办理期限为{chinese_date(lead.due_date)}" in page
    assert f"截至{chinese_date(timezone.localdate())}" in page
    assert "个工作日" in page and "督办" in page


def test_chase_notice_cites_the_chase_step_the_sweep_took(client, netoffice):
    _issue, (lead, _co) = overdue_issue(netoffice)
    chased_at = timezone.now() - datetime.timedelta(days=20)
    # The sweep took the pending chase step of the ladder 20 days ago.
    DeadlineStep.objects.filter(
        assignment=lead, step=DeadlineStep.Step.CHASE, deadline_version=lead.deadline_version
    ).update(taken_at=chased_at)
    client.force_login(netoffice)

    page = client.get(reverse("assignment_chase_notice", args=[lead.pk])).content.decode()

    assert f"截至{chinese_date(timezone.localdate(chased_at))}" in page
    assert chinese_date(timezone.localdate()) not in page


def test_there_is_no_chase_notice_for_an_assignment_that_is_not_late(client, netoffice):
    _, (lead, _co) = overdue_issue(netoffice, days_ago=1)
    client.force_login(netoffice)

    assert client.get(reverse("assignment_chase_notice", args=[lead.pk])).status_code == 404


# --- 回复函 (DOCX) ------------------------------------------------------------------------------------------


def test_reply_letter_template_is_a_prefilled_docx_attachment(client, netoffice, zjj_head):
    issue, (lead, _co) = overdue_issue(netoffice, title="学校门口修建人行天桥")
    client.force_login(zjj_head)

    response = client.get(reverse("assignment_reply_template", args=[lead.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert disposition_filename(response["Content-Disposition"]) == f"回复函-{issue.ref}-县住房和城乡建设局.docx"
    doc = Document(io.BytesIO(response.content))
    text = "\n".join(
        [p.text for p in doc.paragraphs]
        + [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    )
    assert "关于“学校门口修建人行天桥”的回复函" in text
    for expected in (
        issue.ref,
        issue.title,
        issue.requester.name,
        issue.content,
        "县委网信办：",
        "盖章处",
        "主要负责人签字",
        "□已解决",
        "□不予支持",
    ):
        assert expected in text, expected
    assert PHONE not in text and "5678" not in text
    # Chinese glyphs come from the East Asian font slot, which Word reads.
    fonts = {run._element.rPr.rFonts.get(qn("w:eastAsia")) for p in doc.paragraphs for run in p.runs}
    assert "仿宋_GB2312" in fonts


# --- first-page previews --------------------------------------------------------------------------------


def preview(client, reply: SignedReply):
    # The first view queues the render (202, a placeholder); the worker's task is run here in its place.
    from feedback.tasks import render_reply_preview

    url = reverse("reply_preview", args=[reply.pk])
    first = client.get(url)
    if first.status_code != 202:
        return first
    render_reply_preview(reply.pk)
    return client.get(url)


def png_of(response) -> Image.Image:
    assert response.status_code == 200, response.content[:200]
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG"
    return image


def test_preview_of_a_pdf_is_its_first_page_at_a_modest_size(client, netoffice, zjj_head):
    _, (lead, _co) = overdue_issue(netoffice)
    reply = submit(zjj_head, lead, a4_pdf_upload())
    client.force_login(netoffice)

    response = preview(client, reply)

    image = png_of(response)
    assert max(image.size) == 1200 and abs(image.size[0] / image.size[1] - 595 / 842) < 0.01
    assert response["Cache-Control"].startswith("private")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_preview_of_a_phone_photo_is_upright_and_downscaled(client, netoffice, zjj_head):
    _, (lead, _co) = overdue_issue(netoffice)
    # Stored landscape with "rotate 90° clockwise to view" (EXIF orientation 6), as phones write it.
    reply = submit(zjj_head, lead, jpeg_upload((4000, 3000), orientation=6))
    client.force_login(netoffice)

    image = png_of(preview(client, reply))

    assert image.size == (900, 1200)  # portrait, longest edge 1200
    assert not image.info.get("exif")
    assert image.convert("RGB").getpixel((image.width - 5, 5))[1] < 80  # the red mark is now top right


def test_preview_of_a_png_keeps_a_small_scan_as_it_is(client, netoffice, zjj_head):
    _, (lead, _co) = overdue_issue(netoffice)
    out = io.BytesIO()
    Image.new("L", (600, 800), 255).save(out, "PNG")
    reply = submit(zjj_head, lead, SimpleUploadedFile("scan.png", out.getvalue()))
    client.force_login(netoffice)

    assert png_of(preview(client, reply)).size == (600, 800)


def test_preview_of_a_multi_picture_phone_photo_is_its_first_picture(client, netoffice, zjj_head):
    _, (lead, _co) = overdue_issue(netoffice)
    out = io.BytesIO()
    Image.new("RGB", (300, 200), "red").save(
        out, "MPO", save_all=True, append_images=[Image.new("RGB", (60, 40), "blue")]
    )
    reply = submit(zjj_head, lead, SimpleUploadedFile("IMG_0002.jpg", out.getvalue()))
    client.force_login(netoffice)

    image = png_of(preview(client, reply)).convert("RGB")

    assert image.size == (300, 200) and image.getpixel((150, 100))[0] > 200


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(path.read_bytes()[:200]),
        lambda path: path.write_bytes(png_header_only(10_000, 10_000)),  # a pixel flood: refused, not rendered
        lambda path: path.unlink(),
    ],
    ids=["truncated", "pixel-flood", "missing"],
)
def test_a_scan_that_cannot_be_rendered_says_so(client, netoffice, zjj_head, damage):
    _, (lead, _co) = overdue_issue(netoffice)
    reply = submit(zjj_head, lead, jpeg_upload((800, 600), name="scan.jpg"))
    # The file on disk is damaged after it was checked (disk fault, restore from an old backup).
    from pathlib import Path

    damage(Path(reply.file.path))
    client.force_login(netoffice)

    response = preview(client, reply)

    assert response.status_code == 422
    assert response.content.decode() == "无法预览，请下载查看"
    assert response["Content-Type"].startswith("text/plain")
    assert response["X-Content-Type-Options"] == "nosniff"


# --- the issue page offers all of it ----------------------------------------------------------------------


def test_issue_page_links_the_documents_and_shows_the_previews(client, netoffice, zjj_head):
    issue, (lead, co) = overdue_issue(netoffice)
    reply = submit(zjj_head, lead, reply_pdf())
    client.force_login(netoffice)

    page = client.get(reverse("issue_detail", args=[issue.pk])).content.decode()

    for a in (lead, co):
        assert reverse("assignment_slip", args=[a.pk]) in page
        assert reverse("assignment_reply_template", args=[a.pk]) in page
        assert reverse("assignment_chase_notice", args=[a.pk]) in page  # both are overdue
    assert f'src="{reverse("reply_preview", args=[reply.pk])}"' in page
    assert 'data-preview="无法预览，请下载查看"' in page


def test_issue_page_offers_no_chase_notice_before_the_due_date(client, netoffice):
    issue, (lead, _co) = overdue_issue(netoffice, days_ago=1)
    client.force_login(netoffice)

    page = client.get(reverse("issue_detail", args=[issue.pk])).content.decode()

    assert reverse("assignment_slip", args=[lead.pk]) in page
    assert reverse("assignment_chase_notice", args=[lead.pk]) not in page


# --- the inbox in Excel ---------------------------------------------------------------------------------------


def inbox_sheet(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["X-Content-Type-Options"] == "nosniff"
    return load_workbook(io.BytesIO(response.content)).active


def test_inbox_exports_the_current_tab_and_search_with_chinese_headers(client, netoffice, zjj_head):
    today = timezone.localdate()
    late, _ = assigned(
        netoffice, lead="zjj", title='=HYPERLINK("http://x","点我")', assigned_on=today - datetime.timedelta(days=40)
    )
    assigned(netoffice, lead="zjj", title="老城区夜市油烟扰民", assigned_on=today - datetime.timedelta(days=40))
    assigned(netoffice, lead="zjj", title="路灯不亮", assigned_on=today)  # pending, not overdue
    assigned(netoffice, lead="jyj", title="别的单位的事", assigned_on=today - datetime.timedelta(days=40))
    client.force_login(zjj_head)

    page = client.get(reverse("inbox") + "?tab=overdue&q=HYPER").content.decode()
    assert f"{reverse('inbox_export')}?tab=overdue&amp;q=HYPER" in page
    sheet = inbox_sheet(client.get(reverse("inbox_export"), {"tab": "overdue", "q": "HYPER"}))

    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("编号", "标题", "渠道", "角色", "交办日期", "办理期限", "状态", "回复日期")
    assert sheet.title == "已超期"
    assert len(rows) == 2
    ref, title, channel, role, assigned_on, _due, status, replied = rows[1]
    assert (ref, channel, role, status, replied) == (late.ref, "政网直通车", "主办", "待签收", None)
    assert title == late.title  # text stays text: never a formula
    assert sheet["B2"].data_type == "s"
    assert assigned_on.date() == today - datetime.timedelta(days=40)

    everything = inbox_sheet(client.get(reverse("inbox_export"), {"tab": "overdue"}))
    assert everything.max_row == 3  # both of this department's overdue items, not the other department's


@pytest.mark.parametrize("size", [2, 12])
def test_inbox_export_uses_a_constant_number_of_queries(
    client, netoffice, zjj_head, django_assert_max_num_queries, size
):
    for n in range(size):
        assigned(netoffice, lead="zjj", co=("jtj",), title=f"诉求{n}")
    client.force_login(zjj_head)
    client.get(reverse("inbox"))  # warm the session

    from feedback.security.events import QUERIES_PER_EVENT

    # + one audit record: an export with personal data is a security event (issue 15).
    with django_assert_max_num_queries(8 + QUERIES_PER_EVENT):
        sheet = inbox_sheet(client.get(reverse("inbox_export"), {"tab": "pending"}))

    assert sheet.max_row == size + 1


def test_inbox_export_is_for_signed_in_portal_users_only(client, reference):
    assert client.get(reverse("inbox_export")).status_code == 302
    client.force_login(make_user("nobody"))
    assert client.get(reverse("inbox_export")).status_code == 404
