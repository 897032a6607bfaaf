"""Prometheus metrics at ``/metrics`` (docs/monitoring.md lists them and the alerts built on them).

Per request (counted in this middleware): ``ztc_http_requests_total`` by method, view and status,
``ztc_http_request_duration_seconds`` by view, ``ztc_http_exceptions_total`` by exception type. The
view name, not the path, is the label: paths carry ids and would make a series per issue.

Read at scrape time (a few indexed queries, so they are always current and cost nothing between
scrapes): the Celery queue length, deadline steps due but not yet taken, steps taken but not yet
announced, the time of the last finished deadline sweep, and the free space where reply files live.

Under gunicorn every worker process counts for itself; with ``PROMETHEUS_MULTIPROC_DIR`` set (the
shipped gunicorn and systemd configurations set it) prometheus_client writes the counts to files
there and the scrape adds them up, whichever worker answers it.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from feedback.views.status import monitor_allowed

LAST_SWEEP_KEY = "zhitongche:last-sweep-finished"

REQUESTS = Counter("ztc_http_requests_total", "HTTP requests answered", ["method", "view", "status"])
LATENCY = Histogram(
    "ztc_http_request_duration_seconds",
    "Time to answer a request",
    ["view"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
EXCEPTIONS = Counter("ztc_http_exceptions_total", "Unhandled exceptions in views", ["exception"])


def view_label(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return (match.view_name or "unnamed") if match else "unresolved"


class MetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        view = view_label(request)
        LATENCY.labels(view).observe(time.perf_counter() - started)
        REQUESTS.labels(request.method or "-", view, str(response.status_code)).inc()
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        EXCEPTIONS.labels(type(exception).__name__).inc()


def record_sweep_finished(**_: object) -> None:
    """Celery ``task_success`` of the deadline sweep (connected in zhitongche.celery). The shared
    (Redis) cache lets the web process read what a worker on another machine wrote."""
    cache.set(LAST_SWEEP_KEY, time.time(), timeout=None)


def queue_length() -> float | None:
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return None  # the embedded broker has no queue to measure
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        return float(client.llen(settings.CELERY_TASK_DEFAULT_QUEUE))
    finally:
        client.close()


class PortalCollector(Collector):
    """The values read at scrape time. Each one that cannot be read is left out (and the scrape
    still answers): an absent series is what the documented alerts test for."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django.utils import timezone

        from feedback.models import DeadlineStep

        try:
            length = queue_length()
        except Exception:  # Redis down: the broker alert, not a failed scrape
            length = None
        if length is not None:
            yield GaugeMetricFamily("ztc_celery_queue_length", "Tasks waiting in the Celery queue", value=length)
        now = timezone.now()
        steps = DeadlineStep.objects
        yield GaugeMetricFamily(
            "ztc_deadline_steps_due_untaken",
            "Reminder/overdue/escalation steps due but not yet taken",
            value=steps.filter(taken_at=None, scheduled_for__lte=now).count(),
        )
        yield GaugeMetricFamily(
            "ztc_deadline_steps_unannounced",
            "Steps taken but not yet announced (history, bell, mail)",
            value=steps.filter(taken_at__isnull=False, announced_at=None).count(),
        )
        last = cache.get(LAST_SWEEP_KEY)
        if last is not None:
            yield GaugeMetricFamily(
                "ztc_last_sweep_timestamp_seconds", "Unix time the last deadline sweep finished", value=float(last)
            )
        media = settings.MEDIA_ROOT
        if os.path.isdir(media):
            usage = shutil.disk_usage(media)
            yield GaugeMetricFamily(
                "ztc_media_free_bytes", "Free bytes on the reply files' file system", value=usage.free
            )
            yield GaugeMetricFamily("ztc_media_size_bytes", "Size of the reply files' file system", value=usage.total)


def registry() -> CollectorRegistry:
    reg = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(reg)
    else:
        for collector in (REQUESTS, LATENCY, EXCEPTIONS):
            reg.register(collector)
    reg.register(PortalCollector())
    return reg


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not monitor_allowed(request):
        response = HttpResponse("需要监控令牌。\n", status=401, content_type="text/plain; charset=utf-8")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
