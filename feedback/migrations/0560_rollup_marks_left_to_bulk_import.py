"""The rollup's mark triggers (migration 0008) step aside while a bulk import marks its cohort's keys
itself, set-based (feedback.services.ledger_import.rollup_marked_by_import, docs/decisions/0661).

PostgreSQL only: the two trigger functions return at once when the transaction-local setting
``feedback.rollup_marked_by_caller`` is ``on``; the triggers themselves are unchanged. On SQLite the
import keeps the per-row triggers.
"""

import importlib

from django.db import migrations

_rollup = importlib.import_module("feedback.migrations.0008_stats_rollup")

SKIP = "IF current_setting('feedback.rollup_marked_by_caller', true) = 'on' THEN RETURN NULL; END IF;"


def _functions(with_skip: bool) -> str:
    sql = _rollup.PG_FUNCTIONS
    if with_skip:
        # Right after each function's BEGIN: nothing is marked, the caller marks the keys.
        sql = sql.replace("BEGIN\n", f"BEGIN\n    {SKIP}\n")
    return sql


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_functions(True))


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_functions(False))


class Migration(migrations.Migration):
    dependencies = [("feedback", "0540_follow_up_skipped")]

    operations = [migrations.RunPython(forwards, backwards)]
