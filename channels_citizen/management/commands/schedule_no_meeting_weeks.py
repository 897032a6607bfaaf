from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from channels_citizen import services


class Command(BaseCommand):
    help = "创建本月及下月的无会周（可重复运行），并按工作日历重排尚未确认、尚未开始的无会周。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--today", type=datetime.date.fromisoformat, default=None, help="按此日期计算（YYYY-MM-DD），默认今天"
        )
        parser.add_argument("--months", type=int, default=services.MONTHS_AHEAD, help="向后安排几个月")

    def handle(self, *args: Any, today: datetime.date | None, months: int, **options: Any) -> None:
        weeks = services.schedule_no_meeting_weeks(today=today, months=months)
        for week in weeks:
            self.stdout.write(
                f"{week.starts_on:%Y-%m-%d} 至 {week.ends_on:%Y-%m-%d}{'（暂定）' if week.provisional else ''}"
            )
        self.stdout.write(self.style.SUCCESS(f"新建或重排 {len(weeks)} 个无会周。"))
