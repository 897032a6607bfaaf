"""Hot topics (热点诉求) on the dashboard, and the list behind each (issue 19)."""

from __future__ import annotations

import datetime
import hashlib
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from feedback import similar
from feedback.access import scope_of
from feedback.figures import statistics

log = logging.getLogger(__name__)

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


def cache_key(user: Any, filters: Any, period: Period) -> str:
    """What the clusters depend on: the user's scope (role and unit: an office sees its channel, and no
    unit sees the accusations against it), the dashboard's filters other than the dates, and the period."""
    scope = scope_of(user)
    parts = [
        scope.role,
        str(scope.department.pk if scope.department is not None else ""),
        filters.channel,
        filters.department.code if filters.department else "",
        filters.category.code if filters.category else "",
        period.start.isoformat(),
        period.end.isoformat(),
    ]
    return "hot-topics:1:" + hashlib.sha256("|".join(parts).encode()).hexdigest()


def period_topics(user: Any, filters: Any, period: Period) -> list[similar.Topic]:
    """Every cluster of the period, largest first: the dashboard shows the first ten, the topic page
    looks one up. Clustering the period's texts is most of the dashboard's work (~300 ms of Python at
    200,000 issues, bench/profile_pages.py), so the result is kept ``HOT_TOPICS_CACHE_SECONDS`` (0: not
    kept) per scope, filters and period, and both pages read the same entry: the list behind a topic
    is exactly the one whose size the dashboard showed (decision 0700)."""
    seconds = int(getattr(settings, "HOT_TOPICS_CACHE_SECONDS", 300))
    key = cache_key(user, filters, period)
    if seconds > 0:
        try:
            kept: list[similar.Topic] | None = cache.get(key)
        except Exception:  # Redis down: the page is computed as before rather than refused
            log.warning("hot topics cache unavailable", exc_info=True)
            seconds = 0
            kept = None
        if kept is not None:
            return kept
    found = similar.hot_topics(
        base_issues(user, filters), start=period.start, end=period.end, limit=similar.HOT_SCAN_LIMIT
    )
    if seconds > 0:
        try:
            cache.set(key, found, seconds)
        except Exception:
            log.warning("hot topics cache unavailable", exc_info=True)
    return found


def dashboard_topics(user: Any, filters: Any, as_of: datetime.date) -> dict[str, Any]:
    """The dashboard's hot topics: the ten largest clusters of the period, each linked to its requests."""
    period = period_of(filters.received_from, filters.received_to, as_of)
    topics = period_topics(user, filters, period)[: similar.HOT_TOPICS]
    query = filters.query(received_from=period.start.isoformat(), received_to=period.end.isoformat())
    rows = [(t, reverse("dashboard_topic") + "?" + urlencode({"topic": t.concept}) + "&" + query) for t in topics]
    return {"hot_topics": rows, "hot_period": period}
