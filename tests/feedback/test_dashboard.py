"""The dashboard page (/dashboard/) and its item list (/dashboard/items/)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client

from feedback.assets import ECHARTS, NodeModulesFinder
from tests.feedback.test_statistics import D, make, may  # noqa: F401  (the fixture, used by name)

pytestmark = pytest.mark.django_db

MAY = "received_from=2026-05-01&received_to=2026-05-31&as_of=2026-05-31"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.usefixtures("may")
def test_the_leader_sees_the_headline_figures_with_their_formulas(leader):
    response = client_for(leader).get(f"/dashboard/?{MAY}")

    assert response.status_code == 200
    html = response.content.decode()
    cards = response.context["headline"]
    assert [(c.label, c.value) for c in cards[:5]] == [
        ("诉求件数", "7"),
        ("办理回复率", "42.9%"),
        ("按期回复率", "50.0%"),
        ("办结率", "28.6%"),
        ("满意率", "66.7%"),
    ]
    assert 'title="办理回复率 = ' in html and "未联系上不算评价" in html
    # The 100% target: what is missing, and links to it.
    assert "距目标 100% 还差 4 件" in html  # 7 − 3 replied
    assert "/dashboard/items/?which=overdue_open" in html
    assert re.search(r'<a class="danger-text" href="/dashboard/items/\?which=overdue_open[^"]*unit=jtj', html)


@pytest.mark.usefixtures("may")
def test_rankings_put_bureaus_and_townships_apart_best_first(leader):
    context = client_for(leader).get(f"/dashboard/?{MAY}").context

    # zjj on time 100%; jtj and jyj both 0% on time, jtj ahead on its reply rate (50% against 0%).
    assert [i.row.department for i in context["bureaus"]] == ["zjj", "jtj", "jyj"]
    assert [i.row.department for i in context["township_rank"]] == ["hqz"]
    assert [i.row.department for i in context["missing"]] == ["jtj", "jyj", "hqz"]  # by overdue, then unreplied


@pytest.mark.usefixtures("may")
def test_numbers_link_to_their_records_under_the_same_filters_and_as_of(leader):
    context = client_for(leader).get(f"/dashboard/?{MAY}&channel=net&category=housing").context
    housing = context["categories"][0].links.issues

    assert housing.startswith("/dashboard/items/?which=issues&channel=net&category=housing")
    assert "received_from=2026-05-01&received_to=2026-05-31&as_of=2026-05-31" in housing
    # The month row is the month within the chosen period.
    assert "received_from=2026-05-01&received_to=2026-05-31" in context["months"][0].links.issues


def _numbers_and_links(html: str) -> list[tuple[int, str]]:
    """Every number on the page that is a link to a list: (the number, the link)."""
    return [
        (int(number), unescape(href))
        for href, number in re.findall(r'<a (?:class="[^"]*" )?href="(/dashboard/items/\?[^"]+)">\s*(\d+)\s*<', html)
    ]


@pytest.mark.usefixtures("may")
@pytest.mark.parametrize("extra", ["", "&department=jtj", "&channel=net", "&as_of=2026-06-03", "&as_of=2026-05-20"])
def test_every_number_on_the_dashboard_opens_a_list_of_exactly_that_many(leader, extra):
    """The issue's three wrong drill-downs (回访率, 满意率, 重办率) among them: follow each linked number."""
    client = client_for(leader)
    html = client.get(f"/dashboard/?{MAY}{extra}").content.decode()
    found = _numbers_and_links(html)
    figures = {re.search(r"which=(\w+)", link).group(1) for _, link in found}
    assert {
        "issues",
        "replied",
        "unreplied",
        "on_time",
        "overdue_open",
        "closed",
        "rated",
        "satisfied",
        "followed_up",
        "rehandled",
        "unreachable",
        "not_yet_due",
    } <= figures
    for number, link in found:
        page = client.get(link)
        assert page.status_code == 200, link
        assert page.context["page"].paginator.count == number, link
        assert f"<strong data-count>{number}</strong>" in page.content.decode()


@pytest.mark.usefixtures("may")
def test_the_chart_data_is_passed_as_json_not_as_a_script(leader):
    html = client_for(leader).get(f"/dashboard/?{MAY}").content.decode()

    assert '<script id="dashboard-data" type="application/json">' in html
    assert re.search(r"<script>", html) is None  # no inline script (CSP script-src 'self')
    assert 'src="/static/js/dashboard.js"' in html


