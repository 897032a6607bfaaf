"""Factories for the core. Writes that matter go through feedback.services, as in the app."""

from __future__ import annotations

import datetime
from typing import Any

import factory
from django.utils import timezone

from feedback import services
from feedback.models import Assignment, Category, Department, Issue, Requester


class RequesterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Requester

    name = factory.Sequence(lambda n: f"群众{n}")
    phone = factory.Sequence(lambda n: f"139{n:08d}")


def register(
    actor: Any,
    *,
    channel: str = "net",
    received_on: datetime.date | None = None,
    category: str = "housing",
    title: str = "学校门口修建人行天桥",
    ref: str | None = None,
    phone: str = "",
    name: str = "山村支教亮亮老师",
    nature: str = "suggestion",
) -> Issue:
    return services.register_issue(
        actor=actor,
        channel=channel,
        category=Category.objects.get(code=category),
        requester=services.RequesterData(name=name, phone=phone),
        title=title,
        content=f"{title}，请尽快研究答复。",
        received_on=received_on or timezone.localdate(),
        ref=ref,
        nature=nature,
    )


def assigned(
    actor: Any, *, lead: str = "zjj", co: tuple[str, ...] = (), assigned_on: datetime.date | None = None, **kwargs: Any
) -> tuple[Issue, list[Assignment]]:
    received = kwargs.pop("received_on", None) or assigned_on
    issue = register(actor, received_on=received, **kwargs)
    assignments = services.assign_issue(
        actor=actor,
        issue=issue,
        lead=Department.objects.get(code=lead),
        co=[Department.objects.get(code=c) for c in co],
        assigned_on=assigned_on,
    )
    return issue, assignments
