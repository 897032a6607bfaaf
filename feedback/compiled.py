"""Querysets of a fixed shape whose SQL is compiled once per process (issue 16, decision 0810).

Django builds a queryset's expressions and compiles them to SQL every time it is evaluated. For the
statements that run on nearly every request — the session's user with its membership, role groups and
bell count, the working calendar of a page's deadlines — that is most of their cost (bench/README.md,
"Stop 30": ~0.6 ms of CPU each, against ~0.1 ms to run the same SQL). A ``CompiledQuery`` takes a
function that builds the queryset from named values, builds and compiles it once per database
connection with stand-ins for the values, and from then on runs the kept statement with each call's
values — through Django's own iterables, so select_related, annotations, ``values_list`` and the
fields' converters work as for the queryset itself, and the statement text is the same every time
(PostgreSQL prepares it: decision 0790).

Only for a queryset whose SQL does not depend on the values: the builder may use each value only as
a value compared in the statement (``filter(pk=pk)``), never to choose a branch, a lookup or a join.
What can be checked is checked when the statement is compiled — each stand-in must appear among the
statement's parameters as it was given (a lookup that transforms it, ``__contains`` say, is refused),
and no other parameter may be a date or a time (a ``timezone.now()`` built into the statement would
stay frozen). tests/operations/test_compiled_queries.py compares every use with the plain queryset.

On a database other than PostgreSQL (SQLite in development) the queryset is built and evaluated as
usual: SQLite's adapters turn dates into text, and speed matters only on the production database.
"""

from __future__ import annotations

import copy
import datetime
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import QuerySet


def _stand_in(kind: type, n: int) -> Any:
    """The n-th stand-in of a kind: found again by equality among the compiled statement's parameters, never
    run. Integers stay within a small integer column's range, or Django drops or empties the condition."""
    if kind is int:
        return 32_767 - n
    if kind is str:
        return f"\x00zt-stand-in-{n}\x00"
    if kind is datetime.date:
        return datetime.date(1, 1, 1) + datetime.timedelta(days=n)
    if kind is datetime.datetime:
        return datetime.datetime(1, 1, 2, tzinfo=datetime.UTC) + datetime.timedelta(seconds=n)
    raise TypeError(f"no stand-in for {kind!r}: int, str, date or datetime")


@dataclass(frozen=True)
class _Statement:
    compiler: Any  # the SQLCompiler that compiled it: its select, klass_info and converters are reused
    sql: str
    params: tuple[Any, ...]
    slots: dict[str, tuple[int, ...]]  # each value's positions among the parameters


class CompiledQuery:
    """``CompiledQuery(build, pk=int)``; ``.fetch(pk=5)`` is ``list(build(pk=5))``, ``.first(pk=5)`` its
    first row or None. ``build`` must return the same statement for every value (module docstring)."""

    def __init__(
        self, build: Callable[..., QuerySet[Any]], *, optional: frozenset[str] = frozenset(), **kinds: type
    ) -> None:
        self._build = build
        self._kinds = kinds
        self._optional = optional  # values the statement may leave unused (a scope's, feedback.access.ScopedQuery)
        self._template: QuerySet[Any] | None = None  # built once, with stand-ins
        self._stand_ins: dict[str, Any] = {}
        self._statements: dict[str, _Statement] = {}
        self._lock = threading.Lock()

    def fetch(self, **values: Any) -> list[Any]:
        if values.keys() != self._kinds.keys():
            raise TypeError(f"expected the values {sorted(self._kinds)}, got {sorted(values)}")
        template = self._template if self._template is not None else self._built()  # never its truth: that runs it
        statement = self._statements.get(template.db) or self._compiled(template)
        if statement is None:
            return list(self._build(**values))
        params = list(statement.params)
        for name, positions in statement.slots.items():
            for i in positions:
                params[i] = values[name]
        compiler = copy.copy(statement.compiler)
        compiler.connection = connections[template.db]  # this thread's connection
        bound = (statement.sql, tuple(params))
        compiler.as_sql = lambda *args, **kwargs: bound
        run = template._chain()
        run.query.get_compiler = lambda *args, **kwargs: compiler
        return list(run)

    def first(self, **values: Any) -> Any:
        rows = self.fetch(**values)
        return rows[0] if rows else None

    def _built(self) -> QuerySet[Any]:
        with self._lock:
            if self._template is None:
                self._stand_ins = {name: _stand_in(kind, n) for n, (name, kind) in enumerate(self._kinds.items(), 1)}
                self._template = self._build(**self._stand_ins)
            return self._template

    def _compiled(self, template: QuerySet[Any]) -> _Statement | None:
        if connections[template.db].vendor != "postgresql":
            return None
        with self._lock:
            statement = self._statements.get(template.db)
            if statement is None:
                statement = self._statements[template.db] = self._compile(template)
            return statement

    def _compile(self, template: QuerySet[Any]) -> _Statement:
        compiler, sql, params, slots = _compile(template, self._stand_ins, self._optional)
        # Built again with other stand-ins, the statement must be the same but for the values' places:
        # this refuses a builder whose SQL depends on its values, and a constant equal to a stand-in.
        others = {name: _stand_in(kind, n + len(self._kinds)) for n, (name, kind) in enumerate(self._kinds.items(), 1)}
        _, sql2, params2, slots2 = _compile(self._build(**others), others, self._optional)
        fixed = [p for i, p in enumerate(params) if not any(i in s for s in slots.values())]
        fixed2 = [p for i, p in enumerate(params2) if not any(i in s for s in slots2.values())]
        if (sql, slots, fixed) != (sql2, slots2, fixed2):
            raise ValueError(f"the statement depends on the values given: {sql} / {sql2}")
        return _Statement(compiler=compiler, sql=sql, params=tuple(params), slots=slots)


Slots = dict[str, tuple[int, ...]]  # each value's positions among a statement's parameters


def _compile(
    queryset: QuerySet[Any], stand_ins: dict[str, Any], optional: frozenset[str]
) -> tuple[Any, str, list[Any], Slots]:
    # On a clone: compiling sets up joins and aliases on the query it is given.
    compiler = queryset._chain().query.get_compiler(using=queryset.db)
    sql, params = compiler.as_sql()
    slots = {name: tuple(i for i, p in enumerate(params) if p == value) for name, value in stand_ins.items()}
    for name, positions in slots.items():
        if not positions and name not in optional:
            raise ValueError(f"{name!r} is not a parameter of the compiled statement as given: {sql}")
    taken = {i for positions in slots.values() for i in positions}
    for i, p in enumerate(params):
        if i not in taken and isinstance(p, datetime.date | datetime.time):
            raise ValueError(f"parameter {i} ({p!r}) is a date or time built into the statement: {sql}")
    return compiler, sql, list(params), slots
