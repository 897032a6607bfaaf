"""The statistics rollup (feedback.figures.rollup, docs/architecture.md "Speed").

The tables: the figures per (day received, channel, category) and per month, the same per
department, the open assignments per key and due date, and the keys still to sum again. Triggers
on the issue, assignment and history tables add a key to the last one on every write that can move
a figure, whoever makes it (the services, the admin, a raw UPDATE): the statistics read such keys
live until ``feedback.figures.rollup.refresh`` sums them again. The keys of the issues already stored are marked here,
so the figures stay exact (and as slow as before) until ``manage.py rebuild_stats_rollup`` or the
nightly rebuild has run.
"""

import django.db.models.deletion
from django.db import migrations, models

# What moves a figure (feedback.figures.statistics): the issue's key, closure and rating; an assignment's
# department, whether it is withdrawn or open (the rollup reads open ones live), its due dates and
# its reply date; a re-handling. And what changes a month's distinct requesters: an issue coming,
# going, changing key or requester.
ISSUE_CHANGED = ("OLD.received_on {ne} NEW.received_on OR OLD.channel {ne} NEW.channel"
                 " OR OLD.category_id {ne} NEW.category_id OR OLD.closed_on {ne} NEW.closed_on"
                 " OR OLD.satisfaction {ne} NEW.satisfaction OR OLD.requester_id {ne} NEW.requester_id")
ISSUE_MOVED = ("OLD.received_on {ne} NEW.received_on OR OLD.channel {ne} NEW.channel"
               " OR OLD.category_id {ne} NEW.category_id OR OLD.requester_id {ne} NEW.requester_id")
OPEN = "('pending', 'acknowledged', 'submitted', 'returned')"
ASSIGNMENT_CHANGED = ("OLD.issue_id {ne} NEW.issue_id OR OLD.department_id {ne} NEW.department_id"
                      " OR (OLD.status = 'withdrawn') {ne} (NEW.status = 'withdrawn')"
                      f" OR (OLD.status IN {OPEN}) {{ne}} (NEW.status IN {OPEN})"
                      " OR OLD.due_date {ne} NEW.due_date OR OLD.original_due_date {ne} NEW.original_due_date"
                      " OR OLD.replied_on {ne} NEW.replied_on")
REHANDLED = "NEW.action IN ('reopen', 'return_reply')"

# PostgreSQL: the conflict UPDATE (not DO NOTHING) takes the key's row lock, so a refresh running
# elsewhere cannot claim the key while this transaction's change is uncommitted (feedback.figures.rollup).
PG_MARK = """
INSERT INTO feedback_statsrollupdirtykey AS k (received_on, channel, category_id, requesters_changed) {rows}
ON CONFLICT (received_on, channel, category_id)
DO UPDATE SET requesters_changed = k.requesters_changed OR EXCLUDED.requesters_changed;"""
PG_ISSUE_ROW = "VALUES ({r}.received_on, {r}.channel, {r}.category_id, moved)"
PG_ISSUE_OF_ROW = "SELECT received_on, channel, category_id, false FROM feedback_issue WHERE id = {r}.issue_id"
PG_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION feedback_stats_mark_issue() RETURNS trigger AS $$
DECLARE
    moved boolean := TG_OP <> 'UPDATE' OR {ISSUE_MOVED.format(ne="IS DISTINCT FROM")};
BEGIN
    IF TG_OP <> 'INSERT' THEN {PG_MARK.format(rows=PG_ISSUE_ROW.format(r="OLD"))}
    END IF;
    IF TG_OP <> 'DELETE' THEN {PG_MARK.format(rows=PG_ISSUE_ROW.format(r="NEW"))}
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION feedback_stats_mark_issue_of_row() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN {PG_MARK.format(rows=PG_ISSUE_OF_ROW.format(r="OLD"))}
    END IF;
    IF TG_OP <> 'DELETE' THEN {PG_MARK.format(rows=PG_ISSUE_OF_ROW.format(r="NEW"))}
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

