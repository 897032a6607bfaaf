"""GET /api/v1/stats/… as docs/api.md defines them, on the hand-computed cohort of test_statistics.py."""

from __future__ import annotations

import datetime

import pytest
from rest_framework.test import APIClient

from feedback.models import Assignment, Issue
from tests.feedback.test_statistics import D, make, may  # noqa: F401  (the fixture, used by name)

pytestmark = pytest.mark.django_db

MAY = "received_from=2026-05-01&received_to=2026-05-31&as_of=2026-05-31"
SUMMARY_FIELDS = {
    "issues",
    "requesters",
    "replied",
    "reply_rate",
    "closed",
    "closure_rate",
    "assignments",
    "on_time",
    "late",
    "overdue_open",
    "on_time_rate",
    "rated",
    "satisfied",
    "satisfaction_rate",
}
DEPARTMENT_FIELDS = {
    "department",
    "name",
    "kind",
    "assignments",
    "on_time",
    "late",
    "overdue_open",
    "on_time_rate",
    "replied",
    "reply_rate",
}


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.usefixtures("may")
def test_summary_has_the_contract_fields_and_the_hand_computed_numbers(leader):
    response = api(leader).get(f"/api/v1/stats/summary/?{MAY}")

    assert response.status_code == 200
    body = response.json()
    assert set(body) >= SUMMARY_FIELDS
    # See test_statistics.may for the cohort and test_summary_of_a_hand_computed_cohort for the sums.
    assert {k: body[k] for k in SUMMARY_FIELDS} == {
        "issues": 7,
        "requesters": 6,
        "replied": 3,
        "reply_rate": 42.9,  # 3/7
        "closed": 2,
        "closure_rate": 28.6,  # 2/7
        "assignments": 7,
        "on_time": 3,
        "late": 1,
        "overdue_open": 2,
        "on_time_rate": 50.0,  # 3/(3+1+2)
        "rated": 3,
        "satisfied": 2,
        "satisfaction_rate": 66.7,  # 未联系上 is not a rating: 2/3
    }
    assert isinstance(body["reply_rate"], float)  # a JSON number, not a string
    assert (body["unreachable"], body["not_yet_due"], body["as_of"]) == (1, 1, "2026-05-31")
    assert (body["on_time_original"], body["late_original"], body["overdue_open_original"]) == (3, 1, 2)


@pytest.mark.usefixtures("may")
def test_replies_and_closures_after_as_of_count_as_not_yet_happened(leader):
    before = (
        api(leader)
        .get("/api/v1/stats/summary/?received_from=2026-05-01&received_to=2026-05-31&as_of=2026-06-02")
        .json()
    )
    after = (
        api(leader)
        .get("/api/v1/stats/summary/?received_from=2026-05-01&received_to=2026-05-31&as_of=2026-06-05")
        .json()
    )

    # I4: reply dated 06-03, closed 06-05 (test_statistics.may).
    assert (before["replied"], before["closed"], before["late"], before["overdue_open"]) == (3, 2, 1, 2)
    assert (after["replied"], after["closed"], after["late"], after["overdue_open"]) == (4, 3, 2, 1)


@pytest.mark.usefixtures("may")
def test_departments_one_row_per_department_with_the_contract_fields(leader):
    response = api(leader).get(f"/api/v1/stats/departments/?{MAY}")

    assert response.status_code == 200
    rows = response.json()
    assert isinstance(rows, list)  # not paginated
    assert all(set(r) >= DEPARTMENT_FIELDS for r in rows)
    assert [
        (
            r["department"],
            r["kind"],
            r["assignments"],
            r["on_time"],
            r["late"],
            r["overdue_open"],
            r["on_time_rate"],
            r["replied"],
            r["reply_rate"],
        )
        for r in rows
    ] == [
        ("jyj", "bureau", 1, 0, 0, 1, 0.0, 0, 0.0),
        ("zjj", "bureau", 3, 3, 0, 0, 100.0, 3, 100.0),
        ("jtj", "bureau", 2, 0, 1, 1, 0.0, 1, 50.0),  # replied 1 of 2 assignments
        ("hqz", "township", 1, 0, 0, 0, None, 0, 0.0),  # not yet due: no on-time rate
    ]
    assert rows[1]["name"] == "县住房和城乡建设局"


@pytest.mark.usefixtures("may")
def test_categories_townships_and_months(leader):
    client = api(leader)

    categories = client.get(f"/api/v1/stats/categories/?{MAY}").json()
    townships = client.get(f"/api/v1/stats/townships/?{MAY}").json()
    months = client.get("/api/v1/stats/months/?as_of=2026-05-31").json()

    assert [(c["category"], c["issues"], c["share"]) for c in categories] == [
        ("education", 3, 42.9),
        ("housing", 3, 42.9),
        ("transport", 1, 14.3),
    ]
    assert [(t["township"], t["issues"], t["replied"]) for t in townships] == [("hqz", 1, 0)]
    assert [(m["month"], m["issues"], m["replied"]) for m in months] == [("2026-04", 1, 1), ("2026-05", 7, 3)]


@pytest.mark.usefixtures("may")
def test_the_filters_narrow_the_cohort(leader):
    client = api(leader)

    assert client.get(f"/api/v1/stats/summary/?{MAY}&channel=citizen").json()["issues"] == 1
    assert client.get(f"/api/v1/stats/summary/?{MAY}&channel=政民直通车").json()["issues"] == 1
    assert client.get(f"/api/v1/stats/summary/?{MAY}&department=jtj").json()["issues"] == 2
    assert client.get(f"/api/v1/stats/summary/?{MAY}&category=education").json()["issues"] == 3
    assert client.get("/api/v1/stats/summary/?received_from=2026-05-04&received_to=2026-05-04").json()["issues"] == 2


