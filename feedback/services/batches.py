"""Batch intake: many rows entered on one page (after a forum, an enterprise day, a visit) are
registered all or none, and every bad row is reported, not only the first.

Used by the three channels' intake services; the core never imports them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from django.db import transaction

from feedback.errors import BatchRejected, InvalidInput, NotPermitted, WorkflowError

Row = TypeVar("Row")
Result = TypeVar("Result")


def all_or_none(rows: Sequence[Row], register: Callable[[Row], Result], *, what: str = "诉求") -> list[Result]:
    """``register`` each row in its own savepoint; if any row fails, raise ``BatchRejected`` with
    every row's error. Must run inside the caller's transaction, which the exception rolls back:
    the rows that succeeded are undone with it. A refusal of the user himself (``NotPermitted``)
    is not a row's fault and propagates as it is."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("all_or_none needs the caller's transaction to roll the batch back")
    errors: dict[int, InvalidInput] = {}
    results: list[Result] = []
    for index, row in enumerate(rows):
        try:
            with transaction.atomic():
                results.append(register(row))
        except NotPermitted:
            raise
        except WorkflowError as exc:
            errors[index] = InvalidInput(exc.message, field=exc.field)
    if errors:
        raise BatchRejected(errors, what=what)
    return results
