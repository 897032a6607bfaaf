"""Parameters bound by the server and repeated statements prepared (decision 0790, issue 16 goal 3).

The settings decide it from the environment when they are imported, so each case imports them in a
child process with that environment; the last test checks on the real PostgreSQL that a page's
statement run again on the same connection is prepared there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from feedback.models import Category

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = "postgres://postgres@127.0.0.1:5432/anything"

DECIDING = (
    "PGBOUNCER_TRANSACTION_MODE",
    "DATABASE_POOL_MAX",
    "DATABASE_PREPARED_STATEMENTS",
    "DATABASE_PREPARE_THRESHOLD",
)
READ_OPTIONS = (
    "import json, zhitongche.settings as s;"
    "print(json.dumps({k: v for k, v in s.DATABASES['default'].get('OPTIONS', {}).items()"
    " if k in ('server_side_binding', 'prepare_threshold')}))"
)


def options(**env: str) -> dict:
    child = {k: v for k, v in os.environ.items() if k not in DECIDING}
    child.update(SECRET_KEY="x", DEBUG="0", ALLOWED_HOSTS="localhost", **env)
    done = subprocess.run(
        [sys.executable, "-c", READ_OPTIONS], env=child, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_on_postgresql_parameters_are_bound_by_the_server_and_statements_prepared_after_five_runs():
    assert options(DATABASE_URL=POSTGRES) == {"server_side_binding": True, "prepare_threshold": 5}
    assert options(DATABASE_URL=POSTGRES, DATABASE_PREPARE_THRESHOLD="2")["prepare_threshold"] == 2


def test_behind_pgbouncer_in_transaction_mode_or_switched_off_nothing_is_prepared():
    # The next transaction may reach another server connection, where the prepared statement is not.
    assert options(DATABASE_URL=POSTGRES, PGBOUNCER_TRANSACTION_MODE="1") == {}
    assert options(DATABASE_URL=POSTGRES, DATABASE_PREPARED_STATEMENTS="0") == {}


def test_sqlite_is_left_as_it_is():
    assert options(DATABASE_URL="sqlite:///:memory:") == {}


@pytest.mark.django_db
def test_a_statement_run_again_on_the_same_connection_is_prepared_by_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    if not connection.settings_dict.get("OPTIONS", {}).get("server_side_binding"):
        pytest.skip("switched off in this environment (DATABASE_PREPARED_STATEMENTS=0 or PgBouncer mode)")
    for n in range(6):
        list(Category.objects.filter(name=f"不存在的分类{n}"))  # one statement, six parameters
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s AND statement LIKE %s",
            ['%FROM "feedback_category"%', "%$1%"],
        )
        assert cursor.fetchone()[0] == 1


@pytest.mark.django_db
def test_a_ledgers_check_and_import_prepare_nothing_and_put_the_setting_back(monkeypatch, reference):
    """Their statements carry thousands of values against tables that grow in the import's transaction: a
    generic plan made early scanned the whole issue table for every chunk after (feedback/ledger/statements.py)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    from feedback import services
    from feedback.ledger import parse
    from feedback.services import ledger_import
    from tests.feedback.test_import import csv_bytes, ledger_row

    if not connection.settings_dict.get("OPTIONS", {}).get("server_side_binding"):
        pytest.skip("switched off in this environment (DATABASE_PREPARED_STATEMENTS=0 or PgBouncer mode)")
    connection.ensure_connection()
    before = connection.connection.prepare_threshold
    assert before is not None
    seen = []

    def watched(read):
        def read_table(*args, **kwargs):
            seen.append(connection.connection.prepare_threshold)
            return read(*args, **kwargs)

        return read_table

    monkeypatch.setattr(parse, "read_table", watched(parse.read_table))
    monkeypatch.setattr(ledger_import, "read_table", watched(ledger_import.read_table))
    data = csv_bytes([ledger_row(ref="ZW2024-00001", replied_on="2024-03-12")])
    assert parse.check_ledger(data, "ledger.csv", keep_rows=False).ok
    services.import_ledger_file(actor=None, data=data, name="ledger.csv")
    assert seen == [None, None]  # in both passes, nothing prepared
    assert connection.connection.prepare_threshold == before  # and the connection's setting back after
