"""Public and staff writes with Redis down (issue 15, part 9): nothing is lost, nothing answers 500.

Redis is "down" by pointing the cache and the Celery broker at a port where nothing listens (the shared
Redis server is never stopped). The probe that found a lost suggestion is repeated here as a count.
"""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from channels_net.models import PublicSubmission
from channels_net.public import SUBMISSIONS_PER_HOUR
from feedback.models import Assignment, Category, Department, Issue, RateLimitHit, SignedReply
from tests.channels.test_public_portal import post_suggestion
from tests.conftest import reply_pdf
from tests.feedback.test_views import registration_data

pytestmark = pytest.mark.django_db(transaction=False)

DEAD = "redis://127.0.0.1:6399/9"  # nothing listens here


@pytest.fixture
def redis_down(settings):
    from zhitongche.celery import app

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": DEAD}}
    # Fresh connection and producer pools towards the dead port; the real ones are put back untouched
    # afterwards (closing them would break the later tests that publish to the real Redis).
    saved = (app.conf.broker_url, app._pool, app.amqp._producer_pool)
    app.conf.broker_url, app._pool, app.amqp._producer_pool = DEAD, None, None
    try:
        from django.core.cache import cache

        with pytest.raises(Exception):  # noqa: B017 - any connection error: the point is that it is down
            cache.get("probe")
        yield
    finally:
        dead_pool = app._pool
        app.conf.broker_url, app._pool, app.amqp._producer_pool = saved
        if dead_pool is not None:
            dead_pool.force_close_all()


def test_public_suggestions_are_all_stored_and_the_limit_still_holds(reference, redis_down):
    client = Client()
    statuses = [post_suggestion(client).status_code for _ in range(SUBMISSIONS_PER_HOUR + 1)]
    # Every allowed submission is stored (0 lost), and the limit is counted in the database instead.
    assert statuses == [201] * SUBMISSIONS_PER_HOUR + [429]
    assert PublicSubmission.objects.count() == SUBMISSIONS_PER_HOUR
    assert RateLimitHit.objects.filter(kind="submit").count() == SUBMISSIONS_PER_HOUR


def test_staff_writes_all_commit_with_redis_down(
    reference, redis_down, netoffice, zjj_head, django_capture_on_commit_callbacks
):
    office, department = Client(), Client()
    office.force_login(netoffice)
    department.force_login(zjj_head)
    zjj = Department.objects.get(code="zjj")
    housing = Category.objects.get(code="housing").pk
    started = time.perf_counter()
    statuses = []
    # The callbacks run as on a real commit: that is where the notification mails are queued on the broker.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _staff_round(office, department, zjj, housing, statuses)
    assert callbacks, "no on-commit publish was exercised"
    reply = SignedReply.objects.first()
    statuses.append(office.get(reverse("reply_preview", args=[reply.pk])).status_code)

    assert all(status < 500 for status in statuses), statuses
    assert Issue.objects.count() == 3 and Assignment.objects.count() == 3 and SignedReply.objects.count() == 3
    assert not Assignment.objects.filter(acknowledged_at__isnull=True).exists()
    # Each publish gives up after its short retry policy; the whole run stays well within a page's patience.
    assert time.perf_counter() - started < 60


def _staff_round(office, department, zjj, housing, statuses) -> None:
    for n in range(3):
        statuses.append(
            office.post(
                reverse("issue_create"),
                # three issues on purpose: kept apart from each other's duplicate suggestion (issue 19)
                registration_data(category=housing, lead=zjj.pk, title=f"诉求{n}", keep_apart="1"),
            ).status_code
        )
    for assignment in Assignment.objects.all():
        statuses.append(department.post(reverse("assignment_acknowledge", args=[assignment.pk])).status_code)
        statuses.append(
            department.post(
                reverse("reply_upload", args=[assignment.pk]),
                {
                    "file": reply_pdf(),
                    "signer_name": "王建国",
                    "signer_title": "局长",
                    "signed_on": timezone.localdate().isoformat(),
                    "result": "explained",
                    "summary": "已答复。",
                },
            ).status_code
        )
