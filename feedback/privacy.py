"""Personal data shown masked (个人信息保护法): 138****5678."""

from __future__ import annotations

import re


def mask_phone(phone: str) -> str:
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


# Standing alone, not inside a longer run of digits: an 18-character ID number (the last may be X)
# and a mainland mobile number (11 digits starting 13–19). IDs go first so none is read as a phone.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def redact(text: str) -> str:
    """Mask ID and mobile numbers in text meant for the public (a published reply summary)."""
    text = _ID_NUMBER.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    return _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)
