"""The state of the statistics' inputs as one number, for keeping figures (decision 0770).

``StatsGeneration.n`` goes up once per transaction that marks a rollup key (every write that can move
a figure does: the triggers of migration 0008, the ledger import's set-based marking) or changes a
department or a category (their names and kinds are read with the figures). On PostgreSQL the triggers
are deferred constraint triggers: the row is updated at commit, after everything else the transaction
locked, so two writers never wait on each other through it, and a transaction-local setting makes it
one update per transaction however many keys it marks; a statement-level trigger also sets a
transaction-local flag, so that the writing transaction, which sees its own changes before the number
moves, neither reads nor keeps figures. SQLite (one writer at a time) updates it at once on every such
row.
"""

import uuid

from django.db import migrations, models

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION feedback_stats_generation_marked() RETURNS trigger AS $$
BEGIN
    PERFORM set_config('feedback.stats_marked', 'on', true);
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION feedback_stats_generation_bump() RETURNS trigger AS $$
BEGIN
    IF current_setting('feedback.stats_bumped', true) IS DISTINCT FROM txid_current()::text THEN
        PERFORM set_config('feedback.stats_bumped', txid_current()::text, true);
        UPDATE feedback_statsgeneration SET n = n + 1;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
"""
WATCHED = (
    ("feedback_stats_generation_marked", "INSERT OR UPDATE", "feedback_statsrollupdirtykey"),
    ("feedback_stats_generation_department", "INSERT OR UPDATE OR DELETE", "feedback_department"),
    ("feedback_stats_generation_category", "INSERT OR UPDATE OR DELETE", "feedback_category"),
)


def create(apps, schema_editor):
    apps.get_model("feedback", "StatsGeneration").objects.create(token=uuid.uuid4().hex, n=0)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION)
        for name, events, table in WATCHED:
            schema_editor.execute(
                f"CREATE CONSTRAINT TRIGGER {name} AFTER {events} ON {table}"
                " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION feedback_stats_generation_bump()"
            )
            # Until it commits, the writing transaction itself reads its own changes under the old
            # state: this flag (transaction-local) tells feedback.figures.rollup.kept not to keep or
            # read kept figures in it.
            schema_editor.execute(
                f"CREATE TRIGGER {name}_here AFTER {events} ON {table}"
                " FOR EACH STATEMENT EXECUTE FUNCTION feedback_stats_generation_marked()"
            )
        return
    for name, events, table in WATCHED:
        for event in events.split(" OR "):
            schema_editor.execute(
                f"CREATE TRIGGER {name}_{event.lower()} AFTER {event} ON {table}"
                " BEGIN UPDATE feedback_statsgeneration SET n = n + 1; END"
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, _, table in WATCHED:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}_here ON {table}")
        schema_editor.execute("DROP FUNCTION IF EXISTS feedback_stats_generation_bump()")
        schema_editor.execute("DROP FUNCTION IF EXISTS feedback_stats_generation_marked()")
        return
    for name, events, _ in WATCHED:
        for event in events.split(" OR "):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}_{event.lower()}")


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0750_stats_channel_department_rollup"),
    ]

    operations = [
        migrations.CreateModel(
            name="StatsGeneration",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("token", models.CharField(max_length=32)),
                ("n", models.BigIntegerField(default=0)),
            ],
            options={"verbose_name": "统计输入版本", "verbose_name_plural": "统计输入版本"},
        ),
        migrations.RunPython(create, drop),
    ]
