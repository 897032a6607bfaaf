"""The requester sets of each year, and of all channels together (issue 16, docs/decisions/0740).

``StatsRequesterSet`` gains the span ``year`` (per channel) and, for every span, the channel ''
(every channel). They are written here as unions of the month and day sets already stored, which
is what ``feedback.figures.rollup`` writes too: a stored set of a month marked ``requesters_changed``
may be stale, and so then are its year's and its all-channels sets, but the summary reads none of
them while the mark is there (it reads that month live), and the refresh that sums the month again
writes them again. No rollup rebuild is needed.
"""

from django.db import migrations, models
from pyroaring import BitMap


def unite(apps, schema_editor):
    StatsRequesterSet = apps.get_model("feedback", "StatsRequesterSet")
    united: dict[tuple[str, object, str], BitMap] = {}
    rows = (
        StatsRequesterSet.objects.exclude(channel="")
        .exclude(span="year")
        .values_list("span", "first", "channel", "bits")
    )
    for span, first, channel, bits in rows.iterator(chunk_size=500):
        members = BitMap.deserialize(bytes(bits))
        keys = [(span, first, "")]
        if span == "month":
            year = first.replace(month=1, day=1)
            keys += [("year", year, channel), ("year", year, "")]
        for key in keys:
            united.setdefault(key, BitMap()).update(members)
    new = []
    for (span, first, channel), members in united.items():
        members.run_optimize()
        new.append(
            StatsRequesterSet(
                span=span, first=first, channel=channel, requesters=len(members), bits=bytes(members.serialize())
            )
        )
    StatsRequesterSet.objects.bulk_create(new, batch_size=200)


def separate(apps, schema_editor):
    StatsRequesterSet = apps.get_model("feedback", "StatsRequesterSet")
    StatsRequesterSet.objects.filter(models.Q(span="year") | models.Q(channel="")).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0710_stats_open_due_window_idx"),
    ]

    operations = [
        migrations.AlterField(
            model_name="statsrequesterset",
            name="span",
            field=models.CharField(choices=[("year", "年"), ("month", "月"), ("day", "日")], max_length=5),
        ),
        migrations.RunPython(unite, separate),
    ]
