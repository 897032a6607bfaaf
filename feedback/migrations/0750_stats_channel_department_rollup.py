"""The department rows summed over the categories, per (day | month, channel, department) (decision 0750).

Issue 16 goal 2: the leader's tables of departments and townships read ~27,000 per-category rows for a
year (~58,000 for five years) at a million issues; these tables hold the same sums in 14 times fewer
rows. ``feedback.figures.rollup`` rewrites them from the per-category rows whenever it sums a key or
rebuilds; here they are filled from the per-category rows as they stand (a key still marked is read
live until its refresh rewrites its day and month, as any marked key is), so no rebuild is needed.
"""

# The SQL below is built from this module's constants only.
# ruff: noqa: S608

import django.db.models.deletion
from django.db import migrations, models

COLUMNS = (
    "issues",
    "closed",
    "followed_up",
    "rated",
    "satisfied",
    "dissatisfied",
    "unreachable",
    "follow_up_skipped",
    "rehandled",
    "assigned_issues",
    "replied",
    "assignments",
    "assignments_replied",
    "on_time",
    "late",
    "overdue_open",
    "on_time_original",
    "late_original",
    "overdue_open_original",
    "own_assignments",
    "own_assignments_replied",
    "own_on_time",
    "own_late",
    "own_overdue_open",
    "own_on_time_original",
    "own_late_original",
    "own_overdue_open_original",
)


def summed(target: str, source: str, day: str) -> str:
    return (
        f"INSERT INTO {target} ({day}, channel, department_id, {', '.join(COLUMNS)})"
        f" SELECT {day}, channel, department_id, {', '.join(f'SUM({c})' for c in COLUMNS)} FROM {source}"
        f" GROUP BY {day}, channel, department_id"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0740_stats_requester_sets_per_year_and_all_channels"),
    ]

    operations = [
        migrations.CreateModel(
            name="StatsChannelDepartmentMonthRollup",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("issues", models.PositiveIntegerField(default=0)),
                ("closed", models.PositiveIntegerField(default=0)),
                ("followed_up", models.PositiveIntegerField(default=0)),
                ("rated", models.PositiveIntegerField(default=0)),
                ("satisfied", models.PositiveIntegerField(default=0)),
                ("dissatisfied", models.PositiveIntegerField(default=0)),
                ("unreachable", models.PositiveIntegerField(default=0)),
                ("follow_up_skipped", models.PositiveIntegerField(default=0)),
                ("rehandled", models.PositiveIntegerField(default=0)),
                ("assigned_issues", models.PositiveIntegerField(default=0)),
                ("replied", models.PositiveIntegerField(default=0)),
                ("assignments", models.PositiveIntegerField(default=0)),
                ("assignments_replied", models.PositiveIntegerField(default=0)),
                ("on_time", models.PositiveIntegerField(default=0)),
                ("late", models.PositiveIntegerField(default=0)),
                ("overdue_open", models.PositiveIntegerField(default=0)),
                ("on_time_original", models.PositiveIntegerField(default=0)),
                ("late_original", models.PositiveIntegerField(default=0)),
                ("overdue_open_original", models.PositiveIntegerField(default=0)),
                ("own_assignments", models.PositiveIntegerField(default=0)),
                ("own_assignments_replied", models.PositiveIntegerField(default=0)),
                ("own_on_time", models.PositiveIntegerField(default=0)),
                ("own_late", models.PositiveIntegerField(default=0)),
                ("own_overdue_open", models.PositiveIntegerField(default=0)),
                ("own_on_time_original", models.PositiveIntegerField(default=0)),
                ("own_late_original", models.PositiveIntegerField(default=0)),
                ("own_overdue_open_original", models.PositiveIntegerField(default=0)),
                ("channel", models.CharField(max_length=16)),
                ("month", models.DateField()),
                (
                    "department",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="feedback.department",
                    ),
                ),
            ],
            options={
                "verbose_name": "统计汇总（按月、渠道、单位）",
                "verbose_name_plural": "统计汇总（按月、渠道、单位）",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("month", "channel", "department"), name="one_stats_channel_department_month_per_key"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="StatsChannelDepartmentRollup",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("issues", models.PositiveIntegerField(default=0)),
                ("closed", models.PositiveIntegerField(default=0)),
                ("followed_up", models.PositiveIntegerField(default=0)),
                ("rated", models.PositiveIntegerField(default=0)),
                ("satisfied", models.PositiveIntegerField(default=0)),
                ("dissatisfied", models.PositiveIntegerField(default=0)),
                ("unreachable", models.PositiveIntegerField(default=0)),
                ("follow_up_skipped", models.PositiveIntegerField(default=0)),
                ("rehandled", models.PositiveIntegerField(default=0)),
                ("assigned_issues", models.PositiveIntegerField(default=0)),
                ("replied", models.PositiveIntegerField(default=0)),
                ("assignments", models.PositiveIntegerField(default=0)),
                ("assignments_replied", models.PositiveIntegerField(default=0)),
                ("on_time", models.PositiveIntegerField(default=0)),
                ("late", models.PositiveIntegerField(default=0)),
                ("overdue_open", models.PositiveIntegerField(default=0)),
                ("on_time_original", models.PositiveIntegerField(default=0)),
                ("late_original", models.PositiveIntegerField(default=0)),
                ("overdue_open_original", models.PositiveIntegerField(default=0)),
                ("own_assignments", models.PositiveIntegerField(default=0)),
                ("own_assignments_replied", models.PositiveIntegerField(default=0)),
                ("own_on_time", models.PositiveIntegerField(default=0)),
                ("own_late", models.PositiveIntegerField(default=0)),
                ("own_overdue_open", models.PositiveIntegerField(default=0)),
                ("own_on_time_original", models.PositiveIntegerField(default=0)),
                ("own_late_original", models.PositiveIntegerField(default=0)),
                ("own_overdue_open_original", models.PositiveIntegerField(default=0)),
                ("channel", models.CharField(max_length=16)),
                ("received_on", models.DateField()),
                (
                    "department",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="feedback.department",
                    ),
                ),
            ],
            options={
                "verbose_name": "统计汇总（按日、渠道、单位）",
                "verbose_name_plural": "统计汇总（按日、渠道、单位）",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("received_on", "channel", "department"), name="one_stats_channel_department_per_key"
                    )
                ],
            },
        ),
        migrations.RunSQL(
            summed("feedback_statschanneldepartmentrollup", "feedback_statsdepartmentrollup", "received_on"),
            migrations.RunSQL.noop,
        ),
        migrations.RunSQL(
            summed("feedback_statschanneldepartmentmonthrollup", "feedback_statsdepartmentmonthrollup", "month"),
            migrations.RunSQL.noop,
        ),
    ]
