"""The demo accounts' documented password, and the check that refuses it outside development."""

from __future__ import annotations

DEMO_PASSWORD = "zhitongche-demo"  # noqa: S105 - documented demo password, refused when DEBUG is off
