"""One archive holds everything the portal cannot rebuild: the database and the stored files.

``manage.py backup PATH`` writes an uncompressed tar (the dump is compressed already, and scans
barely compress) with

- ``manifest.json``: format version, time, database vendor, the last applied migration of each
  app, and for every other member its path, size and SHA-256;
- ``database.pgdump`` (``pg_dump -Fc``) on PostgreSQL, or ``database.sqlite3`` (SQLite's online
  backup API, consistent while the portal runs) on SQLite;
- ``media/…``: every stored file except ``tmp/`` (ledger-import previews): the files under
  ``MEDIA_ROOT``, or, with reply files on object storage (``S3_BUCKET``), the objects there.

The database is dumped first and the files after, so every file the dump refers to is in the
archive (a file uploaded meanwhile is merely extra). The archive is written next to PATH and
renamed into place only when complete, so a half-written backup never carries the final name.

``manage.py restore PATH`` checks every checksum before it touches anything, refuses a database
that already has tables or a media folder that already has files, restores the database
(``pg_restore --single-transaction --exit-on-error``), writes the files and checks each written
file's checksum again.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.db import connection

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA_PREFIX = "media/"
SKIPPED_MEDIA = ("tmp",)  # ledger-import previews, deleted by the next upload anyway
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A problem the operator must see in one sentence (the command prints it and exits 1)."""


@dataclass(frozen=True)
class Entry:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Summary:
    path: Path
    files: int
    bytes: int
    vendor: str


def sha256_of(handle: IO[bytes]) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def pg_env() -> dict[str, str]:
    """libpq's variables for pg_dump/pg_restore: the password never appears on a command line."""
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "PGDATABASE": db["NAME"],
        "PGHOST": db.get("HOST") or "",
        "PGPORT": str(db.get("PORT") or ""),
        "PGUSER": db.get("USER") or "",
    }
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return {k: v for k, v in env.items() if v != ""}


def run_tool(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"找不到 {command[0]}：请安装 PostgreSQL 客户端（apt-get install postgresql-client）")
    # A fixed argument list (pg_dump/pg_restore and paths we chose), no shell.
    result = subprocess.run(command, env=pg_env(), capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{command[0]} 失败（退出码 {result.returncode}）：{result.stderr.strip()[-2000:]}")


def applied_migrations() -> dict[str, str]:
    from django.db.migrations.recorder import MigrationRecorder

    last: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).migration_qs.order_by("id").values_list("app", "name"):
        last[app] = name
    return last


def media_files(root: Path) -> Iterator[tuple[Path, str]]:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] in SKIPPED_MEDIA or not path.is_file() or path.is_symlink():
            continue
        yield path, relative.as_posix()


def is_local(storage: Storage) -> bool:
    return isinstance(storage, FileSystemStorage)


def stored_names(storage: Storage, folder: str = "") -> Iterator[str]:
    """Every file in an object storage (S3Storage lists "folders" as common prefixes)."""
    folders, files = storage.listdir(folder)
    for name in sorted(files):
        yield f"{folder}/{name}" if folder else name
    for sub in sorted(folders):
        if not folder and sub in SKIPPED_MEDIA:
            continue
        yield from stored_names(storage, f"{folder}/{sub}" if folder else sub)


def add_stored_file(archive: tarfile.TarFile, storage: Storage, name: str, scratch: Path) -> Entry:
    # Downloaded once into a scratch file: tar needs the size first, and the checksum must be of
    # exactly the bytes archived.
    local = scratch / "object"
    with storage.open(name, "rb") as source, local.open("wb") as target:
        shutil.copyfileobj(source, target, CHUNK)
    try:
        return add_file(archive, local, MEDIA_PREFIX + name)
    finally:
        local.unlink()


