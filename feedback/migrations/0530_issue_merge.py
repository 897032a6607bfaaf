"""并单 (issue 19): Issue.merged_into and merged_at.

On SQLite, adding a foreign key rebuilds feedback_issue (copy, drop, rename), which the statistics
triggers of migration 0008 do not survive: those on feedback_issue are dropped with it, and those of
feedback_assignment and feedback_historyentry name it in their bodies, so the rename fails. They are
dropped first and created again after (PostgreSQL alters the table in place: nothing to do there)."""

import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

_rollup = importlib.import_module("feedback.migrations.0008_stats_rollup")


def drop_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        _rollup.drop_triggers(apps, schema_editor)


def create_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        _rollup.create_triggers(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0510_notification_email_retry"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_sqlite_triggers, create_sqlite_triggers),
        migrations.AddField(
            model_name="issue",
            name="merged_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="并单时间"),
        ),
        migrations.AddField(
            model_name="issue",
            name="merged_into",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="merged_issues",
                to="feedback.issue",
                verbose_name="并入诉求",
            ),
        ),
        migrations.AddConstraint(
            model_name="issue",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("merged_into__isnull", True),
                    models.Q(("merged_into", models.F("pk")), _negated=True),
                    _connector="OR",
                ),
                name="issue_not_merged_into_itself",
            ),
        ),
        migrations.AddConstraint(
            model_name="issue",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("merged_at__isnull", True), ("merged_into__isnull", True)),
                    models.Q(("merged_at__isnull", False), ("merged_into__isnull", False)),
                    _connector="OR",
                ),
                name="merged_issue_has_merged_at",
            ),
        ),
        migrations.RunPython(create_sqlite_triggers, drop_sqlite_triggers),
    ]
