from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from feedback.security.events import verify_chain


class Command(BaseCommand):
    help = "校验安全审计记录的哈希链（SHA-256），报告第一处断链；完好时退出码为 0。"

    def handle(self, *args: Any, **options: Any) -> None:
        checked, broken = verify_chain()
        if broken is not None:
            raise CommandError(f"审计链在第 {broken.id} 号记录处断开：{broken.reason}（此前 {checked} 条完好）。")
        self.stdout.write(f"审计链完好：共 {checked} 条记录，逐条校验通过。")
