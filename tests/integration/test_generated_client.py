"""A client generated from the live OpenAPI schema (openapi-python-client, as docs/api.md shows)
makes the integrators' common calls against a running portal: list my assignments, acknowledge,
upload a reply, read the statistics; without a token it gets 401.

If a schema change made the generated names unusable (a Chinese enum title becoming a class
name) or broke a call, this fails.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib
import io
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from feedback.access import Role
from feedback.models import SignedReply
from tests.conftest import make_user, pdf_bytes
from tests.factories import assigned

pytestmark = pytest.mark.django_db(transaction=True)
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
CONFIG = """project_name_override: zhitongche-api-client
package_name_override: zhitongche_api_client
post_hooks: []
"""


@pytest.fixture
def generated(live_server, tmp_path):
    from feedback.services.reference import load_reference_data

    load_reference_data()
    leader = make_user("leader", role=Role.LEADER)
    token = Token.objects.create(user=leader).key
    request = urllib.request.Request(  # noqa: S310 (the live test server)
        f"{live_server.url}/api/v1/schema/",
        headers={"Authorization": f"Token {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        (tmp_path / "schema.yaml").write_bytes(answer.read())
    (tmp_path / "config.yaml").write_text(CONFIG)
    subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(tmp_path / "schema.yaml"),
            "--config",
            str(tmp_path / "config.yaml"),
            "--output-path",
            str(tmp_path / "client"),
        ],
        check=True,
        capture_output=True,
    )
    sys.path.insert(0, str(tmp_path / "client"))
    try:
        yield importlib.import_module("zhitongche_api_client")
    finally:
        sys.path.remove(str(tmp_path / "client"))
        for name in [m for m in sys.modules if m.startswith("zhitongche_api_client")]:
            del sys.modules[name]


def test_the_generated_client_lists_acknowledges_uploads_and_reads_statistics(generated, live_server):
    from zhitongche_api_client import AuthenticatedClient, Client
    from zhitongche_api_client.api.assignments import (
        assignments_acknowledge_create,
        assignments_list,
        assignments_replies_create,
    )
    from zhitongche_api_client.api.stats import stats_summary_retrieve
    from zhitongche_api_client.models import AssignmentStatusEnum, ReplyCreateRequest, ResultEnum
    from zhitongche_api_client.types import File

    netoffice = make_user("netoffice", department="wxb", role=Role.OFFICE)
    zjj_head = make_user("zjj_head", department="zjj", role=Role.DEPARTMENT, is_head=True)
    issue, (assignment,) = assigned(
        netoffice, lead="zjj", assigned_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    bureau = AuthenticatedClient(
        base_url=live_server.url, token=Token.objects.create(user=zjj_head).key, prefix="Token"
    )

    page = assignments_list.sync(client=bureau, status=AssignmentStatusEnum.PENDING)
    assert page.count == 1
    assert page.results[0].issue_ref == issue.ref

    acknowledged = assignments_acknowledge_create.sync(assignment.pk, client=bureau)
    assert acknowledged.status == AssignmentStatusEnum.ACKNOWLEDGED

    scan = pdf_bytes()
    body = ReplyCreateRequest(
        file=File(payload=io.BytesIO(scan), file_name="回复函.pdf", mime_type="application/pdf"),
        signer_name="王建国",
        signer_title="局长",
        signed_on=timezone.localdate(),
        result=ResultEnum.EXPLAINED,
        summary="已答复。",
    )
    uploaded = assignments_replies_create.sync_detailed(assignment.pk, client=bureau, body=body)
    assert uploaded.status_code == 201, uploaded.content
    assert SignedReply.objects.get(assignment=assignment).sha256 == hashlib.sha256(scan).hexdigest()

    office = AuthenticatedClient(
        base_url=live_server.url, token=Token.objects.create(user=netoffice).key, prefix="Token"
    )
    summary = stats_summary_retrieve.sync(client=office)
    assert summary.issues == 1
    assert summary.assignments == 1

    anonymous = assignments_list.sync_detailed(client=Client(base_url=live_server.url))
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Token"
