"""A ledger's check and import run with nothing prepared on the connection (decision 0790, its exception).

With statements prepared (decision 0790), a statement run five times on a connection is prepared there and
PostgreSQL may then plan it once for any values (a generic plan). The ledger's check and import run the
same few statements over and over with thousands of values each (``ref IN (…)`` for 5,000 refs a chunk)
against tables that grow inside the import's own transaction: the generic plan made while the issue table
was small scans it whole for every chunk afterwards. A 20,000-row import's check took 10.5 s instead of
1.0 s, its re-import 22 s instead of 2.6 s (bench/README.md, "Stop 29"). Each of these statements carries
thousands of values and runs a few times: there is nothing for preparing to save, so it is switched off
for their duration, on this connection only, and switched back after.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from django.db import connection

F = TypeVar("F", bound=Callable[..., Any])


@contextlib.contextmanager
def nothing_prepared() -> Iterator[None]:
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    before = raw.prepare_threshold
    raw.prepare_threshold = None  # psycopg: never prepare
    try:
        yield
    finally:
        raw.prepare_threshold = before


def unprepared(function: F) -> F:
    """Run ``function`` with ``nothing_prepared``."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with nothing_prepared():
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
