"""Bounded inflation of a PDF before it is accepted (decompression bombs).

A 763 KB PDF whose page stream inflates to 300 MB used to pass the upload checks and then take the web
worker down when its preview was drawn. Here every stream is decoded *counting* bytes, in chunks, and
the upload is refused as soon as a limit is passed: nothing is ever inflated beyond the limit, and the
decoded bytes are thrown away (only their number matters). Image XObjects are judged by the pixels
they declare, without decoding their DCT/JPX/CCITT/JBIG2 data. Pure: pikepdf and zlib only, no Django.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from dataclasses import dataclass

import pikepdf

# An A4 page at 600 dpi is 34.8 MP; uploads.MAX_PIXELS (40 MP) is the image cap, repeated here so the
# module stays free of imports from the upload checks that call it.
MAX_IMAGE_PIXELS = 40_000_000
# Content streams, fonts, ICC profiles of a scanned letter are kilobytes to a few megabytes.
MAX_STREAM_BYTES = 16 * 1024 * 1024
# All streams of one file together: 200 pages of lossless bilevel 600-dpi scans are ~870 MB raw, but
# such a file does not fit in 20 MB; a 20 MB PDF of Flate images decodes to well under this.
MAX_DECODED_TOTAL = 512 * 1024 * 1024
# PDF 1.7 Annex C: 14,400 units (200 inches) is the largest page a conforming reader must handle.
MAX_PAGE_UNITS = 14_400
CHUNK = 1024 * 1024

MSG_BOMB = "PDF 中的压缩数据解压后过大（疑似“压缩炸弹”），出于安全原因不能接收。"
MSG_IMAGE_PIXELS = "PDF 中的图片像素过大（超过 4000 万像素），请降低扫描分辨率后再上传。"
MSG_PAGE_SIZE = "PDF 页面尺寸异常（超过 200 英寸），不能接收。"
MSG_FILTER = "PDF 使用了不支持的压缩方式（{name}），请用扫描仪重新导出为普通 PDF。"

# Image codecs whose output size follows from the declared width and height; their data is not decoded.
_IMAGE_CODECS = frozenset({"/DCTDecode", "/JPXDecode", "/CCITTFaxDecode", "/JBIG2Decode"})
# Filters decoded here, each with a bound. LZW is refused: its expansion is not bounded by anything
# cheap to check, and scanners write Flate or image codecs (PDF 1.2 replaced LZW by Flate).
_TEXT_FILTERS = frozenset({"/ASCIIHexDecode", "/ASCII85Decode", "/RunLengthDecode", "/FlateDecode"})


class PdfTooLarge(Exception):
    """Carries the Chinese message for the clerk; uploads turns it into UploadRejected."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass
class Budget:
    total: int = 0

    def spend(self, amount: int) -> None:
        self.total += amount
        if self.total > MAX_DECODED_TOTAL:
            raise PdfTooLarge(MSG_BOMB)


# A stream's data begins after "stream" and its end of line; the dictionary is the text since "obj".
_STREAM_START = re.compile(rb"(?<!end)stream(?:\r\n|\n|\r)")
_ESCAPED_NAME = re.compile(rb"/[^\s/<>\[\]()]*#[0-9A-Fa-f]{2}")
_PLAIN_FLATE = re.compile(rb"/Filter\s*(?:/FlateDecode|\[\s*/FlateDecode\s*\])")
MSG_STRUCTURE = "PDF 结构异常（对象流使用了不常见的编码），请用扫描仪重新导出为普通 PDF。"


def prescan_raw(data: bytes) -> int:
    """Bounded inflation of every Flate stream in the raw bytes, *before* the parser opens the file.

    qpdf inflates object streams and cross-reference streams while opening a file, without a bound (a
    306 KB file whose object stream inflated to 300 MB took 4.5 s and 590 MB in pikepdf.open). So each
    stream is found in the bytes, its dictionary read crudely, and its data inflated in 1 MB steps that
    are thrown away: 16 MiB for anything but an image, an image's pixel cap for a stream that says it is
    one. Object and xref streams must be plain Flate (or not compressed), with no #-escaped names that
    could hide what they are. Returns the bytes counted."""
    view = memoryview(data)
    total = 0
    image_limit = MAX_IMAGE_PIXELS * 4 * 2 + 65_536
    for match in _STREAM_START.finditer(data):
        head = data[max(0, match.start() - 4096) : match.start()]
        head = head[head.rfind(b"obj") + 3 :] if b"obj" in head else head
        structural = b"/ObjStm" in head or b"/XRef" in head
        if _ESCAPED_NAME.search(head) and (structural or b"/Filter" in head):
            raise PdfTooLarge(MSG_STRUCTURE)
        if structural and b"/Filter" in head and not _PLAIN_FLATE.search(head):
            raise PdfTooLarge(MSG_STRUCTURE)
        limit = image_limit if (b"/Image" in head and not structural) else MAX_STREAM_BYTES
        _, produced = _inflate(view[match.end() :], limit, keep=False)
        total += produced
        if total > MAX_DECODED_TOTAL:
            raise PdfTooLarge(MSG_BOMB)
    return total


