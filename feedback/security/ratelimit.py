"""Counting attempts per client and hour, in the cache and, when the cache is down, in the database.

Issue 15 found a citizen's suggestion lost with Redis down: the public portal's counter called the cache
unguarded, the request failed with 500 and nothing was stored. A limit is a protection, not a reason to
refuse the public: every cache call here is guarded, and a failure moves the count to ``RateLimitHit``
rows (one per attempt, pruned past the window), so the limit still holds across web processes.
"""

from __future__ import annotations

import datetime
import logging
import time

from django.core.cache import cache
from django.utils import timezone

log = logging.getLogger("zhitongche.security")

WINDOW_SECONDS = 3600


def _key(kind: str, client: str) -> str:
    return f"public:{kind}:{client}:{int(time.time() // WINDOW_SECONDS)}"


def _db_count(kind: str, client: str) -> int:
    from feedback.models.security import RateLimitHit

    since = timezone.now() - datetime.timedelta(seconds=WINDOW_SECONDS)
    return RateLimitHit.objects.filter(kind=kind, client=client[:64], at__gte=since).count()


def count(kind: str, client: str) -> int:
    try:
        cached = int(cache.get(_key(kind, client), 0))
    except Exception:
        log.warning("cache unavailable; counting %s in the database", kind, exc_info=True)
        cached = 0
    # Hits counted in the database while the cache was down still count once it is back.
    return cached + _db_count(kind, client)


def bump(kind: str, client: str) -> None:
    key = _key(kind, client)
    try:
        cache.add(key, 0, timeout=WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=WINDOW_SECONDS)
        return
    except Exception:
        log.warning("cache unavailable; counting %s in the database", kind, exc_info=True)
    from feedback.models.security import RateLimitHit

    now = timezone.now()
    RateLimitHit.objects.filter(at__lt=now - datetime.timedelta(seconds=WINDOW_SECONDS)).delete()
    RateLimitHit.objects.create(kind=kind, client=client[:64], at=now)
