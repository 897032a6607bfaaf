"""Serving a stored reply scan: only ever as an attachment, with the type we validated."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, Http404, HttpResponse
from django.utils.http import content_disposition_header

from feedback.models import SignedReply


def reply_file_response(reply: SignedReply) -> FileResponse | HttpResponse:
    """The caller has fetched ``reply`` through feedback.access (out of scope is already 404)."""
    # nginx can only send a file from its own disk; from object storage the portal streams it.
    if settings.X_ACCEL_REDIRECT_PREFIX and isinstance(reply.file.storage, FileSystemStorage):
        return accel_redirect_response(reply)
    try:
        handle = reply.file.open("rb")
    except FileNotFoundError:
        raise Http404("文件不存在，请联系管理员。") from None
    response = FileResponse(handle, as_attachment=True, filename=reply.original_name, content_type=reply.content_type)
    response["X-Content-Type-Options"] = "nosniff"  # never let a browser sniff a scan into HTML
    # Issue 15: opened in the browser anyway, the file runs in a sandbox: no scripts, no same-origin access.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


def accel_redirect_response(reply: SignedReply) -> HttpResponse:
    """Behind nginx: the permission check is done, nginx sends the bytes from its ``internal``
    location (deploy/nginx/zhitongche.conf), so no gunicorn worker is held by a slow download.
    The stored name is generated ASCII (models.reply_upload_to); it is still percent-encoded,
    because nginx decodes the X-Accel-Redirect URI."""
    if not reply.file.storage.exists(reply.file.name):
        raise Http404("文件不存在，请联系管理员。")
    response = HttpResponse(content_type=reply.content_type)
    response["X-Accel-Redirect"] = settings.X_ACCEL_REDIRECT_PREFIX.rstrip("/") + "/" + quote(reply.file.name)
    response["Content-Disposition"] = content_disposition_header(True, reply.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
