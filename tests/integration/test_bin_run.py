"""``bin/run`` as a user runs it: the console says what the user needs (the address, the demo
accounts, how to stop) and nothing else; the programs' own output goes to the log file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not (ROOT / ".venv" / "bin" / "honcho").exists(), reason="bin/run needs the project's .venv (bin/test makes it)"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bin_run_prints_the_address_accounts_and_how_to_stop_and_logs_the_rest_to_a_file(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "portal.log"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    # Its own SQLite database and broker folder: nothing shared with the test database or a running portal.
    env.update(VAR_DIR=str(tmp_path / "var"), BIND=f"127.0.0.1:{port}", ZTC_LOG=str(log), DEBUG="1")
    proc = subprocess.Popen(
        ["bin/run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2) as page:
                    if page.status == 200:
                        break
            except OSError:
                time.sleep(1)
        else:
            pytest.fail("the portal did not answer within 4 minutes")
        time.sleep(3)  # the worker and beat finish starting: their banners would show now
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in the terminal: the whole foreground group
        console, _ = proc.communicate(timeout=120)

    assert f"http://127.0.0.1:{port}/" in console
    assert "netoffice" in console and "zhitongche-demo" in console
    assert "Ctrl-C" in console and str(log) in console
    assert "已就绪" in console and "已停止" in console
    for noise in (
        "pikepdf",
        "AXES",
        "hostname",
        "Applying ",
        "celery@",
        "Watching for file changes",
        "Starting development server",
        "ERROR",
    ):
        assert noise not in console, noise
    full = log.read_text(encoding="utf-8")
    assert "Applying feedback.0001_initial" in full and "Starting development server" in full
    assert "celery@" in full  # the worker's banner, kept in the file
    assert "pikepdf C++ to Python logger bridge" not in full and "AXES: BEGIN" not in full
    assert "No hostname was supplied" not in full
