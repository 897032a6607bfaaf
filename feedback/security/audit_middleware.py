"""Audit of downloads and personal-data exports, decided by the route that answered (issue 15, part 4).

One place instead of a line in each view: a view added under one of these names is audited the day it
is routed, and the views themselves (being reorganised in issue 12) stay untouched. Only successful
answers are recorded: a 404 gave nothing away.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from feedback.security.events import record_event

# url name → audit action. Every export here carries requesters' names and phone numbers (the ledger
# columns); the reply scans carry the letter with the requester's name and the signer's.
AUDITED = {
    "reply_download": "reply_download",
    "reply-download": "reply_download",
    "issue_export": "export_personal_data",
    "issue_export_ledger": "export_personal_data",
    "inbox_export": "export_personal_data",
    "export_job_download": "export_personal_data",
    "enterprise_export": "export_personal_data",
    # 政民 visit photos (issue 20): a petitioner's house, sometimes the petitioner.
    "photo_download": "photo_download",
}


class AuditDownloadsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        action = AUDITED.get(match.url_name or "") if match is not None else None
        if action and response.status_code == 200:
            record_event(
                action,
                request=request,
                object_type=match.url_name or "",
                object_id=match.kwargs.get("pk", ""),
                detail={"query": request.GET.urlencode()[:500]} if request.GET else {},
            )
        return response
