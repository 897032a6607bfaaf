"""Hot topics (热点诉求) on the dashboard and the rising flag to the channel offices (issue 19)."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

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

    from feedback.figures import hot

    monkeypatch.setattr(hot.cache, "get", down)
    monkeypatch.setattr(hot.cache, "set", down)
    client = Client()
    client.force_login(leader)
    query = f"received_from={data.isoformat()}&received_to={TODAY.isoformat()}&as_of={TODAY.isoformat()}"
    assert _water_count(client, query)[0] == 6


# --- refreshed ahead of expiry (decision 0760) -----------------------------------------------------------


def _button_query(label):
    from feedback.figures import hot

    today = timezone.localdate()
    _, start, end = next(p for p in hot.button_periods(today) if p[0] == label)
    return f"received_from={start.isoformat()}&received_to={end.isoformat()}"


@pytest.fixture
def clustering(monkeypatch):
    calls = []
    real = similar.hot_topics
    monkeypatch.setattr(similar, "hot_topics", lambda *a, **k: calls.append(k) or real(*a, **k))
    return calls


def test_a_look_at_the_dashboard_keeps_every_period_button_of_its_scope_computed_by_the_worker(
    data, leader, clustering, settings
):
    from feedback.figures import hot
    from feedback.tasks import refresh_hot_topics

    settings.HOT_TOPICS_CACHE_SECONDS = 300
    client = Client()
    client.force_login(leader)
    assert client.get("/dashboard/").status_code == 200  # the default period: clustered here, and watched
    assert len(clustering) == 1
    assert refresh_hot_topics() == 5  # the default period and the four buttons, in the worker
    assert len(clustering) == 6
    for label in ("本月", "本季度", "今年", "近12个月"):
        assert client.get(f"/dashboard/?{_button_query(label)}").status_code == 200
    assert client.get("/dashboard/").status_code == 200
    assert len(clustering) == 6  # every load read what the worker computed
    # A request arriving is counted at the next refresh, before the entry would have expired.
    size, _ = _water_count(client, _button_query("近12个月"))
    request(admin_user_of(data), "红星村又停水了", timezone.localdate())
    assert _water_count(client, _button_query("近12个月"))[0] == size
    hot.refresh_watched(timezone.localdate())
    assert _water_count(client, _button_query("近12个月"))[0] == size + 1


def admin_user_of(_data):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="admin")


def test_scopes_and_filters_are_watched_apart_and_a_look_is_noted_at_most_once_a_minute(
    data, leader, netoffice, settings, monkeypatch
):
    from feedback.figures import hot

    settings.HOT_TOPICS_CACHE_SECONDS = 300
    clock = [1_000_000.0]
    monkeypatch.setattr(hot, "_now", lambda: clock[0])
    client = Client()
    client.force_login(leader)
    client.get("/dashboard/")
    client.get("/dashboard/?channel=net")
    client.force_login(netoffice)
    client.get("/dashboard/")
    watching = hot.cache.get(hot.WATCH_KEY)
    assert sorted(w[:4] for w in watching.values()) == sorted(
        [(leader.pk, "", "", ""), (leader.pk, "net", "", ""), (netoffice.pk, "", "", "")]
    )
    first = {k: w[4] for k, w in watching.items()}
    clock[0] += hot.WATCH_TOUCH_SECONDS - 1
    client.get("/dashboard/")
    assert {k: w[4] for k, w in hot.cache.get(hot.WATCH_KEY).items()} == first  # not written again
    clock[0] += 2
    client.get("/dashboard/")
    assert sorted(w[4] for w in hot.cache.get(hot.WATCH_KEY).values()) == sorted([*list(first.values())[:2], clock[0]])


def test_a_scope_not_looked_at_lately_or_whose_user_left_is_refreshed_no_more(
    data, leader, netoffice, settings, monkeypatch, clustering
):
    from feedback.figures import hot

    settings.HOT_TOPICS_CACHE_SECONDS = 300
    settings.HOT_TOPICS_WATCH_SECONDS = 3600
    clock = [1_000_000.0]
    monkeypatch.setattr(hot, "_now", lambda: clock[0])
    for user in (leader, netoffice):
        client = Client()
        client.force_login(user)
        client.get("/dashboard/")
    clock[0] += 3599
    assert hot.refresh_watched(timezone.localdate()) == 10
    netoffice.is_active = False
    netoffice.save()
    assert hot.refresh_watched(timezone.localdate()) == 5  # the leader's only
    assert [w[0] for w in hot.cache.get(hot.WATCH_KEY).values()] == [leader.pk]
    clock[0] += 2  # the leader's look is now older than HOT_TOPICS_WATCH_SECONDS
    assert hot.refresh_watched(timezone.localdate()) == 0
    assert hot.cache.get(hot.WATCH_KEY) == {}


def test_a_watched_department_filter_removed_since_is_dropped(data, leader, settings):
    from feedback.figures import hot

    settings.HOT_TOPICS_CACHE_SECONDS = 300
    client = Client()
    client.force_login(leader)
    client.get("/dashboard/?department=gsz")
    client.get("/dashboard/")
    Department.objects.filter(code="gsz").update(code="gsz-old")
    assert hot.refresh_watched(timezone.localdate()) == 5
    assert [w[2] for w in hot.cache.get(hot.WATCH_KEY).values()] == [""]


def test_with_no_keeping_nothing_is_watched_or_refreshed(data, leader, settings, clustering):
    from feedback.figures import hot

    settings.HOT_TOPICS_CACHE_SECONDS = 0
    client = Client()
    client.force_login(leader)
    client.get("/dashboard/")
    assert hot.cache.get(hot.WATCH_KEY) is None
    settings.HOT_TOPICS_CACHE_SECONDS = 300
    client.get("/dashboard/")
    settings.HOT_TOPICS_CACHE_SECONDS = 0
    assert hot.refresh_watched(timezone.localdate()) == 0
    assert len(clustering) == 2  # the two loads, nothing in the refresh


def test_beat_refreshes_the_hot_topics_before_they_expire():
    from zhitongche.celery import app

    entry = app.conf.beat_schedule["refresh-hot-topics"]
    assert entry["task"] == "feedback.tasks.refresh_hot_topics"
    assert entry["schedule"] == 240.0  # 0.8 × the default HOT_TOPICS_CACHE_SECONDS
