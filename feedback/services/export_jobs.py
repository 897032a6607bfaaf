"""Large exports of the issue ledger, built in the background."""

from __future__ import annotations

import datetime
import logging
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from feedback import selectors
from feedback.ledger.export import ledger_list_row, write_issues_workbook
from feedback.models import (
    Assignment,
    ExportJob,
    Issue,
)
from feedback.services.queue import task

EXPORT_SYNC_LIMIT = 2000  # up to this many rows the issue list exports at once, in the request


EXPORT_CHUNK = 2000  # rows a chunk: two queries of plain values (issue 16 goal 4)


EXPORT_MAX_ROWS = 200_000


EXPORT_CATCH_UP_AFTER = datetime.timedelta(minutes=1)


# CELERY_TASK_TIME_LIMIT is 300 s: a job still "running" well after that lost its worker.
EXPORT_STALE_AFTER = datetime.timedelta(minutes=15)


def request_export(*, actor: User, params: dict[str, str]) -> ExportJob:
    """Store the job, then ask a worker for it once the row is committed. With the broker down the
    row stays queued and ``run_queued_exports`` (beat, every minute) picks it up."""
    job = ExportJob.objects.create(user=actor, params={k: v for k, v in params.items() if k != "page"})
    transaction.on_commit(lambda: _queue_export(job.pk))
    return job


def _queue_export(job_id: int) -> None:
    try:
        task("build_export").delay(job_id)
    except Exception:
        logging.getLogger(__name__).warning(
            "broker unavailable; export %s waits for the catch-up run", job_id, exc_info=True
        )


def _claim_export(job_id: int) -> bool:
    """Queued → running by a conditional UPDATE: of two workers (or a worker and the catch-up, or a
    redelivered message) exactly one changes the row and builds the file."""
    return (
        ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED).update(
            status=ExportJob.Status.RUNNING, started_at=timezone.now(), progress=0
        )
        == 1
    )


def run_export(*, job_id: int) -> ExportJob | None:
    """Build the job's workbook if this call claims it; ``None`` when another run has it or it is gone."""
    if not _claim_export(job_id):
        return None
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    try:
        # The filters were cleaned when the job was asked for (selectors.stored_filters). The owner's
        # scope is read as it is now: a user who lost access since asking gets only what they see.
        issues = selectors.issue_list(job.user, job.params)
        total = min(issues.count(), EXPORT_MAX_ROWS)
        ExportJob.objects.filter(pk=job_id).update(total=total)
        relative = f"exports/{job_id}-{secrets.token_hex(8)}.xlsx"
        target = Path(settings.MEDIA_ROOT) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        try:
            write_issues_workbook(partial, _chunks_with_progress(job_id, issues, total))
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, target)  # the download never sees half a file
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportJob.Status.DONE, progress=100, file=relative, finished_at=timezone.now()
        )
    except Exception as exc:
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportJob.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    job.refresh_from_db()
    return job


def _chunks_with_progress(job_id: int, issues: QuerySet[Issue], total: int) -> Iterator[list[object]]:
    """The workbook's rows in the list's order, chunk by chunk — two queries of plain values a chunk
    (the issues, their assignments), no model instances — reporting progress after each chunk. The ids
    are read once up front: a row registered meanwhile neither shifts a chunk nor appears twice."""
    ids = list(issues.values_list("pk", flat=True)[:total])
    fields = (
        *("pk", "ref", "channel", "received_on", "requester__name", "category__name", "nature", "title"),
        *("status", "closed_on", "satisfaction"),
    )
    for start in range(0, len(ids), EXPORT_CHUNK):
        part = ids[start : start + EXPORT_CHUNK]
        rows = {row[0]: row for row in Issue.objects.filter(pk__in=part).order_by().values_list(*fields)}
        assignments: dict[int, list[tuple[str, str, datetime.date, datetime.date | None]]] = {}
        for issue_id, *values in (
            Assignment.objects.filter(issue_id__in=part)
            .order_by("issue_id", "due_date", "id")  # the model's order within an issue
            .values_list("issue_id", "role", "department__name", "due_date", "replied_on")
        ):
            assignments.setdefault(issue_id, []).append(tuple(values))  # type: ignore[arg-type]
        for pk in part:
            if pk in rows:
                _, ref, channel, received_on, requester, category, nature, title, status, closed, rating = rows[pk]
                yield ledger_list_row(
                    ref=ref,
                    channel=channel,
                    received_on=received_on,
                    requester=requester,
                    category=category,
                    nature=nature,
                    title=title,
                    status=status,
                    closed_on=closed,
                    satisfaction=rating,
                    assignments=assignments.get(pk, []),
                )
        done = start + len(part)
        ExportJob.objects.filter(pk=job_id).update(progress=min(99, done * 100 // max(len(ids), 1)))


def run_queued_exports(*, now: datetime.datetime | None = None, limit: int = 5) -> int:
    """The catch-up: jobs queued for over a minute (their message was lost with the broker down) and
    jobs left running by a dead worker, oldest first. Each is claimed again before it is built."""
    now = now or timezone.now()
    # A stale running job goes back to queued only if it is still the same stale row (conditional UPDATE).
    ExportJob.objects.filter(status=ExportJob.Status.RUNNING, started_at__lt=now - EXPORT_STALE_AFTER).update(
        status=ExportJob.Status.QUEUED
    )
    built = 0
    for job_id in (
        ExportJob.objects.filter(status=ExportJob.Status.QUEUED, created_at__lt=now - EXPORT_CATCH_UP_AFTER)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    ):
        if run_export(job_id=job_id) is not None:
            built += 1
    return built
