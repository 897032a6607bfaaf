"""Hot topics (热点诉求) on the dashboard and the rising flag to the channel offices (issue 19)."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse

from feedback import services, similar
from feedback.models import Category, Channel, Department, Issue, Notification
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = D(2026, 11, 30)


def request(actor, title, day, *, channel="net", content="请尽快解决。", lead=None):
    issue = services.register_issue(
        actor=actor,
        channel=channel,
        category=Category.objects.get(code="housing"),
        requester=services.RequesterData(name="群众", phone=""),
        title=title,
        content=content,
        received_on=day,
    )
    if lead:
        services.assign_issue(actor=actor, issue=issue, lead=Department.objects.get(code=lead), co=[], assigned_on=day)
    return issue


def test_the_topic_of_a_request_is_its_problem_in_any_of_its_words():
    assert similar.topic_of("红星村吃水难", "") == "供水"
    assert similar.topic_of("反映情况", "我们村自来水老是断供") == "供水"
    assert similar.topic_of("路灯不亮", "停水了") == "照明"  # the title first
    assert similar.topic_of("关于乡村振兴的建议", "发展特色产业") is None


@pytest.fixture
def data(admin_user):
    """供水: 6 this period (2 before, so rising), 照明: 5 this period and 3 before (not doubled)."""
    start = TODAY - datetime.timedelta(days=29)
    for n in range(6):
        request(
            admin_user, f"江口镇红星村停水{n}", start + datetime.timedelta(days=n), channel=("net", "citizen")[n % 2]
        )
    for n in range(2):
        request(admin_user, f"停水{n}", start - datetime.timedelta(days=1 + n))
    for n in range(5):
        request(admin_user, f"路灯不亮{n}", TODAY - datetime.timedelta(days=n), lead="gsz")
    for n in range(3):
        request(admin_user, f"路灯坏了{n}", start - datetime.timedelta(days=10 + n))
    request(admin_user, "关于乡村振兴的建议", TODAY)  # no topic
    return start


def test_clusters_count_the_period_and_the_one_before_with_channels_townships_and_titles(data):
    topics = {t.concept: t for t in similar.hot_topics(Issue.objects.all(), start=data, end=TODAY)}
    assert list(topics) == ["供水", "照明"]  # largest first
    water, light = topics["供水"], topics["照明"]
    assert (water.size, water.previous, water.trend, water.rising) == (6, 2, 4, True)
    assert (light.size, light.previous, light.rising) == (5, 3, False)
    assert water.channels == {Channel.NET.label: 3, Channel.CITIZEN.label: 3}
    assert water.townships == {"江口镇": 6}  # named in the text
    assert light.townships == {"高沙镇": 5}  # assigned to the township
    assert len(water.titles) == similar.SAMPLE_TITLES


@pytest.mark.parametrize(
    "size, previous, rising", [(5, 2, True), (4, 0, False), (5, 3, False), (6, 3, True), (5, 0, True)]
)
def test_rising_needs_five_requests_and_twice_the_previous_period(size, previous, rising):
    assert similar.Topic("供水", (), size=size, previous=previous).rising is rising


def test_at_most_ten_topics(admin_user):
    for _concept, words in list(similar.CONCEPTS.items())[:12]:
        request(admin_user, words[0], TODAY)
    assert len(similar.hot_topics(Issue.objects.all(), start=TODAY, end=TODAY)) == similar.HOT_TOPICS


def test_the_dashboard_shows_the_topics_and_each_links_to_exactly_its_requests(data, leader, netoffice):
    client = Client()
    client.force_login(leader)
    query = f"received_from={data.isoformat()}&received_to={TODAY.isoformat()}&as_of={TODAY.isoformat()}"
    page = client.get(f"/dashboard/?{query}").content.decode()
    assert "热点诉求" in page and "上升" in page
    link = re.search(r'<a href="(/dashboard/topics/\?topic=%E4%BE%9B%E6%B0%B4[^"]*)">6</a>', page)
    assert link, page[page.index("热点诉求") : page.index("热点诉求") + 3000]
    listed = client.get(link.group(1).replace("&amp;", "&")).content.decode()
    assert re.search(r"data-count>6<", listed)
    assert listed.count("江口镇红星村停水") == 6
    # an office sees its own channel's requests only
    client.force_login(netoffice)
    listed = client.get(link.group(1).replace("&amp;", "&")).content.decode()
    assert re.search(r"data-count>3<", listed)
    assert client.get("/dashboard/topics/?topic=不存在").status_code == 404


def test_departments_do_not_see_hot_topics(data, zjj_head):
    client = Client()
    client.force_login(zjj_head)
    assert client.get(reverse("dashboard_topic") + "?topic=供水").status_code == 404


def test_a_rising_topic_is_told_to_its_channels_office_once(data, netoffice, petitionoffice, ezoneoffice):
    created = services.flag_rising_topics(TODAY)
    notices = Notification.objects.filter(kind="hot_topic:供水")
    # 供水 rises in 政网 (3 now, 2 before: under five) and 政民 (3, 0): neither channel alone reaches five …
    assert created == 0 and not notices.exists()
    for n in range(3):
        request(netoffice, f"红星村没水了{n}", TODAY - datetime.timedelta(days=n))
    assert services.flag_rising_topics(TODAY) == 1  # … 政网 now has 6 against 2
    notice = notices.get()
    assert notice.recipient == netoffice and "6 件" in notice.title and "江口镇" in notice.body
    assert services.flag_rising_topics(TODAY) == 0  # once
    assert services.flag_rising_topics(TODAY + datetime.timedelta(days=1)) == 0  # still the same month
    assert not Notification.objects.filter(recipient__in=[petitionoffice, ezoneoffice], kind__startswith="hot").exists()


def test_a_new_office_member_is_told_too_and_the_others_not_again(data, netoffice):
    for n in range(3):
        request(netoffice, f"红星村没水了{n}", TODAY - datetime.timedelta(days=n))
    services.flag_rising_topics(TODAY)
    make_user("netoffice2", department="wxb", role="office")
    assert services.flag_rising_topics(TODAY) == 1


def _water_count(client, query):
    page = client.get(f"/dashboard/?{query}").content.decode()
    found = re.search(r'<a href="(/dashboard/topics/\?topic=%E4%BE%9B%E6%B0%B4[^"]*)">(\d+)</a>', page)
    assert found, "no 供水 topic on the dashboard"
    return int(found.group(2)), found.group(1).replace("&amp;", "&")


def test_the_hot_topics_are_clustered_once_per_scope_filters_and_period_while_kept(
    data, leader, netoffice, monkeypatch, settings
):
    settings.HOT_TOPICS_CACHE_SECONDS = 300
    calls = []
    real = similar.hot_topics
    monkeypatch.setattr(similar, "hot_topics", lambda *a, **k: calls.append(k) or real(*a, **k))
    client = Client()
    client.force_login(leader)
    query = f"received_from={data.isoformat()}&received_to={TODAY.isoformat()}&as_of={TODAY.isoformat()}"
    size, link = _water_count(client, query)
    assert size == 6 and len(calls) == 1
    # A request arriving meanwhile: the dashboard keeps what it showed, and the list behind the number
    # is read from the same entry, so it still has exactly the number clicked (decision 0700).
    request(netoffice, "红星村又停水了", TODAY)
    assert _water_count(client, query)[0] == 6
    assert re.search(r"data-count>6<", client.get(link).content.decode())
    assert len(calls) == 1
    # Another period, or another scope, is clustered on its own.
    assert (
        _water_count(
            client,
            f"received_from={(data + datetime.timedelta(days=1)).isoformat()}&"
            f"received_to={TODAY.isoformat()}&as_of={TODAY.isoformat()}",
        )[0]
        == 6
    )
    assert len(calls) == 2
    client.force_login(netoffice)
    assert _water_count(client, query)[0] == 4  # its channel's 3, and the new one
    assert len(calls) == 3


def test_with_no_keeping_a_new_request_counts_at_once(data, leader, netoffice, settings):
    settings.HOT_TOPICS_CACHE_SECONDS = 0
    client = Client()
    client.force_login(leader)
    query = f"received_from={data.isoformat()}&received_to={TODAY.isoformat()}&as_of={TODAY.isoformat()}"
    assert _water_count(client, query)[0] == 6
    request(netoffice, "红星村又停水了", TODAY)
    assert _water_count(client, query)[0] == 7


def test_with_the_cache_down_the_dashboard_computes_its_topics_as_before(data, leader, monkeypatch, settings):
    settings.HOT_TOPICS_CACHE_SECONDS = 300

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    from feedback.views import topics

    monkeypatch.setattr(topics.cache, "get", down)
    monkeypatch.setattr(topics.cache, "set", down)
    client = Client()
    client.force_login(leader)
    query = f"received_from={data.isoformat()}&received_to={TODAY.isoformat()}&as_of={TODAY.isoformat()}"
    assert _water_count(client, query)[0] == 6
