"""How many issues each channel holds, kept (decision 0800): the ledger's total without counting.

``feedback_issuetally`` holds rows to add up per channel. On PostgreSQL a statement-level trigger with a
transition table adds one row per channel for every statement that inserts issues (a ledger import
of 100,000 rows: three rows) or deletes them, a row trigger two rows for an issue moved to another
channel, and a TRUNCATE empties the tally. SQLite has no statement-level triggers: a row per issue
inserted or deleted. Writers only insert here, never update a shared row, so two registrations never
wait on each other for it. ``feedback.figures.tally`` adds them up and folds them every night.

The tally is seeded from the issues already stored after the triggers are created: CREATE TRIGGER
locks feedback_issue against writes until this migration commits, so no issue is missed or counted
twice.

On SQLite, a later migration that rebuilds feedback_issue (adding a foreign key, say) drops these
triggers with the table: it must drop and create them again around the change, as migration 0530 does
for the statistics triggers (tests/feedback/test_issue_tally.py checks them on a migrated SQLite file).
"""

from django.db import migrations, models

PG_FUNCTIONS = """
CREATE OR REPLACE FUNCTION feedback_issue_tally_inserted() RETURNS trigger AS $$
BEGIN
    INSERT INTO feedback_issuetally (channel, n) SELECT channel, count(*) FROM tally_new GROUP BY channel;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION feedback_issue_tally_deleted() RETURNS trigger AS $$
BEGIN
    INSERT INTO feedback_issuetally (channel, n) SELECT channel, -count(*) FROM tally_old GROUP BY channel;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION feedback_issue_tally_moved() RETURNS trigger AS $$
BEGIN
    INSERT INTO feedback_issuetally (channel, n) VALUES (OLD.channel, -1), (NEW.channel, 1);
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION feedback_issue_tally_truncated() RETURNS trigger AS $$
BEGIN
    DELETE FROM feedback_issuetally;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
"""
MOVED = "OLD.channel {ne} NEW.channel"
PG_TRIGGERS = [
    PG_FUNCTIONS,
    "CREATE TRIGGER feedback_issue_tally_insert AFTER INSERT ON feedback_issue"
    " REFERENCING NEW TABLE AS tally_new FOR EACH STATEMENT EXECUTE FUNCTION feedback_issue_tally_inserted()",
    "CREATE TRIGGER feedback_issue_tally_delete AFTER DELETE ON feedback_issue"
    " REFERENCING OLD TABLE AS tally_old FOR EACH STATEMENT EXECUTE FUNCTION feedback_issue_tally_deleted()",
    "CREATE TRIGGER feedback_issue_tally_update AFTER UPDATE OF channel ON feedback_issue FOR EACH ROW"
    f" WHEN ({MOVED.format(ne='IS DISTINCT FROM')}) EXECUTE FUNCTION feedback_issue_tally_moved()",
    "CREATE TRIGGER feedback_issue_tally_truncate AFTER TRUNCATE ON feedback_issue"
    " FOR EACH STATEMENT EXECUTE FUNCTION feedback_issue_tally_truncated()",
]
PG_DROP = [
    *(f"DROP TRIGGER IF EXISTS feedback_issue_tally_{event} ON feedback_issue"
      for event in ("insert", "delete", "update", "truncate")),
    *(f"DROP FUNCTION IF EXISTS feedback_issue_tally_{done}()"
      for done in ("inserted", "deleted", "moved", "truncated")),
]
SQLITE_TRIGGERS = [
    "CREATE TRIGGER feedback_issue_tally_insert AFTER INSERT ON feedback_issue FOR EACH ROW"
    " BEGIN INSERT INTO feedback_issuetally (channel, n) VALUES (NEW.channel, 1); END",
    "CREATE TRIGGER feedback_issue_tally_delete AFTER DELETE ON feedback_issue FOR EACH ROW"
    " BEGIN INSERT INTO feedback_issuetally (channel, n) VALUES (OLD.channel, -1); END",
    "CREATE TRIGGER feedback_issue_tally_update AFTER UPDATE OF channel ON feedback_issue FOR EACH ROW"
    f" WHEN {MOVED.format(ne='IS NOT')} BEGIN INSERT INTO feedback_issuetally (channel, n)"
    " VALUES (OLD.channel, -1), (NEW.channel, 1); END",
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS feedback_issue_tally_{event}" for event in ("insert", "delete", "update")]
SEED = "INSERT INTO feedback_issuetally (channel, n) SELECT channel, count(*) FROM feedback_issue GROUP BY channel"


def create_triggers(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for statement in PG_TRIGGERS if postgres else SQLITE_TRIGGERS:
        schema_editor.execute(statement)
    schema_editor.execute(SEED)


def drop_triggers(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for statement in PG_DROP if postgres else SQLITE_DROP:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0770_stats_generation"),
    ]

    operations = [
        migrations.CreateModel(
            name="IssueTally",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("channel", models.CharField(max_length=16)),
                ("n", models.IntegerField()),
            ],
            options={
                "verbose_name": "诉求计数",
                "verbose_name_plural": "诉求计数",
                "indexes": [models.Index(fields=["channel", "n"], name="issue_tally_channel_idx")],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
