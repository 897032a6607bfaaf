"""Hot topics (热点诉求) on the dashboard, and the list behind each (issue 19)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from feedback import similar
from feedback.figures import statistics

# Without a chosen period, the hot topics are those of the last 30 days (to as_of).
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date

    @property
    def previous(self) -> tuple[datetime.date, datetime.date]:
        length = (self.end - self.start).days + 1
        return self.start - datetime.timedelta(days=length), self.start - datetime.timedelta(days=1)


def period_of(received_from: datetime.date | None, received_to: datetime.date | None, as_of: datetime.date) -> Period:
    end = received_to or as_of
    start = received_from or end - datetime.timedelta(days=DEFAULT_DAYS - 1)
    return Period(start, end)


def base_issues(user: Any, filters: Any) -> Any:
    issues, _ = statistics.scoped(user)
    kwargs = {**filters.cohort_kwargs(), "received_from": None, "received_to": None}
    return statistics.cohort(issues, **kwargs)


def dashboard_topics(user: Any, filters: Any, as_of: datetime.date) -> dict[str, Any]:
    """The dashboard's hot topics: the ten largest clusters of the period, each linked to its requests."""
    period = period_of(filters.received_from, filters.received_to, as_of)
    topics = similar.hot_topics(base_issues(user, filters), start=period.start, end=period.end)
    query = filters.query(received_from=period.start.isoformat(), received_to=period.end.isoformat())
    rows = [(t, reverse("dashboard_topic") + "?" + urlencode({"topic": t.concept}) + "&" + query) for t in topics]
    return {"hot_topics": rows, "hot_period": period}
