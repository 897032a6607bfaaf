"""The ladder becomes rows: every open assignment's steps still to take are written as pending
DeadlineStep rows (``taken_at`` NULL), the sweep's queue; the next-step columns on the assignment
go. Existing steps were taken when recorded, and their notifications and history were written
then: they are marked announced."""

import datetime
from zoneinfo import ZoneInfo

from django.db import migrations, models
from django.db.models import F, Q

SHANGHAI = ZoneInfo("Asia/Shanghai")
OPEN = ("pending", "acknowledged", "submitted", "returned")


def write_pending_steps(apps, schema_editor):
    # feedback.deadlines is pure (no ORM): safe to use from a migration.
    from feedback.deadlines import WorkCalendar, ladder

    Assignment = apps.get_model("feedback", "Assignment")
    DeadlineStep = apps.get_model("feedback", "DeadlineStep")
    CalendarYear = apps.get_model("feedback", "CalendarYear")
    CalendarDay = apps.get_model("feedback", "CalendarDay")
    DeadlineStep.objects.update(announced_at=F("taken_at"))
    open_rows = list(Assignment.objects.filter(status__in=OPEN))
    if not open_rows:
        return
    overrides = {}
    for day, is_workday, name in CalendarDay.objects.order_by("-source", "date").values_list(
            "date", "is_workday", "name"):
        overrides[day] = (is_workday, name)
    calendar = WorkCalendar(known_years=frozenset(CalendarYear.objects.values_list("year", flat=True)),
                            overrides=overrides)
    taken = set(DeadlineStep.objects.values_list("assignment_id", "step", "deadline_version"))
    pending = [
        DeadlineStep(assignment_id=a.pk, step=s.step, deadline_version=a.deadline_version, due_date=a.due_date,
                     scheduled_for=datetime.datetime.combine(s.day, datetime.time(s.hour), tzinfo=SHANGHAI))
        for a in open_rows for s in ladder(a.assigned_on, a.due_date, calendar)
        if (a.pk, s.step, a.deadline_version) not in taken
    ]
    DeadlineStep.objects.bulk_create(pending, batch_size=2000)


class Migration(migrations.Migration):

    dependencies = [
        ("feedback", "0008_stats_rollup"),
    ]

    operations = [
        migrations.AlterField(
            model_name="deadlinestep",
            name="taken_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="执行时间"),
        ),
        migrations.AddField(
            model_name="deadlinestep",
            name="announced_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="通知时间"),
        ),
        migrations.AlterModelOptions(
            name="deadlinestep",
            options={"ordering": ["scheduled_for", "id"], "verbose_name": "提醒与督办记录",
                     "verbose_name_plural": "提醒与督办记录"},
        ),
        migrations.AddIndex(
            model_name="deadlinestep",
            index=models.Index(condition=Q(taken_at__isnull=True), fields=["scheduled_for"],
                               name="deadlinestep_pending_idx"),
        ),
        migrations.AddIndex(
            model_name="deadlinestep",
            index=models.Index(condition=Q(taken_at__isnull=False, announced_at__isnull=True),
                               fields=["taken_at"], name="deadlinestep_unannounced_idx"),
        ),
        migrations.RemoveIndex(model_name="assignment", name="assignment_next_check_idx"),
        migrations.RemoveField(model_name="assignment", name="next_check_at"),
        migrations.RemoveField(model_name="assignment", name="next_step"),
        # Last: on PostgreSQL an ALTER TABLE after these inserts would meet their deferred
        # foreign-key checks ("pending trigger events").
        migrations.RunPython(write_pending_steps, migrations.RunPython.noop),
    ]