def dump_database(directory: Path) -> tuple[str, Path]:
    vendor = connection.vendor
    if vendor == "postgresql":
        target = directory / "database.pgdump"
        run_tool(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"])
        return vendor, target
    if vendor == "sqlite":
        target = directory / "database.sqlite3"
        source = sqlite3.connect(settings.DATABASES["default"]["NAME"])
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # consistent even while the web server writes
        finally:
            copy.close()
            source.close()
        return vendor, target
    raise BackupError(f"不支持的数据库：{vendor}")


def add_file(archive: tarfile.TarFile, source: Path, name: str) -> Entry:
    with source.open("rb") as handle:
        digest, size = sha256_of(handle)
    info = archive.gettarinfo(str(source), arcname=name)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o640
    with source.open("rb") as handle:
        archive.addfile(info, handle)
    if info.size != size:
        raise BackupError(f"{name} 在备份过程中被改写，请重新备份")
    return Entry(name, size, digest)


def backup(path: Path) -> Summary:
    path = path.resolve()
    if path.exists():
        raise BackupError(f"{path} 已存在：备份不会覆盖已有文件")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    media_root = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".zhitongche-backup-") as scratch:
        vendor, dump = dump_database(Path(scratch))
        entries: list[Entry] = []
        try:
            with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as archive:
                entries.append(add_file(archive, dump, dump.name))
                if is_local(default_storage):
                    for source, relative in media_files(media_root):
                        entries.append(add_file(archive, source, MEDIA_PREFIX + relative))
                else:
                    for name in stored_names(default_storage):
                        entries.append(add_stored_file(archive, default_storage, name, Path(scratch)))
                manifest = {
                    "format": FORMAT,
                    "created_at": datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="seconds"),
                    "database": {"vendor": vendor, "file": dump.name},
                    "migrations": applied_migrations(),
                    "files": [entry.__dict__ for entry in entries],
                }
                data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(data)
                info.mode = 0o640
                info.mtime = int(datetime.datetime.now(tz=datetime.UTC).timestamp())
                archive.addfile(info, io.BytesIO(data))
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
    media = [e for e in entries if e.path.startswith(MEDIA_PREFIX)]
    return Summary(path, len(media), sum(e.size for e in entries), vendor)


# --- restore ---------------------------------------------------------------------------------------


def read_manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = archive.getmember(MANIFEST)
    except KeyError:
        raise BackupError("备份文件中没有 manifest.json：不是本系统的备份，或备份未写完") from None
    handle = archive.extractfile(member)
    assert handle is not None
    manifest = json.loads(handle.read())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"备份格式 {manifest.get('format')} 无法识别（本版本读取格式 {FORMAT}）")
    return manifest


def safe_media_path(root: Path, name: str) -> Path:
    relative = PurePosixPath(name[len(MEDIA_PREFIX) :])
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise BackupError(f"备份中的文件路径不安全：{name}")
    return root.joinpath(*relative.parts)


def verify(archive: tarfile.TarFile, manifest: dict[str, Any]) -> list[Entry]:
    """Every member the manifest names is there, regular, and has its size and SHA-256."""
    entries = [Entry(**item) for item in manifest["files"]]
    for entry in entries:
        try:
            member = archive.getmember(entry.path)
        except KeyError:
            raise BackupError(f"备份中缺少 {entry.path}") from None
        if not member.isfile():
            raise BackupError(f"备份中的 {entry.path} 不是普通文件")
        handle = archive.extractfile(member)
        assert handle is not None
        digest, size = sha256_of(handle)
        if (digest, size) != (entry.sha256, entry.size):
            raise BackupError(f"校验失败：{entry.path} 的 SHA-256 与清单不符，备份已损坏")
    names = {e.path for e in entries} | {MANIFEST}
    extra = [m.name for m in archive.getmembers() if m.name not in names]
    if extra:
        raise BackupError(f"备份中有清单之外的文件：{', '.join(extra[:5])}")
    return entries


