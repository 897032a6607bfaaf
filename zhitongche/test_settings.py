"""Test overrides: only what tests need to differ; everything else is the real settings."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("DEBUG", "1")

from .settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
MEDIA_ROOT = tempfile.mkdtemp(prefix="zhitongche-media-")
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
AXES_ENABLED = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

if not os.environ.get("REDIS_URL"):
    # Tasks published by tests on the embedded defaults go nowhere instead of piling up in var/broker.
    CELERY_BROKER_URL = "memory://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
# No persistent connections in tests: threads and the live server must not keep the test
# database open when pytest-django drops it.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# Each test starts with an empty cache (rate-limit counters must not leak between tests or runs).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The second factor is off for the suite's force_login users; tests/security/test_otp.py turns it on with
# the production roles (the real default stays in settings.OTP_REQUIRED_ROLES).
OTP_REQUIRED_ROLES: list[str] = []
