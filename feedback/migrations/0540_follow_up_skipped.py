"""未能回访 (docs/decisions/0600): the reason the office records when a follow-up cannot be done,
and its count in the statistics rollup.

The rollup's update trigger on feedback_issue (migration 0008) marks a key when a column that moves a
figure changes; ``follow_up_skipped`` now does, so the trigger is created again with it. No issue has a
reason yet, so the new rollup column's zeros are exact and nothing needs summing again.
"""

import importlib

from django.conf import settings
from django.db import migrations, models

_rollup = importlib.import_module("feedback.migrations.0008_stats_rollup")

ISSUE_CHANGED = (
    "OLD.received_on {ne} NEW.received_on OR OLD.channel {ne} NEW.channel"
    " OR OLD.category_id {ne} NEW.category_id OR OLD.closed_on {ne} NEW.closed_on"
    " OR OLD.satisfaction {ne} NEW.satisfaction OR OLD.requester_id {ne} NEW.requester_id"
)
WITH_SKIPPED = ISSUE_CHANGED + " OR OLD.follow_up_skipped {ne} NEW.follow_up_skipped"
PG_TRIGGER = (
    "CREATE TRIGGER feedback_issue_stats_update AFTER UPDATE ON feedback_issue FOR EACH ROW"
    " WHEN ({when}) EXECUTE FUNCTION feedback_stats_mark_issue()"
)


def _sqlite_trigger(when):
    # Migration 0008's feedback_issue_stats_update for SQLite, with another WHEN.
    from importlib import import_module

    rollup = import_module("feedback.migrations.0008_stats_rollup")
    return rollup._sqlite_trigger(
        "feedback_issue_stats_update", "UPDATE", "feedback_issue", rollup.SQLITE_ISSUE, f"WHEN {when}"
    )


def _recreate(schema_editor, condition):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS feedback_issue_stats_update ON feedback_issue")
        schema_editor.execute(PG_TRIGGER.format(when=condition.format(ne="IS DISTINCT FROM")))
    else:
        schema_editor.execute("DROP TRIGGER IF EXISTS feedback_issue_stats_update")
        schema_editor.execute(_sqlite_trigger(condition.format(ne="IS NOT")))


def drop_sqlite_triggers(apps, schema_editor):
    # SQLite rebuilds feedback_issue to add a column (copy, drop, rename): migration 0008's triggers
    # do not survive it, and those naming feedback_issue would make the rename fail (as in 0530).
    if schema_editor.connection.vendor == "sqlite":
        _rollup.drop_triggers(apps, schema_editor)


def create_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        _rollup.create_triggers(apps, schema_editor)


def mark_skipped_changes(apps, schema_editor):
    _recreate(schema_editor, WITH_SKIPPED)


def unmark_skipped_changes(apps, schema_editor):
    _recreate(schema_editor, ISSUE_CHANGED)


class Migration(migrations.Migration):

    dependencies = [
        ('feedback', '0531_issue_text_trgm'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_sqlite_triggers, create_sqlite_triggers),
        migrations.AddField(
            model_name='issue',
            name='follow_up_skip_note',
            field=models.TextField(blank=True, db_default='', default='', verbose_name='未能回访说明'),
        ),
        migrations.AddField(
            model_name='issue',
            name='follow_up_skipped',
            field=models.CharField(blank=True, choices=[('unreachable', '多次联系不上'), ('refused', '诉求人拒绝回访'), ('moved_away', '诉求人已离开本地'), ('other', '其他')], db_default='', default='', max_length=16, verbose_name='未能回访原因'),
        ),
        migrations.AddField(
            model_name='statsdepartmentmonthrollup',
            name='follow_up_skipped',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='statsdepartmentrollup',
            name='follow_up_skipped',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='statsmonthrollup',
            name='follow_up_skipped',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='statsrollup',
            name='follow_up_skipped',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddConstraint(
            model_name='issue',
            constraint=models.CheckConstraint(condition=models.Q(('follow_up_skipped', ''), ('satisfaction__in', ['', 'unreachable']), _connector='OR'), name='follow_up_skipped_not_rated'),
        ),
        migrations.AddConstraint(
            model_name='issue',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('follow_up_skipped', 'other'), _negated=True), models.Q(('follow_up_skip_note', ''), _negated=True), _connector='OR'), name='follow_up_skip_other_has_note'),
        ),
        migrations.RunPython(create_sqlite_triggers, drop_sqlite_triggers),
        migrations.RunPython(mark_skipped_changes, unmark_skipped_changes),
    ]
