"""Sum the statistics rollup from scratch (feedback.figures.rollup.rebuild): set-based SQL, writing only the
rows that differ, so a run on a correct rollup changes nothing and says so.

Run it after restoring a backup or loading rows with the triggers off; beat runs it nightly
(zhitongche/celery.py) for the writes that bypass the services (the admin, a raw UPDATE), which
the statistics read live, exactly, in the meantime. It also checks the ledger's and the inbox's kept counts (the
tallies, decision 0800) against a count of the issues and sets them again if they differ."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from feedback.figures import rollup, tally


class Command(BaseCommand):
    help = "重算统计汇总表（全部重算，仅写入有差异的行）"

    def handle(self, *args: Any, **options: Any) -> None:
        result = rollup.rebuild()
        self.stdout.write(f"统计汇总：{result.keys} 个键；{result.changed} 行有差异已更正。")
        wrong = tally.rebuild()
        fixed = "；".join(
            f"{table} {'/'.join(map(str, key))} {have} → {live}"
            for table, keys in sorted(wrong.items())
            for key, (have, live) in sorted(keys.items(), key=str)
        )
        self.stdout.write(f"台账与待办计数：{'已按实际条数更正（' + fixed + '）' if wrong else '与实际条数一致'}。")
