"""Reply files on S3-compatible object storage (S3_BUCKET; docs/scaling.md), against a real S3 API
server on this machine: moto in server mode, spoken to over HTTP by django-storages and boto3
exactly as a MinIO or a government cloud would be.

The scan lands in the bucket (not in MEDIA_ROOT), a permitted download returns its bytes, a
refused one is 404 (the permission check does not change), X-Accel-Redirect is not used for it,
and backup/restore carry the objects into an empty bucket.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from feedback import services
from feedback.access import Role
from tests.conftest import make_user, reply_pdf
from tests.deploy.conftest import ROOT, free_port, require, wait_for_port
from tests.factories import assigned

MOTO = Path(sys.executable).with_name("moto_server")
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}  # moto accepts any


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require(MOTO, "pip install 'moto[server]' (the dev extra)")
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as out:
        server = subprocess.Popen([str(MOTO), "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=out)
    try:
        wait_for_port(port, server, "moto_server")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def s3_client(endpoint: str):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def storage_options(endpoint: str, bucket: str) -> dict[str, object]:
    return {
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        "access_key": "testing",
        "secret_key": "testing",
        "region_name": "us-east-1",
        "location": "media",
        "default_acl": "private",
        "file_overwrite": False,
        "addressing_style": "path",
        "signature_version": "s3v4",
    }


@pytest.fixture
def bucket(s3_endpoint: str, settings, request) -> str:
    name = f"ztc-{request.node.name[:30].replace('_', '-').lower()}-{os.getpid()}"
    s3_client(s3_endpoint).create_bucket(Bucket=name)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": storage_options(s3_endpoint, name)},
    }
    settings.X_ACCEL_REDIRECT_PREFIX = "/protected/"  # must not be used for objects
    return name


@pytest.fixture
def world(reference):
    netoffice = make_user("netoffice", department="wxb", role=Role.OFFICE)
    zjj_head = make_user("zjj_head", department="zjj", role=Role.DEPARTMENT, is_head=True)
    jyj_head = make_user("jyj_head", department="jyj", role=Role.DEPARTMENT, is_head=True)
    _issue, (lead,) = assigned(netoffice, lead="zjj", assigned_on=timezone.localdate() - datetime.timedelta(days=3))
    return {"lead": lead, "zjj_head": zjj_head, "jyj_head": jyj_head}


def submit(world) -> object:
    return services.submit_reply(
        actor=world["zjj_head"],
        assignment=world["lead"],
        file=reply_pdf("回复函.pdf"),
        signer_name="王建国",
        signer_title="局长",
        signed_on=timezone.localdate(),
        result="explained",
        summary="已答复。",
    )


@pytest.mark.django_db
def test_a_reply_is_stored_in_the_bucket_and_downloaded_after_the_permission_check(bucket, s3_endpoint, world):
    reply = submit(world)

    stored = s3_client(s3_endpoint).get_object(Bucket=bucket, Key=f"media/{reply.file.name}")["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == reply.sha256
    assert not (Path(settings.MEDIA_ROOT) / reply.file.name).exists()

    permitted = Client()
    permitted.force_login(world["zjj_head"])
    response = permitted.get(f"/replies/{reply.pk}/download/")
    assert response.status_code == 200
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == reply.sha256
    assert "X-Accel-Redirect" not in response  # nginx cannot read a bucket: the portal streams it
    assert response["Content-Disposition"].startswith("attachment")

    refused = Client()
    refused.force_login(world["jyj_head"])
    assert refused.get(f"/replies/{reply.pk}/download/").status_code == 404
    assert refused.get(f"/api/v1/replies/{reply.pk}/download/").status_code == 404


@pytest.mark.django_db
def test_the_objects_are_private(bucket, s3_endpoint, world):
    reply = submit(world)
    acl = s3_client(s3_endpoint).get_object_acl(Bucket=bucket, Key=f"media/{reply.file.name}")
    assert {g["Permission"] for g in acl["Grants"] if g["Grantee"].get("Type") == "Group"} == set()


@pytest.mark.postgres
def test_backup_and_restore_carry_the_objects_into_an_empty_bucket(bucket, s3_endpoint, transactional_db, tmp_path):
    from django.core.management import call_command

    from feedback.services.reference import load_reference_data
    from tests.operations.test_backup_restore import admin_dsn

    load_reference_data()
    netoffice = make_user("netoffice", department="wxb", role=Role.OFFICE)
    zjj_head = make_user("zjj_head", department="zjj", role=Role.DEPARTMENT, is_head=True)
    _issue, (lead,) = assigned(netoffice, lead="zjj", assigned_on=timezone.localdate())
    reply = submit({"zjj_head": zjj_head, "lead": lead})
    archive = tmp_path / "backup.tar"
    call_command("backup", str(archive))

    import psycopg

    target_db = f"{settings.DATABASES['default']['NAME']}_s3restore"
    target_bucket = bucket + "-restored"
    s3_client(s3_endpoint).create_bucket(Bucket=target_bucket)
    with psycopg.connect(admin_dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target_db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{target_db}"')
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        **CREDENTIALS,
        "DJANGO_SETTINGS_MODULE": "zhitongche.settings",
        "DEBUG": "0",
        "SECRET_KEY": "s" * 50,
        "VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{target_db}",
        "S3_BUCKET": target_bucket,
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_ACCESS_KEY_ID": "testing",
        "S3_SECRET_ACCESS_KEY": "testing",
        "S3_REGION": "us-east-1",
    }
    try:
        result = subprocess.run(
            [sys.executable, "manage.py", "restore", str(archive)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        with psycopg.connect(admin_dsn(target_db)) as conn:
            ((name, sha),) = conn.execute("SELECT file, sha256 FROM feedback_signedreply").fetchall()
    finally:
        with psycopg.connect(admin_dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{target_db}" WITH (FORCE)')
    restored = s3_client(s3_endpoint).get_object(Bucket=target_bucket, Key=f"media/{name}")["Body"].read()
    assert hashlib.sha256(restored).hexdigest() == sha == reply.sha256
