"""The issue's received date on each assignment, and the database's promise that an assignment falls
due after it (docs/decisions/0690).

The dashboard's overdue preview walks ``assignment_due_idx`` in due-date order from the period's first
day: ``due_date > received_from`` holds for every assignment of an issue received in the period only
because ``due_date > received_on``. A CHECK constraint sees one row, so the row carries its issue's
``received_on``, copied by the database itself (a trigger on insert, and on the issue when its date is
corrected), never by the code that writes the row: no write path, bulk load or raw INSERT can leave it
different from the issue's.

PostgreSQL: the column is NOT NULL (the BEFORE trigger fills it before that is checked) and the CHECK is
a real table constraint. SQLite cannot add a CHECK without rebuilding the table (which would drop the
rollup triggers of 0008); there AFTER triggers fill the copy and refuse a bad row the same way. The
model state has the column nullable (SQLite fills it just after the insert) and the constraint declared,
so a later rebuild of the table on SQLite carries it.
"""

from django.db import migrations, models

PG_FORWARD = [
    "ALTER TABLE feedback_assignment ADD COLUMN received_on date NULL",
    """
    CREATE FUNCTION feedback_assignment_received_on() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        -- Always the issue's date, whatever the INSERT or UPDATE said.
        SELECT received_on INTO NEW.received_on FROM feedback_issue WHERE id = NEW.issue_id;
        RETURN NEW;
    END $$""",
    "CREATE TRIGGER feedback_assignment_received_on BEFORE INSERT OR UPDATE OF issue_id, received_on"
    " ON feedback_assignment FOR EACH ROW EXECUTE FUNCTION feedback_assignment_received_on()",
    """
    CREATE FUNCTION feedback_issue_received_on() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE feedback_assignment SET received_on = NEW.received_on WHERE issue_id = NEW.id;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER feedback_issue_received_on AFTER UPDATE OF received_on ON feedback_issue FOR EACH ROW"
    " WHEN (OLD.received_on IS DISTINCT FROM NEW.received_on) EXECUTE FUNCTION feedback_issue_received_on()",
    "UPDATE feedback_assignment a SET received_on = i.received_on FROM feedback_issue i WHERE i.id = a.issue_id",
    "ALTER TABLE feedback_assignment ALTER COLUMN received_on SET NOT NULL",
    "ALTER TABLE feedback_assignment ADD CONSTRAINT due_after_received CHECK (due_date > received_on)",
    # The overdue preview's walk (feedback.views.dashboard.overdue_preview): due-date order, id to break ties,
    # and the columns it filters on, so the walk reads the index alone (an index-only scan), not one
    # scattered heap page per assignment passed over.
    "CREATE INDEX assignment_due_idx ON feedback_assignment (due_date, id)"
    " INCLUDE (issue_id, received_on, replied_on, status)",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS assignment_due_idx",
    "DROP TRIGGER IF EXISTS feedback_issue_received_on ON feedback_issue",
    "DROP FUNCTION IF EXISTS feedback_issue_received_on()",
    "DROP TRIGGER IF EXISTS feedback_assignment_received_on ON feedback_assignment",
    "DROP FUNCTION IF EXISTS feedback_assignment_received_on()",
    "ALTER TABLE feedback_assignment DROP COLUMN received_on",  # drops the CHECK with it
]

# RAISE(ABORT) is reported as a constraint failure (IntegrityError), as PostgreSQL's CHECK is.
SQLITE_REFUSE = (
    "SELECT RAISE(ABORT, 'CHECK constraint failed: due_after_received') WHERE NEW.due_date <="
    " (SELECT received_on FROM feedback_issue WHERE id = NEW.issue_id);"
)
SQLITE_FORWARD = [
    "ALTER TABLE feedback_assignment ADD COLUMN received_on date NULL",
    "CREATE TRIGGER feedback_assignment_received_on_insert AFTER INSERT ON feedback_assignment BEGIN "
    + SQLITE_REFUSE
    + " UPDATE feedback_assignment SET received_on = (SELECT received_on FROM feedback_issue"
    " WHERE id = NEW.issue_id) WHERE id = NEW.id; END",
    "CREATE TRIGGER feedback_assignment_received_on_update AFTER UPDATE OF issue_id, due_date, received_on"
    " ON feedback_assignment BEGIN "
    + SQLITE_REFUSE
    + " UPDATE feedback_assignment SET received_on = (SELECT received_on FROM feedback_issue"
    " WHERE id = NEW.issue_id) WHERE id = NEW.id AND received_on IS NOT (SELECT received_on FROM"
    " feedback_issue WHERE id = NEW.issue_id); END",
    "CREATE TRIGGER feedback_issue_received_on AFTER UPDATE OF received_on ON feedback_issue"
    " WHEN OLD.received_on IS NOT NEW.received_on BEGIN"
    " UPDATE feedback_assignment SET received_on = NEW.received_on WHERE issue_id = NEW.id; END",
    "UPDATE feedback_assignment SET received_on = (SELECT received_on FROM feedback_issue"
    " WHERE id = feedback_assignment.issue_id)",
    "CREATE INDEX assignment_due_idx ON feedback_assignment (due_date, id)",
]
SQLITE_BACKWARD = [
    "DROP INDEX IF EXISTS assignment_due_idx",
    "DROP TRIGGER IF EXISTS feedback_issue_received_on",
    "DROP TRIGGER IF EXISTS feedback_assignment_received_on_update",
    "DROP TRIGGER IF EXISTS feedback_assignment_received_on_insert",
    "ALTER TABLE feedback_assignment DROP COLUMN received_on",
]


def forward(apps, schema_editor):
    for sql in PG_FORWARD if schema_editor.connection.vendor == "postgresql" else SQLITE_FORWARD:
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    for sql in PG_BACKWARD if schema_editor.connection.vendor == "postgresql" else SQLITE_BACKWARD:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0600_stats_requester_sets"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forward, backward)],
            state_operations=[
                migrations.AddField(
                    model_name="assignment",
                    name="received_on",
                    field=models.DateField(
                        "诉求受理日期",
                        null=True,
                        editable=False,
                        help_text="诉求的受理日期，由数据库从诉求复制，供按期限顺序查找超期交办",
                    ),
                ),
                migrations.AddIndex(
                    model_name="assignment",
                    index=models.Index(
                        fields=["due_date", "id"],
                        include=["issue", "received_on", "replied_on", "status"],
                        name="assignment_due_idx",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="assignment",
                    constraint=models.CheckConstraint(
                        condition=models.Q(due_date__gt=models.F("received_on")), name="due_after_received"
                    ),
                ),
            ],
        ),
    ]
