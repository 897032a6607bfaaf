"""Batch intake: many rows entered on one page (after a forum, an enterprise day, a visit) are
registered all or none, and every bad row is reported, not only the first.

Used by the three channels' intake services; the core never imports them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import transaction

from feedback.errors import BatchRejected, InvalidInput, NotPermitted, WorkflowError

Row = TypeVar("Row")
Result = TypeVar("Result")

# The results of the batch being registered, by row (None for a row that failed), while
# ``all_or_none`` runs: a row merged into an earlier row of its batch (并入第 N 行, issue 19) finds that
# row's issue here (``earlier_result``) without each channel's row function knowing its position.
_REGISTERED: ContextVar[list[Any] | None] = ContextVar("batch_registered", default=None)


def earlier_result(index: int) -> Any | None:
    """What ``register`` returned for row ``index`` (0-based) of the batch being registered, or None when
    that row failed or has not been registered yet, or no batch is being registered."""
    done = _REGISTERED.get()
    if done is None or not 0 <= index < len(done):
        return None
    return done[index]


def all_or_none(rows: Sequence[Row], register: Callable[[Row], Result], *, what: str = "诉求") -> list[Result]:
    """``register`` each row in its own savepoint; if any row fails, raise ``BatchRejected`` with
    every row's error. Must run inside the caller's transaction, which the exception rolls back:
    the rows that succeeded are undone with it. A refusal of the user himself (``NotPermitted``)
    is not a row's fault and propagates as it is."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("all_or_none needs the caller's transaction to roll the batch back")
    errors: dict[int, InvalidInput] = {}
    results: list[Result] = []
    registered: list[Any] = []
    token = _REGISTERED.set(registered)
    try:
        for index, row in enumerate(rows):
            try:
                with transaction.atomic():
                    results.append(register(row))
                registered.append(results[-1])
            except NotPermitted:
                raise
            except WorkflowError as exc:
                errors[index] = InvalidInput(exc.message, field=exc.field)
                registered.append(None)
    finally:
        _REGISTERED.reset(token)
    if errors:
        raise BatchRejected(errors, what=what)
    return results
