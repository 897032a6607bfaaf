"""Uploads, second layer (issue 15, part 6): images re-encoded, PDF polyglots refused, per-type limits,
sandboxed downloads, the optional clamd scan."""

from __future__ import annotations

import io
import socket
import struct
import threading
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image, PngImagePlugin

from feedback import services
from feedback.documents import virus_scan
from feedback.documents.uploads import MSG_IMAGE_TOO_BIG, MSG_PDF_TRAILING, UploadRejected, validate_reply_file
from tests.conftest import pdf_bytes, reply_pdf
from tests.factories import assigned

SCRIPT = b"<script>alert(document.cookie)</script>"


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SCRIPT.decode())
    info.add_itxt("Description", "<html><body onload=alert(1)>")
    out = io.BytesIO()
    Image.new("RGB", (300, 400), "white").save(out, "PNG", pnginfo=info)
    return out.getvalue()


def jpeg_with_gps_and_comment() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (27.0, 3.0, 36.0), "E", (110.0, 34.0, 48.0)  # 洞口县, roughly
    out = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(out, "JPEG", exif=exif, comment=SCRIPT, quality=90)
    return out.getvalue()


def stored_after_validation(name: str, data: bytes) -> bytes:
    upload = SimpleUploadedFile(name, data)
    validate_reply_file(upload)
    return upload.read()


def test_png_text_chunks_are_gone_after_reencoding():
    original = png_with_text()
    assert SCRIPT in original and b"tEXt" in original and b"iTXt" in original
    stored = stored_after_validation("scan.png", original)
    assert SCRIPT not in stored and b"tEXt" not in stored and b"iTXt" not in stored and b"onload" not in stored
    assert Image.open(io.BytesIO(stored)).size == (300, 400)


def test_jpeg_gps_and_comments_are_gone_after_reencoding():
    original = jpeg_with_gps_and_comment()
    assert SCRIPT in original and Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)
    stored = stored_after_validation("IMG_0001.jpg", original)
    image = Image.open(io.BytesIO(stored))
    assert SCRIPT not in stored and b"PhoneMaker" not in stored
    assert not image.getexif().get_ifd(0x8825) and "comment" not in image.info
    assert image.size == (400, 300)


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return out.getvalue()


@pytest.mark.parametrize(
    "build",
    [
        lambda pdf: pdf + _zip(),
        lambda pdf: pdf + b"<html><script>alert(1)</script></html>",
        # The archive's comment holds a fake PDF ending, so the file still "ends with %%EOF".
        lambda pdf: pdf + _zip()[:-2] + struct.pack("<H", 6) + b"%%EOF\n",
    ],
    ids=["pdf+zip", "pdf+html", "pdf+zip-with-eof-comment"],
)
def test_a_pdf_polyglot_is_refused(build):
    data = build(pdf_bytes())
    with pytest.raises(UploadRejected) as refused:
        validate_reply_file(SimpleUploadedFile("reply.pdf", data))
    assert refused.value.message == MSG_PDF_TRAILING


def test_a_pdf_ending_in_newlines_is_still_accepted():
    validate_reply_file(SimpleUploadedFile("reply.pdf", pdf_bytes() + b"\r\n\n"))


def test_images_are_limited_to_10_mb_and_pdfs_keep_20():
    big = SimpleUploadedFile("scan.jpg", b"\xff\xd8" + bytes(11 * 1024 * 1024))
    with pytest.raises(UploadRejected) as refused:
        validate_reply_file(big)
    assert refused.value.message == MSG_IMAGE_TOO_BIG
    declared = SimpleUploadedFile("scan.png", b"x")
    declared.size = 10 * 1024 * 1024 + 1  # refused by its declared size, before reading
    with pytest.raises(UploadRejected, match="10 MB"):
        validate_reply_file(declared)


@pytest.mark.django_db
def test_downloads_carry_a_sandbox_csp(client, netoffice, zjj_head):
    _, (lead,) = assigned(netoffice, lead="zjj")
    reply = services.submit_reply(
        actor=zjj_head,
        assignment=lead,
        file=reply_pdf(),
        signer_name="王建国",
        signer_title="局长",
        signed_on=timezone.localdate(),
        result="explained",
        summary="已答复。",
    )
    client.force_login(netoffice)
    for url in (reverse("reply_download", args=[reply.pk]), f"/api/v1/replies/{reply.pk}/download/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "sandbox" in response["Content-Security-Policy"] and response["Content-Disposition"].startswith(
            "attachment"
        )


# --- clamd -------------------------------------------------------------------------------------------------


class FakeClamd:
    """Speaks clamd's INSTREAM on a Unix socket and answers what the test says."""

    def __init__(self, path: Path, answer: bytes) -> None:
        self.path, self.answer, self.received = path, answer, b""
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(1)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        with conn:
            data = b""
            while not data.endswith(b"\0\0\0\0"):
                part = conn.recv(65536)
                if not part:
                    break
                data += part
            self.received = data
            conn.sendall(self.answer)
        self.server.close()


@pytest.mark.parametrize(
    ("answer", "accepted"), [(b"stream: OK\0", True), (b"stream: Eicar-Test-Signature FOUND\0", False)]
)
def test_the_clamd_hook_scans_every_upload(settings, tmp_path, answer, accepted):
    fake = FakeClamd(tmp_path / "clamd.sock", answer)
    settings.CLAMD_ADDRESS = str(fake.path)
    upload = SimpleUploadedFile("reply.pdf", pdf_bytes())
    if accepted:
        validate_reply_file(upload)
    else:
        with pytest.raises(UploadRejected, match="Eicar-Test-Signature"):
            validate_reply_file(upload)
    fake.thread.join(5)
    assert fake.received.startswith(b"zINSTREAM\0") and b"%PDF" in fake.received


def test_an_unreachable_clamd_refuses_the_upload(settings, tmp_path):
    settings.CLAMD_ADDRESS = str(tmp_path / "nobody.sock")
    with pytest.raises(UploadRejected) as refused:
        validate_reply_file(SimpleUploadedFile("reply.pdf", pdf_bytes()))
    assert refused.value.message == virus_scan.MSG_UNAVAILABLE
