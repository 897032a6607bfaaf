"""On PostgreSQL, the history table refuses UPDATE and DELETE even from raw SQL.

The model refuses them too (HistoryEntry.save/delete); the trigger makes the rule hold
for every client of the database, not just this code. SQLite (the embedded
development default) relies on the model check alone.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION feedback_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '办理记录只能追加，不能修改或删除 (feedback_historyentry is append-only)';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER feedback_history_append_only
    BEFORE UPDATE OR DELETE ON feedback_historyentry
    FOR EACH ROW EXECUTE FUNCTION feedback_history_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS feedback_history_append_only ON feedback_historyentry;
DROP FUNCTION IF EXISTS feedback_history_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("feedback", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
