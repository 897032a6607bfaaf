"""Large ledger exports (导出任务): the progress page and the owner-only download.

The issue list's "导出 Excel" builds up to ``services.export_jobs.EXPORT_SYNC_LIMIT`` rows in the request; above
that it stores an ``ExportJob`` and sends the user here. A worker builds the file
(``feedback.tasks.build_export``); this page reloads itself every two seconds with the HTTP
``Refresh`` header (no script: CSP allows only the portal's own files) until the file is ready.
Only the job's owner sees the page or downloads the file; anyone else gets 404.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from feedback.access import get_or_404
from feedback.ledger.export import XLSX_CONTENT_TYPE
from feedback.models import ExportJob

REFRESH_SECONDS = 2


def _own_job(request: HttpRequest, pk: int) -> ExportJob:
    return get_or_404(ExportJob.objects.filter(user=request.user), pk=pk)


@login_required
def export_job(request: HttpRequest, pk: int) -> HttpResponse:
    job = _own_job(request, pk)
    pending = job.status in (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING)
    response = render(request, "feedback/export_job.html", {"job": job, "pending": pending, "refresh": REFRESH_SECONDS})
    if pending:
        response["Refresh"] = str(REFRESH_SECONDS)
    return response


@login_required
def export_job_download(request: HttpRequest, pk: int) -> FileResponse:
    job = _own_job(request, pk)
    if job.status != ExportJob.Status.DONE or not job.file:
        raise Http404("文件尚未生成。")
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / job.file).resolve()
    if root not in path.parents or not path.is_file():
        raise Http404("文件不存在，请重新导出。")
    stamp = job.created_at.astimezone().strftime("%Y%m%d-%H%M")
    response = FileResponse(
        path.open("rb"), as_attachment=True, filename=f"issues-{stamp}.xlsx", content_type=XLSX_CONTENT_TYPE
    )
    response["Cache-Control"] = "private, no-store"
    return response
