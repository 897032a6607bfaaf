"""Validation of a written-reply scan before anything is stored.

Pure: no ORM, no settings. The caller stores the file only after `validate_reply_file` returns, using
the validated type (never the client's Content-Type) and a server-generated path.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import struct
import unicodedata
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import filetype
import pikepdf
from PIL import Image

from feedback.documents.pdf_bounds import PdfTooLarge, check_pdf_bounds, prescan_raw
from feedback.documents.reencode import reencode
from feedback.documents.virus_scan import ScanRefused, scan_bytes
from feedback.errors import InvalidInput

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

MAX_BYTES = 20 * 1024 * 1024
# Issue 15: a photo or scan as JPEG/PNG is far below this; only a PDF of many pages needs 20 MB.
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_PDF_PAGES = 200
MAX_SAFE_NAME_CHARS = 100
# Zero bytes carry no payload; the tolerance is only for encoders that pad their output.
MAX_JPEG_ZERO_PADDING = 1024
# Phone cameras write 2 pictures (Ultra HDR gain map, Samsung/Apple depth or HDR map), stereo and
# multi-view cameras a few more; the cap bounds the work a hostile index can ask for.
MAX_MPF_IMAGES = 8

MSG_EMPTY = "文件为空。"
MSG_TOO_BIG = "文件超过 20 MB，请压缩后再上传。"
MSG_IMAGE_TOO_BIG = "图片超过 10 MB，请压缩后再上传（PDF 可到 20 MB）。"
MSG_PDF_TRAILING = "PDF 文件结尾之后还附带了其他数据（可能夹带了压缩包或网页），不能接收。"
MSG_BAD_NAME = "文件名不合法（不能包含路径符号或控制字符），请重命名后再上传。"
MSG_BAD_TYPE = "只能上传 PDF、JPG 或 PNG 格式的扫描件。"
MSG_MISMATCH = "文件内容与扩展名不符（看起来不是真正的 {label}）。"
MSG_PDF_ACTIVE = "PDF 含有脚本或自动执行的动作，出于安全原因不能接收。"
MSG_PDF_EMBEDDED = "PDF 内嵌了其他文件，出于安全原因不能接收。"
MSG_PDF_ENCRYPTED = "PDF 已加密，请上传未加密的扫描件。"
MSG_PDF_TOO_MANY_PAGES = "PDF 超过 200 页，请拆分后再上传。"
MSG_PDF_NO_PAGES = "PDF 中没有任何页面。"
MSG_TOO_MANY_PIXELS = "图片像素过大（超过 4000 万像素），请缩小后再上传。"
MSG_MULTI_FRAME = "只能上传单张图片，不能是动图或多帧图片。"
MSG_TRAILING_DATA = "图片文件末尾附带了其他数据，不能接收。"
MSG_CORRUPT = "文件已损坏，无法打开。"


class UploadRejected(InvalidInput):
    default_message = MSG_CORRUPT

    def __init__(self, message: str | None = None, *, field: str | None = "file") -> None:
        super().__init__(message, field=field)


@dataclass(frozen=True)
class ValidatedFile:
    ext: str
    content_type: str
    size: int
    sha256: str
    safe_name: str


@dataclass(frozen=True)
class _Kind:
    ext: str
    content_type: str
    label: str
    pillow_format: str | None


_KINDS = {
    "pdf": _Kind("pdf", "application/pdf", "PDF", None),
    "jpg": _Kind("jpg", "image/jpeg", "JPG", "JPEG"),
    "jpeg": _Kind("jpg", "image/jpeg", "JPG", "JPEG"),
    "png": _Kind("png", "image/png", "PNG", "PNG"),
}

# Keys whose mere presence means the PDF can act on its own when opened. A scanned reply never needs
# them, so a harmless /OpenAction (a plain destination) is refused too: simpler and safe.
_PDF_ACTIVE_KEYS = frozenset(
    {"/JS", "/JavaScript", "/AA", "/OpenAction", "/Launch", "/RichMedia", "/XFA", "/SubmitForm", "/GoToR"}
)
_PDF_EMBED_KEYS = frozenset({"/EmbeddedFile", "/EmbeddedFiles", "/EF"})
# Action types (the /S value) that run code, start programs, send data or open other files.
_PDF_ACTIVE_ACTIONS = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/SubmitForm",
        "/ImportData",
        "/GoToR",
        "/GoToE",
        "/RichMediaExecute",
        "/Rendition",
    }
)
_PDF_EMBED_TYPES = frozenset({"/EmbeddedFile", "/FileAttachment"})

# Inside JPEG entropy-coded data 0xFF is followed by 0x00 (stuffing) or RSTn; anything else is a marker.
_JPEG_MARKER_IN_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_JPEG_STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD8)})
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def validate_reply_file(uploaded: UploadedFile) -> ValidatedFile:
    """Check an uploaded reply scan; raise `UploadRejected` (with a message for the clerk) if unfit.

    The file is read into memory once and always left at position 0 for the caller to store.
    """
    try:
        return _validate(uploaded)
    finally:
        with contextlib.suppress(AttributeError, OSError, ValueError):
            uploaded.seek(0)


def _validate(uploaded: UploadedFile) -> ValidatedFile:
    # The declared size comes first so a huge upload is refused without reading it.
    declared = getattr(uploaded, "size", None)
    if declared is not None:
        _check_size(declared)
    kind, safe_name = _check_name(getattr(uploaded, "name", None))
    if declared is not None and kind.pillow_format is not None and declared > MAX_IMAGE_BYTES:
        raise UploadRejected(MSG_IMAGE_TOO_BIG)
    data = _read_capped(uploaded)
    # The declared size may be wrong; only the bytes actually read count.
    _check_size(len(data))
    if kind.pillow_format is not None and len(data) > MAX_IMAGE_BYTES:
        raise UploadRejected(MSG_IMAGE_TOO_BIG)
    _check_magic(data, kind)
    try:
        if kind.pillow_format is None:
            _check_pdf(data)
            _check_pdf_tail(data)
        else:
            _check_image(data, kind.pillow_format)
            # Issue 15: what is stored is the pixels re-encoded, without text chunks, comments or EXIF GPS.
            data = reencode(data, kind.pillow_format)
            _replace_content(uploaded, data)
    except UploadRejected:
        raise
    except Exception as exc:
        # Parsers raise many unrelated types on hostile input; the caller must see only a refusal.
        raise UploadRejected(MSG_CORRUPT) from exc
    try:
        scan_bytes(data)  # optional clamd scan (CLAMD_ADDRESS); never replaces the checks above
    except ScanRefused as exc:
        raise UploadRejected(exc.message) from exc
    return ValidatedFile(
        ext=kind.ext,
        content_type=kind.content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        safe_name=safe_name,
    )


def _check_pdf_tail(data: bytes) -> None:
    """A PDF ends at its last %%EOF. Bytes after it are ignored by readers and are how a PDF+ZIP (or
    PDF+HTML) polyglot carries its second file; so is a ZIP directory near the end (an archive's comment
    can hold a fake PDF ending). A random match of the 4-byte ZIP signature in the last 64 KiB of a real
    scan has odds of about 1 in 65,000."""
    end = data.rfind(b"%%EOF")
    if end < 0:
        raise UploadRejected(MSG_CORRUPT)
    if data[end + 5 :].strip(b"\r\n\t \x00\x0c"):
        raise UploadRejected(MSG_PDF_TRAILING)
    if b"PK\x05\x06" in data[-(65_535 + 22) :] or b"PK\x03\x04" in data[:1024]:
        raise UploadRejected(MSG_PDF_TRAILING)


def _replace_content(uploaded: UploadedFile, data: bytes) -> None:
    """Put the re-encoded bytes where the caller's storage will read them: the temporary file itself for
    a large upload (FileSystemStorage moves that file), the in-memory buffer otherwise."""
    handle = uploaded.file
    handle.seek(0)
    handle.truncate()
    handle.write(data)
    handle.flush()
    handle.seek(0)
    uploaded.size = len(data)


def _check_size(size: int) -> None:
    if size <= 0:
        raise UploadRejected(MSG_EMPTY)
    if size > MAX_BYTES:
        raise UploadRejected(MSG_TOO_BIG)


def _check_name(name: str | None) -> tuple[_Kind, str]:
    name = name or ""
    if (
        not name.strip()
        or "/" in name
        or "\\" in name
        or name.strip() in {".", ".."}
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in name)
    ):
        raise UploadRejected(MSG_BAD_NAME)
    stem, dot, ext = name.rpartition(".")
    kind = _KINDS.get(ext.lower()) if dot else None
    if kind is None:
        raise UploadRejected(MSG_BAD_TYPE)
    return kind, _safe_name(stem, ext)


def _safe_name(stem: str, ext: str) -> str:
    # Drops Unicode controls and format characters too (e.g. U+202E, which can make "exe.pdf" display
    # as "fdp.exe"), since the name is shown to people and put into download headers.
    stem = "".join(
        ch
        for ch in unicodedata.normalize("NFC", stem)
        if not unicodedata.category(ch).startswith("C") and unicodedata.category(ch) not in {"Zl", "Zp"}
    )
    stem = stem.strip(" .") or "扫描件"
    return stem[: MAX_SAFE_NAME_CHARS - len(ext) - 1] + "." + ext


def _read_capped(uploaded: UploadedFile) -> bytes:
    parts: list[bytes] = []
    total = 0
    for chunk in uploaded.chunks():
        total += len(chunk)
        if total > MAX_BYTES:
            raise UploadRejected(MSG_TOO_BIG)
        parts.append(chunk)
    return b"".join(parts)


def _check_magic(data: bytes, kind: _Kind) -> None:
    guessed = filetype.guess(data[:8192])
    mime = guessed.mime if guessed is not None else None
    if kind.ext == "png" and mime == "image/apng":
        raise UploadRejected(MSG_MULTI_FRAME)
    if mime != kind.content_type:
        raise UploadRejected(MSG_MISMATCH.format(label=kind.label))


def _check_pdf(data: bytes) -> None:
    try:
        prescan_raw(data)  # issue 15: bounded inflation before the parser opens the file
    except PdfTooLarge as exc:
        raise UploadRejected(exc.message) from exc
    try:
        # No recovery: a PDF that needs its cross-reference table rebuilt is truncated or damaged.
        pdf = pikepdf.open(io.BytesIO(data), attempt_recovery=False)
    except pikepdf.PasswordError as exc:
        raise UploadRejected(MSG_PDF_ENCRYPTED) from exc
    with pdf:
        if pdf.is_encrypted:
            raise UploadRejected(MSG_PDF_ENCRYPTED)
        pages = len(pdf.pages)
        if pages == 0:
            raise UploadRejected(MSG_PDF_NO_PAGES)
        if pages > MAX_PDF_PAGES:
            raise UploadRejected(MSG_PDF_TOO_MANY_PAGES)
        problem = _pdf_forbidden_content(pdf)
        if problem is not None:
            raise UploadRejected(problem)
        # Issue 15: every stream inflated with a bound, every image and page measured (bombs).
        try:
            check_pdf_bounds(pdf)
        except PdfTooLarge as exc:
            raise UploadRejected(exc.message) from exc


def _pdf_forbidden_content(pdf: pikepdf.Pdf) -> str | None:
    # Every indirect object is visited once from pdf.objects; direct objects nested inside them (an
    # action dictionary inside an annotation array, say) are reached by walking down without
    # following references, so reference cycles cannot loop.
    stack: list[pikepdf.Object] = [pdf.trailer, *pdf.objects]
    while stack:
        obj = stack.pop()
        if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
            keys = set(obj.keys())
            if (
                keys & _PDF_EMBED_KEYS
                or _name_in(obj, "/Type", _PDF_EMBED_TYPES)
                or _name_in(obj, "/Subtype", _PDF_EMBED_TYPES)
            ):
                return MSG_PDF_EMBEDDED
            if keys & _PDF_ACTIVE_KEYS or _name_in(obj, "/S", _PDF_ACTIVE_ACTIONS):
                return MSG_PDF_ACTIVE
            children = [obj[key] for key in keys]
        elif isinstance(obj, pikepdf.Array):
            children = list(obj)
        else:
            continue
        stack.extend(
            child
            for child in children
            if isinstance(child, (pikepdf.Dictionary, pikepdf.Array)) and not child.is_indirect
        )
    return None


def _name_in(obj: pikepdf.Object, key: str, names: frozenset[str]) -> bool:
    value = obj.get(key)
    return isinstance(value, pikepdf.Name) and str(value) in names


def _check_image(data: bytes, pillow_format: str) -> None:
    with warnings.catch_warnings():
        # Pillow only warns between its limit and twice it; a warning is a refusal here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            _load_one_picture(data, pillow_format)
            if pillow_format == "PNG":
                end, animated = _png_end(data)
                if animated:
                    raise UploadRejected(MSG_MULTI_FRAME)
                # Bytes after the image end are ignored by viewers but can carry an archive or a script.
                if data[end:]:
                    raise UploadRejected(MSG_TRAILING_DATA)
            else:
                _check_jpeg_tail(data)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise UploadRejected(MSG_TOO_MANY_PIXELS) from exc


def _load_one_picture(data: bytes, pillow_format: str) -> None:
    with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise UploadRejected(MSG_TOO_MANY_PIXELS)
        # A JPEG whose MPF index lists several pictures opens as "MPO"; its extra pictures are checked
        # byte by byte in _check_jpeg_tail, since Pillow would accept anything after them.
        allowed = {"JPEG", "MPO"} if pillow_format == "JPEG" else {pillow_format}
        if image.format not in allowed or (pillow_format == "PNG" and getattr(image, "n_frames", 1) != 1):
            raise UploadRejected(MSG_MULTI_FRAME)
        image.load()


def _is_padding(tail: bytes) -> bool:
    return len(tail) <= MAX_JPEG_ZERO_PADDING and not tail.strip(b"\x00")


def _check_jpeg_tail(data: bytes) -> None:
    """Refuse bytes after the first picture unless they are exactly the pictures its MPF index declares.

    Phones store a second JPEG after the first (Ultra HDR gain maps, Samsung and MPO photos) and list it
    in an APP2 "MPF" index. Anything else after the end of the picture (an archive, a script, an
    undeclared JPEG) is ignored by viewers and is how polyglot files smuggle a payload, so it is refused.
    """
    end, mpf = _jpeg_layout(data)
    if _is_padding(data[end:]):
        return
    if mpf is None:
        raise UploadRejected(MSG_TRAILING_DATA)
    try:
        extras = sorted(_mpf_extra_images(data, *mpf))
    except (struct.error, ValueError) as exc:
        raise UploadRejected(MSG_TRAILING_DATA) from exc
    # Every byte after the first picture must lie inside a declared picture that parses as one complete
    # JPEG, or be a little zero padding between them. Declared sizes are only an upper bound: Pillow's
    # MPO writer overstates the size of the third and later pictures, so the parsed end is what counts.
    cursor = end
    for start, stop in extras:
        if start < cursor or start >= len(data) or not _is_padding(data[cursor:start]):
            raise UploadRejected(MSG_TRAILING_DATA)
        cursor = start + _declared_picture_length(data[start : min(stop, len(data))])
    if not _is_padding(data[cursor:]):
        raise UploadRejected(MSG_TRAILING_DATA)


def _mpf_extra_images(data: bytes, header_start: int, header_end: int) -> list[tuple[int, int]]:
    """Byte ranges (start, stop) of the pictures after the first one, as the MPF index lists them.

    CIPA DC-007: the index is a TIFF-style IFD; tag 0xB001 is the number of pictures, 0xB002 an
    array of 16-byte entries (attribute, size, offset, two dependent-picture numbers). Offsets count
    from the start of the index header (the byte-order mark), and the first entry is the primary.
    """
    header = data[header_start:header_end]
    if header[:4] == b"II*\x00":
        order = "<"
    elif header[:4] == b"MM\x00*":
        order = ">"
    else:
        raise ValueError("not an MPF header")
    (ifd,) = struct.unpack_from(order + "I", header, 4)
    (count,) = struct.unpack_from(order + "H", header, ifd)
    number = entries_at = entries_size = None
    for k in range(count):
        tag, _type, items, value = struct.unpack_from(order + "HHII", header, ifd + 2 + 12 * k)
        if tag == 0xB001:
            number = value
        elif tag == 0xB002:
            entries_at, entries_size = value, items
    if number is None or entries_at is None or not 1 <= number <= MAX_MPF_IMAGES or entries_size != 16 * number:
        raise ValueError("bad MPF index")
    extras = []
    for k in range(1, number):
        _attribute, size, offset, _dep1, _dep2 = struct.unpack_from(order + "IIIHH", header, entries_at + 16 * k)
        if size == 0 or offset == 0:
            raise ValueError("MPF entry without data")
        extras.append((header_start + offset, header_start + offset + size))
    return extras


def _declared_picture_length(chunk: bytes) -> int:
    """A picture listed in the MPF index must itself be one complete JPEG; returns its length."""
    try:
        end, _ = _jpeg_layout(chunk)
    except UploadRejected as exc:
        raise UploadRejected(MSG_TRAILING_DATA) from exc
    try:
        with Image.open(io.BytesIO(chunk[:end]), formats=["JPEG"]) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise UploadRejected(MSG_TOO_MANY_PIXELS)
            image.load()
    except (UploadRejected, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise
    except Exception as exc:
        raise UploadRejected(MSG_TRAILING_DATA) from exc
    return end


def _png_end(data: bytes) -> tuple[int, bool]:
    """Offset just past the IEND chunk, and whether an animation control chunk was seen."""
    if not data.startswith(_PNG_SIGNATURE):
        raise UploadRejected(MSG_CORRUPT)
    pos = len(_PNG_SIGNATURE)
    animated = False
    while True:
        if pos + 12 > len(data):
            raise UploadRejected(MSG_CORRUPT)
        length = int.from_bytes(data[pos : pos + 4], "big")
        chunk_type = data[pos + 4 : pos + 8]
        pos += 12 + length
        if length > 0x7FFFFFFF or pos > len(data):
            raise UploadRejected(MSG_CORRUPT)
        if chunk_type == b"acTL":
            animated = True
        elif chunk_type == b"IEND":
            return pos, animated


def _jpeg_layout(data: bytes) -> tuple[int, tuple[int, int] | None]:
    """Offset just past the EOI marker that ends the first (primary) image, and where the first
    image's MPF index header lies (start, end), if it has one."""
    if not data.startswith(b"\xff\xd8"):
        raise UploadRejected(MSG_CORRUPT)
    pos = 2
    size = len(data)
    mpf: tuple[int, int] | None = None
    while True:
        if pos >= size or data[pos] != 0xFF:
            raise UploadRejected(MSG_CORRUPT)
        while pos < size and data[pos] == 0xFF:  # fill bytes may precede a marker
            pos += 1
        if pos >= size:
            raise UploadRejected(MSG_CORRUPT)
        marker = data[pos]
        pos += 1
        if marker == 0xD9:
            return pos, mpf
        if marker in _JPEG_STANDALONE_MARKERS:
            continue
        if marker in {0x00, 0xD8} or pos + 2 > size:
            raise UploadRejected(MSG_CORRUPT)
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2 or pos + length > size:
            raise UploadRejected(MSG_CORRUPT)
        if marker == 0xE2 and mpf is None and data[pos + 2 : pos + 6] == b"MPF\x00":
            mpf = (pos + 6, pos + length)
        pos += length
        if marker == 0xDA:
            # Start of scan: skip the entropy-coded data to the next real marker (progressive JPEGs
            # have several scans, so the loop continues).
            match = _JPEG_MARKER_IN_SCAN.search(data, pos)
            if match is None:
                raise UploadRejected(MSG_CORRUPT)
            pos = match.start()