def check_pdf_bounds(pdf: pikepdf.Pdf) -> int:
    """Raise PdfTooLarge if any page, image or stream is beyond the limits; return the decoded total."""
    for page in pdf.pages:
        _check_page(page)
    budget = Budget()
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream):
            _check_stream(obj, budget)
    return budget.total


def _number(value: object, default: float = 0.0) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


def _check_page(page: pikepdf.Page) -> None:
    box = page.obj.get("/MediaBox")
    unit = _number(page.obj.get("/UserUnit", 1), 1.0)
    if isinstance(box, pikepdf.Array) and len(box) == 4:
        width = abs(_number(box[2]) - _number(box[0])) * unit
        height = abs(_number(box[3]) - _number(box[1])) * unit
        if width > MAX_PAGE_UNITS or height > MAX_PAGE_UNITS:
            raise PdfTooLarge(MSG_PAGE_SIZE)


def _filters(stream: pikepdf.Stream) -> list[str]:
    value = stream.get("/Filter")
    if value is None:
        return []
    if isinstance(value, pikepdf.Array):
        return [str(item) for item in value]
    return [str(value)]


def _check_stream(stream: pikepdf.Stream, budget: Budget) -> None:
    is_image = stream.get("/Subtype") == pikepdf.Name.Image
    if is_image:
        width = int(_number(stream.get("/Width")))
        height = int(_number(stream.get("/Height")))
        if width < 0 or height < 0 or width * height > MAX_IMAGE_PIXELS:
            raise PdfTooLarge(MSG_IMAGE_PIXELS)
        bits = max(int(_number(stream.get("/BitsPerComponent"), 8)), 1)
        # Four components (CMYK) at up to 16 bits, plus one predictor byte a row and a little slack.
        limit = width * height * 4 * ((bits + 7) // 8) + height + 65_536
    else:
        limit = MAX_STREAM_BYTES
    filters = _filters(stream)
    for name in filters:
        if name not in _TEXT_FILTERS and name not in _IMAGE_CODECS:
            raise PdfTooLarge(MSG_FILTER.format(name=name.lstrip("/")))
    # An image codec ends the chain: what it yields is the image, already bounded by its pixels.
    text_chain = filters
    if filters and filters[-1] in _IMAGE_CODECS:
        if not is_image:
            raise PdfTooLarge(MSG_FILTER.format(name=filters[-1].lstrip("/")))
        text_chain = filters[:-1]
    if any(name in _IMAGE_CODECS for name in text_chain):
        raise PdfTooLarge(MSG_FILTER.format(name="、".join(n.lstrip("/") for n in filters)))
    data = stream.read_raw_bytes()
    if not text_chain:
        budget.spend(len(data))
        return
    for position, name in enumerate(text_chain):
        last = position == len(text_chain) - 1
        data, produced = _decode(name, data, limit, keep=not last)
        budget.spend(produced)


def _decode(name: str, data: bytes, limit: int, *, keep: bool) -> tuple[bytes, int]:
    """Decode one filter step, refusing past ``limit`` bytes; keep the output only if a step follows."""
    if name == "/FlateDecode":
        return _inflate(data, limit, keep=keep)
    try:
        if name == "/ASCIIHexDecode":
            text = bytes(b for b in data.split(b">", 1)[0] if not chr(b).isspace())
            out = binascii.unhexlify(text + b"0" * (len(text) % 2))
        elif name == "/ASCII85Decode":
            # At most 4 bytes out per byte in ('z'), and the input is at most the 20 MB upload.
            body = data.strip()
            body = body[2:] if body.startswith(b"<~") else body
            out = base64.a85decode(body.split(b"~>", 1)[0], ignorechars=b" \t\r\n\x0c\x00")
        else:  # /RunLengthDecode: at most 128 bytes out per 2 bytes in
            out = _run_length(data, limit)
    except (ValueError, binascii.Error):
        # A stream the reader cannot decode is drawn as nothing; its size is no threat.
        return b"", 0
    if len(out) > limit:
        raise PdfTooLarge(MSG_BOMB)
    return (out if keep else b""), len(out)


def _inflate(data: bytes | memoryview, limit: int, *, keep: bool) -> tuple[bytes, int]:
    inflater = zlib.decompressobj()
    produced = 0
    kept: list[bytes] = []
    pending = data
    try:
        while pending:
            # max_length bounds each step's output: a 1 KB input that would give 1 GB gives 1 MB at a time.
            out = inflater.decompress(pending, CHUNK)
            pending = inflater.unconsumed_tail
            produced += len(out)
            if produced > limit:
                raise PdfTooLarge(MSG_BOMB)
            if keep:
                kept.append(out)
            if inflater.eof or not out:
                break
        produced += len(inflater.flush())
        if produced > limit:
            raise PdfTooLarge(MSG_BOMB)
    except zlib.error:
        # Readers draw a damaged stream up to the error; what was counted so far is what they get.
        pass
    return b"".join(kept), produced


def _run_length(data: bytes, limit: int) -> bytes:
    out = bytearray()
    i = 0
    while i < len(data):
        length = data[i]
        if length == 128:
            break
        if length < 128:
            out += data[i + 1 : i + 2 + length]
            i += 2 + length
        else:
            out += data[i + 1 : i + 2] * (257 - length)
            i += 2
        if len(out) > limit:
            raise PdfTooLarge(MSG_BOMB)
    return bytes(out)
