"""The 政网 demo data of seed_demo: four forums, the two latest recorded with who attended and the
requests raised there (registered and assigned through the forum's batch intake); a second run adds
nothing."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.apps import apps
from django.utils import timezone

from channels_net.demo import REQUESTS, seed_demo_sessions
from channels_net.models import Forum, NetIntake
from feedback.demo import seed_accounts
from feedback.models import Issue

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        m._meta.label: m.objects.count() for m in apps.get_models() if m._meta.app_label in {"channels_net", "feedback"}
    }


@time_machine.travel(datetime.datetime(2026, 11, 29, 10, 0, tzinfo=datetime.UTC), tick=False)
def test_the_demo_records_the_two_latest_forums_and_their_requests_once(reference):
    seed_accounts()
    assert seed_demo_sessions() == 4
    first = counts()
    assert seed_demo_sessions() == 0
    assert counts() == first
    today = timezone.localdate()

    latest, earlier, *older = Forum.objects.order_by("-held_on")
    for forum, rows in ((latest, REQUESTS[0]), (earlier, REQUESTS[1])):
        assert forum.intakes.count() == len(rows) == 3
        assert forum.chair.username == "leader" and forum.leaders.filter(username="leader").exists()
        assert forum.departments_present.count() == 3 and forum.representatives.count() == 5
        assert set(forum.intakes.values_list("handle", flat=True)) == {r.handle for r in rows}
    assert all(not forum.intakes.exists() for forum in older)
    issues = Issue.objects.filter(net_intake__isnull=False)
    assert issues.count() == NetIntake.objects.count() == 6
    assert not issues.filter(status="registered").exists()
    assert all(today - datetime.timedelta(days=366) <= i.received_on <= today for i in issues)
    assert not issues.filter(net_intake__forum=earlier, assignments__status="pending").exists()


@time_machine.travel(datetime.datetime(2026, 11, 29, 10, 0, tzinfo=datetime.UTC), tick=False)
def test_without_the_demo_accounts_only_the_forums_are_planned(reference):
    assert seed_demo_sessions() == 4
    assert not NetIntake.objects.exists()
