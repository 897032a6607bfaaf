from __future__ import annotations

import io
import os

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from feedback.access import GROUP_NAMES, Role
from feedback.models import Department, Membership
from feedback.services.reference import load_reference_data


def _on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (triggers, row locks): run with DATABASE_URL=postgres://…")
    skip_redis = pytest.mark.skip(reason="needs a Redis server: run with REDIS_URL=redis://…")
    for item in items:
        if "postgres" in item.keywords and not _on_postgres():
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not os.environ.get("REDIS_URL"):
            item.add_marker(skip_redis)


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Every test starts with an empty cache: hot topics kept by an earlier test (decision 0700) or its
    rate-limit counters must not answer for this one."""
    cache.clear()


@pytest.fixture
def reference(db: None) -> None:
    """Categories, departments, groups, deadline policies and the 2004–2026 calendar."""
    load_reference_data()


def make_user(
    username: str,
    *,
    department: str | None = None,
    role: str | None = None,
    is_head: bool = False,
    superuser: bool = False,
) -> object:
    user = get_user_model().objects.create_user(
        username=username, password="pw-for-tests-123", first_name=username, is_superuser=superuser, is_staff=superuser
    )
    if role:
        user.groups.add(Group.objects.get(name=GROUP_NAMES[role]))
    if department:
        Membership.objects.create(user=user, department=Department.objects.get(code=department), is_head=is_head)
    return user


@pytest.fixture
def netoffice(reference: None) -> object:
    return make_user("netoffice", department="wxb", role=Role.OFFICE)


@pytest.fixture
def ezoneoffice(reference: None) -> object:
    return make_user("ezoneoffice", department="jkq", role=Role.OFFICE)


@pytest.fixture
def petitionoffice(reference: None) -> object:
    return make_user("petitionoffice", department="xfj", role=Role.OFFICE)


@pytest.fixture
def zjj_head(reference: None) -> object:
    return make_user("zjj_head", department="zjj", role=Role.DEPARTMENT, is_head=True)


@pytest.fixture
def zjj_staff(reference: None) -> object:
    return make_user("zjj_staff", department="zjj", role=Role.DEPARTMENT)


@pytest.fixture
def jyj_head(reference: None) -> object:
    return make_user("jyj_head", department="jyj", role=Role.DEPARTMENT, is_head=True)


@pytest.fixture
def hqz_head(reference: None) -> object:
    return make_user("hqz_head", department="hqz", role=Role.DEPARTMENT, is_head=True)


@pytest.fixture
def leader(reference: None) -> object:
    return make_user("leader", role=Role.LEADER)


@pytest.fixture
def admin_user(reference: None) -> object:
    return make_user("admin", role=Role.ADMIN, superuser=True)


def pdf_bytes(pages: int = 1) -> bytes:
    import pikepdf

    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def reply_pdf(name: str = "回复函.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(), content_type="application/pdf")


@pytest.fixture
def jtj_head(reference: None) -> object:
    return make_user("jtj_head", department="jtj", role=Role.DEPARTMENT, is_head=True)
