"""Run the portal's three processes side by side: ``python -m zhitongche.procs``.

``bin/run`` ends here after migrating and seeding. Started, each in its own process group:

* ``web``: ``manage.py runserver`` when DEBUG is on, gunicorn otherwise, on ``BIND``
  (default ``127.0.0.1:8000``);
* ``worker``: ``celery -A zhitongche worker -l info --concurrency 2``;
* ``beat``: ``celery -A zhitongche beat -l info`` (its schedule file is
  ``CELERY_BEAT_SCHEDULE_FILENAME``, under ``var/``).

Every output line is prefixed with the process name. Ctrl-C or SIGTERM stops all three
(SIGTERM to each, then SIGKILL to whatever is left after ``PROCS_STOP_TIMEOUT`` seconds,
default 20; a second Ctrl-C kills at once). If one of them exits, the others are stopped
too and the exit status is non-zero. Standard library only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEMO_HINT = "账号 netoffice / 密码 zhitongche-demo"


def envbool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def parse_bind(bind: str) -> tuple[str, int]:
    host, _, port = bind.rpartition(":")
    return (host.strip("[]") or "127.0.0.1"), int(port)


def commands(debug: bool, bind: str) -> list[tuple[str, list[str]]]:
    py = sys.executable
    if debug:
        web = [py, "manage.py", "runserver", bind]
    else:
        web = [
            py, "-m", "gunicorn", "zhitongche.wsgi:application",
            "--bind", bind,
            "--workers", os.environ.get("WEB_CONCURRENCY", "2"),
            "--access-logfile", "-",
            "--graceful-timeout", "10",
        ]  # fmt: skip
    celery = [py, "-m", "celery", "-A", "zhitongche"]
    return [
        ("web", web),
        ("worker", [*celery, "worker", "-l", "info", "--concurrency", "2"]),
        ("beat", [*celery, "beat", "-l", "info"]),
    ]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the child gets SIGTERM if the supervisor itself is killed (SIGKILL)."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Proc:
    name: str
    argv: list[str]
    popen: subprocess.Popen[bytes] | None = None
    reader: threading.Thread | None = field(default=None, repr=False)

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


class Supervisor:
    def __init__(self, procs: list[Proc], *, stop_timeout: float = 20.0, color: bool = False) -> None:
        self.procs = procs
        self.stop_timeout = stop_timeout
        self.color = color
        self.width = max(len(p.name) for p in procs)
        self._lock = threading.Lock()
        self._stop_requested: str | None = None
        self._force = False

    # -- output ---------------------------------------------------------------
    def say(self, name: str, text: str, index: int = -1) -> None:
        prefix = f"{name:<{self.width}} |"
        if self.color:
            code = (36, 33, 35, 32)[index] if index >= 0 else 1
            prefix = f"\033[{code}m{prefix}\033[0m"
        with self._lock:
            sys.stdout.write(f"{prefix} {text.rstrip()}\n")
            sys.stdout.flush()

    def _pump(self, index: int, proc: Proc) -> None:
        assert proc.popen is not None and proc.popen.stdout is not None
        for raw in iter(proc.popen.stdout.readline, b""):
            self.say(proc.name, raw.decode("utf-8", errors="replace"), index)
        proc.popen.stdout.close()

    # -- signals --------------------------------------------------------------
    def _on_signal(self, signum: int, _frame: object) -> None:
        if self._stop_requested is None:
            self._stop_requested = signal.Signals(signum).name
        else:
            self._force = True

    # -- life cycle -----------------------------------------------------------
    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for proc in self.procs:  # all Popen calls before any thread starts (preexec_fn)
            proc.popen = subprocess.Popen(  # noqa: S603 - our own fixed argv
                proc.argv,
                cwd=BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                process_group=0,  # Ctrl-C reaches only the supervisor, which stops the rest
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        for index, proc in enumerate(self.procs):
            proc.reader = threading.Thread(target=self._pump, args=(index, proc), daemon=True)
            proc.reader.start()

    def wait_for_port(self, host: str, port: int, on_ready: Callable[[], None]) -> None:
        def poll() -> None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and self._stop_requested is None:
                if port_open(host, port):
                    on_ready()
                    return
                time.sleep(0.3)

        threading.Thread(target=poll, daemon=True).start()

    def run(self) -> int:
        """Block until a signal arrives or a process exits; then stop everything."""
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        exit_code = 0
        while self._stop_requested is None:
            dead = next((p for p in self.procs if not p.alive), None)
            if dead is not None:
                assert dead.popen is not None
                rc = dead.popen.returncode
                self.say("procs", f"{dead.name} exited with status {rc}; stopping the others")
                exit_code = rc if rc and rc > 0 else 1
                break
            time.sleep(0.2)
        else:
            self.say("procs", f"{self._stop_requested}: stopping web, worker and beat")
        self.stop()
        return exit_code

    def stop(self) -> None:
        for proc in self.procs:
            if proc.alive:
                assert proc.popen is not None
                with contextlib.suppress(ProcessLookupError):
                    proc.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        while any(p.alive for p in self.procs) and time.monotonic() < deadline and not self._force:
            time.sleep(0.1)
        for proc in self.procs:
            assert proc.popen is not None
            if proc.alive:
                self.say("procs", f"{proc.name} did not stop in time; killing it")
            # SIGKILL the whole group: also reaches children left behind (pool workers, reloader).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.popen.pid, signal.SIGKILL)
            proc.popen.wait()
            if proc.reader is not None:
                proc.reader.join(timeout=2)
        self.say("procs", "all stopped")


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def main() -> int:
    debug = envbool("DEBUG")
    bind = os.environ.get("BIND", "127.0.0.1:8000")
    host, port = parse_bind(bind)
    if port_open(host, port):
        print(f"procs: {host}:{port} is already in use; is the portal running already?", file=sys.stderr)
        return 1
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    sup = Supervisor(
        [Proc(name, argv) for name, argv in commands(debug, bind)],
        stop_timeout=float(os.environ.get("PROCS_STOP_TIMEOUT", "20")),
        color=color,
    )

    def banner() -> None:
        url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}/"  # noqa: S104
        sup.say("procs", f"直通车门户已启动 / portal is up: {url}")
        if debug:
            sup.say("procs", f"演示{DEMO_HINT}")
        sup.say("procs", "Ctrl-C 停止 / stops web, worker and beat")

    sup.start()
    sup.wait_for_port(host, port, banner)
    return sup.run()


if __name__ == "__main__":
    sys.exit(main())