PG_TRIGGERS = [
    PG_FUNCTIONS,
    "CREATE TRIGGER feedback_issue_stats AFTER INSERT OR DELETE ON feedback_issue"
    " FOR EACH ROW EXECUTE FUNCTION feedback_stats_mark_issue()",
    "CREATE TRIGGER feedback_issue_stats_update AFTER UPDATE ON feedback_issue FOR EACH ROW"
    f" WHEN ({ISSUE_CHANGED.format(ne='IS DISTINCT FROM')}) EXECUTE FUNCTION feedback_stats_mark_issue()",
    "CREATE TRIGGER feedback_assignment_stats AFTER INSERT OR DELETE ON feedback_assignment"
    " FOR EACH ROW EXECUTE FUNCTION feedback_stats_mark_issue_of_row()",
    "CREATE TRIGGER feedback_assignment_stats_update AFTER UPDATE ON feedback_assignment FOR EACH ROW"
    f" WHEN ({ASSIGNMENT_CHANGED.format(ne='IS DISTINCT FROM')})"
    " EXECUTE FUNCTION feedback_stats_mark_issue_of_row()",
    "CREATE TRIGGER feedback_history_stats AFTER INSERT ON feedback_historyentry FOR EACH ROW"
    f" WHEN ({REHANDLED}) EXECUTE FUNCTION feedback_stats_mark_issue_of_row()",
]
PG_DROP = [
    "DROP TRIGGER IF EXISTS feedback_issue_stats ON feedback_issue",
    "DROP TRIGGER IF EXISTS feedback_issue_stats_update ON feedback_issue",
    "DROP TRIGGER IF EXISTS feedback_assignment_stats ON feedback_assignment",
    "DROP TRIGGER IF EXISTS feedback_assignment_stats_update ON feedback_assignment",
    "DROP TRIGGER IF EXISTS feedback_history_stats ON feedback_historyentry",
    "DROP FUNCTION IF EXISTS feedback_stats_mark_issue()",
    "DROP FUNCTION IF EXISTS feedback_stats_mark_issue_of_row()",
]

# SQLite has one writer at a time: insert the key if it is not marked yet, then raise its flag.
SQLITE_MARK = """
INSERT INTO feedback_statsrollupdirtykey (received_on, channel, category_id, requesters_changed)
SELECT k.received_on, k.channel, k.category_id, {moved} FROM ({rows}) AS k WHERE NOT EXISTS (
    SELECT 1 FROM feedback_statsrollupdirtykey d WHERE d.received_on = k.received_on
    AND d.channel = k.channel AND d.category_id = k.category_id);"""
SQLITE_RAISE = """
UPDATE feedback_statsrollupdirtykey SET requesters_changed = 1 WHERE ({moved})
    AND received_on = {r}.received_on AND channel = {r}.channel AND category_id = {r}.category_id;"""
SQLITE_ISSUE = "SELECT {r}.received_on AS received_on, {r}.channel AS channel, {r}.category_id AS category_id"
SQLITE_ISSUE_OF_ROW = "SELECT received_on, channel, category_id FROM feedback_issue WHERE id = {r}.issue_id"


def _sqlite_trigger(name: str, event: str, table: str, rows: str, when: str = "") -> str:
    rows_of = ("OLD",) if event == "DELETE" else ("NEW",) if event == "INSERT" else ("OLD", "NEW")
    if rows is SQLITE_ISSUE:
        moved = "1" if event != "UPDATE" else f"({ISSUE_MOVED.format(ne='IS NOT')})"
        body = "".join(SQLITE_MARK.format(rows=rows.format(r=r), moved=moved) + SQLITE_RAISE.format(moved=moved, r=r)
                       for r in rows_of)
    else:
        body = "".join(SQLITE_MARK.format(rows=rows.format(r=r), moved="0") for r in rows_of)
    return f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW {when} BEGIN {body} END"


SQLITE_TRIGGERS = [
    _sqlite_trigger("feedback_issue_stats_insert", "INSERT", "feedback_issue", SQLITE_ISSUE),
    _sqlite_trigger("feedback_issue_stats_delete", "DELETE", "feedback_issue", SQLITE_ISSUE),
    _sqlite_trigger("feedback_issue_stats_update", "UPDATE", "feedback_issue", SQLITE_ISSUE,
                    f"WHEN {ISSUE_CHANGED.format(ne='IS NOT')}"),
    _sqlite_trigger("feedback_assignment_stats_insert", "INSERT", "feedback_assignment", SQLITE_ISSUE_OF_ROW),
    _sqlite_trigger("feedback_assignment_stats_delete", "DELETE", "feedback_assignment", SQLITE_ISSUE_OF_ROW),
    _sqlite_trigger("feedback_assignment_stats_update", "UPDATE", "feedback_assignment", SQLITE_ISSUE_OF_ROW,
                    f"WHEN {ASSIGNMENT_CHANGED.format(ne='IS NOT')}"),
    _sqlite_trigger("feedback_history_stats", "INSERT", "feedback_historyentry", SQLITE_ISSUE_OF_ROW,
                    f"WHEN {REHANDLED}"),
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {name}" for name in (
    "feedback_issue_stats_insert", "feedback_issue_stats_delete", "feedback_issue_stats_update",
    "feedback_assignment_stats_insert", "feedback_assignment_stats_delete", "feedback_assignment_stats_update",
    "feedback_history_stats")]

