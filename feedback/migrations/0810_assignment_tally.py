"""How many assignments each department holds per channel and status, kept (decision 0800): the inbox's
tab counts without counting a busy department's every assignment.

``feedback_assignmenttally`` holds rows to add up per (department, channel of the issue, status), as
``feedback_issuetally`` does per channel (migration 0800). On PostgreSQL statement-level triggers with
transition tables add one row per key for each statement that inserts or deletes assignments; a row
trigger adds −1 for the old key and +1 for the new when an assignment's status, department or issue
changes; another moves the assignments of an issue whose channel changes; a TRUNCATE empties the
tally. SQLite: the same with a row per assignment inserted or deleted.

Seeded after the triggers are created, in the same transaction (CREATE TRIGGER locks both tables
against writes until it commits).

On SQLite these triggers name feedback_issue in their bodies: a later migration that rebuilds
feedback_issue or feedback_assignment there must drop them first and create them again after, as
migration 0530 does for the statistics triggers (tests/feedback/test_issue_tally.py checks them on a
migrated SQLite file).
"""

from django.db import migrations, models

TALLY = "INSERT INTO feedback_assignmenttally (department_id, channel, status, n)"
# Each row's channel read through the primary key. Not a join: a transition table has no
# statistics, and PostgreSQL hashed the whole issue table for a one-row statement (33 ms for an
# assignment inserted at a million issues, against 1 ms; a 100,000-row import went from a minute to more
# than twenty: bench/README.md "Stop 29").
CHANNEL_OF_A = "(SELECT i.channel FROM feedback_issue i WHERE i.id = a.issue_id)"
PG_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION feedback_assignment_tally_inserted() RETURNS trigger AS $$
BEGIN
    {TALLY} SELECT a.department_id, {CHANNEL_OF_A}, a.status, count(*) FROM tally_new a GROUP BY 1, 2, 3;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION feedback_assignment_tally_deleted() RETURNS trigger AS $$
BEGIN
    {TALLY} SELECT a.department_id, {CHANNEL_OF_A}, a.status, -count(*) FROM tally_old a GROUP BY 1, 2, 3;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION feedback_assignment_tally_changed() RETURNS trigger AS $$
BEGIN
    {TALLY} SELECT OLD.department_id, channel, OLD.status, -1 FROM feedback_issue WHERE id = OLD.issue_id
        UNION ALL SELECT NEW.department_id, channel, NEW.status, 1 FROM feedback_issue WHERE id = NEW.issue_id;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION feedback_assignment_tally_issue_moved() RETURNS trigger AS $$
BEGIN
    {TALLY} SELECT department_id, OLD.channel, status, -count(*) FROM feedback_assignment
        WHERE issue_id = NEW.id GROUP BY department_id, status
        UNION ALL SELECT department_id, NEW.channel, status, count(*) FROM feedback_assignment
        WHERE issue_id = NEW.id GROUP BY department_id, status;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION feedback_assignment_tally_truncated() RETURNS trigger AS $$
BEGIN
    DELETE FROM feedback_assignmenttally;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
