from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from channels_enterprise import services


class Command(BaseCommand):
    help = "创建本月及下月的企业家日（可重复运行），并发送临近企业家日的通知。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--today", type=datetime.date.fromisoformat, default=None, help="按此日期计算（YYYY-MM-DD），默认今天"
        )
        parser.add_argument("--months", type=int, default=services.MONTHS_AHEAD, help="向后安排几个月")

    def handle(self, *args: Any, today: datetime.date | None, months: int, **options: Any) -> None:
        days = services.schedule_enterprise_days(today=today, months=months)
        for day in days:
            self.stdout.write(f"{day.held_on:%Y-%m-%d}{'（暂定）' if day.provisional else ''}")
        notified = services.send_enterprise_day_notices(today=today)
        self.stdout.write(self.style.SUCCESS(f"新建或重排 {len(days)} 个企业家日，发送通知 {notified} 条。"))
