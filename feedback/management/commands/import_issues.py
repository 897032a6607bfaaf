from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from feedback import services
from feedback.access import registrable_channels
from feedback.ledger.parse import COLUMNS, LedgerCheck, LedgerError, check_ledger


class Command(BaseCommand):
    help = (
        "导入诉求台账：.xlsx、.xls（第一个工作表）或 CSV（UTF-8，可带 BOM；或 GBK/GB18030）。"
        "表头为第一行含有至少三个列名的行（上方的标题行、空行跳过），列名用英文或中文（常见叫法均可）："
        + ", ".join(COLUMNS)
        + "；其他列忽略，第一格为合计/总计/小计的行不导入。全部行检查无误才写入（一个事务）；有任何错误时逐条输出"
        "“row N: column: reason”（中文列名的文件为“第 N 行 列名：原因”）到标准错误并以非零状态退出，不写入任何数据。"
        "N 为 Excel 中看到的行号（CSV 中单元格内换行不另计行）。数据库中已有的编号（ref）跳过并计为“已存在”，"
        "同一文件导入两次不会重复创建。export_issues 导出的工作簿（含“交办明细”）按原样导入。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="台账文件：.xlsx、.xls 或 .csv")
        parser.add_argument("--dry-run", action="store_true", help="只检查并报告将新建多少条，不写入数据库")
        parser.add_argument(
            "--user",
            default="",
            help="以该用户名义导入（记入登记人和办理记录；直通车办公室只能导入本渠道的诉求）。默认为系统导入，不限渠道",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise CommandError(f"找不到文件：{path}") from None
        except OSError as exc:
            raise CommandError(f"无法读取文件 {path}：{exc.strerror}") from None
        actor = self._actor(options["user"])
        channels = registrable_channels(actor) if actor is not None else None
        if actor is not None and not channels:
            raise CommandError(f"用户 {actor.get_username()} 不是直通车办公室人员或管理员，不能导入诉求。")

        # Two passes (decision 0720): this check reads every row and keeps none (but for the listing
        # of a dry run), the import reads the file again and writes it chunk by chunk.
        listing = options["dry_run"] and options["verbosity"] >= 2
        ledger = check_ledger(data, path.name, channels=channels, keep_rows=listing)
        if not ledger.ok:
            self._fail(ledger.problems)
        if ledger.ignored_columns and options["verbosity"] >= 1:
            self.stderr.write("忽略的列：" + ", ".join(ledger.ignored_columns))
        if options["dry_run"]:
            self._list(ledger, options["verbosity"])
            self.stdout.write(
                f"检查通过（试运行，未写入）：共 {ledger.count} 行，"
                f"将新建 {ledger.new_count} 条，已存在 {len(ledger.present_refs)} 条（跳过）。"
            )
            self.stdout.write(f"would create: {ledger.new_count}, already present: {len(ledger.present_refs)}")
            return
        try:
            result = services.import_ledger_file(actor=actor, data=data, name=path.name, channels=channels)
        except LedgerError as exc:
            self._fail(exc.problems)
        self.stdout.write(
            self.style.SUCCESS(f"导入完成：新建 {len(result.created)} 条，已存在 {len(result.present)} 条（跳过）。")
        )
        self.stdout.write(f"created: {len(result.created)}, already present: {len(result.present)}")

    def _actor(self, username: str) -> Any:
        if not username:
            return None
        try:
            return get_user_model().objects.get(username=username, is_active=True)
        except get_user_model().DoesNotExist:
            raise CommandError(f"没有启用的用户 {username}。") from None

    def _fail(self, problems: list[Any]) -> NoReturn:
        for problem in problems:
            self.stderr.write(str(problem))
        rows = len({p.row for p in problems})
        raise CommandError(f"台账有 {len(problems)} 处错误（涉及 {rows} 行），未写入任何数据。")

    def _list(self, ledger: LedgerCheck, verbosity: int) -> None:
        if verbosity < 2:
            return
        for row in ledger.rows:
            verdict = "已存在" if row.ref in ledger.present_refs else f"新建（{row.outcome}）"
            self.stdout.write(f"row {row.row}: {row.ref} {verdict}")
