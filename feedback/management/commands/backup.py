"""manage.py backup PATH: the database and every stored file, with checksums, in one archive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from feedback.backups import BackupError, backup


class Command(BaseCommand):
    help = "备份数据库和全部上传文件（含 SHA-256 清单）到一个归档文件 PATH（docs/operations.md「备份与恢复」）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="归档文件路径，例如 /srv/backup/zhitongche-2026-12-06.tar")

    def handle(self, *args: Any, path: Path, **options: Any) -> None:
        try:
            summary = backup(path)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"backup written: {summary.path} (database {summary.vendor}, {summary.files} files, {summary.bytes} bytes)"
        )
