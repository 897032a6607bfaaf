"""The Django admin of the 政民 channel never goes around the services' checks: the fields those
checks guard are read-only there and nothing is added there."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse

from channels_citizen import services
from channels_citizen.models import CourtyardMeeting, NoMeetingWeek, RosterEntry, Village, Visit

from .citizen_factories import VillageFactory, dept, roster_entry, visit, week

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2026, 11, 29, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def test_nothing_is_added_in_the_admin(staff):
    for model in ("nomeetingweek", "visit", "village", "citizenintake"):
        assert staff.get(reverse(f"admin:channels_citizen_{model}_add")).status_code == 403, model


def test_a_visit_cannot_be_moved_out_of_its_week_nor_given_an_inactive_leader_in_the_admin(
    staff, petitionoffice, leader
):
    the_visit = visit(petitionoffice, week(petitionoffice), held_on=D(2026, 11, 25), leader=leader)
    other = VillageFactory(township=dept("jkz"))
    leader.is_active = False
    leader.save()
    url = reverse("admin:channels_citizen_visit_change", args=[the_visit.pk])
    page = staff.get(url)
    assert page.status_code == 200
    assert 'name="held_on"' not in page.content.decode() and 'name="leader"' not in page.content.decode()
    response = staff.post(
        url,
        {
            "held_on": "2026-11-02",
            "leader": leader.pk,
            "village": other.pk,
            "kind": "village",
            "lawyer_present": "on",
            "notes": "管理员补记",
            "courtyard_meetings-TOTAL_FORMS": "1",
            "courtyard_meetings-INITIAL_FORMS": "0",
            "courtyard_meetings-MIN_NUM_FORMS": "0",
            "courtyard_meetings-MAX_NUM_FORMS": "1000",
            "courtyard_meetings-0-attendance": "0",
            "courtyard_meetings-0-outcome": "x",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    the_visit.refresh_from_db()
    # Only the unguarded notes changed.
    assert (the_visit.held_on, the_visit.kind, the_visit.village, the_visit.lawyer_present) == (
        D(2026, 11, 25),
        "reception",
        None,
        False,
    )
    assert the_visit.notes == "管理员补记"
    assert not CourtyardMeeting.objects.exists()


def test_a_week_cannot_be_moved_in_the_admin_only_confirmed_through_the_service(staff, petitionoffice, leader):
    the_week = week(petitionoffice)
    roster_entry(petitionoffice, the_week, leader)
    url = reverse("admin:channels_citizen_nomeetingweek_change", args=[the_week.pk])
    page = staff.get(url).content.decode()
    assert 'name="starts_on"' not in page and 'name="roster-0-leader"' not in page
    staff.post(
        url,
        {
            "starts_on": "2026-11-02",
            "ends_on": "2026-11-06",
            "confirmed": "on",
            "roster-TOTAL_FORMS": "1",
            "roster-INITIAL_FORMS": "0",
            "roster-MIN_NUM_FORMS": "0",
            "roster-MAX_NUM_FORMS": "1000",
            "roster-0-leader": leader.pk,
            "roster-0-township": dept("jkz").pk,
        },
    )
    the_week.refresh_from_db()
    assert (the_week.starts_on, the_week.confirmed) == (D(2026, 11, 24), False)
    assert RosterEntry.objects.count() == 1
    # The admin action confirms through services.confirm_week.
    staff.post(
        reverse("admin:channels_citizen_nomeetingweek_changelist"),
        {"action": "confirm_weeks", "_selected_action": [the_week.pk]},
    )
    the_week.refresh_from_db()
    assert the_week.confirmed and the_week.confirmed_by.username == "admin"


def test_villages_are_never_deleted_in_the_admin(staff, petitionoffice):
    village = services.add_village(actor=petitionoffice, township=dept("hqz"), name="桥头村")
    assert staff.get(reverse("admin:channels_citizen_village_delete", args=[village.pk])).status_code == 403
    staff.post(
        reverse("admin:channels_citizen_village_change", args=[village.pk]),
        {"name": "改名村", "township": dept("jkz").pk, "active": ""},
    )
    assert Village.objects.get().name == "桥头村"


def test_the_admin_lists_open(staff, petitionoffice, leader):
    the_visit = visit(petitionoffice, week(petitionoffice), held_on=D(2026, 11, 25), leader=leader)
    for model in ("nomeetingweek", "visit", "village", "citizenintake"):
        assert staff.get(reverse(f"admin:channels_citizen_{model}_changelist")).status_code == 200, model
    assert staff.get(reverse("admin:channels_citizen_visit_change", args=[the_visit.pk])).status_code == 200
    assert NoMeetingWeek.objects.count() == 1 and Visit.objects.count() == 1