MARK_EXISTING = """
INSERT INTO feedback_statsrollupdirtykey (received_on, channel, category_id, requesters_changed)
SELECT DISTINCT received_on, channel, category_id, %s FROM feedback_issue"""


def create_triggers(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for statement in PG_TRIGGERS if postgres else SQLITE_TRIGGERS:
        schema_editor.execute(statement)
    schema_editor.execute(MARK_EXISTING, [True])


def drop_triggers(apps, schema_editor):
    for statement in PG_DROP if schema_editor.connection.vendor == "postgresql" else SQLITE_DROP:
        schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ("feedback", "0007_issue_accused_department"),
    ]

    operations = [
        migrations.CreateModel(
            name='StatsDepartmentMonthRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('issues', models.PositiveIntegerField(default=0)),
                ('closed', models.PositiveIntegerField(default=0)),
                ('followed_up', models.PositiveIntegerField(default=0)),
                ('rated', models.PositiveIntegerField(default=0)),
                ('satisfied', models.PositiveIntegerField(default=0)),
                ('dissatisfied', models.PositiveIntegerField(default=0)),
                ('unreachable', models.PositiveIntegerField(default=0)),
                ('rehandled', models.PositiveIntegerField(default=0)),
                ('assigned_issues', models.PositiveIntegerField(default=0)),
                ('replied', models.PositiveIntegerField(default=0)),
                ('assignments', models.PositiveIntegerField(default=0)),
                ('assignments_replied', models.PositiveIntegerField(default=0)),
                ('on_time', models.PositiveIntegerField(default=0)),
                ('late', models.PositiveIntegerField(default=0)),
                ('overdue_open', models.PositiveIntegerField(default=0)),
                ('on_time_original', models.PositiveIntegerField(default=0)),
                ('late_original', models.PositiveIntegerField(default=0)),
                ('overdue_open_original', models.PositiveIntegerField(default=0)),
                ('last_event_on', models.DateField(null=True)),
                ('last_open_due_on', models.DateField(null=True)),
                ('channel', models.CharField(max_length=16)),
                ('own_assignments', models.PositiveIntegerField(default=0)),
                ('own_assignments_replied', models.PositiveIntegerField(default=0)),
                ('own_on_time', models.PositiveIntegerField(default=0)),
                ('own_late', models.PositiveIntegerField(default=0)),
                ('own_overdue_open', models.PositiveIntegerField(default=0)),
                ('own_on_time_original', models.PositiveIntegerField(default=0)),
                ('own_late_original', models.PositiveIntegerField(default=0)),
                ('own_overdue_open_original', models.PositiveIntegerField(default=0)),
                ('month', models.DateField()),
            ],
            options={
                'verbose_name': '统计汇总（按月、单位）',
                'verbose_name_plural': '统计汇总（按月、单位）',
            },
        ),
        migrations.CreateModel(
            name='StatsDepartmentRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('issues', models.PositiveIntegerField(default=0)),
                ('closed', models.PositiveIntegerField(default=0)),
                ('followed_up', models.PositiveIntegerField(default=0)),
                ('rated', models.PositiveIntegerField(default=0)),
                ('satisfied', models.PositiveIntegerField(default=0)),
                ('dissatisfied', models.PositiveIntegerField(default=0)),
                ('unreachable', models.PositiveIntegerField(default=0)),
                ('rehandled', models.PositiveIntegerField(default=0)),
                ('assigned_issues', models.PositiveIntegerField(default=0)),
                ('replied', models.PositiveIntegerField(default=0)),
                ('assignments', models.PositiveIntegerField(default=0)),
                ('assignments_replied', models.PositiveIntegerField(default=0)),
                ('on_time', models.PositiveIntegerField(default=0)),
                ('late', models.PositiveIntegerField(default=0)),
                ('overdue_open', models.PositiveIntegerField(default=0)),
                ('on_time_original', models.PositiveIntegerField(default=0)),
                ('late_original', models.PositiveIntegerField(default=0)),
                ('overdue_open_original', models.PositiveIntegerField(default=0)),
                ('last_event_on', models.DateField(null=True)),
                ('last_open_due_on', models.DateField(null=True)),
                ('channel', models.CharField(max_length=16)),
                ('own_assignments', models.PositiveIntegerField(default=0)),
                ('own_assignments_replied', models.PositiveIntegerField(default=0)),
                ('own_on_time', models.PositiveIntegerField(default=0)),
                ('own_late', models.PositiveIntegerField(default=0)),
                ('own_overdue_open', models.PositiveIntegerField(default=0)),
                ('own_on_time_original', models.PositiveIntegerField(default=0)),
                ('own_late_original', models.PositiveIntegerField(default=0)),
                ('own_overdue_open_original', models.PositiveIntegerField(default=0)),
                ('received_on', models.DateField()),
            ],
            options={
                'verbose_name': '统计汇总（按日、单位）',
                'verbose_name_plural': '统计汇总（按日、单位）',
            },
        ),
        migrations.CreateModel(
            name='StatsRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('issues', models.PositiveIntegerField(default=0)),
                ('closed', models.PositiveIntegerField(default=0)),
                ('followed_up', models.PositiveIntegerField(default=0)),
                ('rated', models.PositiveIntegerField(default=0)),
                ('satisfied', models.PositiveIntegerField(default=0)),
                ('dissatisfied', models.PositiveIntegerField(default=0)),
                ('unreachable', models.PositiveIntegerField(default=0)),
                ('rehandled', models.PositiveIntegerField(default=0)),
                ('assigned_issues', models.PositiveIntegerField(default=0)),
                ('replied', models.PositiveIntegerField(default=0)),
                ('assignments', models.PositiveIntegerField(default=0)),
                ('assignments_replied', models.PositiveIntegerField(default=0)),
                ('on_time', models.PositiveIntegerField(default=0)),
                ('late', models.PositiveIntegerField(default=0)),
                ('overdue_open', models.PositiveIntegerField(default=0)),
                ('on_time_original', models.PositiveIntegerField(default=0)),
                ('late_original', models.PositiveIntegerField(default=0)),
                ('overdue_open_original', models.PositiveIntegerField(default=0)),
                ('last_event_on', models.DateField(null=True)),
                ('last_open_due_on', models.DateField(null=True)),
                ('received_on', models.DateField()),
                ('channel', models.CharField(max_length=16)),
            ],
            options={
                'verbose_name': '统计汇总（按日）',
                'verbose_name_plural': '统计汇总（按日）',
            },
        ),
        migrations.CreateModel(
            name='StatsRollupDirtyKey',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('received_on', models.DateField()),
                ('channel', models.CharField(max_length=16)),
                ('category_id', models.IntegerField()),
                ('requesters_changed', models.BooleanField(db_default=False, default=False)),
            ],
            options={
                'verbose_name': '待重算的统计汇总',
                'verbose_name_plural': '待重算的统计汇总',
            },
        ),
        migrations.AddIndex(
            model_name='issue',
            index=models.Index(fields=['received_on', 'channel', 'category', 'requester'], name='issue_stats_requester_idx'),
        ),
        migrations.AddIndex(
            model_name='issue',
            index=models.Index(fields=['requester', 'received_on', 'channel', 'category'], name='issue_requester_received_idx'),
        ),
        migrations.AddField(
            model_name='statsdepartmentmonthrollup',
            name='category',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='feedback.category'),
        ),
        migrations.AddField(
            model_name='statsdepartmentmonthrollup',
            name='department',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='feedback.department'),
        ),
        migrations.AddField(
            model_name='statsdepartmentrollup',
            name='category',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='feedback.category'),
        ),
        migrations.AddField(
            model_name='statsdepartmentrollup',
            name='department',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='feedback.department'),
        ),
        migrations.AddField(
            model_name='statsrollup',
            name='category',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='feedback.category'),
        ),
        migrations.AddConstraint(
            model_name='statsrollupdirtykey',
            constraint=models.UniqueConstraint(fields=('received_on', 'channel', 'category_id'), name='one_stats_dirty_key'),
        ),
        migrations.AddConstraint(
            model_name='statsdepartmentmonthrollup',
            constraint=models.UniqueConstraint(fields=('month', 'channel', 'category', 'department'), name='one_stats_department_month_per_key'),
        ),
        migrations.AddConstraint(
            model_name='statsdepartmentrollup',
            constraint=models.UniqueConstraint(fields=('received_on', 'channel', 'category', 'department'), name='one_stats_department_rollup_per_key'),
        ),
        migrations.AddConstraint(
            model_name='statsrollup',
            constraint=models.UniqueConstraint(fields=('received_on', 'channel', 'category'), name='one_stats_rollup_per_key'),
        ),
        migrations.CreateModel(
            name='StatsMonthRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('issues', models.PositiveIntegerField(default=0)),
                ('closed', models.PositiveIntegerField(default=0)),
                ('followed_up', models.PositiveIntegerField(default=0)),
                ('rated', models.PositiveIntegerField(default=0)),
                ('satisfied', models.PositiveIntegerField(default=0)),
                ('dissatisfied', models.PositiveIntegerField(default=0)),
                ('unreachable', models.PositiveIntegerField(default=0)),
                ('rehandled', models.PositiveIntegerField(default=0)),
                ('assigned_issues', models.PositiveIntegerField(default=0)),
                ('replied', models.PositiveIntegerField(default=0)),
                ('assignments', models.PositiveIntegerField(default=0)),
                ('assignments_replied', models.PositiveIntegerField(default=0)),
                ('on_time', models.PositiveIntegerField(default=0)),
                ('late', models.PositiveIntegerField(default=0)),
                ('overdue_open', models.PositiveIntegerField(default=0)),
                ('on_time_original', models.PositiveIntegerField(default=0)),
                ('late_original', models.PositiveIntegerField(default=0)),
                ('overdue_open_original', models.PositiveIntegerField(default=0)),
                ('last_event_on', models.DateField(null=True)),
                ('last_open_due_on', models.DateField(null=True)),
                ('month', models.DateField()),
                ('channel', models.CharField(max_length=16)),
            ],
            options={
                'verbose_name': '统计汇总（按月）',
                'verbose_name_plural': '统计汇总（按月）',
            },
        ),
        migrations.CreateModel(
            name='StatsOpenDue',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('received_on', models.DateField()),
                ('channel', models.CharField(max_length=16)),
                ('due_date', models.DateField()),
                ('original_due_date', models.DateField()),
                ('assignments', models.PositiveIntegerField(default=0)),
            ],
            options={
                'verbose_name': '统计汇总（未回复交办的期限）',
                'verbose_name_plural': '统计汇总（未回复交办的期限）',
            },
        ),
        migrations.AddIndex(
            model_name='statsrollup',
            index=models.Index(fields=['last_event_on'], name='stats_rollup_last_event_idx'),
        ),
        migrations.AddIndex(
            model_name='statsrollup',
            index=models.Index(fields=['last_open_due_on'], name='stats_rollup_last_open_due_idx'),
        ),
        migrations.AddField(
            model_name='statsmonthrollup',
            name='category',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='feedback.category'),
        ),
        migrations.AddField(
            model_name='statsopendue',
            name='category',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='feedback.category'),
        ),
        migrations.AddField(
            model_name='statsopendue',
            name='department',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='feedback.department'),
        ),
        migrations.AddConstraint(
            model_name='statsmonthrollup',
            constraint=models.UniqueConstraint(fields=('month', 'channel', 'category'), name='one_stats_month_rollup_per_key'),
        ),
        migrations.AddIndex(
            model_name='statsopendue',
            index=models.Index(fields=['due_date'], name='stats_open_due_idx'),
        ),
        migrations.AddConstraint(
            model_name='statsopendue',
            constraint=models.UniqueConstraint(fields=('received_on', 'channel', 'category', 'department', 'due_date', 'original_due_date'), name='one_stats_open_due_per_key'),
        ),
        migrations.CreateModel(
            name='StatsMonthRequesters',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField()),
                ('channel', models.CharField(blank=True, max_length=16)),
                ('category_id', models.IntegerField()),
                ('requesters', models.PositiveIntegerField(default=0)),
            ],
            options={
                'verbose_name': '统计汇总（按月诉求人数）',
                'verbose_name_plural': '统计汇总（按月诉求人数）',
                'constraints': [models.UniqueConstraint(fields=('month', 'channel', 'category_id'), name='one_stats_month_requesters_per_key')],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
