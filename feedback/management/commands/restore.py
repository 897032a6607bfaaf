"""manage.py restore PATH: rebuild an empty database and media folder from a backup archive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from feedback.backups import BackupError, restore


class Command(BaseCommand):
    help = (
        "从 backup 写的归档恢复到空数据库和空文件目录：先校验全部 SHA-256，"
        "再恢复数据库和文件，写入后再校验（docs/operations.md「备份与恢复」）。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="backup 写出的归档文件")

    def handle(self, *args: Any, path: Path, **options: Any) -> None:
        try:
            summary = restore(path)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"restored: {summary.path} (database {summary.vendor}, {summary.files} files, every checksum verified)"
        )