@pytest.mark.usefixtures("may")
def test_without_echarts_installed_the_page_says_so_and_keeps_its_tables(leader, monkeypatch):
    monkeypatch.setattr("feedback.views.dashboard.available", lambda path: False)

    html = client_for(leader).get(f"/dashboard/?{MAY}").content.decode()

    assert "图表组件（Apache ECharts）未安装" in html
    assert "echarts.common.min.js" not in html
    assert "超期未回复清单" in html and "县住房和城乡建设局" in html


def test_echarts_is_served_from_node_modules_when_installed():
    finder = NodeModulesFinder()
    found = finder.find(ECHARTS)
    if not found:
        pytest.skip("node_modules/echarts is not installed here (npm ci: bin/run does it)")
    assert found.endswith("node_modules/echarts/dist/echarts.common.min.js")
    listed = {(getattr(storage, "prefix", ""), path) for path, storage in finder.list(None)}
    assert ("vendor/echarts", "echarts.common.min.js") in listed
    assert finder.find("vendor/echarts/echarts.js") == []  # only the built file is exposed


@pytest.mark.usefixtures("may")
def test_an_office_sees_only_its_channel(petitionoffice):
    response = client_for(petitionoffice).get(f"/dashboard/?{MAY}")

    assert response.status_code == 200
    assert response.context["s"].issues == 1
    assert [c[0] for c in response.context["form"].fields["channel"].choices] == ["citizen"]


@pytest.mark.usefixtures("may")
def test_departments_and_strangers_get_404(zjj_head, django_user_model):
    assert client_for(zjj_head).get("/dashboard/").status_code == 404
    assert client_for(zjj_head).get("/dashboard/items/").status_code == 404
    nobody = django_user_model.objects.create_user("nobody", password="pw-for-tests-123")
    assert client_for(nobody).get("/dashboard/").status_code == 404
    assert Client().get("/dashboard/").status_code == 302  # to the login page


@pytest.mark.usefixtures("may")
def test_bad_filters_show_a_message_and_the_unfiltered_figures(leader):
    response = client_for(leader).get("/dashboard/?received_from=2026-06-01&received_to=2026-05-01")

    assert response.status_code == 200
    assert "结束日期不能早于开始日期" in response.content.decode()


@pytest.mark.usefixtures("may")
def test_the_item_list_shows_the_overdue_or_unreplied_assignments(leader):
    client = client_for(leader)

    overdue = client.get(f"/dashboard/items/?which=overdue&{MAY}")
    unreplied = client.get(f"/dashboard/items/?which=assignments_unreplied&{MAY}")
    jtj_only = client.get(f"/dashboard/items/?which=assignments_unreplied&{MAY}&unit=jtj")
    # The first form (a department chosen meant its own assignments) still opens the same records.
    assert client.get(f"/dashboard/items/?which=overdue&{MAY}&department=jtj").context["page"].paginator.count == 1
    assert client.get(f"/dashboard/items/?which=nope&{MAY}").status_code == 404

    assert [a.department.code for a in overdue.context["page"].object_list] == ["jtj", "jyj"]
    assert [a.department.code for a in unreplied.context["page"].object_list] == ["jtj", "jyj", "hqz"]
    assert [a.department.code for a in jtj_only.context["page"].object_list] == ["jtj"]
    assert "超期未回复的交办" in overdue.content.decode()


@pytest.mark.usefixtures("may")
def test_the_nav_links_to_the_dashboard_for_leaders_only(leader, zjj_head):
    assert 'href="/dashboard/">统计看板' in client_for(leader).get("/issues/").content.decode()
    assert "统计看板" not in client_for(zjj_head).get("/inbox/").content.decode()


@pytest.mark.parametrize("size", [1, 10])
def test_the_dashboard_takes_a_constant_number_of_queries(reference, leader, django_assert_max_num_queries, size):
    for n in range(size):
        make(
            received=D(2026, 5, 1 + n),
            lead=("zjj", "hqz")[n % 2],
            co=("jtj",),
            category=("housing", "education", "transport")[n % 3],
            name=f"群众{n}",
            due=D(2026, 5, 20),
        )
    client = client_for(leader)

    # 24: the overdue preview's walk is preceded and followed by a SET LOCAL (no parallel workers), and
    # the hot topics, now found from the text too, read the townships their requests are assigned to.
    with django_assert_max_num_queries(24):
        assert client.get(f"/dashboard/?{MAY}").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(f"/dashboard/items/?which=unreplied&{MAY}").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(f"/dashboard/items/?which=late&{MAY}&unit=jtj").status_code == 200


