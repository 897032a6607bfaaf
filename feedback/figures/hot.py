"""The dashboard's hot topics (热点诉求, issue 19), kept in the cache and refreshed ahead of expiry.

Clustering a period's texts is most of the dashboard's work (~470 ms of Python at a million issues,
bench/profile_pages.py). The result is kept ``HOT_TOPICS_CACHE_SECONDS`` per scope, filters and
period, and the dashboard and the topic page read the same entry (decision 0700). Every dashboard
that reads an entry also *watches* its scope and filters; ``refresh_watched`` (the beat task
``feedback.tasks.refresh_hot_topics``, every 0.8 × ``HOT_TOPICS_CACHE_SECONDS``) computes again, before
they expire, the entries of every scope and filters looked at in the last ``HOT_TOPICS_WATCH_SECONDS``:
the default period and the four period buttons. So the clustering runs in the worker, and a leader
pays it only on the first look of the day at a scope and filters, or at a period no button gives
(decision 0760).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from dataclasses import dataclass
from time import time as _now
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache

from feedback import similar
from feedback.access import scope_of
from feedback.figures import statistics
from feedback.models import Category, Department

log = logging.getLogger(__name__)

# Without a chosen period, the hot topics are those of the last 30 days (to as_of).
DEFAULT_DAYS = 30
WATCH_KEY = "hot-topics:watching:1"
# A watched scope's last look is written again only when older than this: one cache write a minute
# at most per scope and filters, not one per page load.
WATCH_TOUCH_SECONDS = 60
# The most scopes and filters kept watched (the oldest looks are dropped first).
WATCH_LIMIT = 50


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date


@dataclass(frozen=True)
class Lens:
    """The dashboard's filters that the clusters depend on besides the period."""

    channel: str = ""
    department: Department | None = None
    category: Category | None = None

    def codes(self) -> tuple[str, str, str]:
        return (
            self.channel,
            self.department.code if self.department else "",
            self.category.code if self.category else "",
        )


def period_of(received_from: datetime.date | None, received_to: datetime.date | None, as_of: datetime.date) -> Period:
    end = received_to or as_of
    start = received_from or end - datetime.timedelta(days=DEFAULT_DAYS - 1)
    return Period(start, end)


def button_periods(today: datetime.date) -> list[tuple[str, datetime.date, datetime.date]]:
    """The dashboard's period buttons."""
    return [
        ("本月", today.replace(day=1), today),
        ("本季度", today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1), today),
        ("今年", today.replace(month=1, day=1), today),
        ("近12个月", today - datetime.timedelta(days=364), today),
    ]


def _scope_parts(user: Any, lens: Lens) -> list[str]:
    """What the clusters depend on: the user's scope (role and unit: an office sees its channel, and no
    unit sees the accusations against it) and the filters other than the dates."""
    scope = scope_of(user)
    return [scope.role, str(scope.department.pk if scope.department is not None else ""), *lens.codes()]


def cache_key(user: Any, lens: Lens, period: Period) -> str:
    parts = [*_scope_parts(user, lens), period.start.isoformat(), period.end.isoformat()]
    return "hot-topics:1:" + hashlib.sha256("|".join(parts).encode()).hexdigest()


def _seconds() -> int:
    return int(getattr(settings, "HOT_TOPICS_CACHE_SECONDS", 300))


def _compute(user: Any, lens: Lens, period: Period) -> list[similar.Topic]:
    issues, _ = statistics.scoped(user)
    cohort = statistics.cohort(
        issues,
        channel=lens.channel,
        department=lens.department,
        category=lens.category,
        received_from=None,
        received_to=None,
    )
    return similar.hot_topics(cohort, start=period.start, end=period.end, limit=similar.HOT_SCAN_LIMIT)


def _store(key: str, found: list[similar.Topic], seconds: int) -> None:
    try:
        cache.set(key, found, seconds)
    except Exception:  # Redis down: computed as before rather than refused
        log.warning("hot topics cache unavailable", exc_info=True)


def period_topics(user: Any, lens: Lens, period: Period, *, watch: bool = True) -> list[similar.Topic]:
    """Every cluster of the period, largest first: the dashboard shows the first ten, the topic page
    looks one up in the same entry, so the list behind a topic is exactly the one whose size the
    dashboard showed. ``watch``: keep this scope and filters refreshed ahead of expiry."""
    seconds = _seconds()
    if seconds <= 0:
        return _compute(user, lens, period)
    key = cache_key(user, lens, period)
    try:
        kept: list[similar.Topic] | None = cache.get(key)
    except Exception:
        log.warning("hot topics cache unavailable", exc_info=True)
        return _compute(user, lens, period)
    if watch:
        _watch(user, lens)
    if kept is not None:
        return kept
    found = _compute(user, lens, period)
    _store(key, found, seconds)
    return found


def _watch(user: Any, lens: Lens) -> None:
    """Note that this scope and filters were looked at now (at most one write a minute)."""
    name = hashlib.sha256("|".join(_scope_parts(user, lens)).encode()).hexdigest()
    now = _now()
    try:
        watching: dict[str, tuple[int, str, str, str, float]] = cache.get(WATCH_KEY) or {}
        seen = watching.get(name)
        if seen is not None and now - seen[4] < WATCH_TOUCH_SECONDS:
            return
        watching[name] = (user.pk, *lens.codes(), now)
        if len(watching) > WATCH_LIMIT:
            watching = dict(sorted(watching.items(), key=lambda kv: kv[1][4])[-WATCH_LIMIT:])
        cache.set(WATCH_KEY, watching, None)
    except Exception:
        log.warning("hot topics cache unavailable", exc_info=True)


def refresh_watched(today: datetime.date) -> int:
    """Compute again the default period and the period buttons of every scope and filters looked at in
    the last ``HOT_TOPICS_WATCH_SECONDS``, and keep them ``HOT_TOPICS_CACHE_SECONDS`` more; forget the
    others. Returns the entries computed. Nothing when keeping is off."""
    seconds = _seconds()
    if seconds <= 0:
        return 0
    watching: dict[str, tuple[int, str, str, str, float]] = cache.get(WATCH_KEY) or {}
    horizon = _now() - int(getattr(settings, "HOT_TOPICS_WATCH_SECONDS", 8 * 3600))
    users = get_user_model().objects.filter(is_active=True).in_bulk([w[0] for w in watching.values()])
    departments = Department.objects.in_bulk({w[2] for w in watching.values() if w[2]}, field_name="code")
    categories = Category.objects.in_bulk({w[3] for w in watching.values() if w[3]}, field_name="code")
    periods = [period_of(None, None, today)] + [Period(start, end) for _, start, end in button_periods(today)]
    computed, kept = 0, {}
    for name, (user_id, channel, department, category, seen) in watching.items():
        user = users.get(user_id)
        if seen < horizon or user is None:
            continue
        lens = Lens(channel=channel, department=departments.get(department), category=categories.get(category))
        if (department and lens.department is None) or (category and lens.category is None):
            continue  # a unit or category removed since: nobody can ask for it again
        kept[name] = watching[name]
        for period in periods:
            _store(cache_key(user, lens, period), _compute(user, lens, period), seconds)
            computed += 1
    # Another look may have been noted meanwhile: keep it (a lost note costs one cold load, no more).
    latest: dict[str, tuple[int, str, str, str, float]] = cache.get(WATCH_KEY) or {}
    kept.update({k: v for k, v in latest.items() if k not in watching})
    cache.set(WATCH_KEY, kept, None)
    return computed
