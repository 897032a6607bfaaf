"""Set-up hygiene (bin/_apt.sh, tests/e2e/conftest.py): bin/test waits for a package-manager lock
held by another apt run instead of failing, says apt's own reason when an install fails, and under
CI (CI=1) a missing browser fails the browser tests instead of skipping them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.deploy.conftest import ROOT

FAKE_APT = """#!/bin/sh
# A stand-in apt-get: the first $LOCKED calls find the lock held, then it succeeds, or it always
# fails with $FAIL_WITH.
n=$(cat "$COUNTER" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$COUNTER"
echo "apt-get $*" >> "$CALLS"
if [ -n "$FAIL_WITH" ]; then echo "Reading package lists..."; echo "$FAIL_WITH" >&2; exit 100; fi
if [ "$n" -le "$LOCKED" ]; then
  echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)" >&2
  exit 100
fi
echo "Setting up nginx ..."
"""
FAKE_SUDO = """#!/bin/sh
[ "$1" = "-n" ] && shift
exec "$@"
"""


def run_install(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, text in (("apt-get", FAKE_APT), ("sudo", FAKE_SUDO)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    full_env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "COUNTER": str(tmp_path / "n"),
        "CALLS": str(tmp_path / "calls"),
        "APT_LOCK_RETRY_SECONDS": "0",
        "LOCKED": "0",
        "FAIL_WITH": "",
        **env,
    }
    return subprocess.run(
        ["bash", "-c", "source bin/_apt.sh && install_system_packages nginx"],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_a_held_lock_is_waited_for_not_reported_as_a_failure(tmp_path):
    result = run_install(tmp_path, LOCKED="2")

    assert result.returncode == 0, result.stderr
    assert result.stderr.count("waiting for the package manager lock") == 2
    calls = (tmp_path / "calls").read_text().splitlines()
    assert len(calls) == 3
    assert all("DPkg::Lock::Timeout=" in call and "install -y nginx" in call for call in calls)


def test_a_lock_held_too_long_ends_with_apts_own_words(tmp_path):
    result = run_install(tmp_path, LOCKED="1000", APT_LOCK_TIMEOUT="0")

    assert result.returncode == 1
    assert "It is held by process 4242" in result.stderr


def test_a_failed_install_prints_the_real_cause(tmp_path):
    result = run_install(tmp_path, FAIL_WITH="E: Unable to locate package nginx")

    assert result.returncode == 1
    assert "apt-get install nginx failed" in result.stderr
    assert "E: Unable to locate package nginx" in result.stderr
    calls = (tmp_path / "calls").read_text()
    assert "update" in calls  # a stale index was tried first


def test_under_ci_a_missing_chromium_fails_the_browser_tests_instead_of_skipping(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(CHROMIUM=str(tmp_path / "no-chromium"))
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests/e2e/test_api_docs.py",
        "-q",
        "-p",
        "no:randomly",
        "-p",
        "no:cacheprovider",
        "-x",
    ]

    in_ci = subprocess.run(command, cwd=ROOT, env={**env, "CI": "1"}, capture_output=True, text=True, check=False)
    assert in_ci.returncode != 0
    assert "CI: failing instead of skipping" in in_ci.stdout

    env.pop("CI", None)
    locally = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert locally.returncode == 0, locally.stdout[-2000:]
    assert "skipped" in locally.stdout
