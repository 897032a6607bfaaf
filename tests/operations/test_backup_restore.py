"""manage.py backup / restore on PostgreSQL: the round trip gives the same rows and the same files.

The backup is taken of the test database while it holds issues and reply scans; the restore runs
as an operator runs it (``manage.py restore``, production settings, a fresh empty database and an
empty MEDIA_ROOT) and must exit 0; then every table's row count and every reply's SHA-256 match.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from feedback import services
from feedback.access import Role
from feedback.models import SignedReply
from tests.conftest import make_user, reply_pdf
from tests.deploy.conftest import ROOT
from tests.factories import assigned

pytestmark = pytest.mark.postgres


def admin_dsn(dbname: str) -> str:
    db = settings.DATABASES["default"]
    parts = [
        f"dbname={dbname}",
        f"host={db['HOST'] or '127.0.0.1'}",
        f"port={db['PORT'] or 5432}",
        f"user={db['USER']}",
    ]
    if db.get("PASSWORD"):
        parts.append(f"password={db['PASSWORD']}")
    return " ".join(parts)


def table_counts(dbname: str) -> dict[str, int]:
    with psycopg.connect(admin_dsn(dbname)) as conn:
        tables = [
            r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        ]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608


@pytest.fixture
def empty_database() -> Iterator[str]:
    name = f"{settings.DATABASES['default']['NAME']}_restore"
    with psycopg.connect(admin_dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(admin_dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def replies(transactional_db: None) -> list[SignedReply]:
    from feedback.services.reference import load_reference_data

    load_reference_data()
    netoffice = make_user("netoffice", department="wxb", role=Role.OFFICE)
    zjj = make_user("zjj_head", department="zjj", role=Role.DEPARTMENT, is_head=True)
    jtj = make_user("jtj_head", department="jtj", role=Role.DEPARTMENT, is_head=True)
    signed = {
        "signer_name": "王建国",
        "signer_title": "局长",
        "signed_on": timezone.localdate(),
        "result": "explained",
        "summary": "已答复。",
    }
    made = []
    for days in (3, 30):
        _issue, (lead, co) = assigned(
            netoffice, lead="zjj", co=("jtj",), assigned_on=timezone.localdate() - datetime.timedelta(days=days)
        )
        made.append(services.submit_reply(actor=zjj, assignment=lead, file=reply_pdf(f"回复{days}.pdf"), **signed))
        made.append(services.submit_reply(actor=jtj, assignment=co, file=reply_pdf("协办意见.pdf"), **signed))
    return made


def run_restore(archive: Path, database: str, media: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "zhitongche.settings",
        "DEBUG": "0",
        "SECRET_KEY": "s" * 50,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{database}",
        "MEDIA_ROOT": str(media),
        "VAR_DIR": str(tmp / "var"),
    }
    return subprocess.run(
        [sys.executable, "manage.py", "restore", str(archive)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_backup_and_restore_give_the_same_rows_and_files(replies, empty_database, tmp_path):
    archive = tmp_path / "zhitongche.tar"
    call_command("backup", str(archive))
    before = table_counts(settings.DATABASES["default"]["NAME"])

    media = tmp_path / "media-restored"
    result = run_restore(archive, empty_database, media, tmp_path)

    assert result.returncode == 0, result.stderr
    assert "every checksum verified" in result.stdout
    assert table_counts(empty_database) == before
    assert before["feedback_signedreply"] == 4
    with psycopg.connect(admin_dsn(empty_database)) as conn:
        rows = conn.execute("SELECT file, sha256 FROM feedback_signedreply").fetchall()
    assert len(rows) == 4
    for name, sha in rows:
        assert hashlib.sha256((media / name).read_bytes()).hexdigest() == sha, name


def test_a_damaged_archive_is_refused_before_anything_is_written(replies, empty_database, tmp_path):
    archive = tmp_path / "zhitongche.tar"
    call_command("backup", str(archive))
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.startswith("media/"))
    with archive.open("r+b") as handle:  # flip one byte inside a reply scan
        handle.seek(member.offset_data + 100)
        byte = handle.read(1)
        handle.seek(member.offset_data + 100)
        handle.write(bytes([byte[0] ^ 0xFF]))

    media = tmp_path / "media-restored"
    result = run_restore(archive, empty_database, media, tmp_path)

    assert result.returncode != 0
    assert "校验失败" in result.stderr and member.name in result.stderr
    assert table_counts(empty_database) == {}
    assert not media.exists() or not any(media.rglob("*"))


def test_restore_refuses_a_database_that_is_not_empty(replies, tmp_path):
    archive = tmp_path / "zhitongche.tar"
    call_command("backup", str(archive))
    with pytest.raises(CommandError, match="目标数据库不是空的"):
        call_command("restore", str(archive))
    assert connection.introspection.table_names()  # untouched


def test_backup_never_overwrites_and_leaves_no_partial_file(replies, tmp_path):
    archive = tmp_path / "zhitongche.tar"
    call_command("backup", str(archive))
    with pytest.raises(CommandError, match="已存在"):
        call_command("backup", str(archive))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["zhitongche.tar"]


def test_the_sqlite_database_of_bin_run_round_trips_too(tmp_path):
    # bin/run's embedded default: the backup is SQLite's online copy of the file.
    import sqlite3

    def manage(*args: str, database: str, media: Path) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(
            DJANGO_SETTINGS_MODULE="zhitongche.settings",
            DEBUG="1",
            VAR_DIR=str(tmp_path / "var"),
            MEDIA_ROOT=str(media),
            DATABASE_URL=f"sqlite:///{database}",
        )
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )

    source_db, source_media = tmp_path / "source.sqlite3", tmp_path / "media"
    assert manage("migrate", "--noinput", database=str(source_db), media=source_media).returncode == 0
    (source_media / "replies/2026").mkdir(parents=True)
    (source_media / "replies/2026/scan.pdf").write_bytes(b"%PDF-1.4 test scan")
    archive = tmp_path / "backup.tar"
    assert manage("backup", str(archive), database=str(source_db), media=source_media).returncode == 0

    target_db, target_media = tmp_path / "restored.sqlite3", tmp_path / "media-restored"
    result = manage("restore", str(archive), database=str(target_db), media=target_media)

    assert result.returncode == 0, result.stderr
    assert (target_media / "replies/2026/scan.pdf").read_bytes() == b"%PDF-1.4 test scan"

    def counts(path: Path) -> dict[str, int]:
        with sqlite3.connect(path) as conn:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608

    assert counts(target_db) == counts(source_db)
    assert counts(source_db)["django_migrations"] > 0
