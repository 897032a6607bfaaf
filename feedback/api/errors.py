"""How the API answers errors: DRF's default handler, plus the core's named errors.

Every message a client sees is the one a clerk would see on the page (Chinese). A service
error that names a field answers like a serializer would (``{field: [message]}``), so a
client handles both the same way.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from feedback.deadlines import DeadlineInputError
from feedback.errors import ConcurrentChange, NotPermitted, WorkflowError

# The same words whether the object does not exist or is out of the user's scope:
# a user must not learn that an object exists (access.py).
NOT_FOUND_MESSAGE = "未找到该记录，或您无权查看。"


def status_for(exc: WorkflowError) -> int:
    if isinstance(exc, NotPermitted):
        return status.HTTP_403_FORBIDDEN
    if isinstance(exc, ConcurrentChange):
        return status.HTTP_409_CONFLICT
    return status.HTTP_400_BAD_REQUEST


def body_for(exc: WorkflowError) -> dict[str, Any]:
    return {exc.field: [exc.message]} if exc.field else {"detail": exc.message}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, WorkflowError):
        set_rollback()
        return Response(body_for(exc), status=status_for(exc))
    if isinstance(exc, DeadlineInputError):
        set_rollback()
        return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        # Http404's own text may name the model ("No Assignment matches…"); never show it.
        set_rollback()
        return Response({"detail": NOT_FOUND_MESSAGE}, status=status.HTTP_404_NOT_FOUND)
    return drf_exception_handler(exc, context)
