"""Decompression bombs built in memory: the compressed bytes are produced chunk by chunk, so building a
"1 GB" stream never holds 1 GB (issue 15, part 1)."""

from __future__ import annotations

import io
import struct
import zlib

import pikepdf

MiB = 1024 * 1024


def deflate_zeros(total: int, *, chunk: int = 4 * MiB) -> bytes:
    """zlib data that inflates to ``total`` zero bytes (1 GB → about 1 MB)."""
    squeezer = zlib.compressobj(9)
    zeros = bytes(chunk)
    parts = []
    left = total
    while left > 0:
        step = min(left, chunk)
        parts.append(squeezer.compress(zeros[:step]))
        left -= step
    parts.append(squeezer.flush())
    return b"".join(parts)


def _save(pdf: pikepdf.Pdf) -> bytes:
    out = io.BytesIO()
    # No decoding on save: qpdf would otherwise inflate the bomb to re-compress it.
    pdf.save(
        out,
        stream_decode_level=pikepdf.StreamDecodeLevel.none,
        compress_streams=False,
        object_stream_mode=pikepdf.ObjectStreamMode.disable,
    )
    return out.getvalue()


def flate_bomb_pdf(inflated: int = 300 * MiB) -> bytes:
    """One page whose content stream is ``inflated`` bytes of zeros behind /FlateDecode."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    stream = pikepdf.Stream(pdf, deflate_zeros(inflated))
    stream[pikepdf.Name.Filter] = pikepdf.Name.FlateDecode
    pdf.pages[0].Contents = pdf.make_indirect(stream)
    return _save(pdf)


def huge_image_pdf(width: int = 100_000, height: int = 100_000, *, flate: bool = False) -> bytes:
    """A page drawing one image XObject that declares width × height pixels (10 gigapixels by default)."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    data = deflate_zeros(16 * MiB) if flate else b"\xff\xd8\xff\xd9"
    image = pikepdf.Stream(pdf, data)
    image[pikepdf.Name.Type] = pikepdf.Name.XObject
    image[pikepdf.Name.Subtype] = pikepdf.Name.Image
    image[pikepdf.Name.Width] = width
    image[pikepdf.Name.Height] = height
    image[pikepdf.Name.ColorSpace] = pikepdf.Name.DeviceGray
    image[pikepdf.Name.BitsPerComponent] = 8
    image[pikepdf.Name.Filter] = pikepdf.Name.FlateDecode if flate else pikepdf.Name.DCTDecode
    page = pdf.pages[0]
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=pdf.make_indirect(image)))
    page.Contents = pdf.make_stream(b"q 595 0 0 842 0 0 cm /Im0 Do Q")
    return _save(pdf)


def zero_stream_pdf(inflated: int = 1024 * MiB) -> bytes:
    """A 1 GB stream of zeros (about 1 MB compressed) as an unused object beside a normal page."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    pdf.pages[0].Contents = pdf.make_stream(b"BT /F1 12 Tf 72 720 Td (reply) Tj ET")
    stream = pikepdf.Stream(pdf, deflate_zeros(inflated))
    stream[pikepdf.Name.Filter] = pikepdf.Name.FlateDecode
    pdf.Root[pikepdf.Name("/ZtPayload")] = pdf.make_indirect(stream)
    return _save(pdf)


def giant_page_pdf() -> bytes:
    # pikepdf refuses to make such a page; a hostile file simply declares it.
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    pdf.pages[0].obj[pikepdf.Name.MediaBox] = pikepdf.Array([0, 0, 200_000, 200_000])
    return _save(pdf)


def object_stream_bomb_pdf(padding: int = 300 * MiB) -> bytes:
    """The catalogue, page tree and page inside one object stream padded to ``padding`` bytes of spaces:
    qpdf inflates it while *opening* the file (written by hand: pikepdf re-generates object streams)."""
    objects = [
        b"<< /Type /Catalog /Pages 4 0 R >>",
        b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 4 0 R /MediaBox [0 0 595 842] >>",
    ]
    body, offsets = b"", []
    for obj in objects:
        offsets.append(len(body))
        body += obj + b"\n"
    header = b" ".join(b"%d %d" % (n, off) for n, off in zip((3, 4, 5), offsets, strict=True)) + b"\n"
    squeezer = zlib.compressobj(9)
    parts = [squeezer.compress(header + body)]
    spaces = b" " * (4 * MiB)
    left = padding
    while left > 0:
        parts.append(squeezer.compress(spaces[: min(left, len(spaces))]))
        left -= len(spaces)
    parts.append(squeezer.flush())
    stream = b"".join(parts)
    out = b"%PDF-1.7\n"
    first = len(out)
    out += (
        b"1 0 obj\n<< /Type /ObjStm /N 3 /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
        % (len(header), len(stream))
        + stream
        + b"\nendstream\nendobj\n"
    )
    xref_at = len(out)
    rows = [(0, 0, 0xFFFF), (1, first, 0), (1, xref_at, 0), (2, 1, 0), (2, 1, 1), (2, 1, 2)]
    table = b"".join(struct.pack(">BIH", *row) for row in rows)
    out += (
        b"2 0 obj\n<< /Type /XRef /Size 6 /W [1 4 2] /Root 3 0 R /Length %d >>\nstream\n" % len(table)
        + table
        + b"\nendstream\nendobj\n"
    )
    return out + b"startxref\n%d\n%%%%EOF\n" % xref_at
