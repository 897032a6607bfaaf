from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from feedback.calendar_notice import NoticeError, parse_notice
from feedback.models import CalendarDay, CalendarYear
from feedback.services.calendar import load_year


class Command(BaseCommand):
    help = (
        "载入国务院办公厅公布的某年节假日安排（每行一个日期：2027-01-01,休,元旦 或 2027-02-07,班,春节调休上班），"
        "替换该年的国务院安排并重新计算受影响的办理期限。有任何一行出错则什么都不写入。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="通知文件（UTF-8 文本或 CSV）")
        parser.add_argument("--year", type=int, required=True, help="通知所属年份，例如 2027")
        parser.add_argument("--source", default="", help="来源说明（默认：国务院办公厅关于某年部分节假日安排的通知）")
        parser.add_argument("--dry-run", action="store_true", help="只检查并列出日期，不写入数据库")

    def handle(self, *args: Any, **options: Any) -> None:
        year, path = options["year"], Path(options["path"])
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise CommandError(f"找不到文件：{path}") from None
        except UnicodeDecodeError:
            raise CommandError(f"文件 {path} 不是 UTF-8 编码，请另存为 UTF-8 后再载入。") from None
        try:
            days = parse_notice(text, year=year)
        except NoticeError as exc:
            for error in exc.errors:
                self.stderr.write(error)
            raise CommandError(f"通知有 {len(exc.errors)} 处错误，未写入任何数据。") from None

        for day in days:
            self.stdout.write(f"{day.date:%Y-%m-%d} {day.weekday} {day.kind_label} {day.name}")
        rest, work = sum(not d.is_workday for d in days), sum(d.is_workday for d in days)
        if options["dry_run"]:
            existing = CalendarDay.objects.filter(source=CalendarDay.Source.NATIONAL, date__year=year).count()
            loaded = "已载入，将被替换" if CalendarYear.objects.filter(year=year).exists() else "尚未载入"
            self.stdout.write(
                f"检查通过（试运行，未写入）：{year}年 休息日 {rest} 天、调休上班日 {work} 天；"
                f"{year}年{loaded}（现有国务院安排 {existing} 条）。"
            )
            return
        result = load_year(actor=None, year=year, lines=text, source=options["source"])
        self.stdout.write(
            self.style.SUCCESS(
                f"已载入{year}年节假日安排：休息日 {result.rest_days} 天、调休上班日 {result.work_days} 天"
                f"（替换原有 {result.replaced} 条）；重新计算了 {result.recomputed} 项交办的办理期限。"
            )
        )
