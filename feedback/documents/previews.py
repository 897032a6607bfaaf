"""First-page previews of reply scans, for the reviewers on the issue page.

Rendered on request from the stored file, never stored: a derivative would be one more copy of
personal data to keep in step with the original. The original passed feedback.documents.uploads, but the
renderers still run with a pixel cap and every failure becomes ``PreviewUnavailable``.
"""

from __future__ import annotations

import io
import threading
import warnings
from typing import TYPE_CHECKING

import pypdfium2 as pdfium
from PIL import Image, ImageOps

from feedback.documents.uploads import MAX_PIXELS

if TYPE_CHECKING:  # the renderers run in a child process without Django (feedback.documents.preview_child)
    from feedback.models import SignedReply

# Longest edge of the preview. An A4 page at this size is about 145 dpi: the seal and the signature
# can be judged on screen; anything finer needs the original (download).
MAX_EDGE = 1200
# pdfium renders at 72 dpi × scale; never enlarge a small page beyond twice its size.
MAX_PDF_SCALE = 2.0
# PDFium is not thread-safe, not even across documents (pypdfium2 docs, "Incompatibility with
# Threading"); runserver and threaded WSGI servers serve requests in threads, so one render at a time
# per process.
_PDFIUM_LOCK = threading.Lock()

MSG_UNAVAILABLE = "无法预览，请下载查看"


class PreviewUnavailable(Exception):
    pass


def first_page_png(reply: SignedReply) -> bytes:
    """A PNG of the first page (PDF) or of the picture (JPEG/PNG), at most MAX_EDGE pixels a side."""
    try:
        with reply.file.open("rb") as handle:
            data = handle.read()
    except (FileNotFoundError, OSError, ValueError) as exc:
        raise PreviewUnavailable from exc
    try:
        if reply.content_type == "application/pdf":
            image = _render_pdf(data)
        elif reply.content_type in ("image/jpeg", "image/png"):
            image = _render_image(data)
        else:
            raise PreviewUnavailable
        return _png(image)
    except PreviewUnavailable:
        raise
    except Exception as exc:
        # Renderers raise many unrelated types on a damaged file; the reviewer sees one message.
        raise PreviewUnavailable from exc


def _render_image(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data), formats=["JPEG", "PNG"]) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise PreviewUnavailable
            # JPEG only: decode at 1/2, 1/4 or 1/8 scale straight from the DCT, so a 12-megapixel photo is
            # never fully decoded; a no-op for PNG.
            image.draft("RGB", (MAX_EDGE, MAX_EDGE))
            # Phones store the picture sideways and say so in EXIF; turn it the way the letter reads.
            upright = ImageOps.exif_transpose(image)
    upright.thumbnail((MAX_EDGE, MAX_EDGE), Image.Resampling.LANCZOS)
    return upright


def _render_pdf(data: bytes) -> Image.Image:
    with _PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(data)
        try:
            page = pdf[0]
            try:
                width, height = page.get_size()
                if not (width > 0 and height > 0):
                    raise PreviewUnavailable
                # The scale fits the longest edge to MAX_EDGE, so the bitmap is at most MAX_EDGE² pixels
                # whatever size the page claims.
                scale = min(MAX_EDGE / max(width, height), MAX_PDF_SCALE)
                # Forms are not drawn: a scan has none, and pdfium's form environment is not set up.
                bitmap = page.render(scale=scale, may_draw_forms=False)
                try:
                    return bitmap.to_pil().copy()  # copy: the PIL image must not share pdfium's buffer
                finally:
                    bitmap.close()
            finally:
                page.close()
        finally:
            # Closed inside the lock: pypdfium2 would otherwise close them from a finaliser, in any thread.
            pdf.close()


def _png(image: Image.Image) -> bytes:
    if image.mode not in ("1", "L", "LA", "RGB", "RGBA", "P"):
        image = image.convert("RGB")  # CMYK scans and 16-bit PNGs
    out = io.BytesIO()
    # A fresh encode: no EXIF, no text chunks, nothing of the original's bytes but its pixels. Level 1:
    # on a 900×1200 photo of a letter it encodes in less than half the time of the default level 6 for
    # about 20% more bytes (measured); the preview is rendered on every request, the intranet is fast.
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()
