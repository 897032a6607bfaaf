"""Character-trigram indexes for the duplicate suggestions (``feedback.similar.candidates``, issue 19):
the recent titles (``received_on >= … AND title % <request title>``: a request repeated in nearly the
same words; one GIN index over both columns, through btree_gin, so the date bounds the trigram match
inside the index instead of rechecking thousands of old rows) and title and content together
(``LIKE '%红星村%'``: the issues naming the request's village, road or enterprise). PostgreSQL only: SQLite scores a bounded set of recent
issues instead. ``pg_trgm`` and ``btree_gin`` ship with PostgreSQL (contrib) and are trusted extensions: the database
owner creates them (docs/operations.md)."""

from django.db import migrations

EXPRESSION = "(title || ' ' || content)"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS issue_recent_title_trgm_idx ON feedback_issue"
        " USING gin (received_on, title gin_trgm_ops)"
    )
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS issue_text_trgm_idx ON feedback_issue USING gin ({EXPRESSION} gin_trgm_ops)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS issue_text_trgm_idx")
    schema_editor.execute("DROP INDEX IF EXISTS issue_recent_title_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0530_issue_merge"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
