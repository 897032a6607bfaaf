"""The requesters of each month and day, per channel, as exact sets (issue 16, docs/decisions/0680).

A new table beside the rollup of migration 0008, summed again with it by ``feedback.figures.rollup``:
the triggers already mark a key as having had its requesters change (``requesters_changed``) when an
issue comes, goes, or changes key or requester, so none changes here. The months of the issues
already stored are marked, so the summary counts them live (exact, as slow as before) until
``manage.py rebuild_stats_rollup`` or the refresh has summed them.
"""

from django.db import migrations, models

MARK_EXISTING = """
INSERT INTO feedback_statsrollupdirtykey (received_on, channel, category_id, requesters_changed)
SELECT DISTINCT i.received_on, i.channel, i.category_id, %s FROM feedback_issue i WHERE NOT EXISTS (
    SELECT 1 FROM feedback_statsrollupdirtykey d WHERE d.received_on = i.received_on
    AND d.channel = i.channel AND d.category_id = i.category_id)"""


def mark_existing(apps, schema_editor):
    schema_editor.execute(MARK_EXISTING, [True])
    schema_editor.execute("UPDATE feedback_statsrollupdirtykey SET requesters_changed = %s", [True])


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0560_rollup_marks_left_to_bulk_import"),
    ]

    operations = [
        migrations.CreateModel(
            name="StatsRequesterSet",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("span", models.CharField(choices=[("month", "月"), ("day", "日")], max_length=5)),
                ("first", models.DateField()),
                ("channel", models.CharField(max_length=16)),
                ("requesters", models.PositiveIntegerField(default=0)),
                ("bits", models.BinaryField()),
            ],
            options={
                "verbose_name": "统计汇总（诉求人集合）",
                "verbose_name_plural": "统计汇总（诉求人集合）",
                "constraints": [
                    models.UniqueConstraint(fields=("span", "first", "channel"), name="one_stats_requester_set_per_key")
                ],
            },
        ),
        migrations.RunPython(mark_existing, migrations.RunPython.noop),
    ]
