"""``{% deadline_preview form %}``: the box under the deadline fields of the registration form
that static/js/portal.js fills from GET /api/v1/deadlines/preview/ (no inline script: CSP)."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone

from feedback.models import DeadlinePolicy

register = template.Library()


def default_policies(channels: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """The active default policies per channel and nature ("" = the channel's default),
    the same choice services.policy_for makes when the deadline fields are left empty."""
    table: dict[str, dict[str, dict[str, Any]]] = {c: {} for c in channels}
    for p in DeadlinePolicy.objects.filter(channel__in=channels, active=True):
        table[p.channel][p.nature] = {"amount": p.amount, "unit": p.unit, "label": str(p)}
    return table


@register.inclusion_tag("feedback/_deadline_preview.html")
def deadline_preview(form: Any) -> dict[str, Any]:
    channels = [value for value, _ in form.fields["channel"].choices]
    return {
        "url": reverse("api:deadline-preview"),
        # services.assign_issue counts from the assignment day, which for this form is today.
        "start": timezone.localdate().isoformat(),
        "policies": json.dumps(default_policies(channels), ensure_ascii=False),
    }
