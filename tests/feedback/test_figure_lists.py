"""Every count of the statistics API leads to exactly its records (docs/api.md, "Drill-down lists").

The property: over random data built through the real services (tests/feedback/test_rollup.build:
co-handling, objections, extensions, returned replies, replies and closures after ``as_of``, ratings
with 未联系上, re-handling), for random filter combinations, ``as_of`` dates and users, every URL in
every ``lists`` of every statistics answer (summary, departments, categories, townships, months),
followed as the client would, answers a ``count`` equal to the figure it stands for.
"""

from __future__ import annotations

import datetime
import random
from urllib.parse import parse_qs, urlsplit

import pytest
from rest_framework.test import APIClient

from feedback import services, tasks
from feedback.access import Role
from feedback.figures import lists
from feedback.models import Category
from tests.conftest import make_user
from tests.feedback.test_rollup import AS_OF, CATEGORIES, CHANNELS, WINDOWS, build, dept, on, reply

pytestmark = pytest.mark.django_db

D = datetime.date
ENDPOINTS = ("summary", "departments", "categories", "townships", "months")


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def query(channel, department, category, start, end, as_of) -> str:
    values = {
        "channel": channel,
        "department": department,
        "category": category,
        "received_from": start.isoformat() if start else "",
        "received_to": end.isoformat() if end else "",
        "as_of": as_of.isoformat(),
    }
    return "&".join(f"{k}={v}" for k, v in values.items() if v)


def rows_of(client: APIClient, endpoint: str, params: str) -> list[dict]:
    response = client.get(f"/api/v1/stats/{endpoint}/?{params}")
    assert response.status_code == 200, response.content
    body = response.json()
    return [body] if endpoint == "summary" else body


def assert_every_list_counts_its_figure(client: APIClient, params: str, *, own: str | None = None) -> int:
    """Follow every URL of every row's ``lists``; return how many were followed."""
    followed = 0
    for endpoint in ENDPOINTS:
        for row in rows_of(client, endpoint, params):
            expected = set(
                lists.DEPARTMENT_LISTS
                if endpoint == "departments"
                else lists.SUMMARY_LISTS
                if endpoint == "summary"
                else lists.BREAKDOWN_LISTS
            )
            assert set(row["lists"]) == expected, endpoint
            for name, url in row["lists"].items():
                if url is None:  # an assignment list a department member may not read whole
                    assert own is not None and not lists.is_issue_figure(name)
                    continue
                shown = parse_qs(urlsplit(url).query)
                assert shown["as_of"] == [parse_qs(params)["as_of"][0]]  # the same as_of, always explicit
                response = client.get(url)
                assert response.status_code == 200, (url, response.content)
                figure = row[name]
                assert response.json()["count"] == figure, (
                    endpoint,
                    row.get("department") or row.get("category") or row.get("township") or row.get("month"),
                    name,
                    url,
                )
                followed += 1
    return followed


def on_the_boundaries() -> D:
    """Issues where every "on or before" is an "on": a reply on its due date, an assignment due on
    ``as_of`` and unreplied, a closure and a re-handling on ``as_of``. Returns that ``as_of``."""
    received = D(2026, 6, 1)
    made = []
    for n in range(3):
        with on(received):
            issue = services.register_issue(
                actor=None,
                channel="net",
                category=Category.objects.get(code="housing"),
                requester=services.RequesterData(name=f"边界{n}", phone=""),
                title=f"边界{n}",
                content="请答复。",
                received_on=received,
                nature="suggestion",
            )
            (a,) = services.assign_issue(actor=None, issue=issue, lead=dept("zjj"), co=[], assigned_on=received)
        made.append((issue, a))
    due = made[0][1].due_date
    reply(made[0][1], due)  # on time, on the day
    reply(made[1][1], due - datetime.timedelta(days=1))
    with on(due):
        issue = made[1][0]
        services.record_follow_up(actor=None, issue=issue, satisfaction="dissatisfied", on=due)
        services.reopen_issue(actor=None, issue=issue, reason="群众不满意")  # re-handled on as_of
    with on(due):
        services.record_follow_up_skipped(actor=None, issue=made[0][0], reason="refused")
        services.close_issue(actor=None, issue=made[0][0], on=due)  # closed on as_of
    return due  # made[2]: due on as_of, unreplied: not yet overdue


