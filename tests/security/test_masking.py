"""Personal numbers in free text (issue 15, part 5): masked on pages, API and exports for departments and
leaders; shown for a logged reason."""

from __future__ import annotations

import io
import random
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.test import APIClient

from feedback.models import AuditEvent
from feedback.security.masking import mask_text
from tests.factories import assigned

pytestmark = pytest.mark.django_db

ID = "430525198807121234"
MOBILE = "13912345678"
LANDLINE = "0739-7221234"
CONTENT = f"请联系我，身份证{ID}，手机{MOBILE}，家里电话{LANDLINE}。"


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        (ID, "4305**********1234"),
        ("43052519880712123X", "4305**********123X"),
        (MOBILE, "139****5678"),
        ("139 1234 5678", "139****5678"),
        ("+86 13912345678", "+86 139****5678"),
        (LANDLINE, "0739-***1234"),
        ("(0739)7221234", "(0739)***1234"),
    ],
)
def test_numbers_are_masked_in_text(raw, masked):
    assert mask_text(f"电话：{raw}。") == f"电话：{masked}。"


@pytest.mark.parametrize("kept", ["ZW2026-00012", "2026-12-06", "第12345678号", "csrf9139123456789xyz", "100%"])
def test_other_numbers_are_left_alone(kept):
    assert mask_text(kept) == kept


# The patterns in their plain form (the left edge asserted before the number): what masking.py's patterns,
# written to let the engine skip to each candidate's first character, must match exactly.
_EDGE_L, _EDGE_R = r"(?<![0-9A-Za-z])", r"(?![0-9A-Za-z])"
PLAIN = (
    re.compile(_EDGE_L + r"(\d{4})(\d{10}|\d{7})(\d{3}[\dXx]|\d{4})" + _EDGE_R),
    re.compile(_EDGE_L + r"((?:\+?86[- ]?)?1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})" + _EDGE_R),
    re.compile(_EDGE_L + r"(\(?0\d{2,3}\)?[- ]?)(\d{3,4})(\d{4})" + _EDGE_R),
)


def plain_mask(text: str) -> str:
    text = PLAIN[0].sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)
    text = PLAIN[1].sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    return PLAIN[2].sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)


@pytest.mark.django_db(databases=[])
def test_the_fast_patterns_mask_exactly_what_the_plain_ones_do():
    rng = random.Random(16)
    alphabet = "0123456789" * 8 + "1386+-() Xx红星aZ"
    changed = 0
    for _ in range(40_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 50)))
        expected = plain_mask(text)
        assert mask_text(text) == expected, text
        changed += expected != text
    assert changed > 2_000  # the strings hold numbers to mask, at the start, the end and between letters


@pytest.fixture
def issue(netoffice):
    issue, _ = assigned(netoffice, lead="zjj", title=f"反映人电话{MOBILE}")
    issue.content = CONTENT
    issue.save(update_fields=["content"])
    return issue


def test_a_department_sees_the_numbers_masked_on_the_page(client, issue, zjj_head):
    client.force_login(zjj_head)
    page = client.get(reverse("issue_detail", args=[issue.pk])).content.decode()
    assert "4305**********1234" in page and "139****5678" in page and "0739-***1234" in page
    for raw in (ID, MOBILE, "7221234"):
        assert raw not in page


def test_a_leader_sees_them_masked_too_and_the_office_sees_them(client, issue, leader, netoffice):
    client.force_login(leader)
    assert ID not in client.get(reverse("issue_detail", args=[issue.pk])).content.decode()
    client.force_login(netoffice)  # the channel office calls requesters back
    assert ID in client.get(reverse("issue_detail", args=[issue.pk])).content.decode()


def test_the_api_masks_them(issue, zjj_head):
    api = APIClient()
    api.force_authenticate(zjj_head)
    body = api.get(f"/api/v1/issues/{issue.pk}/").content.decode()
    assert ID not in body and MOBILE not in body and "4305**********1234" in body


def test_the_inbox_export_masks_them(client, issue, zjj_head):
    client.force_login(zjj_head)
    response = client.get(reverse("inbox_export"), {"tab": "pending"})
    assert response.status_code == 200
    cells = [
        str(c)
        for row in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)
        for c in row
        if c
    ]
    assert any("139****5678" in c for c in cells)
    assert not any(MOBILE in c or ID in c for c in cells)


def test_unmasking_needs_a_reason_is_logged_and_lasts_for_that_page_only(client, issue, zjj_head):
    client.force_login(zjj_head)
    page_url = reverse("issue_detail", args=[issue.pk])
    assert "查看完整号码" in client.get(page_url).content.decode()

    refused = client.post(reverse("unmask"), {"next": page_url, "reason": ""})
    assert refused.status_code == 400 and not AuditEvent.objects.filter(action="unmask").exists()

    granted = client.post(reverse("unmask"), {"next": page_url, "reason": "电话联系诉求人核实情况"})
    assert granted.status_code == 302 and granted.url == page_url
    assert ID in client.get(page_url).content.decode()
    event = AuditEvent.objects.get(action="unmask")
    assert event.actor == "zjj_head" and event.detail == {"path": page_url, "reason": "电话联系诉求人核实情况"}
    # Another page (the inbox) stays masked.
    assert MOBILE not in client.get(reverse("inbox")).content.decode()


def test_unmask_never_redirects_off_site(client, zjj_head, reference):
    client.force_login(zjj_head)
    response = client.post(reverse("unmask"), {"next": "//evil.example/", "reason": "测试一下原因"})
    assert response.url == "/"


def test_masking_an_export_never_turns_text_into_a_formula(client, reference, leader):
    from tests.channels.enterprise_factories import EnterpriseFactory

    EnterpriseFactory(name='=HYPERLINK("http://x","13912345678")', contact_phone="")
    client.force_login(leader)
    sheet = load_workbook(io.BytesIO(client.get(reverse("channels_enterprise:enterprise_export")).content)).active
    cell = next(c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert cell.data_type == "s" and "139****5678" in cell.value
