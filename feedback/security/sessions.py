"""Django's database sessions, the session's row read by a statement compiled once per process.

``SESSION_ENGINE = "feedback.security.sessions"``. Everything but the read is Django's
``django.contrib.sessions.backends.db``: the same table, the same writes, ``clearsessions``. Reading the
row through the ORM built and compiled the same statement on every request (~0.3 ms of CPU; bench/README.md,
"Stop 30"); ``feedback.compiled`` keeps it.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db.models import QuerySet
from django.utils import timezone

from feedback.compiled import CompiledQuery


def _live_session(session_key: str, now: datetime.datetime) -> QuerySet[Any]:
    return Session.objects.filter(session_key=session_key, expire_date__gt=now)


LIVE_SESSION = CompiledQuery(_live_session, session_key=str, now=datetime.datetime)


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        session = LIVE_SESSION.first(session_key=self.session_key, now=timezone.now())
        if session is None:
            self._session_key = None  # as Django's: a key with no live row is forgotten
        return session
