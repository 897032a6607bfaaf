"""The counts above a department's inbox and an office's ledger read their index alone (issue 16 goal 3).

At a million issues the inbox's five tab counts (over a department's ~65,000 assignments) and the
ledger's total (over a channel's ~333,000 issues) were the slowest part of those pages: each row's
heap page was read for one column the index lacked — the assignment's ``issue_id`` (the accusation
rule, access._not_accused) and the issue's ``accused_department_id``. With those columns INCLUDEd the
counts are index-only scans (bench/README.md, ``load.py``). PostgreSQL only: elsewhere Django creates
the same indexes without INCLUDE.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0620_assignment_received_on"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="assignment", name="assignment_inbox_idx"),
        migrations.AddIndex(
            model_name="assignment",
            index=models.Index(
                fields=["department", "status", "due_date"], include=["issue"], name="assignment_inbox_idx"
            ),
        ),
        migrations.RemoveIndex(model_name="issue", name="issue_channel_received_idx"),
        migrations.AddIndex(
            model_name="issue",
            index=models.Index(
                fields=["channel", "received_on"], include=["accused_department"], name="issue_channel_received_idx"
            ),
        ),
    ]
