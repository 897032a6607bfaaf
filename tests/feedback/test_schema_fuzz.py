"""Schemathesis against /api/v1/schema/ (reliability plan I1): no 5xx, no response off the schema.

In-process over WSGI, as a county leader, a department member and anonymously, with a bounded
number of examples per operation so the whole run stays within a few minutes on two cores.
Skip it locally with ``-m "not fuzz"``; CI runs it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.factories import assigned
from zhitongche.wsgi import application

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    # Django's own test client does this too: the WSGI handler's close_old_connections would close
    # the connection holding the test's transaction (PostgreSQL; SQLite's in-memory one survives).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def headers_by_role(leader: object, zjj_staff: object, netoffice: object) -> dict[str, dict[str, str]]:
    # Some data in every role's scope, so list and detail operations have something to answer.
    assigned(netoffice, lead="zjj", co=("jtj",))
    assigned(netoffice, lead="jyj")
    return {
        "leader": {"Authorization": f"Token {Token.objects.create(user=leader).key}"},
        "department": {"Authorization": f"Token {Token.objects.create(user=zjj_staff).key}"},
        "anonymous": {},
    }


# Loaded at collection: drf-spectacular builds the schema from code, without the database.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)


FUZZ = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


def call_and_check(case: schemathesis.Case, headers: dict[str, str]) -> None:
    case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])


@schema.parametrize()
@FUZZ
def test_api_as_a_county_leader(case: schemathesis.Case, headers_by_role: dict[str, dict[str, str]]) -> None:
    call_and_check(case, headers_by_role["leader"])


@schema.parametrize()
@FUZZ
def test_api_as_a_department_member(case: schemathesis.Case, headers_by_role: dict[str, dict[str, str]]) -> None:
    call_and_check(case, headers_by_role["department"])


@schema.parametrize()
@FUZZ
def test_api_anonymously(case: schemathesis.Case, headers_by_role: dict[str, dict[str, str]]) -> None:
    call_and_check(case, headers_by_role["anonymous"])
