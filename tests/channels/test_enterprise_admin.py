"""The Django admin of the enterprise channel does not bypass the services' checks: credit codes,
inactive leaders, the scheduler's dates; problems and 三长会诊 are only shown there."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from channels_enterprise import services
from channels_enterprise.models import Consultation, Enterprise, EnterpriseDay, EnterpriseIntake, EnterpriseLog
from feedback.access import Role
from feedback.models import Category, Department
from tests.channels.enterprise_factories import EnterpriseFactory, credit_code, wrong_check_digit
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
ADMIN = "/admin/channels_enterprise"


@pytest.fixture(autouse=True)
def frozen_clock(time_machine: Any) -> None:
    time_machine.move_to(datetime.datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)


@pytest.fixture
def admin_client(client: Client, admin_user: Any) -> Client:
    client.force_login(admin_user)
    return client


def enterprise_post(**overrides: str) -> dict[str, str]:
    data = {
        "name": "洞口电子科技有限公司",
        "credit_code": credit_code(5),
        "park": "电子信息产业园",
        "sector": "电子",
        "contact_name": "李经理",
        "contact_phone": "13812345678",
        "active": "on",
    }
    data.update(overrides)
    return data


def test_adding_an_enterprise_with_a_wrong_check_digit_is_refused_on_the_field(admin_client: Client) -> None:
    good = credit_code(5)
    page = admin_client.post(f"{ADMIN}/enterprise/add/", enterprise_post(credit_code=wrong_check_digit(good)))
    assert page.status_code == 200
    assert f"第18位应为“{good[17]}”" in page.content.decode()
    assert not Enterprise.objects.exists()


def test_an_enterprise_added_in_the_admin_goes_through_the_service(admin_client: Client, admin_user: Any) -> None:
    response = admin_client.post(
        f"{ADMIN}/enterprise/add/", enterprise_post(credit_code=credit_code(5).lower(), contact_phone="138-1234-5678")
    )
    assert response.status_code == 302
    ent = Enterprise.objects.get()
    assert ent.credit_code == credit_code(5) and ent.contact_phone == "13812345678"
    assert EnterpriseLog.objects.get().action == EnterpriseLog.Action.REGISTERED


def test_changing_a_code_to_a_wrong_or_taken_one_is_refused_and_a_change_is_recorded(admin_client: Client) -> None:
    ent = EnterpriseFactory()
    other = EnterpriseFactory()
    change = f"{ADMIN}/enterprise/{ent.pk}/change/"
    page = admin_client.post(change, enterprise_post(credit_code=wrong_check_digit(ent.credit_code)))
    assert "校验位错误" in page.content.decode()
    page = admin_client.post(change, enterprise_post(credit_code=other.credit_code))
    assert "已登记" in page.content.decode()
    ent.refresh_from_db()
    assert ent.credit_code != other.credit_code
    assert admin_client.post(change, enterprise_post(credit_code=ent.credit_code)).status_code == 302
    assert EnterpriseLog.objects.get(enterprise=ent).action == EnterpriseLog.Action.UPDATED


def test_an_enterprise_cannot_be_deleted_in_the_admin(admin_client: Client) -> None:
    ent = EnterpriseFactory()
    assert admin_client.post(f"{ADMIN}/enterprise/{ent.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Enterprise.objects.filter(pk=ent.pk).exists()


@pytest.fixture
def day(reference: None) -> EnterpriseDay:
    return services.schedule_enterprise_days(today=datetime.date(2026, 11, 1))[0]


def day_post(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"place": "电子信息产业园", "note": "", "leaders": [], "departments": [], "enterprises": []}
    data.update(overrides)
    return data


def test_an_inactive_leader_is_refused_in_the_admin(admin_client: Client, leader: Any, day: EnterpriseDay) -> None:
    gone = make_user("retired_leader", role=Role.LEADER)
    gone.is_active = False
    gone.save()
    page = admin_client.post(f"{ADMIN}/enterpriseday/{day.pk}/change/", day_post(leaders=[gone.pk]))
    assert page.status_code == 200 and "账号已停用，不能安排带队" in page.content.decode()
    assert not day.leaders.exists()
    response = admin_client.post(
        f"{ADMIN}/enterpriseday/{day.pk}/change/",
        day_post(leaders=[leader.pk], departments=[Department.objects.get(code="zjj").pk]),
    )
    assert response.status_code == 302
    assert list(day.leaders.all()) == [leader]


def test_the_dates_of_a_day_cannot_be_changed_and_no_day_added_or_deleted_in_the_admin(
    admin_client: Client, day: EnterpriseDay
) -> None:
    form = admin_client.get(f"{ADMIN}/enterpriseday/{day.pk}/change/").content.decode()
    assert 'name="held_on"' not in form and 'name="notice_on"' not in form and 'name="provisional"' not in form
    admin_client.post(
        f"{ADMIN}/enterpriseday/{day.pk}/change/",
        day_post(held_on="2026-11-22", notice_on="2026-11-01", provisional="on", held_at="2026-11-01"),
    )
    day.refresh_from_db()
    assert (day.held_on, day.notice_on, day.provisional, day.held_at) == (
        datetime.date(2026, 11, 23),
        datetime.date(2026, 11, 18),
        False,
        None,
    )
    assert admin_client.get(f"{ADMIN}/enterpriseday/add/").status_code == 403
    assert admin_client.post(f"{ADMIN}/enterpriseday/{day.pk}/delete/", {"post": "yes"}).status_code == 403


def test_problems_and_consultations_are_read_only_in_the_admin(
    admin_client: Client, ezoneoffice: Any, day: EnterpriseDay
) -> None:
    (intake,) = services.raise_problems(
        actor=ezoneoffice,
        day=day,
        problems=[
            services.ProblemData(
                enterprise=EnterpriseFactory(),
                category=Category.objects.get(code="business"),
                title="融资难",
                content="贷款。",
            )
        ],
    )
    record = services.record_consultation(
        actor=ezoneoffice, intake=intake, held_on=datetime.date(2026, 11, 24), participants=["县长"], outcome="已协调"
    )
    assert admin_client.get(f"{ADMIN}/enterpriseintake/{intake.pk}/change/").status_code == 200  # view only
    assert admin_client.get(f"{ADMIN}/consultation/{record.pk}/change/").status_code == 200
    for model in ("enterpriseintake", "consultation", "enterpriselog"):
        assert admin_client.get(f"{ADMIN}/{model}/add/").status_code == 403, model
    admin_client.post(
        f"{ADMIN}/consultation/{record.pk}/change/", {"held_on": "2027-01-01", "participants": "[]", "outcome": "改了"}
    )
    record.refresh_from_db()
    assert (record.held_on, record.outcome) == (datetime.date(2026, 11, 24), "已协调")
    assert admin_client.post(f"{ADMIN}/enterpriseintake/{intake.pk}/delete/", {"post": "yes"}).status_code == 403
    assert EnterpriseIntake.objects.count() == 1 and Consultation.objects.count() == 1


def test_a_staff_user_outside_the_channel_only_views_the_registry(client: Client, reference: None) -> None:
    staff = make_user("it_staff", department="wxb", role=Role.OFFICE)
    staff.is_staff = True
    staff.save()
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="channels_enterprise"))
    ent = EnterpriseFactory()
    client.force_login(staff)
    assert client.get(f"{ADMIN}/enterprise/add/").status_code == 403
    client.post(f"{ADMIN}/enterprise/{ent.pk}/change/", enterprise_post(credit_code=ent.credit_code, name="改名"))
    ent.refresh_from_db()
    assert ent.name != "改名"


def test_the_admin_lists_render(admin_client: Client, ezoneoffice: Any, day: EnterpriseDay) -> None:
    services.raise_problems(
        actor=ezoneoffice,
        day=day,
        problems=[
            services.ProblemData(
                enterprise=EnterpriseFactory(),
                category=Category.objects.get(code="business"),
                title="融资难",
                content="贷款。",
            )
        ],
    )
    for model in ("enterprise", "enterpriseday", "enterpriseintake", "consultation", "enterpriselog"):
        assert admin_client.get(f"{ADMIN}/{model}/").status_code == 200, model
    assert admin_client.get(f"{ADMIN}/enterpriseday/{day.pk}/change/").status_code == 200
