"""Celery tasks of the security measures (listed in settings.CELERY_IMPORTS)."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def render_reply_preview(reply_id: int) -> str:
    """Ids in: a reply deleted meanwhile is skipped. Safe to run twice (the stored PNG wins)."""
    from feedback.models import SignedReply

    from .preview_jobs import render_and_store

    reply = SignedReply.objects.filter(pk=reply_id).first()
    if reply is None:
        return "missing"
    return render_and_store(reply).value
