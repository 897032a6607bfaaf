"""Statements compiled once per process (feedback.compiled, decision 0810): the same rows as the queryset built
anew, the values bound where they belong, and a builder whose statement would not be the same refused."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback.compiled import CompiledQuery
from feedback.context_processors import UNREAD
from feedback.models import CalendarDay, Category, Department, Notification
from feedback.security.auth import SESSION_USER, _session_user
from feedback.security.sessions import LIVE_SESSION, SessionStore
from feedback.workcalendar import DAYS, YEARS, _days, _years, load_calendar

pytestmark = pytest.mark.postgres


def fields(obj) -> dict:
    return {k: v for k, v in vars(obj).items() if k != "_state" and not k.startswith("_")}


def test_the_session_user_is_read_as_the_queryset_reads_it_for_every_role(
    netoffice, zjj_head, zjj_staff, leader, admin_user
):
    Notification.objects.create(recipient=zjj_head, kind="assigned", deadline_version=1, title="通知", body="")
    Notification.objects.create(recipient=zjj_head, kind="assigned", deadline_version=2, title="通知", body="")
    for user in (netoffice, zjj_head, zjj_staff, leader, admin_user):
        compiled, plain = SESSION_USER.first(pk=user.pk), _session_user(user.pk).get()
        assert fields(compiled) == fields(plain)
        membership = getattr(plain, "membership", None)
        if membership is not None:
            assert fields(compiled.membership) == fields(membership)
            assert fields(compiled.membership.department) == fields(membership.department)
    assert getattr(SESSION_USER.first(pk=zjj_head.pk), UNREAD) == 2
    assert getattr(SESSION_USER.first(pk=netoffice.pk), UNREAD) == 0
    assert SESSION_USER.first(pk=10**6) is None


def test_a_compiled_statement_is_built_and_compiled_once_and_then_only_run(zjj_head, netoffice):
    SESSION_USER.first(pk=zjj_head.pk)  # compiled here if no earlier test did
    compiling = mock.patch.object(SQLCompiler, "as_sql", autospec=True, side_effect=SQLCompiler.as_sql)
    with compiling as as_sql, CaptureQueriesContext(connection) as run:
        first, second = SESSION_USER.first(pk=zjj_head.pk), SESSION_USER.first(pk=netoffice.pk)
    assert as_sql.call_count == 0
    assert (first.username, second.username) == ("zjj_head", "netoffice")
    assert len(run.captured_queries) == 2
    assert run.captured_queries[0]["sql"].replace(str(zjj_head.pk), "?") == run.captured_queries[1]["sql"].replace(
        str(netoffice.pk), "?"
    )


def test_the_session_row_is_read_live_and_an_expired_or_unknown_key_is_forgotten(netoffice):
    client = Client()
    client.force_login(netoffice)
    key = client.session.session_key
    assert SessionStore(key).load()["_auth_user_id"] == str(netoffice.pk)
    assert client.get("/issues/").status_code == 200
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    expired = SessionStore(key)
    assert expired.load() == {} and expired.session_key is None
    assert client.get("/issues/").status_code == 302  # to the login page
    unknown = SessionStore("x" * 32)
    assert unknown.load() == {} and unknown.session_key is None
    now = timezone.now()
    assert LIVE_SESSION.first(session_key=key, now=now) is None


def test_the_calendar_is_read_as_the_querysets_read_it(reference):
    Category.objects.exists()  # the reference data seeds the calendar
    CalendarDay.objects.update_or_create(
        date=datetime.date(2026, 10, 10),
        source=CalendarDay.Source.COUNTY,
        defaults={"is_workday": False, "name": "县里的休息日"},
    )
    for first, last in [
        (datetime.date(2026, 9, 20), datetime.date(2026, 10, 31)),
        (datetime.date(2025, 12, 1), datetime.date(2027, 2, 1)),
        (datetime.date(2001, 1, 1), datetime.date(2001, 1, 2)),
    ]:
        assert DAYS.fetch(first=first, last=last) == list(_days(first, last))
        assert YEARS.fetch(first=first.year, last=last.year) == list(_years(first.year, last.year))
    calendar = load_calendar(datetime.date(2026, 10, 1), datetime.date(2026, 10, 31))
    assert calendar.overrides[datetime.date(2026, 10, 10)] == (False, "县里的休息日")  # the county row wins
    assert calendar.overrides[datetime.date(2026, 10, 1)][0] is False  # 国庆节


def test_a_value_that_a_lookup_transforms_is_refused(reference):
    contains = CompiledQuery(lambda name: Department.objects.filter(name__contains=name), name=str)
    with pytest.raises(ValueError, match="is not a parameter"):
        contains.fetch(name="局")


def test_a_date_or_time_built_into_the_statement_is_refused(reference):
    frozen = CompiledQuery(
        lambda pk: Notification.objects.filter(recipient_id=pk, created_at__lte=timezone.now()), pk=int
    )
    with pytest.raises(ValueError, match="date or time built into the statement"):
        frozen.fetch(pk=1)


def test_a_builder_whose_statement_depends_on_its_values_is_refused(reference):
    by_size = CompiledQuery(
        lambda pk: Department.objects.filter(pk=pk) if pk % 2 else Department.objects.filter(pk=pk, active=True),
        pk=int,
    )
    with pytest.raises(ValueError, match="depends on the values"):
        by_size.fetch(pk=1)


def test_the_values_must_be_the_ones_declared(reference):
    with pytest.raises(TypeError, match="expected the values"):
        SESSION_USER.fetch(id=1)


def test_on_another_database_the_queryset_is_built_and_run_as_usual(monkeypatch, netoffice):
    query = CompiledQuery(lambda pk: get_user_model().objects.filter(pk=pk), pk=int)
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with mock.patch.object(SQLCompiler, "as_sql", autospec=True, side_effect=SQLCompiler.as_sql) as as_sql:
        assert [u.username for u in query.fetch(pk=netoffice.pk)] == ["netoffice"]
        assert [u.username for u in query.fetch(pk=netoffice.pk)] == ["netoffice"]
    assert as_sql.call_count == 2  # compiled for each run
    assert query._statements == {}
