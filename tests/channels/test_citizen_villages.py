"""Villages and the yearly count of villages with no petitions (无访村), shown on /citizen/."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse

from channels_citizen import services
from feedback.errors import InvalidInput
from feedback.models import Category, Department

pytestmark = pytest.mark.django_db
D = datetime.date


def dept(code: str) -> Department:
    return Department.objects.get(code=code)


def petition(actor, village, received_on: datetime.date, **extra):
    return services.register_citizen_issue(
        actor=actor,
        village=village,
        category=Category.objects.get(code="rural"),
        requester=services.services.RequesterData(name="村民"),
        title="灌溉水渠",
        content="水渠年久失修",
        received_on=received_on,
        nature="help",
        **extra,
    )


@pytest.fixture
def villages(petitionoffice):
    return [
        services.add_village(actor=petitionoffice, township=dept("hqz"), name=name)
        for name in ("迴龙洲村", "桥头村", "新田村")
    ]


def test_a_village_name_is_unique_within_its_township_and_needs_a_township(petitionoffice, villages):
    with pytest.raises(InvalidInput, match="黄桥镇已有桥头村"):
        services.add_village(actor=petitionoffice, township=dept("hqz"), name="桥头村")
    assert services.add_village(actor=petitionoffice, township=dept("jkz"), name="桥头村").pk
    with pytest.raises(InvalidInput, match="不是乡镇"):
        services.add_village(actor=petitionoffice, township=dept("zjj"), name="某村")


@time_machine.travel(datetime.datetime(2026, 11, 29, 10, 0, tzinfo=datetime.UTC), tick=False)
def test_a_village_is_quiet_in_a_year_without_any_citizen_issue_from_it(petitionoffice, villages):
    a, b, c = villages
    petition(petitionoffice, a, D(2025, 3, 1))
    petition(petitionoffice, a, D(2026, 5, 1))
    petition(petitionoffice, b, D(2025, 12, 31))
    c.active = False
    c.save()  # retired villages are not counted
    rows = {r.year: (r.quiet, r.villages) for r in services.quiet_villages([2024, 2025, 2026])}
    # 2024: the channel recorded nothing that year — no record, not two quiet villages.
    assert rows == {2024: (None, 2), 2025: (0, 2), 2026: (1, 2)}


@time_machine.travel(datetime.datetime(2026, 11, 29, 10, 0, tzinfo=datetime.UTC), tick=False)
def test_a_year_with_only_a_visit_recorded_counts_its_quiet_villages(petitionoffice, villages):
    from channels_citizen.models import NoMeetingWeek, Visit

    week = NoMeetingWeek.objects.create(month=D(2024, 6, 1), starts_on=D(2024, 6, 24), ends_on=D(2024, 6, 28))
    Visit.objects.create(week=week, township=villages[0].township, held_on=D(2024, 6, 26), kind=Visit.Kind.RECEPTION)
    assert services.recorded_in(D(2024, 1, 1), D(2024, 12, 31))
    assert not services.recorded_in(D(2023, 1, 1), D(2023, 12, 31))
    assert [(r.year, r.quiet) for r in services.quiet_villages([2023, 2024])] == [(2023, None), (2024, 3)]


@time_machine.travel(datetime.datetime(2026, 11, 29, 10, 0, tzinfo=datetime.UTC), tick=False)
def test_the_channel_page_shows_its_figures_and_the_villages_page_the_quiet_village_trend(
    client, petitionoffice, villages, django_assert_max_num_queries
):
    petition(petitionoffice, villages[0], D(2026, 5, 1), lead=dept("hqz"))
    client.force_login(petitionoffice)
    with django_assert_max_num_queries(20):
        page = client.get(reverse("channels_citizen:home")).content.decode()
    assert "办理回复率" in page and "2026年无访村" in page
    page = client.get(reverse("channels_citizen:village_list")).content.decode()
    assert (
        '<td data-label="年份">2021</td><td data-label="无访村"><span class="muted">无记录</span></td>'
        '<td data-label="村总数">3</td><td data-label="占比">—</td>'
    ) in page
    assert '<td data-label="年份">2026</td><td data-label="无访村">2</td><td data-label="村总数">3</td>' in page


def test_a_citizen_intake_records_the_village_and_an_accused_unit(petitionoffice, villages):
    issue = services.register_citizen_issue(
        actor=petitionoffice,
        village=villages[0],
        category=Category.objects.get(code="housing"),
        requester=services.services.RequesterData(name="村民"),
        title="举报",
        content="举报村干部",
        received_on=D(2026, 5, 1),
        nature="report",
        accused_department=dept("zjj"),
        lead=dept("hqz"),
    )
    assert issue.citizen_intake.village == villages[0]
    assert issue.citizen_intake.township == dept("hqz")
    assert issue.accused_department == dept("zjj")
