from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from feedback.demo import seed_demo
from feedback.figures import rollup
from feedback.passwords import DEMO_PASSWORD


class Command(BaseCommand):
    help = "载入基础数据、演示账号及演示诉求（可重复执行；仅限 DEBUG=1 的开发环境）"

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("演示账号使用公开密码，只能在开发环境（DEBUG=1）中创建。生产环境请勿运行 seed_demo。")
        counts = seed_demo()
        # The demo's back-dated rows are written through the services, which keep the statistics
        # rollup current; sum anything they left marked (feedback.figures.rollup).
        rollup.refresh()
        self.stdout.write(
            "演示数据已就绪：新增账号 {accounts} 个、活动场次 {sessions} 个、诉求 {issues} 件。".format(**counts)
        )
        self.stdout.write(f"演示账号密码：{DEMO_PASSWORD}（如 netoffice、zjj_head、leader、admin）")