def ensure_empty_target(vendor: str) -> None:
    if vendor != connection.vendor:
        raise BackupError(f"备份来自 {vendor}，当前数据库是 {connection.vendor}")
    tables = connection.introspection.table_names()
    if tables:
        raise BackupError(f"目标数据库不是空的（已有 {len(tables)} 张表）：请新建一个空数据库再恢复")
    if not is_local(default_storage):
        if next(stored_names(default_storage), None) is not None:
            raise BackupError("对象存储中已有文件：请指定一个空的存储桶或前缀（S3_BUCKET、S3_PREFIX）再恢复")
        return
    media_root = Path(settings.MEDIA_ROOT)
    if media_root.exists() and any(p.is_file() for p in media_root.rglob("*")):
        raise BackupError(f"文件目录 {media_root} 不是空的：请指定一个空目录（MEDIA_ROOT）再恢复")


def restore_database(archive: tarfile.TarFile, name: str, vendor: str) -> None:
    member = archive.getmember(name)
    with tempfile.TemporaryDirectory(prefix="zhitongche-restore-") as scratch:
        dump = Path(scratch) / name
        source = archive.extractfile(member)
        assert source is not None
        with dump.open("wb") as target:
            shutil.copyfileobj(source, target, CHUNK)
        if vendor == "postgresql":
            connection.close()  # pg_restore works on its own connection
            run_tool(
                [
                    "pg_restore",
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    "--single-transaction",
                    f"--dbname={settings.DATABASES['default']['NAME']}",
                    str(dump),
                ]
            )
        else:
            connection.close()
            database = Path(settings.DATABASES["default"]["NAME"])
            database.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(dump, database)


def restore_media(archive: tarfile.TarFile, entries: list[Entry]) -> int:
    if not is_local(default_storage):
        return restore_to_storage(archive, entries, default_storage)
    root = Path(settings.MEDIA_ROOT)
    count = 0
    for entry in entries:
        if not entry.path.startswith(MEDIA_PREFIX):
            continue
        target = safe_media_path(root, entry.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        source = archive.extractfile(archive.getmember(entry.path))
        assert source is not None
        with target.open("xb") as handle:
            shutil.copyfileobj(source, handle, CHUNK)
        target.chmod(settings.FILE_UPLOAD_PERMISSIONS or 0o640)
        with target.open("rb") as handle:
            digest, size = sha256_of(handle)
        if (digest, size) != (entry.sha256, entry.size):
            raise BackupError(f"写入后校验失败：{target}（磁盘已满或损坏？）")
        count += 1
    return count


def restore_to_storage(archive: tarfile.TarFile, entries: list[Entry], storage: Storage) -> int:
    count = 0
    for entry in entries:
        if not entry.path.startswith(MEDIA_PREFIX):
            continue
        name = safe_media_path(Path("/"), entry.path).relative_to("/").as_posix()
        source = archive.extractfile(archive.getmember(entry.path))
        assert source is not None
        saved = storage.save(name, File(source, name=name))
        if saved != name:  # the database refers to the file by this exact name
            raise BackupError(f"对象存储把 {name} 存成了 {saved}：存储桶不是空的？")
        with storage.open(name, "rb") as handle:
            digest, size = sha256_of(handle)
        if (digest, size) != (entry.sha256, entry.size):
            raise BackupError(f"写入后校验失败：{name}")
        count += 1
    return count


def restore(path: Path) -> Summary:
    if not path.is_file():
        raise BackupError(f"找不到备份文件 {path}")
    try:
        with tarfile.open(path, "r:") as archive:
            return _restore_from(path, archive)
    except tarfile.TarError as exc:
        raise BackupError(f"{path} 不是可读的备份文件：{exc}") from None


def _restore_from(path: Path, archive: tarfile.TarFile) -> Summary:
    manifest = read_manifest(archive)
    entries = verify(archive, manifest)  # nothing is touched before every checksum holds
    vendor = manifest["database"]["vendor"]
    ensure_empty_target(vendor)
    restore_database(archive, manifest["database"]["file"], vendor)
    files = restore_media(archive, entries)
    return Summary(path, files, sum(e.size for e in entries), vendor)