@pytest.mark.usefixtures("may")
def test_an_empty_period_answers_zeros_and_null_rates(leader):
    body = api(leader).get("/api/v1/stats/summary/?received_from=2025-01-01&received_to=2025-01-31").json()

    assert body["issues"] == body["replied"] == body["assignments"] == body["rated"] == 0
    assert body["reply_rate"] is None
    assert body["on_time_rate"] is None
    assert body["satisfaction_rate"] is None
    assert api(leader).get("/api/v1/stats/departments/?received_from=2025-01-01&received_to=2025-01-31").json() == []


def test_rates_are_rounded_half_up(reference, leader):
    # 16 issues received on 05-04, 5 of them replied: 5/16 = 31.25 → 31.3 (banker's rounding: 31.2).
    # The replies are written directly (accepted, replied_on) to keep the test short; the
    # services that write them are exercised in test_statistics.py.
    pairs = [make(received=D(2026, 5, 4), due=D(2026, 5, 20), name=f"群众{n}") for n in range(16)]
    Assignment.objects.filter(pk__in=[a.pk for _, (a,) in pairs[:5]]).update(
        status=Assignment.Status.ACCEPTED, replied_on=D(2026, 5, 10)
    )
    body = api(leader).get(f"/api/v1/stats/summary/?{MAY}").json()
    assert body["reply_rate"] == 31.3
    # Then 8 issues in May (the other 8 moved to April), 1 of them replied: 1/8 = 12.5 exactly.
    Issue.objects.filter(pk__in=[i.pk for i, _ in pairs[8:]]).update(received_on=D(2026, 4, 4))
    Assignment.objects.filter(pk__in=[a.pk for _, (a,) in pairs[1:5]]).update(status="acknowledged", replied_on=None)
    assert api(leader).get(f"/api/v1/stats/summary/?{MAY}").json()["reply_rate"] == 12.5


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("channel=weibo", "channel", "未知渠道“weibo”"),
        ("department=nope", "department", "未知单位代码“nope”"),
        ("category=nope", "category", "未知分类代码“nope”"),
        ("received_from=2026-06-01&received_to=2026-05-01", "received_to", "受理日期止不能早于受理日期起"),
        ("received_from=2026-13-01", "received_from", "日期格式应为 YYYY-MM-DD"),
        ("received_to=yesterday", "received_to", "日期格式应为 YYYY-MM-DD"),
        ("as_of=2026-02-30", "as_of", "日期格式应为 YYYY-MM-DD"),
        ("as_of=1900-01-01", "as_of", "日期应在"),
    ],
)
@pytest.mark.parametrize("endpoint", ["summary", "departments", "categories", "townships", "months"])
def test_bad_parameters_answer_400_with_a_message(reference, leader, endpoint, query, field, message):
    response = api(leader).get(f"/api/v1/stats/{endpoint}/?{query}")

    assert response.status_code == 400
    assert message in response.json()[field][0]


@pytest.mark.usefixtures("may")
def test_an_office_sees_its_channel_and_a_department_its_own_row(netoffice, petitionoffice, zjj_head):
    assert api(netoffice).get(f"/api/v1/stats/summary/?{MAY}").json()["issues"] == 6  # all but I5 (政民)
    assert api(petitionoffice).get(f"/api/v1/stats/summary/?{MAY}").json()["issues"] == 1  # I5
    # zjj: I1, I3, I8. Its figures cover all their assignments (I3's co-handler jtj included)…
    mine = api(zjj_head).get(f"/api/v1/stats/summary/?{MAY}").json()
    assert (mine["issues"], mine["assignments"], mine["replied"]) == (3, 4, 2)
    # …but the department table shows only its own row.
    rows = api(zjj_head).get(f"/api/v1/stats/departments/?{MAY}").json()
    assert [r["department"] for r in rows] == ["zjj"]


@pytest.mark.usefixtures("may")
def test_anonymous_requests_are_refused():
    assert APIClient().get("/api/v1/stats/summary/").status_code in (401, 403)


@pytest.mark.parametrize("size", [1, 8])
@pytest.mark.parametrize("endpoint", ["summary", "departments", "categories", "townships", "months"])
def test_each_endpoint_takes_a_constant_number_of_queries(
    reference, leader, django_assert_max_num_queries, size, endpoint
):
    for n in range(size):
        make(
            received=D(2026, 5, 1 + n),
            lead=("zjj", "hqz")[n % 2],
            co=("jtj",),
            category=("housing", "education")[n % 2],
            name=f"群众{n}",
            due=D(2026, 5, 20),
        )
    client = api(leader)
    client.get("/api/v1/stats/summary/")  # the user's groups and membership, looked up once per request

    with django_assert_max_num_queries(8):
        response = client.get(f"/api/v1/stats/{endpoint}/?{MAY}&department=jtj")

    assert response.status_code == 200


@pytest.mark.usefixtures("may")
def test_as_of_defaults_to_today(leader):
    import time_machine

    with time_machine.travel(datetime.datetime(2026, 6, 30, 12, tzinfo=datetime.UTC), tick=False):
        body = api(leader).get("/api/v1/stats/summary/?received_from=2026-05-01&received_to=2026-05-31").json()
    assert (body["as_of"], body["replied"]) == ("2026-06-30", 4)