def test_the_monthly_trend_shows_every_month_of_the_period_even_without_issues(reference, leader):
    make(received=D(2026, 3, 10), due=D(2026, 3, 20))
    make(received=D(2026, 5, 4), due=D(2026, 5, 10))
    make(received=D(2026, 5, 6), lead=None)

    response = client_for(leader).get("/dashboard/?received_from=2026-02-01&received_to=2026-06-30&as_of=2026-06-30")

    months = [item.row for item in response.context["months"]]
    assert [(m.month, m.issues) for m in months] == [
        ("2026-02", 0),
        ("2026-03", 1),
        ("2026-04", 0),
        ("2026-05", 2),
        ("2026-06", 0),
    ]
    april = months[2]
    assert (april.first_day, april.last_day) == (D(2026, 4, 1), D(2026, 4, 30))
    assert april.reply_rate is None and april.on_time_rate is None and april.overdue_open == 0
    # The chart gets the same months, an empty one with no rates (a gap in its lines, not a zero).
    chart = response.context["chart_data"]["months"]
    assert [m["month"] for m in chart] == ["2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    assert chart[2] == {"month": "2026-04", "issues": 0, "reply_rate": None, "on_time_rate": None}
    assert '<td data-label="月份">2026-04</td>\n        <td data-label="诉求">0</td>' in response.content.decode()


def test_an_open_or_endless_period_runs_from_the_first_to_the_last_month_with_issues(reference, leader):
    make(received=D(2026, 3, 10))
    make(received=D(2026, 5, 4))
    client = client_for(leader)

    open_period = client.get("/dashboard/").context["months"]
    endless = client.get("/dashboard/?received_from=1900-01-01&received_to=2100-12-31").context["months"]

    assert [item.row.month for item in open_period] == ["2026-03", "2026-04", "2026-05"]
    assert [item.row.month for item in endless] == ["2026-03", "2026-04", "2026-05"]


def test_a_period_without_issues_has_no_monthly_trend(reference, leader):
    make(received=D(2026, 3, 10))

    response = client_for(leader).get("/dashboard/?received_from=2026-06-01&received_to=2026-08-31")

    assert response.context["months"] == [] and response.context["chart_data"]["months"] == []
    assert "统计区间内没有诉求。" in response.content.decode()


@pytest.mark.usefixtures("may")
def test_a_rate_with_nothing_counted_shows_a_dash_and_no_gap_never_100(leader):
    # Received in January 2025: nothing in the cohort, nothing due.
    response = client_for(leader).get("/dashboard/?received_from=2025-01-01&received_to=2025-01-31&as_of=2026-05-31")
    cards = {c.label: c for c in response.context["headline"]}
    assert (cards["按期回复率"].value, cards["按期回复率"].target_gap) == ("—", None)
    assert (cards["办理回复率"].value, cards["办理回复率"].target_gap) == ("—", None)
    assert "100%" not in "".join(c.value for c in cards.values())
    assert "已达目标 100%" not in response.content.decode()


def test_a_figures_link_is_its_query_string_built_once_per_cut():
    import datetime as dt
    from urllib.parse import urlencode

    from django.urls import reverse

    from feedback.figures import lists
    from feedback.views.dashboard import figure_url

    cut = lists.Cut(
        as_of=dt.date(2026, 11, 28),
        channel="net",
        department="zjj",
        category="housing",
        received_from=dt.date(2026, 1, 1),
        received_to=None,
    )
    for figure in (*lists.FIGURES, lists.REQUESTERS):
        assert figure_url(figure, cut) == reverse("dashboard_items") + "?" + urlencode(
            {"which": figure, **cut.params()}
        )
    bare = lists.Cut(as_of=dt.date(2026, 11, 28))
    assert figure_url("on_time", bare) == reverse("dashboard_items") + "?which=on_time&as_of=2026-11-28"
