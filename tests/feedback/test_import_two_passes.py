"""The ledger import in two passes (issue 16 goal 4, docs/decisions/0720): the first checks every row
as it is read and keeps only refs and problems; the second reads the file again and writes it a
chunk at a time in one transaction, so that a problem anywhere still writes nothing and every
problem is told at once."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feedback import services
from feedback.ledger import parse
from feedback.ledger.parse import LedgerError, RawTable, check_ledger, iter_checked
from feedback.models import Issue
from feedback.services import ledger_import
from tests.factories import register
from tests.feedback.test_import import csv_bytes, ledger_row, nothing_written, run, run_failing, write

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime.datetime(2026, 11, 30, 2, 0, tzinfo=datetime.UTC), tick=False):
        yield


def answered(n: int) -> dict[str, str]:
    return ledger_row(ref=f"ZW-{n}", replied_on="2024-03-12", closed_on="2024-03-20", satisfaction="满意")


def test_the_first_pass_counts_the_rows_and_keeps_none(reference):
    data = csv_bytes([answered(n) for n in range(1, 8)])
    services.import_ledger(actor=None, ledger=check_ledger(csv_bytes([answered(1), answered(2)]), "a.csv"))
    first = check_ledger(data, "l.csv", keep_rows=False)
    assert first.ok and (first.rows, first.present) == ([], [])
    assert (first.count, first.new_count, first.present_refs) == (7, 5, {"ZW-1", "ZW-2"})
    kept = check_ledger(data, "l.csv")
    assert (len(kept.rows), len(kept.to_create), [r.ref for r in kept.present]) == (7, 5, ["ZW-1", "ZW-2"])


def test_rows_are_checked_as_the_file_is_read_not_after_reading_it_whole(reference):
    """What makes the passes hold no table: the first row is checked before the rows past the
    header search (the first 30) are read."""
    header = list(parse.COLUMNS)

    def rows():
        for n in range(1, parse.HEADER_SEARCH_ROWS + 10):
            yield n + 1, [ledger_row(ref=f"ZW-{n}")[c] for c in header]
        raise AssertionError("the whole file was read before the first row was checked")

    checked = iter_checked(RawTable(header, rows()), parse.LedgerCheck())
    assert next(checked).ref == "ZW-1"
    with pytest.raises(AssertionError, match="the whole file"):
        list(checked)


def test_the_second_pass_writes_a_chunk_at_a_time(reference, monkeypatch):
    monkeypatch.setattr(ledger_import, "IMPORT_CHUNK", 2)
    data = csv_bytes([answered(n) for n in range(1, 6)])
    with CaptureQueriesContext(connection) as captured:
        result = services.import_ledger_file(actor=None, data=data, name="l.csv")
    assert result.created == [f"ZW-{n}" for n in range(1, 6)] and result.present == []
    inserts = [q for q in captured.captured_queries if q["sql"].startswith('INSERT INTO "feedback_issue"')]
    assert len(inserts) == 3  # 2 + 2 + 1 rows
    assert Issue.objects.count() == 5


def test_a_clash_found_by_the_second_pass_rolls_back_the_chunks_written_and_names_every_row(
    reference, monkeypatch, ezoneoffice
):
    """The database changed between the passes: refs registered by another channel in the second
    and the third chunk. The first chunk was written already; nothing stays, and both rows are named."""
    monkeypatch.setattr(ledger_import, "IMPORT_CHUNK", 2)
    data = csv_bytes([answered(n) for n in range(1, 7)])
    assert check_ledger(data, "l.csv", keep_rows=False).ok
    register(ezoneoffice, channel="enterprise", ref="ZW-3", received_on=datetime.date(2024, 1, 5))
    register(ezoneoffice, channel="enterprise", ref="ZW-6", received_on=datetime.date(2024, 1, 5))
    with pytest.raises(LedgerError) as refused:
        services.import_ledger_file(actor=None, data=data, name="l.csv")
    assert [str(p) for p in refused.value.problems] == [
        "row 4: ref: 编号“ZW-3”已被政企直通车的诉求使用",
        "row 7: ref: 编号“ZW-6”已被政企直通车的诉求使用",
    ]
    assert set(Issue.objects.values_list("ref", flat=True)) == {"ZW-3", "ZW-6"}


def test_a_row_gone_bad_between_the_passes_is_told_with_the_files_own_header(reference, tmp_path):
    """The second pass checks each row again; its problem reads as the first pass's would."""
    from feedback.models import Category

    columns = ("编号", "渠道", "受理日期", "诉求人", "联系电话", "单位名称", "分类", "标题", "诉求内容")
    columns += ("承办单位", "办理时限", "时限单位", "回复日期", "办结日期", "回访结果")
    rows = [
        dict(zip(columns, ledger_row(ref=f"ZW-{n}", category=c).values(), strict=True))
        for n, c in ((1, "housing"), (2, "health"))
    ]
    data = csv_bytes(rows, columns=columns)
    assert check_ledger(data, "l.csv", keep_rows=False).ok
    Category.objects.filter(code="health").update(code="health-retired")
    with pytest.raises(LedgerError) as refused:
        services.import_ledger_file(actor=None, data=data, name="l.csv")
    assert [str(p) for p in refused.value.problems] == ["第 3 行 分类：未知分类“health”"]
    assert nothing_written()


def test_the_command_imports_in_two_passes_and_its_dry_run_counts(reference, tmp_path, monkeypatch):
    monkeypatch.setattr(ledger_import, "IMPORT_CHUNK", 2)
    path = write(tmp_path, csv_bytes([answered(n) for n in range(1, 6)] + [ledger_row(ref="ZW-9")]))
    out, _ = run(path, "--dry-run")
    assert "would create: 6, already present: 0" in out and nothing_written()
    out, _ = run(path)
    assert "created: 6, already present: 0" in out
    out, _ = run(path)
    assert "created: 0, already present: 6" in out
    assert Issue.objects.get(ref="ZW-9").status == Issue.Status.ASSIGNED


def test_the_command_still_refuses_a_bad_file_before_writing(reference, tmp_path):
    lines = run_failing(write(tmp_path, csv_bytes([answered(1), ledger_row(ref="ZW-2", received_on="昨天")])))
    assert lines == ["row 3: received_on: 日期“昨天”无效，应为 YYYY-MM-DD（或 2024/3/5、2024.3.5、2024年3月5日）"]
    assert nothing_written()
