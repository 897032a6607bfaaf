"""The 政企 demo data of seed_demo: a registry, every past enterprise day confirmed held with a leader
on duty, this month's and the coming month's days, problems raised at the latest days through the
batch intake and a 三长会诊, for the demo accounts; a second run adds nothing."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.apps import apps
from django.utils import timezone

from channels_enterprise.creditcode import organisation_check_ok
from channels_enterprise.demo import ENTERPRISES, seed_demo_sessions
from channels_enterprise.models import Consultation, Enterprise, EnterpriseDay, EnterpriseIntake, EnterpriseLog
from feedback.demo import SAMPLES, seed_accounts
from feedback.models import Channel, Issue

pytestmark = pytest.mark.django_db

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
LATE_NOVEMBER = datetime.datetime(2026, 11, 29, 10, 0, tzinfo=datetime.UTC)
BEFORE_THE_23RD = datetime.datetime(2026, 11, 20, 2, 0, tzinfo=datetime.UTC)


def counts() -> dict[str, int]:
    return {
        m._meta.label: m.objects.count()
        for m in apps.get_models()
        if m._meta.app_label in {"channels_enterprise", "feedback"}
    }


def test_the_demo_credit_codes_carry_their_check_characters():
    """Checked with GB 32100-2015 computed here, apart from the code under test."""
    for data in ENTERPRISES:
        code = data.credit_code
        total = sum(CHARSET.index(c) * w for c, w in zip(code[:17], WEIGHTS, strict=True))
        assert code[17] == CHARSET[(31 - total % 31) % 31], data.name
        assert code.startswith("91430525") and organisation_check_ok(code), data.name


def test_the_registry_holds_the_enterprises_of_the_demo_issues():
    assert {name for name, *_ in SAMPLES[Channel.ENTERPRISE]} <= {e.name for e in ENTERPRISES}


@time_machine.travel(LATE_NOVEMBER, tick=False)
def test_the_demo_holds_every_past_day_and_records_problems_once(reference):
    seed_accounts()
    assert seed_demo_sessions() == 13  # December 2025 to November 2026, and December 2026 ahead
    first = counts()
    assert seed_demo_sessions() == 0
    assert counts() == first
    today = timezone.localdate()

    assert Enterprise.objects.filter(active=True).count() == len(ENTERPRISES)
    assert EnterpriseLog.objects.filter(action="registered", actor__username="ezoneoffice").count() == 6
    past = EnterpriseDay.objects.filter(held_on__lt=today)
    assert past.count() == 12 and not past.filter(held_at=None).exists()
    assert past.filter(held_by__username="ezoneoffice").exclude(summary="").count() == 12
    november = EnterpriseDay.objects.get(month=datetime.date(2026, 11, 1))
    assert november.held_on == datetime.date(2026, 11, 23) and november.is_held
    december = EnterpriseDay.objects.get(month=datetime.date(2026, 12, 1))  # the scheduler's, a month ahead
    assert december.held_on == datetime.date(2026, 12, 23) and not december.is_held
    assert all(
        day.leaders.filter(username="leader").exists() and day.departments.exists()
        for day in EnterpriseDay.objects.all()
    )

    intakes = EnterpriseIntake.objects.select_related("issue", "day")
    assert sorted(i.day.month.month for i in intakes) == [10, 10, 10, 11, 11, 11]
    assert not intakes.filter(enterprise=None).exists()
    issues = Issue.objects.filter(enterprise_intake__isnull=False)
    assert not issues.filter(status="registered").exists()  # every problem assigned to a department
    assert all(today - datetime.timedelta(days=366) <= i.received_on <= today for i in issues)
    assert issues.filter(onsite_answer__gt="").exists()
    assert (
        issues.filter(enterprise_intake__day__month=datetime.date(2026, 10, 1), assignments__status="pending").count()
        == 0
    )  # the earlier day's problems are signed for
    assert Consultation.objects.get().intake.day.month == datetime.date(2026, 10, 1)


@time_machine.travel(BEFORE_THE_23RD, tick=False)
def test_before_the_23rd_this_months_day_is_ahead_and_not_held(reference):
    seed_accounts()
    seed_demo_sessions()
    november = EnterpriseDay.objects.get(month=datetime.date(2026, 11, 1))
    assert not november.is_held and not november.intakes.exists()
    assert november.leaders.exists()  # on duty already
    assert EnterpriseDay.objects.filter(month=datetime.date(2026, 12, 1)).exists()
    assert sorted(EnterpriseIntake.objects.values_list("day__month__month", flat=True)) == [9, 9, 9, 10, 10, 10]


@time_machine.travel(LATE_NOVEMBER, tick=False)
def test_without_the_demo_accounts_only_the_days_are_planned(reference):
    assert seed_demo_sessions() == 13
    assert not Enterprise.objects.exists() and not EnterpriseIntake.objects.exists()
    assert not EnterpriseDay.objects.exclude(held_at=None).exists()
