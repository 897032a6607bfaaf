"""Every workbook the portal hands out prints properly (issue 14): landscape A4, fitted to the page's
width (as many pages down as it takes), the header row repeated on every page. One test a workbook,
each fetched the way a user gets it (the page's download, the background export, the command).

The monthly bulletin is not a workbook: it is a Word document in portrait (GB/T 9704), whose tables
repeat their header row on every page (tests/feedback/test_bulletins.py checks its cells; the
header flag is checked here too)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from docx import Document
from openpyxl import load_workbook

from feedback import services
from feedback.access import Role
from feedback.models import Assignment, ExportJob
from tests.conftest import make_user
from tests.feedback.test_rollup import build

pytestmark = pytest.mark.django_db


def assert_prints_properly(content: bytes) -> None:
    book = load_workbook(io.BytesIO(content))
    assert book.worksheets
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert setup.orientation == "landscape", sheet.title
        assert str(setup.paperSize) == sheet.PAPERSIZE_A4, sheet.title  # "9" written, 9 read back
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0), sheet.title  # one page wide, any number long
        assert sheet.print_title_rows == "$1:$1", sheet.title  # the header on every page
    assert book.worksheets[0].max_row > 1  # there is something to print under the header


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def data(reference):
    build(5, 8)


@pytest.mark.parametrize(
    "url",
    [
        "/issues/export.xlsx",  # the issue list's export
        "/issues/export-ledger.xlsx",  # the ledger page's round-trip workbook (two sheets)
        "/report/export/?from=2026-01-01&to=2026-12-31",  # the county report
    ],
)
def test_the_pages_workbooks_print_properly(data, leader, netoffice, url):
    user = leader if url.startswith("/report/") else netoffice
    response = client_for(user).get(url)
    assert response.status_code == 200, url
    assert_prints_properly(response.content)


def test_the_inbox_export_prints_properly(data):
    code = Assignment.objects.values_list("department__code", flat=True).first()
    member = make_user("inbox_print", department=code, role=Role.DEPARTMENT)
    client = client_for(member)
    printed = 0
    for tab in ("pending", "in_progress", "due_soon", "overdue", "replied"):  # each tab exports itself
        response = client.get(reverse("inbox_export"), {"tab": tab})
        assert response.status_code == 200
        if load_workbook(io.BytesIO(response.content)).active.max_row > 1:
            assert_prints_properly(response.content)
            printed += 1
    assert printed


def test_the_background_export_prints_properly(data, netoffice, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    job = services.request_export(actor=netoffice, params={})
    services.export_jobs.run_export(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE
    assert_prints_properly((tmp_path / job.file).read_bytes())


def test_export_issues_prints_properly(data, tmp_path):
    path = tmp_path / "台账.xlsx"
    call_command("export_issues", str(path))
    assert_prints_properly(path.read_bytes())


def test_the_enterprise_registry_prints_properly(data, ezoneoffice):
    from channels_enterprise.models import Enterprise

    Enterprise.objects.create(name="某电子公司", credit_code="91430000MA4L00000X")
    response = client_for(ezoneoffice).get(reverse("channels_enterprise:enterprise_export"))
    assert response.status_code == 200
    assert_prints_properly(response.content)


def test_the_bulletins_word_tables_repeat_their_header_row(data, admin_user):
    import datetime

    bulletin = services.publish_bulletin(
        actor=admin_user, bulletin=services.draft_bulletin(actor=admin_user, month=datetime.date(2026, 3, 1))
    )
    response = client_for(admin_user).get(reverse("bulletin_docx", args=[bulletin.pk]))
    document = Document(io.BytesIO(response.content))
    assert document.tables
    for table in document.tables:
        header = table.rows[0]._tr
        assert (
            header.trPr is not None
            and header.trPr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tblHeader") is not None
        )
