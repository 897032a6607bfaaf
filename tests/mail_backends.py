"""Email backends for tests: an SMTP server that refuses every message (issue 13 §5)."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage


class RefusingBackend(BaseEmailBackend):
    """What the SMTP backend does when the server answers 451: raise, sending nothing."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        raise smtplib.SMTPDataError(451, b"4.3.0 Mail server temporarily rejected message")