@pytest.fixture
def users(reference):
    return {
        "leader": make_user("leader_x", role=Role.LEADER),
        "leader of jtj": make_user("leader_jtj", department="jtj", role=Role.LEADER),  # jtj's accusations hidden
        "政网 office": make_user("netoffice_x", department="wxb", role=Role.OFFICE),
        "zjj staff": make_user("zjj_x", department="zjj", role=Role.DEPARTMENT),
    }


@pytest.mark.parametrize("seed", [11, 12])
def test_every_list_counts_exactly_its_figure_for_random_data_filters_and_as_of(users, seed):
    build(seed, 26)
    if seed % 2:
        tasks.refresh_stats_rollup()  # one seed read from the rollup, the other live (marked keys)
    rng = random.Random(seed)
    followed = 0
    for _ in range(8):
        name = rng.choice(sorted(users))
        start, end = rng.choice(WINDOWS)
        params = query(
            rng.choice(("", *CHANNELS)),
            rng.choice(("", "zjj", "hqz", "jtj")),
            rng.choice(("", *CATEGORIES[:2])),
            start,
            end,
            rng.choice(AS_OF),
        )
        own = "zjj" if name == "zjj staff" else None
        followed += assert_every_list_counts_its_figure(api(users[name]), params, own=own)
    as_of = on_the_boundaries()
    for name in ("leader", "政网 office"):
        for day in (as_of - datetime.timedelta(days=1), as_of, as_of + datetime.timedelta(days=1)):
            followed += assert_every_list_counts_its_figure(api(users[name]), f"channel=net&as_of={day}")
    assert followed > 200  # the property was really exercised


def test_each_figure_list_differs_from_its_neighbours(users):
    """On data where they differ, swapping two definitions would be seen (a mutation check)."""
    build(5, 30)
    client = api(users["leader"])
    body = client.get("/api/v1/stats/summary/?as_of=2026-05-20").json()
    pairs = [
        ("on_time", "late"),
        ("replied", "closed"),
        ("rated", "satisfied"),
        ("overdue_open", "not_yet_due"),
        ("followed_up", "rated"),
    ]
    for a, b in pairs:
        assert body[a] != body[b], (a, b)  # the data tells them apart…
        refs = [{r.get("ref") or r.get("id") for r in _all(client, body["lists"][n])} for n in (a, b)]
        assert len(refs[0]) == body[a] and len(refs[1]) == body[b]  # …and so do the lists


def _all(client: APIClient, url: str) -> list[dict]:
    rows: list[dict] = []
    while url:
        page = client.get(url).json()
        rows += page["results"]
        url = page["next"]
    return rows


def test_a_list_has_the_statistics_api_validation(users):
    client = api(users["leader"])
    assert client.get("/api/v1/issues/figures/replied/?department=nope").status_code == 400
    assert client.get("/api/v1/issues/figures/nope/").status_code == 404
    assert client.get("/api/v1/assignments/figures/replied/").status_code == 404  # an issue figure
    assert client.get("/api/v1/assignments/figures/on_time/?unit=nope").status_code == 400


def test_a_department_member_gets_its_own_rows_lists_and_no_others_assignments(users):
    build(7, 20)
    client = api(users["zjj staff"])
    summary = client.get("/api/v1/stats/summary/?as_of=2026-12-31").json()
    assert summary["lists"]["assignments"] is None and summary["lists"]["replied"] is not None
    (row,) = client.get("/api/v1/stats/departments/?as_of=2026-12-31").json()
    assert row["department"] == "zjj"
    assert client.get(row["lists"]["assignments"]).json()["count"] == row["assignments"] > 0


def test_a_figure_list_takes_a_constant_number_of_queries(users, django_assert_max_num_queries):
    client = api(users["leader"])
    build(3, 6)
    url = "/api/v1/issues/figures/replied/?as_of=2026-12-31&page_size=200"
    with django_assert_max_num_queries(12) as small:
        client.get(url)
    build(4, 24)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url).json()["count"] > 0
    url = "/api/v1/assignments/figures/on_time/?as_of=2026-12-31&page_size=200"
    with django_assert_max_num_queries(12):
        assert client.get(url).json()["count"] > 0