"""
CHANGED = "OLD.status {ne} NEW.status OR OLD.department_id {ne} NEW.department_id OR OLD.issue_id {ne} NEW.issue_id"
MOVED = "OLD.channel {ne} NEW.channel"
PG_TRIGGERS = [
    PG_FUNCTIONS,
    "CREATE TRIGGER feedback_assignment_tally_insert AFTER INSERT ON feedback_assignment"
    " REFERENCING NEW TABLE AS tally_new FOR EACH STATEMENT EXECUTE FUNCTION feedback_assignment_tally_inserted()",
    "CREATE TRIGGER feedback_assignment_tally_delete AFTER DELETE ON feedback_assignment"
    " REFERENCING OLD TABLE AS tally_old FOR EACH STATEMENT EXECUTE FUNCTION feedback_assignment_tally_deleted()",
    "CREATE TRIGGER feedback_assignment_tally_update AFTER UPDATE OF status, department_id, issue_id"
    f" ON feedback_assignment FOR EACH ROW WHEN ({CHANGED.format(ne='IS DISTINCT FROM')})"
    " EXECUTE FUNCTION feedback_assignment_tally_changed()",
    "CREATE TRIGGER feedback_assignment_tally_issue_update AFTER UPDATE OF channel ON feedback_issue FOR EACH ROW"
    f" WHEN ({MOVED.format(ne='IS DISTINCT FROM')}) EXECUTE FUNCTION feedback_assignment_tally_issue_moved()",
    "CREATE TRIGGER feedback_assignment_tally_truncate AFTER TRUNCATE ON feedback_assignment"
    " FOR EACH STATEMENT EXECUTE FUNCTION feedback_assignment_tally_truncated()",
]
PG_DROP = [
    *(f"DROP TRIGGER IF EXISTS feedback_assignment_tally_{event} ON feedback_assignment"
      for event in ("insert", "delete", "update", "truncate")),
    "DROP TRIGGER IF EXISTS feedback_assignment_tally_issue_update ON feedback_issue",
    *(f"DROP FUNCTION IF EXISTS feedback_assignment_tally_{done}()"
      for done in ("inserted", "deleted", "changed", "issue_moved", "truncated")),
]
SQLITE_ROW = "{tally} SELECT {r}.department_id, channel, {r}.status, {n} FROM feedback_issue WHERE id = {r}.issue_id;"
SQLITE_MOVED = (
    "{tally} SELECT department_id, {r}.channel, status, {sign}count(*) FROM feedback_assignment"
    " WHERE issue_id = NEW.id GROUP BY department_id, status;"
)
SQLITE_TRIGGERS = [
    "CREATE TRIGGER feedback_assignment_tally_insert AFTER INSERT ON feedback_assignment FOR EACH ROW"
    f" BEGIN {SQLITE_ROW.format(tally=TALLY, r='NEW', n=1)} END",
    "CREATE TRIGGER feedback_assignment_tally_delete AFTER DELETE ON feedback_assignment FOR EACH ROW"
    f" BEGIN {SQLITE_ROW.format(tally=TALLY, r='OLD', n=-1)} END",
    "CREATE TRIGGER feedback_assignment_tally_update AFTER UPDATE OF status, department_id, issue_id"
    f" ON feedback_assignment FOR EACH ROW WHEN {CHANGED.format(ne='IS NOT')} BEGIN"
    f" {SQLITE_ROW.format(tally=TALLY, r='OLD', n=-1)} {SQLITE_ROW.format(tally=TALLY, r='NEW', n=1)} END",
    "CREATE TRIGGER feedback_assignment_tally_issue_update AFTER UPDATE OF channel ON feedback_issue FOR EACH ROW"
    f" WHEN {MOVED.format(ne='IS NOT')} BEGIN {SQLITE_MOVED.format(tally=TALLY, r='OLD', sign='-')}"
    f" {SQLITE_MOVED.format(tally=TALLY, r='NEW', sign='')} END",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS feedback_assignment_tally_{event}" for event in ("insert", "delete", "update", "issue_update")
]
SEED = (
    f"{TALLY} SELECT a.department_id, i.channel, a.status, count(*)"
    " FROM feedback_assignment a JOIN feedback_issue i ON i.id = a.issue_id GROUP BY 1, 2, 3"
)


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
        ("feedback", "0800_issue_tally"),
    ]

    operations = [
        migrations.CreateModel(
            name="AssignmentTally",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("channel", models.CharField(max_length=16)),
                ("status", models.CharField(max_length=16)),
                ("n", models.IntegerField()),
                (
                    "department",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=models.deletion.DO_NOTHING,
                        related_name="+",
                        to="feedback.department",
                    ),
                ),
            ],
            options={
                "verbose_name": "交办计数",
                "verbose_name_plural": "交办计数",
                "indexes": [
                    models.Index(fields=["department", "channel", "status", "n"], name="assignment_tally_key_idx")
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
