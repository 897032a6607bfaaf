"""What every PostgreSQL benchmark here needs: its own database, Django on it, and a step timer."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit


def bench_url(name: str, script: str) -> tuple[str, str]:
    """(URL of the bench database, URL of the maintenance database) on DATABASE_URL's server."""
    parts = urlsplit(os.environ.get("DATABASE_URL", ""))
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(f"{script} needs PostgreSQL: set DATABASE_URL=postgres://user@host:port/anydb")
    return urlunsplit(parts._replace(path=f"/{name}")), urlunsplit(parts._replace(path="/postgres"))


def recreate_database(maintenance_url: str, name: str, reuse: bool) -> bool:
    """Drop and create ``name``; with ``reuse``, keep it if it exists. True when it was (re)created."""
    import psycopg

    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reuse:
            return False
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return True


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    # Tasks the code asks for after commit go to a throwaway filesystem queue, never to a
    # developer's Redis or var/ queue.
    os.environ.pop("REDIS_URL", None)
    os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="zt-bench-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "zhitongche.settings"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
    os.environ["DEBUG"] = "0"  # no query log: it would cost time and memory over many queries
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["SECURE_COOKIES"] = "0"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def step(label: str):
    class Timer:
        def __enter__(self):
            print(f"  {label} …", end="", flush=True)
            self.start = time.perf_counter()

        def __exit__(self, *exc):
            print(f" {time.perf_counter() - self.start:.1f} s", flush=True)

    return Timer()
