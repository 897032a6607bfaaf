"""Decompression bombs (issue 15, part 1): refused at upload with bounded work, and previews never drawn
in the web process. Figures in docs/security.md come from these tests and tests/security/bombs.py."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from feedback import services
from feedback.documents import pdf_bounds, previews
from feedback.documents.uploads import UploadRejected, validate_reply_file
from feedback.models import SignedReply
from feedback.security import preview_jobs
from feedback.tasks import render_reply_preview
from tests.conftest import reply_pdf
from tests.factories import assigned
from tests.security.bombs import (
    MiB,
    flate_bomb_pdf,
    giant_page_pdf,
    huge_image_pdf,
    object_stream_bomb_pdf,
    zero_stream_pdf,
)

BOMBS = {
    "flate-300MB-content-stream": (lambda: flate_bomb_pdf(300 * MiB), pdf_bounds.MSG_BOMB),
    "image-xobject-10-gigapixels": (lambda: huge_image_pdf(100_000, 100_000), pdf_bounds.MSG_IMAGE_PIXELS),
    "image-xobject-small-but-1GB-of-flate": (lambda: huge_image_pdf(100, 100, flate=True), pdf_bounds.MSG_BOMB),
    "1GB-zero-stream": (lambda: zero_stream_pdf(1024 * MiB), pdf_bounds.MSG_BOMB),
    "page-200000-units": (giant_page_pdf, pdf_bounds.MSG_PAGE_SIZE),
    # Inflated by qpdf while opening the file, before any check that walks objects: 590 MB without prescan.
    "object-stream-300MB": (lambda: object_stream_bomb_pdf(300 * MiB), pdf_bounds.MSG_BOMB),
}


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    return {name: build() for name, (build, _) in BOMBS.items()}


@pytest.mark.parametrize("name", list(BOMBS))
def test_a_bomb_is_refused_without_inflating_it(bombs: dict[str, bytes], name: str) -> None:
    data = bombs[name]
    assert len(data) < 2 * MiB  # each is small on the wire: the danger is only in decoding
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(UploadRejected) as refused:
            validate_reply_file(SimpleUploadedFile("回复函.pdf", data))
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.message == BOMBS[name][1]
    # Bounded work: decoding stops at the first limit (16 MiB for a content stream), so the peak stays
    # far below what the stream would inflate to, and the answer comes at once.
    assert peak < 40 * MiB, peak
    assert elapsed < 5, elapsed


def test_the_limits_let_a_real_scan_through() -> None:
    validate_reply_file(reply_pdf())  # the ordinary letter of the other tests passes the new checks too
    validate_reply_file(SimpleUploadedFile("r.pdf", object_stream_bomb_pdf(0)))  # object streams as such are fine


@pytest.mark.django_db
def test_a_bomb_uploaded_through_the_api_answers_400_and_stores_nothing(bombs, netoffice, zjj_head) -> None:
    _, (lead,) = assigned(netoffice, lead="zjj")
    client = APIClient()
    client.force_authenticate(zjj_head)
    response = client.post(
        f"/api/v1/assignments/{lead.pk}/replies/",
        {
            "file": SimpleUploadedFile("回复函.pdf", bombs["flate-300MB-content-stream"]),
            "signer_name": "王建国",
            "signer_title": "局长",
            "signed_on": timezone.localdate().isoformat(),
            "result": "explained",
            "summary": "已答复。",
        },
        format="multipart",
    )
    assert response.status_code == 400, response.content
    assert "压缩炸弹" in response.content.decode()
    assert not SignedReply.objects.exists()


# --- previews out of the request -----------------------------------------------------------------------


def _stored_reply(office, head) -> SignedReply:
    _, (lead,) = assigned(office, lead="zjj")
    return services.submit_reply(
        actor=head,
        assignment=lead,
        file=reply_pdf(),
        signer_name="王建国",
        signer_title="局长",
        signed_on=timezone.localdate(),
        result="explained",
        summary="已答复。",
    )


@pytest.mark.django_db
def test_the_issue_page_request_never_renders_a_preview(client, netoffice, zjj_head, monkeypatch) -> None:
    reply = _stored_reply(netoffice, zjj_head)
    queued: list[int] = []
    monkeypatch.setattr("feedback.tasks.render_reply_preview.delay", queued.append)

    def no_rendering_here(*args: object) -> None:
        raise AssertionError("a preview was rendered inside the web request")

    # If the view went back to drawing in-process, these would be called in this (the web) process.
    monkeypatch.setattr(previews, "_render_pdf", no_rendering_here)
    monkeypatch.setattr(previews, "_render_image", no_rendering_here)
    client.force_login(netoffice)
    url = reverse("reply_preview", args=[reply.pk])

    first = client.get(url)
    assert first.status_code == 202 and first.content.decode() == preview_jobs.MSG_PENDING
    assert first["Cache-Control"] == "private, no-store" and first["Retry-After"] == "2"
    assert queued == [reply.pk]
    assert client.get(url).status_code == 202 and queued == [reply.pk]  # queued once, not on every poll

    assert render_reply_preview(reply.pk) == "ready"  # the worker's task: a child process draws it
    done = client.get(url)
    assert done.status_code == 200 and done.content.startswith(b"\x89PNG")


@pytest.mark.django_db
def test_a_bomb_already_on_disk_kills_only_the_child_process(netoffice, zjj_head, monkeypatch) -> None:
    # A file stored before these checks existed (or put on disk by other means) inflates to 2 GB when drawn.
    reply = _stored_reply(netoffice, zjj_head)
    Path(reply.file.path).write_bytes(flate_bomb_pdf(2048 * MiB))
    monkeypatch.setattr(preview_jobs, "MEMORY_BYTES", 768 * MiB)
    started = time.perf_counter()

    assert render_reply_preview(reply.pk) == "failed"

    assert time.perf_counter() - started < preview_jobs.WALL_SECONDS
    assert preview_jobs.stored_png(reply) == (preview_jobs.State.FAILED, None)


@pytest.mark.django_db
def test_the_page_keeps_its_placeholder_when_the_broker_is_down(client, netoffice, zjj_head, monkeypatch) -> None:
    reply = _stored_reply(netoffice, zjj_head)

    def broker_down(*args: object) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr("feedback.tasks.render_reply_preview.delay", broker_down)
    client.force_login(netoffice)
    assert client.get(reverse("reply_preview", args=[reply.pk])).status_code == 202
