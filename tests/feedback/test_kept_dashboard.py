"""The dashboard's figures kept as rendered parts under the state of their inputs (decision 0780).

The page's figures (headline, tables, charts' data) are a function of the state (StatsGeneration),
the scope, the query and the day; they are rendered once per such key and kept. The hot topics and
the overdue list are read for every load. Each test fails when the condition it names is removed
from ``feedback.views.dashboard._kept_key`` or its callers.
"""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.test import Client

from feedback.figures import rollup
from feedback.models import Assignment, Issue, StatsGeneration
from feedback.views import dashboard as dashboard_views
from tests.feedback.test_kept_figures import withdraw_a_reply
from tests.feedback.test_rollup import _with_issues

URL = "/dashboard/?as_of=2026-12-31"  # every generated key settled: no key live (test_kept_figures)


@pytest.fixture(autouse=True)
def generation(db):
    StatsGeneration.objects.get_or_create(defaults={"token": uuid.uuid4().hex})


@pytest.fixture
def computed(monkeypatch):
    """How many times the figures' parts were computed (not found kept)."""
    calls: list[int] = []
    real = dashboard_views._figure_parts

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(dashboard_views, "_figure_parts", counting)
    return calls


def load(user, url: str = URL):
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response


def head(response) -> str:
    return str(response.context["kept"]["head"])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_figures_are_kept_until_a_write_commits_then_computed_again(reference, leader, computed):
    _with_issues(6)
    rollup.refresh()
    first = load(leader)
    again = load(leader)
    assert len(computed) == 1  # the second load found the parts kept
    assert again.context["kept"] == first.context["kept"]
    withdraw_a_reply()  # committed: the state moves, and the key is live until the rollup is summed
    live = load(leader)
    assert len(computed) == 2 and head(live) != head(first)
    load(leader)
    assert len(computed) == 3  # a live key: computed every time
    rollup.refresh()
    after = load(leader)
    assert len(computed) == 4 and head(after) == head(live)
    load(leader)
    assert len(computed) == 4  # kept again under the new state


@pytest.mark.django_db(transaction=True)
def test_each_scope_and_each_query_has_its_own_parts(reference, leader, netoffice, petitionoffice, computed):
    _with_issues(6)
    rollup.refresh()
    county, net = load(leader), load(netoffice)
    assert len(computed) == 2  # not the leader's parts for an office
    assert head(county) != head(net)
    assert load(netoffice).context["kept"] == net.context["kept"] and len(computed) == 2
    load(petitionoffice)
    assert len(computed) == 3  # another office's channel
    load(leader, URL + "&received_from=2026-04-01")
    assert len(computed) == 4  # another period


@pytest.mark.django_db(transaction=True)
def test_the_same_figures_under_another_role_query_or_day_are_rendered_again(
    reference, leader, admin_user, computed, monkeypatch
):
    """What the parts show beside the figures: the role's name, the form's errors, today's buttons."""
    _with_issues(6)
    rollup.refresh()
    county = load(leader)
    admin = load(admin_user)  # every issue, as the leader's: the same figures under another name
    assert len(computed) == 2 and "系统管理员" in head(admin) and "系统管理员" not in head(county)
    load(leader, "/dashboard/")
    load(leader, "/dashboard/")
    assert len(computed) == 3
    wrong = load(leader, "/dashboard/?received_to=2026-01-01&received_from=2026-02-01")  # the same figures
    assert len(computed) == 4 and "结束日期不能早于开始日期" in head(wrong)
    today = dashboard_views.timezone.localdate()
    monkeypatch.setattr(dashboard_views.timezone, "localdate", lambda: today + datetime.timedelta(days=1))
    load(leader)
    assert len(computed) == 5  # the period buttons count from today


@pytest.mark.django_db(transaction=True)
def test_the_overdue_list_is_read_for_every_load(reference, leader, computed):
    _with_issues(6)
    rollup.refresh()
    assert Assignment.objects.filter(replied_on__isnull=True).exists()  # overdue on 2026-12-31
    load(leader)
    Issue.objects.update(title="改过的标题")  # the title is not a figure: the state does not move
    page = load(leader)
    assert len(computed) == 1
    assert "改过的标题" in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_nothing_is_kept_when_switched_off(reference, leader, computed, settings):
    _with_issues(6)
    rollup.refresh()
    settings.STATS_CACHE_SECONDS = 0
    load(leader)
    load(leader)
    assert len(computed) == 2


@pytest.mark.django_db(transaction=True)
def test_a_changed_template_or_chart_library_is_not_served_from_old_parts(reference, leader, computed, monkeypatch):
    _with_issues(6)
    rollup.refresh()
    load(leader)
    monkeypatch.setattr(dashboard_views, "_parts_version", lambda: "another deploy")
    load(leader)
    assert len(computed) == 2
    monkeypatch.setattr(dashboard_views, "available", lambda path: False)
    page = load(leader)
    assert len(computed) == 3 and "图表组件（Apache ECharts）未安装" in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_with_the_cache_down_the_page_is_computed(reference, leader, computed, monkeypatch):
    _with_issues(6)
    rollup.refresh()

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    assert dashboard_views.cache is rollup.cache  # Django's one proxy: the figures' cache is down too
    monkeypatch.setattr(dashboard_views.cache, "get", down)
    monkeypatch.setattr(dashboard_views.cache, "set", down)
    load(leader)
    load(leader)
    assert len(computed) == 2
