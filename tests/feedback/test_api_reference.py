"""GET /api/v1/departments/ and /api/v1/categories/: reference data, read-only, not paginated."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient


def client_for(user: Any) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_every_department_is_listed_without_pagination(zjj_staff):
    response = client_for(zjj_staff).get("/api/v1/departments/")

    assert response.status_code == 200
    rows = {row["code"]: row for row in response.json()}
    assert len(rows) == 26
    assert rows["zjj"] == {
        "code": "zjj",
        "name": "县住房和城乡建设局",
        "kind": "bureau",
        "kind_label": "县直部门",
        "channel": "",
        "active": True,
    }
    assert rows["wxb"]["channel"] == "net"


def test_departments_filter_by_kind_and_are_found_by_code(zjj_staff):
    api = client_for(zjj_staff)

    townships = api.get("/api/v1/departments/", {"kind": "township"}).json()
    one = api.get("/api/v1/departments/hqz/")

    assert {row["code"] for row in townships} == {"jkz", "gsz", "zsz", "sjz", "hqz", "smz", "ltz", "dkz"}
    assert one.json()["name"] == "黄桥镇"
    assert api.get("/api/v1/departments/nowhere/").status_code == 404


def test_every_category_is_listed_without_pagination(leader):
    response = client_for(leader).get("/api/v1/categories/")

    assert response.status_code == 200
    assert len(response.json()) == 14
    assert {"code": "housing", "name": "住房和城乡建设", "parent": None, "active": True} in response.json()


@pytest.mark.parametrize("url", ["/api/v1/departments/", "/api/v1/categories/"])
def test_reference_data_is_read_only(admin_user, url):
    response = client_for(admin_user).post(url, {"code": "new", "name": "新"}, format="json")

    assert response.status_code == 405
