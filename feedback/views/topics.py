"""Hot topics (热点诉求) on the dashboard, and the list behind each (issue 19); the clusters are read
from feedback.figures.hot, which keeps them and refreshes them ahead of expiry (decisions 0700, 0760)."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from feedback import similar
from feedback.figures import hot


def lens_of(filters: Any) -> hot.Lens:
    return hot.Lens(channel=filters.channel, department=filters.department, category=filters.category)


def period_topics(user: Any, filters: Any, period: hot.Period) -> list[similar.Topic]:
    return hot.period_topics(user, lens_of(filters), period)


def dashboard_topics(user: Any, filters: Any, as_of: datetime.date) -> dict[str, Any]:
    """The dashboard's hot topics: the ten largest clusters of the period, each linked to its requests."""
    period = hot.period_of(filters.received_from, filters.received_to, as_of)
    topics = period_topics(user, filters, period)[: similar.HOT_TOPICS]
    query = filters.query(received_from=period.start.isoformat(), received_to=period.end.isoformat())
    rows = [(t, reverse("dashboard_topic") + "?" + urlencode({"topic": t.concept}) + "&" + query) for t in topics]
    return {"hot_topics": rows, "hot_period": period}
