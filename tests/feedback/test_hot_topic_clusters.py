"""Hot topics beyond the lexicon (issue 19): requests about a problem no CONCEPTS entry names are
clustered from their characters; the lexicon still gathers the wordings it knows."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from feedback import similar
from feedback.models import Issue
from tests.feedback.test_hot_topics import TODAY, request

pytestmark = pytest.mark.django_db

UNIFORMS = (
    "学校强制统一订购校服，价格太高",
    "孩子学校要求家长统一买校服，价格偏高",
    "校服价格太高了，学校还强制统一订购",
)


def topics(start=TODAY - datetime.timedelta(days=29)):
    return similar.hot_topics(Issue.objects.all(), start=start, end=TODAY)


def test_three_paraphrases_of_a_problem_outside_the_lexicon_are_one_topic(admin_user):
    assert all(similar.topic_of(t, "") is None for t in UNIFORMS)  # none names a lexicon problem
    made = [
        request(admin_user, title, TODAY - datetime.timedelta(days=n), content=title)
        for n, title in enumerate(UNIFORMS)
    ]
    request(admin_user, "关于发展乡村特色产业的建议", TODAY)
    request(admin_user, "希望增设老年人活动中心", TODAY)
    (topic,) = topics()
    assert topic.from_text and topic.size == 3 and sorted(topic.issue_ids) == sorted(i.pk for i in made)
    assert "校服" in topic.words


def test_two_alike_requests_are_not_yet_a_topic(admin_user):
    for n, title in enumerate(UNIFORMS[:2]):
        request(admin_user, title, TODAY - datetime.timedelta(days=n), content=title)
    assert topics() == []


def test_a_text_cluster_counts_its_previous_period_too(admin_user):
    for n, title in enumerate(UNIFORMS):
        request(admin_user, title, TODAY - datetime.timedelta(days=n), content=title)
    request(
        admin_user,
        "学校统一订购的校服价格太高",
        TODAY - datetime.timedelta(days=40),
        content="学校统一订购的校服价格太高",
    )
    (topic,) = topics()
    assert (topic.size, topic.previous) == (3, 1)


def test_lexicon_requests_stay_with_their_problem_and_the_rest_cluster_beside_them(admin_user):
    for n in range(3):
        request(admin_user, f"红星村停水第{n}天", TODAY - datetime.timedelta(days=n), content="红星村停水")
    request(admin_user, "自来水断供", TODAY, content="自来水断供")
    for n, title in enumerate(UNIFORMS):
        request(admin_user, title, TODAY - datetime.timedelta(days=n), content=title)
    found = {t.concept: t for t in topics()}
    assert found["供水"].size == 4 and not found["供水"].from_text
    (text_topic,) = [t for t in found.values() if t.from_text]
    assert text_topic.size == 3


def test_the_dashboard_links_a_text_cluster_to_exactly_its_requests(client: Client, admin_user):
    made = [
        request(admin_user, title, TODAY - datetime.timedelta(days=n), content=title)
        for n, title in enumerate(UNIFORMS)
    ]
    client.force_login(admin_user)
    query = f"as_of={TODAY:%Y-%m-%d}"
    page = client.get(reverse("dashboard") + "?" + query).content.decode()
    (topic,) = topics()
    assert topic.concept in page and "相似内容" in page
    detail = client.get(reverse("dashboard_topic"), {"topic": topic.concept, "as_of": f"{TODAY:%Y-%m-%d}"})
    assert detail.status_code == 200
    body = detail.content.decode()
    assert all(i.ref in body for i in made) and "内容相近" in body
    assert client.get(reverse("dashboard_topic"), {"topic": "不存在的热点"}).status_code == 404


# Three wordings of one problem alike only at 0.18–0.25 (bench/topics.py: at the threshold chosen, 0.15, the
# clusters match the problems; at the former 0.3 each of these would stay alone and no topic would show).
LOOSE = (
    ("孩子买校服花了三百多", "一套衣服比外面贵一倍"),
    ("学校统一订的校服太贵", "能不能让家长自己去买"),
    ("学生校服价钱高", "一套三百多元，农村家庭负担不起"),
)


def test_wordings_alike_only_at_the_measured_threshold_are_one_topic_and_others_stay_out(admin_user):
    texts = [similar.analyse(t, c, use_concepts=False) for t, c in LOOSE]
    alike = [similar.text_similarity(a, b) for n, a in enumerate(texts) for b in texts[n + 1 :]]
    assert all(similar.TEXT_CLUSTER_SIMILARITY <= s < 0.3 for s in alike), alike
    made = [
        request(admin_user, title, TODAY - datetime.timedelta(days=n), content=content)
        for n, (title, content) in enumerate(LOOSE)
    ]
    other = request(admin_user, "快递网点取件另外收费", TODAY, content="镇上快递网点取件还要另外收两元")
    (topic,) = topics()
    assert topic.from_text and sorted(topic.issue_ids) == sorted(i.pk for i in made)
    assert other.pk not in topic.issue_ids
