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
from feedback.ledger.parse import LedgerError, LedgerProblem, check_ledger
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


def test_answered_rows_are_written_chunk_by_chunk_as_one_file(reference, monkeypatch):
    """ANSWERED_CHUNK bounds the memory of a large import (issue 16 goal 4); the file stays one: a
    requester shared across chunks is one requester, and a problem in any chunk writes nothing."""
    from feedback.models import Requester
    from feedback.services import ledger_import

    monkeypatch.setattr(ledger_import, "ANSWERED_CHUNK", 7)
    data = answered_ledger(30)
    ledger = check_ledger(data, "ledger.csv")
    assert ledger.ok
    services.import_ledger(actor=None, ledger=ledger)
    assert Issue.objects.count() == 30
    # 37 names and 53 phones cycle through the rows (answered_ledger): one requester each, not one a chunk.
    expected = len({(r.requester_phone or "", "" if r.requester_phone else r.requester) for r in ledger.rows})
    assert Requester.objects.count() == expected
    assert HistoryEntry.objects.filter(action="register").count() == 30

    again = check_ledger(answered_ledger(20, offset=100), "ledger.csv")
    calls = []
    insert = ledger_import._bulk_insert_issues

    def third_chunk_fails(issues, rows):
        calls.append(len(issues))
        if len(calls) == 3:  # e.g. a ref registered meanwhile by someone else
            raise LedgerError([LedgerProblem(rows[0].row, "ref", "编号已被占用")])
        insert(issues, rows)

    monkeypatch.setattr(ledger_import, "_bulk_insert_issues", third_chunk_fails)
    with pytest.raises(LedgerError):
        services.import_ledger(actor=None, ledger=again)
    assert calls == [7, 7, 6]
    assert Issue.objects.count() == 30  # nothing of the first two chunks either
