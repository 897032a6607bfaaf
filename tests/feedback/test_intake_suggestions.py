"""Duplicate suggestions at the last two doors (issue 19): the ledger import's preview (information
only, one set of queries for all rows) and the 政网 triage of public submissions (one-click 并单)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from channels_net import services as net
from channels_net.models import PublicSubmission
from feedback import similar
from feedback.models import Category, Issue
from tests.feedback.test_import import csv_bytes, ledger_row, upload
from tests.feedback.test_merging import assign, new

pytestmark = pytest.mark.django_db

WATER = "反映江口镇红星村供水不正常"
WATER_TEXT = "红星村供水很不稳定，隔几天就没水，估计是水管破了，请派人来查一查。"


@pytest.fixture
def water(netoffice) -> Issue:
    lead = new(netoffice, received_on=timezone.localdate() - datetime.timedelta(days=5))
    assign(netoffice, lead, lead="slj")
    return lead


def rows(n: int) -> list[similar.Request]:
    return [
        similar.Request(
            title=f"{WATER}{i}" if i % 2 else f"学校门口修天桥{i}", content=WATER_TEXT if i % 2 else "修天桥"
        )
        for i in range(n)
    ]


# --- suggest_many ----------------------------------------------------------------------------------------


def test_many_requests_get_the_suggestions_one_would(netoffice, water):
    one = similar.suggest(netoffice, similar.Request(title=WATER, content=WATER_TEXT), limit=3)
    (many,) = similar.suggest_many(netoffice, [similar.Request(title=WATER, content=WATER_TEXT)], limit=3)
    assert [s.issue.pk for s in many] == [s.issue.pk for s in one] and many[0].issue.pk == water.pk
    assert many[0].likely and many[0].reasons == one[0].reasons


@pytest.mark.parametrize("trigrams", [True, False], ids=["postgresql", "sqlite-path"])
def test_the_number_of_queries_does_not_grow_with_the_rows(netoffice, water, monkeypatch, trigrams):
    monkeypatch.setattr(similar, "_trigram_ready", lambda: trigrams)
    counts = []
    for n in (2, 30):
        with CaptureQueriesContext(connection) as captured:
            found = similar.suggest_many(netoffice, rows(n))
        counts.append(len(captured))
        assert all(hits and hits[0].issue.pk == water.pk for i, hits in enumerate(found) if i % 2)
        assert not any(hits and hits[0].likely for i, hits in enumerate(found) if not i % 2)
    assert counts[0] == counts[1]


def test_suggestions_are_scoped_to_what_the_user_sees(ezoneoffice, water):
    (hits,) = similar.suggest_many(ezoneoffice, [similar.Request(title=WATER, content=WATER_TEXT)])
    assert hits == []


# --- the ledger import's preview --------------------------------------------------------------------------


def test_the_import_preview_names_the_likely_duplicates_and_merges_nothing(client, netoffice, water):
    client.force_login(netoffice)
    today = timezone.localdate()
    data = csv_bytes(
        [
            ledger_row(ref="TZ-1", received_on=f"{today:%Y-%m-%d}", title=WATER, content=WATER_TEXT, departments="slj"),
            ledger_row(ref="TZ-2", received_on=f"{today:%Y-%m-%d}"),  # the footbridge: no duplicate
        ]
    )
    page = upload(client, data).content.decode()
    assert "可能重复" in page and 'id="import-duplicates"' in page and "上表中有 1 行" in page
    cells = page.split('class="import-similar"')[1:]
    assert water.ref in cells[0] and water.ref not in cells[1]
    assert Issue.objects.count() == 1  # a preview writes nothing


def test_a_ledger_row_already_closed_is_not_looked_up(client, netoffice, water):
    client.force_login(netoffice)
    today = timezone.localdate()
    data = csv_bytes(
        [
            ledger_row(
                ref="TZ-1",
                received_on=f"{today:%Y-%m-%d}",
                title=WATER,
                content=WATER_TEXT,
                replied_on=f"{today:%Y-%m-%d}",
                closed_on=f"{today:%Y-%m-%d}",
            )
        ]
    )
    page = upload(client, data).content.decode()
    assert 'id="import-duplicates"' not in page


# --- the 政网 triage ---------------------------------------------------------------------------------------


def submitted(content: str = WATER_TEXT) -> PublicSubmission:
    return net.submit_suggestion(category=Category.objects.get(code="housing"), content=content, name="水务观察员")


def test_the_triage_page_ranks_the_open_issues_a_submission_repeats_and_merges_in_one_click(client, netoffice, water):
    submission, other = submitted(), submitted("建议在县城增设老年人活动中心，丰富老人生活。")
    client.force_login(netoffice)
    page = client.get(reverse("channels_net:submission_list")).content.decode()
    mine = page.split(f'id="submission-{submission.pk}"')[1].split('id="submission-')[0]
    assert "可能与以下诉求重复" in mine and f"并入 {water.ref}" in mine and "同一地点：红星村" in mine
    theirs = page.split(f'id="submission-{other.pk}"')[1]
    assert "可能与以下诉求重复" not in theirs.split("</div>")[0]
    answer = client.post(
        reverse("channels_net:submission_decide", args=[submission.pk, "merge"]),
        {"issue_ref": water.ref, "note": "受理时按重复提示并单"},
    )
    assert answer.status_code == 302
    submission.refresh_from_db()
    assert submission.status == PublicSubmission.Status.MERGED and submission.merged_into_id == water.pk


def test_a_closed_issue_is_not_offered_at_triage(client, netoffice, water):
    Issue.objects.filter(pk=water.pk).update(status="closed", closed_on=timezone.localdate())
    submitted()
    client.force_login(netoffice)
    page = client.get(reverse("channels_net:submission_list")).content.decode()
    assert f"并入 {water.ref}" not in page


def test_the_triage_page_keeps_its_query_count_with_more_submissions(client, netoffice, water):
    client.force_login(netoffice)
    counts = []
    for extra in (1, 8):
        for _ in range(extra):
            submitted()
        with CaptureQueriesContext(connection) as captured:
            client.get(reverse("channels_net:submission_list"))
        counts.append(len(captured))
    assert counts[0] == counts[1]
