"""The shipped deployment (deploy/) run for real: Debian's nginx with deploy/nginx/zhitongche.conf
in front of gunicorn with deploy/gunicorn.conf.py and the production settings (DEBUG=0).

``stack`` (module scope) collects the static files, starts gunicorn on the test database and nginx
on free ports with a self-signed certificate, and stops both afterwards. The site file is used as
shipped, with only its host-specific values (ports, paths, certificate) replaced; each replacement
must match, so a change to the file that the test no longer covers fails here.
Requests go through curl, as an operator would check them, with ``--resolve`` so SNI and Host are
the server name (nginx refuses the TLS handshake for any other name).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
NGINX = Path(os.environ.get("NGINX", "/usr/sbin/nginx"))
SERVER_NAME = "ztc.example.gov.cn"


def require(binary: Path | str, why: str) -> None:
    """Skip with the reason on a developer's machine; fail under CI (.ci/run sets CI=1), where a
    missing tool must never turn a test into a silent skip."""
    if shutil.which(str(binary)):
        return
    message = f"{binary} is missing: {why}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI: failing instead of skipping)", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port} within {seconds}s")


def replace_exactly(text: str, old: str, new: str) -> str:
    assert old in text, f"deploy/nginx/zhitongche.conf no longer contains {old!r}: update the test"
    return text.replace(old, new)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Stack:
    https_port: int
    http_port: int
    gunicorn_port: int
    tmp: Path
    var: Path
    gunicorn_log: Path
    nginx_access_log: Path
    cookies: dict[str, str] = field(default_factory=dict)

    def curl(
        self,
        path: str,
        *args: str,
        cookie: str | None = None,
        port: int | None = None,
        scheme: str = "https",
        host: str = SERVER_NAME,
    ) -> Response:
        port = port or (self.https_port if scheme == "https" else self.http_port)
        headers_file = self.tmp / "curl-headers"
        body_file = self.tmp / "curl-body"
        command = [
            "curl",
            "-s",
            "-k",
            "--max-time",
            "60",
            "--resolve",
            f"{host}:{port}:127.0.0.1",
            "-D",
            str(headers_file),
            "-o",
            str(body_file),
            "-w",
            "%{http_code}",
        ]
        if cookie:
            # Production names its session cookie __Host-sessionid (HTTPS only, no Domain: docs/security.md).
            command += ["-b", f"__Host-sessionid={cookie}"]
        command += [*args, f"{scheme}://{host}:{port}{path}"]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        status = int(result.stdout.strip() or 0)
        headers: dict[str, str] = {}
        if headers_file.exists():
            # With "Expect: 100-continue" there are two header blocks; the last one is the answer.
            block = headers_file.read_text(errors="replace").strip().split("\r\n\r\n")[-1]
            for line in block.splitlines()[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = body_file.read_bytes() if body_file.exists() else b""
        headers_file.unlink(missing_ok=True)
        body_file.unlink(missing_ok=True)
        return Response(status, headers, body)

    def gunicorn_saw(self, needle: str) -> bool:
        time.sleep(0.3)  # the access line is written after the response
        return needle in self.gunicorn_log.read_text(errors="replace")


def render_site(stack: Stack, certs: Path) -> str:
    site = (ROOT / "deploy/nginx/zhitongche.conf").read_text()
    site = replace_exactly(site, "server 127.0.0.1:8000;", f"server 127.0.0.1:{stack.gunicorn_port};")
    site = replace_exactly(site, "alias /srv/zhitongche/var/static/;", f"alias {stack.var}/static/;")
    site = replace_exactly(site, "alias /srv/zhitongche/var/media/;", f"alias {settings.MEDIA_ROOT}/;")
    site = replace_exactly(site, "listen 80;", f"listen 127.0.0.1:{stack.http_port};")
    site = replace_exactly(
        site, "listen 443 ssl default_server;", f"listen 127.0.0.1:{stack.https_port} ssl default_server;"
    )
    site = replace_exactly(site, "listen 443 ssl http2;", f"listen 127.0.0.1:{stack.https_port} ssl http2;")
    site = re.sub(r"^\s*listen \[::\].*$", "", site, flags=re.M)  # the test machine may have no IPv6
    site = replace_exactly(site, "/etc/ssl/zhitongche/", f"{certs}/")
    site = replace_exactly(site, "/var/log/nginx/zhitongche.access.log", str(stack.nginx_access_log))
    site = replace_exactly(site, "/var/log/nginx/zhitongche.error.log", str(stack.tmp / "nginx-error.log"))
    return site


def nginx_main_conf(tmp: Path, site: Path) -> str:
    # Debian's nginx.conf, reduced to what a test prefix needs (pid, temp paths, logs under tmp).
    user = "user root;" if os.geteuid() == 0 else ""  # as root, the default "nobody" could not read tmp
    temps = "\n".join(
        f"    {kind}_temp_path {tmp}/{kind}-temp;" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-main-error.log;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    access_log {tmp}/nginx-main-access.log;
{temps}
    include {site};
}}
"""


def database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="module")
def stack(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require(NGINX, "bin/test installs Debian's nginx (apt-get install nginx)")
    require("curl", "apt-get install curl")
    require("openssl", "apt-get install openssl")
    tmp = tmp_path_factory.mktemp("deploy")
    var = tmp / "var"
    var.mkdir()
    stack = Stack(
        https_port=free_port(),
        http_port=free_port(),
        gunicorn_port=free_port(),
        tmp=tmp,
        var=var,
        gunicorn_log=tmp / "gunicorn.log",
        nginx_access_log=tmp / "nginx-access.log",
    )
    certs = tmp / "certs"
    certs.mkdir()
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            f"/CN={SERVER_NAME}",
            "-addext",
            f"subjectAltName=DNS:{SERVER_NAME}",
            "-keyout",
            str(certs / "privkey.pem"),
            "-out",
            str(certs / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
    )

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "zhitongche.settings",  # production settings, not test_settings
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,  # sessions made by the test process must verify
        "ALLOWED_HOSTS": f"{SERVER_NAME},127.0.0.1",  # as deploy/zhitongche.env.example: local scrapes
        "DATABASE_URL": database_url(),
        "CONN_MAX_AGE": "0",  # pytest-django must be able to drop the test database afterwards
        "VAR_DIR": str(var),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "X_ACCEL_REDIRECT_PREFIX": "/protected/",
        "TRUSTED_PROXIES": "127.0.0.1",
        # The test users have no TOTP device; the second factor has its own tests (tests/security).
        "OTP_REQUIRED_ROLES": "none",
        "BIND": f"127.0.0.1:{stack.gunicorn_port}",
        "WEB_CONCURRENCY": "2",
        "LOG_FORMAT": "json",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "prometheus"),
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )

    site = tmp / "site.conf"
    site.write_text(render_site(stack, certs))
    main = tmp / "nginx.conf"
    main.write_text(nginx_main_conf(tmp, site))
    checked = subprocess.run([str(NGINX), "-t", "-p", str(tmp), "-c", str(main)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr

    with stack.gunicorn_log.open("wb") as log:
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "zhitongche.wsgi:application"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    nginx = subprocess.Popen([str(NGINX), "-p", str(tmp), "-c", str(main), "-g", "daemon off;"])
    try:
        wait_for_port(stack.gunicorn_port, gunicorn, "gunicorn")
        wait_for_port(stack.https_port, nginx, "nginx")
        yield stack
    finally:
        for process in (nginx, gunicorn):
            process.terminate()
        for process in (nginx, gunicorn):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
