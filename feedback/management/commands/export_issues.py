from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from feedback.ledger.export import export_round_trip
from feedback.models import Channel, Issue


class Command(BaseCommand):
    help = (
        "把诉求导出为 Excel 台账（.xlsx）：第一个工作表“诉求台账”为 import_issues 的列（中文列名）"
        "加上性质、被举报单位、状态、回访日期、重办日期；第二个工作表“交办明细”每个交办一行（交办日期、时限、办理期限、原定期限、签收日期、"
        "回复日期、办理结果、状态）。用 import_issues 导入空数据库（已载入基础数据）后，统计接口的每个数字都相同。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="输出文件（.xlsx）")
        parser.add_argument("--channel", choices=Channel.values, help="只导出一个渠道的诉求")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        issues = Issue.objects.all()
        if options["channel"]:
            issues = issues.filter(channel=options["channel"])
        try:
            path.write_bytes(export_round_trip(issues))
        except OSError as exc:
            raise CommandError(f"无法写入文件 {path}：{exc.strerror}") from None
        self.stdout.write(self.style.SUCCESS(f"已导出 {issues.count()} 件诉求到 {path}。"))
