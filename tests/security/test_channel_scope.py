"""Channel APIs answer 404, never 403, to a user outside the channel (issue 15, part 10; docs/api.md).

Every route of the three channel APIs that names an object is enumerated from the URL resolver, so a new
route is covered the day it is added; each outsider tries every method on it.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from channels_citizen.models import Village
from channels_net import services as net_services
from channels_net.models import Forum
from feedback.models import Category
from tests.channels.citizen_factories import VillageFactory, visit, week
from tests.channels.enterprise_factories import EnterpriseDayFactory, EnterpriseFactory

pytestmark = pytest.mark.django_db

CHANNEL_ROUTES = re.compile(r"^api/v1/(net|citizen|enterprise)/")


def object_routes() -> list[tuple[str, str, list[str]]]:
    found = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix.replace("^", "") + str(p.pattern).lstrip("^").rstrip("$")
                if CHANNEL_ROUTES.match(route) and "(?P<pk>" in route and "format" not in route:
                    found.append((route, p.name, sorted(getattr(p.callback, "actions", {}))))

    walk(get_resolver().url_patterns)
    return found


@pytest.fixture
def objects(reference, netoffice, petitionoffice, ezoneoffice) -> dict[str, int]:
    forum = Forum.objects.create(title="座谈会", held_on=timezone.localdate())
    submission = net_services.submit_suggestion(
        category=Category.objects.get(code="transport"), content="建议", name="", phone="", consent_to_publish=False
    )
    a_week = week(petitionoffice)
    return {
        "forum": forum.pk,
        "submission": submission.pk,
        "week": a_week.pk,
        "visit": visit(petitionoffice, a_week).pk,
        "village": VillageFactory().pk,
        "enterprise": EnterpriseFactory().pk,
        "enterprise-day": EnterpriseDayFactory().pk,
    }


def _kind(name: str) -> str:
    return next(
        k
        for k in (
            "enterprise-day",
            "enterprise-problem",
            "enterprise",
            "forum",
            "submission",
            "week",
            "visit",
            "village",
        )
        if name.startswith(k)
    )


OUTSIDERS = {
    "net": ("ezoneoffice", "zjj_head"),
    "citizen": ("netoffice", "zjj_head"),
    "enterprise": ("netoffice", "petitionoffice"),
}


def test_outsiders_get_404_on_every_object_route_of_every_channel(objects, request, zjj_head):
    assert not Village.objects.filter(pk=0).exists()
    routes = object_routes()
    assert len(routes) >= 15
    results: dict[tuple[str, str, str], int] = {}
    for route, name, methods in routes:
        kind = _kind(name)
        if kind not in objects:
            continue  # problems: covered in tests/channels/test_enterprise_api.py (a department's own are visible)
        channel = CHANNEL_ROUTES.match(route).group(1)
        url = "/" + route.replace("(?P<pk>[^/.]+)", str(objects[kind]))
        for username in OUTSIDERS[channel]:
            client = APIClient()
            client.force_authenticate(request.getfixturevalue(username))
            for method in methods:
                results[(url, username, method)] = getattr(client, method)(url, {}, format="json").status_code
    assert results, "no route was tried"
    wrong = {key: status for key, status in results.items() if status != 404}
    assert wrong == {}
