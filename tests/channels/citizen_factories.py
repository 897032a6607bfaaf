"""Factories for the 政民 channel's tests. Writes go through channels_citizen.services, as in the app."""

from __future__ import annotations

import datetime
from typing import Any

import factory

from channels_citizen import services
from channels_citizen.models import NoMeetingWeek, RosterEntry, Village, Visit
from feedback.models import Category, Department, Issue

D = datetime.date
NOVEMBER = D(2026, 11, 1)


def dept(code: str) -> Department:
    return Department.objects.get(code=code)


class VillageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Village
        django_get_or_create = ("township", "name")

    township = factory.LazyFunction(lambda: dept("hqz"))
    name = factory.Sequence(lambda n: f"第{n + 1}村")


def week(actor: Any, month: datetime.date = NOVEMBER) -> NoMeetingWeek:
    """November 2026: 11-24 … 11-30 (the last five working days)."""
    return services.plan_week(actor=actor, month=month)


def roster_entry(
    actor: Any, week: NoMeetingWeek, leader: Any, township: str = "hqz", departments: tuple[str, ...] = ("zjj",)
) -> RosterEntry:
    return services.add_roster_entry(
        actor=actor, week=week, leader=leader, township=dept(township), departments=[dept(c) for c in departments]
    )


def visit(
    actor: Any, week: NoMeetingWeek, *, township: str = "hqz", held_on: datetime.date | None = None, **extra: Any
) -> Visit:
    held_on = held_on or week.starts_on + datetime.timedelta(days=1)
    return services.record_visit(
        actor=actor,
        week=week,
        kind=extra.pop("kind", Visit.Kind.RECEPTION),
        township=dept(township),
        held_on=held_on,
        **extra,
    )


def request_row(**overrides: Any) -> services.VisitRequest:
    data: dict[str, Any] = {
        "requester_name": "王某某",
        "requester_phone": "13812345678",
        "category": Category.objects.get(code="housing"),
        "lead": dept("zjj"),
        "content": "搬迁安置补偿标准不一致，请求统一核定",
    }
    data.update(overrides)
    return services.VisitRequest(**data)


def petition(actor: Any, visit: Visit, **overrides: Any) -> Issue:
    """One request raised at ``visit``, registered and assigned."""
    return services.record_visit_requests(actor=actor, visit=visit, rows=[request_row(**overrides)])[0]
