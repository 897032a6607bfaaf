"""Reply previews rendered out of the request (issue 15, part 1).

A reviewer's page used to render the first page inside the web worker: one hostile PDF took 4.8 GB and
62 s and got the worker killed. Now the request only ever serves a finished PNG or a placeholder; the
rendering runs in a Celery task, and inside the task in a child process with an address-space and CPU
limit (feedback.documents.preview_child), so not even the Celery worker can be taken down.

The PNG is kept in the default storage under ``previews/`` keyed by the reply and its SHA-256 (a reply
never changes; a correction is a new version). docs/decisions/0201 says why a derivative is now kept.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from feedback.services.queue import task

if TYPE_CHECKING:
    from feedback.models import SignedReply

log = logging.getLogger(__name__)

# The child imports Pillow, pikepdf and PDFium (~300 MB of address space) and renders at most a
# 1200-pixel page; 1 GiB leaves room for a real 600-dpi scan and none for a bomb.
MEMORY_BYTES = 1024 * 1024 * 1024
CPU_SECONDS = 20
WALL_SECONDS = 30
QUEUED_SECONDS = 120
MSG_PENDING = "预览生成中，请稍候…"


class State(Enum):
    READY = "ready"
    PENDING = "pending"
    FAILED = "failed"


class RenderFailed(Exception):
    pass


def _stem(reply: SignedReply) -> str:
    return f"previews/{reply.pk}-{reply.sha256[:16]}"


def stored_png(reply: SignedReply) -> tuple[State, bytes | None]:
    stem = _stem(reply)
    if default_storage.exists(stem + ".png"):
        with default_storage.open(stem + ".png", "rb") as handle:
            return State.READY, handle.read()
    if default_storage.exists(stem + ".failed"):
        return State.FAILED, None
    return State.PENDING, None


def render_sandboxed(data: bytes, content_type: str) -> bytes:
    """The PNG from the child process, or RenderFailed (damaged file, memory or time limit reached)."""
    root = Path(settings.BASE_DIR)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(root), "LANG": "C.UTF-8"}
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv: this interpreter, this module, numbers
            [
                sys.executable,
                "-m",
                "feedback.documents.preview_child",
                content_type,
                str(MEMORY_BYTES),
                str(CPU_SECONDS),
            ],
            input=data,
            capture_output=True,
            timeout=WALL_SECONDS,
            cwd=root,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RenderFailed("timeout") from exc
    if done.returncode != 0 or not done.stdout.startswith(b"\x89PNG"):
        raise RenderFailed(f"exit {done.returncode}")
    return done.stdout


def render_and_store(reply: SignedReply) -> State:
    """Render one reply's preview and keep it (or a failure marker). Idempotent."""
    state, _ = stored_png(reply)
    if state is not State.PENDING:
        return state
    stem = _stem(reply)
    try:
        with reply.file.open("rb") as handle:
            data = handle.read()
        png = render_sandboxed(data, reply.content_type)
    except (RenderFailed, FileNotFoundError, OSError, ValueError) as exc:
        log.warning("preview of reply %s not rendered: %s", reply.pk, exc)
        default_storage.save(stem + ".failed", ContentFile(b""))
        return State.FAILED
    default_storage.save(stem + ".png", ContentFile(png))
    return State.READY


def request_render(reply: SignedReply) -> bool:
    """Queue the render once per couple of minutes; False if neither cache nor broker answered."""
    try:
        first = cache.add(f"preview-queued:{reply.pk}", 1, timeout=QUEUED_SECONDS)
    except Exception:  # Redis down: queue anyway, a duplicate render is harmless (idempotent)
        first = True
    if not first:
        return True
    try:
        task("render_reply_preview").delay(reply.pk)
    except Exception:
        # Broker down: the page keeps its placeholder; the next view of the page asks again.
        log.warning("preview of reply %s not queued: broker unavailable", reply.pk, exc_info=True)
        with contextlib.suppress(Exception):  # the cache is down too: nothing to undo
            cache.delete(f"preview-queued:{reply.pk}")
        return False
    return True
