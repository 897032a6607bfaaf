"""The files in deploy/ hold together: the environment template names every variable the code
reads and passes ``check --deploy``; the systemd units and the compose file run web, worker and
exactly one beat with the shipped gunicorn configuration; zhitongche-manage runs a command with
the template's environment."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.deploy.conftest import ROOT, database_url

DEPLOY = ROOT / "deploy"
# os.environ.get("X"), os.environ["X"], environ.get("X"), envbool/envint/envlist("X")
READ = re.compile(
    r"""(?:environ(?:\.get|\.setdefault)?\(|environ\[|env(?:bool|int|list)\()"""
    r"""\s*["']([A-Z][A-Z0-9_]+)["']"""
)
NOT_CONFIGURATION = {
    "DJANGO_SETTINGS_MODULE",  # fixed by manage.py, wsgi.py and celery.py
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # tests only
    "PATH",  # passed on to the preview renderer's child process, not a setting
}


def template_variables() -> set[str]:
    names = set()
    for line in (DEPLOY / "zhitongche.env.example").read_text().splitlines():
        match = re.match(r"^#?([A-Z][A-Z0-9_]+)=", line)
        if match:
            names.add(match.group(1))
    return names


def variables_read_by_the_code() -> set[str]:
    names = set()
    for folder in ("zhitongche", "feedback", "channels_net", "channels_enterprise", "channels_citizen", "deploy"):
        for path in (ROOT / folder).rglob("*.py"):
            names |= set(READ.findall(path.read_text()))
    for unit in (DEPLOY / "systemd").glob("*.service"):
        names |= set(re.findall(r"\$\{([A-Z_]+)\}", unit.read_text()))
    return names - NOT_CONFIGURATION


def test_the_environment_template_lists_every_variable_the_portal_reads():
    missing = variables_read_by_the_code() - template_variables()
    assert missing == set(), f"add to deploy/zhitongche.env.example: {sorted(missing)}"
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS", "MEDIA_ROOT"} <= template_variables()


@pytest.mark.postgres
def test_the_template_passes_check_deploy(tmp_path, django_db_setup):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "zhitongche.settings"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests' conftest; never in production
    for line in (DEPLOY / "zhitongche.env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key] = value
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=database_url(),
        VAR_DIR=str(tmp_path),
        MEDIA_ROOT=str(tmp_path / "media"),
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/8"),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def unit(name: str) -> str:
    return (DEPLOY / "systemd" / name).read_text()


def test_the_systemd_units_run_web_worker_and_one_beat_from_the_env_file():
    web, worker, beat = (unit(f"zhitongche-{n}.service") for n in ("web", "worker", "beat"))
    for text in (web, worker, beat):
        assert "EnvironmentFile=/etc/zhitongche/zhitongche.env" in text
        assert "User=zhitongche" in text
        assert "UMask=0027" in text  # files 0640: readable by nginx through the group, nobody else
    assert "gunicorn -c deploy/gunicorn.conf.py zhitongche.wsgi:application" in web
    assert "celery -A zhitongche worker" in worker
    assert "celery -A zhitongche beat" in beat
    assert "EXACTLY ONE" in beat
    # The target pulls in web and worker everywhere; beat only where it is enabled by hand.
    wants = next(line for line in unit("zhitongche.target").splitlines() if line.startswith("Wants="))
    assert wants == "Wants=zhitongche-web.service zhitongche-worker.service"


def test_compose_has_the_same_pieces_and_one_beat():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"db", "redis", "setup", "web", "worker", "beat", "nginx"} <= set(services)
    assert "deploy" not in services["beat"] or services["beat"]["deploy"].get("replicas", 1) == 1
    assert "deploy/gunicorn.conf.py" in services["web"]["command"]
    assert "./nginx/zhitongche.conf:/etc/zhitongche/zhitongche.conf:ro" in services["nginx"]["volumes"]
    # The nginx container rewrites only the upstream: the rest is the tested site file.
    assert "server 127.0.0.1:8000;" in (DEPLOY / "nginx/zhitongche.conf").read_text()
    assert (DEPLOY / "docker/Dockerfile").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="runuser needs root")
def test_zhitongche_manage_runs_a_command_with_the_env_file(tmp_path):
    env_file = tmp_path / "zhitongche.env"
    env_file.write_text(
        f"DEBUG=0\nSECRET_KEY={'k' * 50}\nVAR_DIR={tmp_path}\nMEDIA_ROOT={tmp_path}/media\n"
        f"DATABASE_URL=sqlite:///{tmp_path}/db.sqlite3\n"
    )
    env = {**os.environ, "ZHITONGCHE_ENV": str(env_file), "ZHITONGCHE_APP": str(ROOT), "ZHITONGCHE_USER": "root"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [str(DEPLOY / "bin/zhitongche-manage"), "diffsettings"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert f"MEDIA_ROOT = PosixPath('{tmp_path}/media')" in result.stdout
    assert "DEBUG = True" not in result.stdout


def test_every_alert_uses_metrics_the_portal_exports():
    from zhitongche import metrics

    source = Path(metrics.__file__).read_text()  # where every ztc_ series is named
    rules = yaml.safe_load((DEPLOY / "prometheus/alerts.yml").read_text())["groups"][0]["rules"]
    for rule in rules:
        for name in re.findall(r"\b(ztc_[a-z_]+|up)\b", rule["expr"]):
            base = re.sub(r"_(bucket|count|sum)$", "", name)
            assert name == "up" or f'"{base}"' in source, (rule["alert"], name)
    assert {"ZhitongcheSweepLate", "ZhitongcheQueueGrowing", "ZhitongcheMediaDiskLow"} <= {r["alert"] for r in rules}


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), *sorted((DEPLOY).rglob("*"))]


def test_no_document_sends_the_reader_outside_the_repository():
    for path in documents():
        if path.is_file():
            text = path.read_text(errors="replace")
            assert "shared/" not in text and "CONTRACT.md" not in text, path


def test_every_relative_link_in_the_docs_points_at_a_file_that_exists():
    for path in documents():
        if path.suffix != ".md":
            continue
        for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()):
            if target.startswith(("http://", "https://", "#", "mailto:")):
                continue
            assert (path.parent / target.split("#")[0]).exists(), (path.name, target)
