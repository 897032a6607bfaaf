"""The import's number of queries does not grow with the ledger's rows (issue 14, import speed):
checking and writing an answered ledger is a fixed number of statements per file — the history
through one COPY on PostgreSQL — plus one INSERT per batch of 500 issues or assignments."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feedback import services
from feedback.ledger.parse import check_ledger
from feedback.models import HistoryEntry, Issue
from tests.feedback.test_import import csv_bytes, ledger_row

pytestmark = pytest.mark.django_db

SATISFACTION = ("满意", "基本满意", "不满意", "")
DEPARTMENTS = ("zjj", "zjj;jtj", "住建局、交通运输局、黄桥镇", "jtj")


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime.datetime(2026, 11, 30, 2, 0, tzinfo=datetime.UTC), tick=False):
        yield


def answered_ledger(rows: int, *, offset: int = 0) -> bytes:
    """``rows`` answered rows: phones and names repeating (requesters shared), one to three departments,
    a third with their own deadline, closures and ratings mixed."""
    start = datetime.date(2024, 1, 2)
    out = []
    for n in range(offset, offset + rows):
        received = start + datetime.timedelta(days=n % 300)
        replied = received + datetime.timedelta(days=5 + n % 20)
        rating = SATISFACTION[n % 4]
        out.append(
            ledger_row(
                ref=f"ZW2024-{n:05d}",
                received_on=f"{received:%Y-%m-%d}",
                requester=f"网民{n % 37}",
                requester_phone=f"138{n % 53:08d}" if n % 3 == 0 else "",
                departments=DEPARTMENTS[n % len(DEPARTMENTS)],
                deadline_amount="15" if n % 3 == 1 else "",
                deadline_unit="working_day" if n % 3 == 1 else "",
                replied_on=f"{replied:%Y-%m-%d}",
                closed_on=f"{replied + datetime.timedelta(days=3):%Y-%m-%d}" if rating else "",
                satisfaction=rating,
            )
        )
    return csv_bytes(out)


def queries_to_import(data: bytes) -> int:
    with CaptureQueriesContext(connection) as captured:
        ledger = check_ledger(data, "ledger.csv")
        assert ledger.ok, ledger.problems[:3]
        services.import_ledger(actor=None, ledger=ledger)
    return len(captured)


def test_the_queries_of_an_import_do_not_grow_with_its_rows(reference):
    small = queries_to_import(answered_ledger(50))
    large = queries_to_import(answered_ledger(500, offset=1000))

    assert Issue.objects.count() == 550
    # Ten times the rows: at most one more batch of assignments (500 rows have ~1,000) and of history
    # on a database without COPY; nothing a row.
    assert large - small <= (2 if connection.vendor == "postgresql" else 8), (small, large)
    assert HistoryEntry.objects.filter(action="accept_reply").count() > 900  # ~1.75 a row, through COPY
