"""Serving a stored reply scan: only ever as an attachment, with the type we validated."""

from __future__ import annotations

from django.http import FileResponse, Http404

from feedback.models import SignedReply


def reply_file_response(reply: SignedReply) -> FileResponse:
    """The caller has fetched ``reply`` through feedback.access (out of scope is already 404)."""
    try:
        handle = reply.file.open("rb")
    except FileNotFoundError:
        raise Http404("文件不存在，请联系管理员。") from None
    response = FileResponse(handle, as_attachment=True, filename=reply.original_name,
                            content_type=reply.content_type)
    response["X-Content-Type-Options"] = "nosniff"  # never let a browser sniff a scan into HTML
    # Issue 15: opened in the browser anyway, the file runs in a sandbox: no scripts, no same-origin access.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
