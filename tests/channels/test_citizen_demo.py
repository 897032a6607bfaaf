"""The 政民 demo data of seed_demo: villages, a roster, visits with a courtyard meeting, a lawyer and
the case of the week, and the requests raised there, for the demo accounts; a second run adds nothing."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.apps import apps
from django.utils import timezone

from channels_citizen.demo import seed_demo_sessions
from channels_citizen.models import CitizenIntake, CourtyardMeeting, NoMeetingWeek, RosterEntry, Village, Visit
from feedback.demo import seed_accounts
from feedback.models import Issue

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        m._meta.label: m.objects.count()
        for m in apps.get_models()
        if m._meta.app_label in {"channels_citizen", "feedback"}
    }


@time_machine.travel(datetime.datetime(2026, 11, 29, 10, 0, tzinfo=datetime.UTC), tick=False)
def test_the_demo_plans_weeks_rosters_and_visits_once(reference):
    seed_accounts()
    assert seed_demo_sessions() == 11
    first = counts()
    assert seed_demo_sessions() == 0
    assert counts() == first
    today = timezone.localdate()
    assert Village.objects.count() == 24
    assert RosterEntry.objects.filter(leader__username="leader").count() == 22
    assert Visit.objects.count() == 6 and Visit.objects.filter(lawyer_present=True).count() == 3
    assert CourtyardMeeting.objects.count() == 3
    assert NoMeetingWeek.objects.exclude(case_of_week=None).count() == 3
    issues = Issue.objects.filter(citizen_intake__visit__isnull=False)
    assert issues.count() == 12 and not issues.filter(status="registered").exists()
    assert issues.filter(accused_department__code="zrj").count() == 3
    assert all(today - datetime.timedelta(days=366) <= i.received_on <= today for i in issues)
    assert Visit.objects.exclude(cases=None).exists()  # a later visit brought earlier requests down
    assert CitizenIntake.objects.filter(village__isnull=False).count() == 12
