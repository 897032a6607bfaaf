"""Reply-scan validation (plan §D, §3.3). Every sample is built here; no database is needed."""

from __future__ import annotations

import hashlib
import io
import random
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator

import pikepdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from feedback.documents import uploads
from feedback.documents.uploads import (
    MAX_BYTES,
    MSG_BAD_NAME,
    MSG_BAD_TYPE,
    MSG_CORRUPT,
    MSG_EMPTY,
    MSG_MISMATCH,
    MSG_MULTI_FRAME,
    MSG_PDF_ACTIVE,
    MSG_PDF_EMBEDDED,
    MSG_PDF_ENCRYPTED,
    MSG_PDF_NO_PAGES,
    MSG_PDF_TOO_MANY_PAGES,
    MSG_TOO_BIG,
    MSG_TOO_MANY_PIXELS,
    MSG_TRAILING_DATA,
    UploadRejected,
    ValidatedFile,
    validate_reply_file,
)
from feedback.errors import InvalidInput

CHINESE = re.compile(r"[\u4e00-\u9fff]")


# --- sample builders -------------------------------------------------------------------------------


def pdf_bytes(
    modify: Callable[[pikepdf.Pdf], None] | None = None,
    *,
    pages: int = 1,
    encryption: pikepdf.Encryption | None = None,
) -> bytes:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(595, 842))
    if pages:
        pdf.pages[0].Contents = pdf.make_stream(b"BT /F1 12 Tf 72 720 Td (reply) Tj ET")
    if modify is not None:
        modify(pdf)
    out = io.BytesIO()
    pdf.save(out, encryption=encryption or False)
    return out.getvalue()


def image_bytes(fmt: str, size: tuple[int, int] = (200, 300), **save_args: object) -> bytes:
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    out = io.BytesIO()
    image.save(out, fmt, **save_args)
    return out.getvalue()


def png_header_only_bytes(width: int, height: int) -> bytes:
    """A 1-bit greyscale PNG of any size, written by hand so a huge one stays tiny on disk and in RAM."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.txt", "hidden")
    return out.getvalue()


def docx_like_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def animated_png_bytes() -> bytes:
    first = Image.new("RGB", (40, 40), "red")
    second = Image.new("RGB", (40, 40), "blue")
    out = io.BytesIO()
    first.save(out, "PNG", save_all=True, append_images=[second], duration=200, loop=0)
    return out.getvalue()


def mpo_bytes(pictures: int = 2) -> bytes:
    """A multi-picture JPEG as Pillow writes it: a real MPF index (little-endian) in the first picture."""
    colours = ["red", "blue", "green", "white"]
    first, *rest = (Image.new("RGB", (40, 40), colour) for colour in colours[:pictures])
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=rest)
    return out.getvalue()


def jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def mpf_payload(entries: list[tuple[int, int, int]], *, big_endian: bool) -> bytes:
    """An APP2 "MPF" payload listing (attribute, size, offset) entries (CIPA DC-007)."""
    e = ">" if big_endian else "<"
    entries_at = 8 + 2 + 3 * 12 + 4
    ifd = (
        struct.pack(e + "H", 3)
        + struct.pack(e + "HHI", 0xB000, 7, 4) + b"0100"
        + struct.pack(e + "HHII", 0xB001, 4, 1, len(entries))
        + struct.pack(e + "HHII", 0xB002, 7, 16 * len(entries), entries_at)
        + struct.pack(e + "I", 0)
    )  # fmt: skip
    body = b"".join(struct.pack(e + "IIIHH", attribute, size, offset, 0, 0) for attribute, size, offset in entries)
    byte_order = b"MM\x00*" if big_endian else b"II*\x00"
    return b"MPF\x00" + byte_order + struct.pack(e + "I", 8) + ifd + body


def with_mpf_index(
    primary: bytes,
    extras: list[bytes],
    *,
    big_endian: bool = True,
    before_mpf: bytes = b"",
    gap: bytes = b"",
    shift: int = 0,
) -> bytes:
    """``primary`` with an MPF index inserted after SOI that declares ``extras``, which follow it.

    ``gap`` goes between the primary and the first extra (the offsets account for it); ``shift`` moves
    every declared offset, to build an index that lies about where its pictures are.
    """
    placeholder = jpeg_segment(0xE2, mpf_payload([(0, 0, 0)] * (1 + len(extras)), big_endian=big_endian))
    header_start = 2 + len(before_mpf) + 4 + 4  # SOI, other segments, APP2 marker and length, "MPF\0"
    primary_size = len(primary) + len(before_mpf) + len(placeholder)
    entries = [(0x030000, primary_size, 0)]  # baseline MP primary image
    offset = primary_size + len(gap) - header_start + shift
    for extra in extras:
        entries.append((0, len(extra), offset))
        offset += len(extra)
    index = jpeg_segment(0xE2, mpf_payload(entries, big_endian=big_endian))
    return primary[:2] + before_mpf + index + primary[2:] + gap + b"".join(extras)


def xmp_segment(xml: str) -> bytes:
    return jpeg_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + xml.encode())


def ultra_hdr_like_bytes() -> bytes:
    """An Ultra HDR (JPEG_R) layout as Android phones write it: an SDR primary with hdrgm XMP and a
    big-endian MPF index, then a greyscale gain-map JPEG carrying its own hdrgm metadata."""
    gain_map = image_bytes("JPEG", (100, 75), quality=85)
    gain_map_xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:hdrgm="http://ns.adobe.com/hdr-gain-map/1.0/" hdrgm:Version="1.0" '
        'hdrgm:GainMapMax="2.3" hdrgm:HDRCapacityMax="2.3"/></rdf:RDF></x:xmpmeta>'
    )
    gain_map = gain_map[:2] + xmp_segment(gain_map_xmp) + gain_map[2:]
    primary_xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:hdrgm="http://ns.adobe.com/hdr-gain-map/1.0/" '
        'xmlns:Container="http://ns.google.com/photos/1.0/container/" hdrgm:Version="1.0"><Container:Directory>'
        f'<rdf:Seq><rdf:li Item:Semantic="Primary" Item:Mime="image/jpeg"/><rdf:li Item:Semantic="GainMap" '
        f'Item:Mime="image/jpeg" Item:Length="{len(gain_map)}"/></rdf:Seq></Container:Directory>'
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    return with_mpf_index(phone_photo_bytes((1200, 1600)), [gain_map], before_mpf=xmp_segment(primary_xmp))


def with_huge_declared_size(jpeg: bytes) -> bytes:
    """The same JPEG whose frame header claims 10,000 × 10,000 pixels (a pixel flood in a few bytes)."""
    sof = jpeg.index(b"\xff\xc0")
    return jpeg[: sof + 5] + struct.pack(">HH", 10_000, 10_000) + jpeg[sof + 9 :]


def phone_photo_bytes(size: tuple[int, int] = (3000, 4000)) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "HUAWEI"  # Make
    exif[0x0110] = "Mate 60"  # Model
    exif[0x0112] = 6  # Orientation: rotated, as phones write it
    exif[0x0132] = "2025:03:14 09:26:53"  # DateTime
    return image_bytes("JPEG", size, quality=85, exif=exif)


def add_javascript_open_action(pdf: pikepdf.Pdf) -> None:
    pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('x')"))


def add_page_additional_action(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].AA = pikepdf.Dictionary(O=pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("1")))


def add_document_javascript(pdf: pikepdf.Pdf) -> None:
    action = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("1")))
    pdf.Root.Names = pikepdf.Dictionary(
        JavaScript=pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("init"), action]))
    )


def add_launch_link(pdf: pikepdf.Pdf) -> None:
    # A direct action inside a direct annotation inside the page's array: the walk must go down.
    pdf.pages[0].Annots = pikepdf.Array(
        [
            pikepdf.Dictionary(
                Type=pikepdf.Name.Annot,
                Subtype=pikepdf.Name.Link,
                Rect=[0, 0, 100, 100],
                A=pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe")),
            )
        ]
    )


def add_submit_form(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].Annots = pikepdf.Array(
        [
            pdf.make_indirect(
                pikepdf.Dictionary(
                    Type=pikepdf.Name.Annot,
                    Subtype=pikepdf.Name.Link,
                    Rect=[0, 0, 100, 100],
                    A=pikepdf.Dictionary(S=pikepdf.Name.SubmitForm, F=pikepdf.String("http://x/")),
                )
            )
        ]
    )


def add_harmless_open_action(pdf: pikepdf.Pdf) -> None:
    pdf.Root.OpenAction = pikepdf.Array([pdf.pages[0].obj, pikepdf.Name.Fit])


def add_xfa_form(pdf: pikepdf.Pdf) -> None:
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array(), XFA=pdf.make_stream(b"<xdp/>"))


def attach_file(pdf: pikepdf.Pdf) -> None:
    pdf.attachments["invoice.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ\x90\x00payload")


def add_file_attachment_annotation(pdf: pikepdf.Pdf) -> None:
    embedded = pdf.make_stream(b"payload")
    embedded.Type = pikepdf.Name.EmbeddedFile
    pdf.pages[0].Annots = pikepdf.Array(
        [
            pikepdf.Dictionary(
                Type=pikepdf.Name.Annot,
                Subtype=pikepdf.Name.FileAttachment,
                Rect=[0, 0, 10, 10],
                FS=pikepdf.Dictionary(
                    Type=pikepdf.Name.Filespec, F=pikepdf.String("a.txt"), EF=pikepdf.Dictionary(F=embedded)
                ),
            )
        ]
    )


class StubUpload:
    """Stands in for an UploadedFile where Django would refuse or rewrite the input first."""

    def __init__(self, name: str, content: bytes = b"", *, size: int | None = None) -> None:
        self.name = name
        self.size = len(content) if size is None else size
        self._file = io.BytesIO(content)
        self.chunks_calls = 0

    def chunks(self, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        self.chunks_calls += 1
        self._file.seek(0)
        while chunk := self._file.read(chunk_size):
            yield chunk

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def seek(self, pos: int) -> int:
        return self._file.seek(pos)

    def tell(self) -> int:
        return self._file.tell()


class UnreadableUpload(StubUpload):
    def chunks(self, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        raise AssertionError("the validator read a file whose declared size was already too big")


def refusal(upload: object) -> UploadRejected:
    with pytest.raises(UploadRejected) as caught:
        validate_reply_file(upload)  # type: ignore[arg-type]
    error = caught.value
    assert isinstance(error, InvalidInput)
    assert error.field == "file"
    assert error.message
    assert CHINESE.search(error.message), error.message
    return error


@pytest.fixture(scope="module")
def small_pdf() -> bytes:
    return pdf_bytes()


@pytest.fixture(scope="module")
def small_png() -> bytes:
    return image_bytes("PNG")


@pytest.fixture(scope="module")
def small_jpeg() -> bytes:
    return image_bytes("JPEG", quality=80)


# --- accepted ----------------------------------------------------------------------------------------


def test_accepts_small_pdf_and_hashes_exact_bytes(small_pdf: bytes) -> None:
    result = validate_reply_file(SimpleUploadedFile("复函.pdf", small_pdf))

    assert result == ValidatedFile(
        ext="pdf",
        content_type="application/pdf",
        size=len(small_pdf),
        sha256=hashlib.sha256(small_pdf).hexdigest(),
        safe_name="复函.pdf",
    )


def scanned_image_pdf_bytes(**save_args: object) -> bytes:
    """A PDF holding a JPEG page image, the way scanners and phone scan apps write them."""
    page = Image.linear_gradient("L").resize((1240, 1754)).convert("RGB")
    out = io.BytesIO()
    page.save(out, "PDF", resolution=150, save_all=True, append_images=[page])
    if not save_args:
        return out.getvalue()
    with pikepdf.open(out) as pdf:
        resaved = io.BytesIO()
        pdf.save(resaved, **save_args)
    return resaved.getvalue()


def with_incremental_update(pdf: bytes) -> bytes:
    """Append a revision (new /Info, new xref section with /Prev), as editors and signing tools do."""
    prev = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    size = int(re.findall(rb"/Size (\d+)", pdf)[-1])
    root = re.findall(rb"/Root (\d+ \d+ R)", pdf)[-1].decode()
    obj = f"{size} 0 obj\n<< /Producer (county scanner) >>\nendobj\n".encode()
    xref_at = len(pdf) + len(obj)
    tail = (
        f"xref\n{size} 1\n{len(pdf):010d} 00000 n \ntrailer\n"
        f"<< /Size {size + 1} /Root {root} /Info {size} 0 R /Prev {prev} >>\nstartxref\n{xref_at}\n%%EOF\n"
    )
    return pdf + obj + tail.encode()


@pytest.mark.parametrize(
    "build",
    [
        scanned_image_pdf_bytes,
        lambda: scanned_image_pdf_bytes(linearize=True),
        lambda: scanned_image_pdf_bytes(object_stream_mode=pikepdf.ObjectStreamMode.generate),
        lambda: with_incremental_update(pdf_bytes()),
    ],
    ids=["image-pages", "linearized", "object-streams", "incremental-update"],
)
def test_accepts_pdfs_as_scanners_and_editors_write_them(build: Callable[[], bytes]) -> None:
    content = build()

    assert validate_reply_file(SimpleUploadedFile("scan.pdf", content)).size == len(content)


def test_accepts_phone_photo_jpeg_with_exif() -> None:
    photo = phone_photo_bytes()

    upload = SimpleUploadedFile("IMG_20250314_092653.jpg", photo)
    result = validate_reply_file(upload)

    # Size and hash are those of what is stored: the re-encoded picture (issue 15), not the upload.
    stored = upload.read()
    assert (result.ext, result.content_type, result.size) == ("jpg", "image/jpeg", len(stored))
    assert result.sha256 == hashlib.sha256(stored).hexdigest()


def test_accepts_png(small_png: bytes) -> None:
    upload = SimpleUploadedFile("scan.png", small_png)
    result = validate_reply_file(upload)

    assert (result.ext, result.content_type) == ("png", "image/png")
    assert result.sha256 == hashlib.sha256(upload.read()).hexdigest()


@pytest.mark.parametrize("name", ["scan.jpeg", "SCAN.JPEG", "scan.Jpg"])
def test_normalises_jpeg_extensions_to_jpg(small_jpeg: bytes, name: str) -> None:
    result = validate_reply_file(SimpleUploadedFile(name, small_jpeg))

    assert (result.ext, result.content_type) == ("jpg", "image/jpeg")
    assert result.safe_name == name


@pytest.mark.parametrize(
    "save_args",
    [{"progressive": True}, {"restart_marker_blocks": 4}, {"subsampling": 0, "quality": 95}],
    ids=["progressive", "restart-markers", "no-subsampling"],
)
def test_accepts_jpeg_encoding_variants(save_args: dict[str, object]) -> None:
    jpeg = image_bytes("JPEG", (300, 200), **save_args)

    upload = SimpleUploadedFile("scan.jpg", jpeg)
    assert validate_reply_file(upload).size == len(upload.read())


def test_accepts_jpeg_with_a_little_zero_padding(small_jpeg: bytes) -> None:
    assert validate_reply_file(SimpleUploadedFile("scan.jpg", small_jpeg + b"\x00" * 8)).ext == "jpg"


def test_accepts_pdf_of_exactly_200_pages() -> None:
    assert validate_reply_file(SimpleUploadedFile("long.pdf", pdf_bytes(pages=200))).ext == "pdf"


def test_accepts_pdf_whose_name_contains_dots(small_pdf: bytes) -> None:
    assert validate_reply_file(SimpleUploadedFile("2025.03.14 回复..pdf", small_pdf)).ext == "pdf"


# --- refused: size -----------------------------------------------------------------------------------


def test_refuses_empty_file() -> None:
    assert refusal(SimpleUploadedFile("scan.pdf", b"")).message == MSG_EMPTY


def test_refuses_21_mib_file_by_declared_size_without_reading_it() -> None:
    upload = UnreadableUpload("scan.pdf", size=21 * 1024 * 1024)

    assert refusal(upload).message == MSG_TOO_BIG


def test_refuses_21_mib_file() -> None:
    content = b"%PDF-1.7\n" + b"\x00" * (21 * 1024 * 1024)

    assert refusal(SimpleUploadedFile("scan.pdf", content)).message == MSG_TOO_BIG


def test_refuses_file_one_byte_over_the_limit() -> None:
    assert refusal(StubUpload("scan.pdf", size=MAX_BYTES + 1)).message == MSG_TOO_BIG


def test_refuses_file_larger_than_its_declared_size(small_pdf: bytes) -> None:
    liar = StubUpload("scan.pdf", small_pdf + b"\x00" * MAX_BYTES, size=len(small_pdf))

    assert refusal(liar).message == MSG_TOO_BIG


# --- refused: file name ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/reply.pdf",
        "..\\..\\windows\\reply.pdf",
        "folder/reply.pdf",
        "..",
        "reply\x00.pdf",
        "reply\n.pdf",
        "reply\r.pdf",
        "reply\x1b[31m.pdf",
        "reply\x7f.pdf",
        "",
        "   ",
    ],
    ids=[
        "dot-dot-slash",
        "dot-dot-backslash",
        "slash",
        "dot-dot",
        "nul",
        "newline",
        "cr",
        "escape",
        "del",
        "empty",
        "blank",
    ],
)
def test_refuses_invalid_file_name(small_pdf: bytes, name: str) -> None:
    # A stub, because Django's UploadedFile already strips directories from the name it is given.
    assert refusal(StubUpload(name, small_pdf)).message == MSG_BAD_NAME


def test_refuses_backslash_path_that_django_leaves_in_the_name(small_pdf: bytes) -> None:
    assert refusal(SimpleUploadedFile("..\\reply.pdf", small_pdf)).message == MSG_BAD_NAME


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("reply.docx", docx_like_bytes()),
        ("reply.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
        ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("archive.zip", zip_bytes()),
        ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00"),
        ("page.html", b"<!doctype html><script>alert(1)</script>"),
        ("reply.pdf.exe", b"MZ\x90\x00"),
        ("reply.pdf ", b"%PDF-1.7"),
        ("README", b"%PDF-1.7"),
        ("scan.tif", b"II*\x00"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_refuses_disallowed_extension(name: str, content: bytes) -> None:
    assert refusal(SimpleUploadedFile(name, content)).message == MSG_BAD_TYPE


# --- refused: content does not match the extension ----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "label"),
    [
        ("reply.pdf", b"<!doctype html><html><script>alert(1)</script></html>", "PDF"),
        ("reply.pdf", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56, "PDF"),
        ("reply.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 54, "PDF"),
        ("reply.pdf", zip_bytes(), "PDF"),
        ("reply.pdf", "这是一封回复。".encode(), "PDF"),
        ("scan.png", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "PNG"),
        ("scan.png", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "PNG"),
        ("scan.jpg", image_bytes("PNG"), "JPG"),
        ("scan.png", image_bytes("JPEG"), "PNG"),
        ("scan.jpg", pdf_bytes(), "JPG"),
    ],
    ids=[
        "html-as-pdf",
        "elf-as-pdf",
        "exe-as-pdf",
        "zip-as-pdf",
        "text-as-pdf",
        "svg-as-png",
        "gif-as-png",
        "png-as-jpg",
        "jpeg-as-png",
        "pdf-as-jpg",
    ],
)
def test_refuses_content_that_does_not_match_extension(name: str, content: bytes, label: str) -> None:
    assert refusal(SimpleUploadedFile(name, content)).message == MSG_MISMATCH.format(label=label)


# --- refused: PDF parse and content ------------------------------------------------------------------


def test_refuses_file_that_only_starts_like_a_pdf() -> None:
    content = b"%PDF-1.7\n<html>not really</html>"

    assert refusal(SimpleUploadedFile("reply.pdf", content)).message == MSG_CORRUPT


@pytest.mark.parametrize("keep", [0.5, 0.9, -12], ids=["half", "most", "missing-trailer-end"])
def test_refuses_truncated_pdf(small_pdf: bytes, keep: float) -> None:
    cut = int(len(small_pdf) * keep) if keep > 0 else len(small_pdf) + int(keep)

    assert refusal(SimpleUploadedFile("reply.pdf", small_pdf[:cut])).message == MSG_CORRUPT


@pytest.mark.parametrize(
    "encryption",
    [pikepdf.Encryption(owner="owner", user="user"), pikepdf.Encryption(owner="owner", user="")],
    ids=["user-password", "owner-password-only"],
)
def test_refuses_encrypted_pdf(encryption: pikepdf.Encryption) -> None:
    content = pdf_bytes(encryption=encryption)

    assert refusal(SimpleUploadedFile("reply.pdf", content)).message == MSG_PDF_ENCRYPTED


@pytest.mark.parametrize(
    "modify",
    [
        add_javascript_open_action,
        add_page_additional_action,
        add_document_javascript,
        add_launch_link,
        add_submit_form,
        add_harmless_open_action,
        add_xfa_form,
    ],
    ids=[
        "javascript-open-action",
        "page-additional-action",
        "document-javascript",
        "launch-link",
        "submit-form",
        "destination-open-action",
        "xfa-form",
    ],
)
def test_refuses_pdf_with_scripts_or_automatic_actions(modify: Callable[[pikepdf.Pdf], None]) -> None:
    content = pdf_bytes(modify)

    assert refusal(SimpleUploadedFile("reply.pdf", content)).message == MSG_PDF_ACTIVE


@pytest.mark.parametrize(
    "modify", [attach_file, add_file_attachment_annotation], ids=["attachments", "file-attachment-annotation"]
)
def test_refuses_pdf_with_embedded_file(modify: Callable[[pikepdf.Pdf], None]) -> None:
    content = pdf_bytes(modify)

    assert refusal(SimpleUploadedFile("reply.pdf", content)).message == MSG_PDF_EMBEDDED


def test_refuses_pdf_with_more_than_200_pages() -> None:
    content = pdf_bytes(pages=201)

    assert refusal(SimpleUploadedFile("reply.pdf", content)).message == MSG_PDF_TOO_MANY_PAGES


def test_refuses_pdf_without_pages() -> None:
    assert refusal(SimpleUploadedFile("reply.pdf", pdf_bytes(pages=0))).message == MSG_PDF_NO_PAGES


# --- refused: images ---------------------------------------------------------------------------------


def test_refuses_png_with_script_appended(small_png: bytes) -> None:
    content = small_png + b"<script>fetch('/api/v1/')</script>"

    assert refusal(SimpleUploadedFile("scan.png", content)).message == MSG_TRAILING_DATA


def test_refuses_png_with_a_single_byte_appended(small_png: bytes) -> None:
    assert refusal(SimpleUploadedFile("scan.png", small_png + b"\x00")).message == MSG_TRAILING_DATA


def test_refuses_jpeg_with_zip_appended(small_jpeg: bytes) -> None:
    content = small_jpeg + zip_bytes()

    assert refusal(SimpleUploadedFile("scan.jpg", content)).message == MSG_TRAILING_DATA


def test_refuses_jpeg_with_a_second_jpeg_appended(small_jpeg: bytes) -> None:
    content = small_jpeg + small_jpeg

    assert refusal(SimpleUploadedFile("scan.jpg", content)).message == MSG_TRAILING_DATA


def test_refuses_jpeg_with_long_zero_tail(small_jpeg: bytes) -> None:
    content = small_jpeg + b"\x00" * 4096

    assert refusal(SimpleUploadedFile("scan.jpg", content)).message == MSG_TRAILING_DATA


@pytest.mark.parametrize(
    ("width", "height"), [(10_000, 10_000), (6_500, 6_500)], ids=["100-megapixels", "42-megapixels"]
)
def test_refuses_png_with_too_many_pixels(width: int, height: int) -> None:
    content = png_header_only_bytes(width, height)
    assert len(content) < 200_000  # small on disk: this is the pixel-flood case, not the size case

    assert refusal(SimpleUploadedFile("flood.png", content)).message == MSG_TOO_MANY_PIXELS


def test_refuses_animated_png() -> None:
    assert refusal(SimpleUploadedFile("anim.png", animated_png_bytes())).message == MSG_MULTI_FRAME


# Phone photos of letters: Ultra HDR, Samsung and MPO cameras store further JPEGs after the first one
# and declare them in an MPF index. Those are accepted; anything else after the picture is not.


# Pillow writes a wrong offset for a fourth picture (and overstated sizes from the third on), so its
# MPO output is only a faithful sample for two and three pictures.
@pytest.mark.parametrize("pictures", [2, 3], ids=["stereo", "three"])
def test_accepts_multi_picture_jpeg_whose_pictures_the_mpf_index_declares(pictures: int) -> None:
    content = mpo_bytes(pictures)

    upload = SimpleUploadedFile("IMG_0001.jpg", content)
    result = validate_reply_file(upload)

    stored = upload.read()  # the first picture, re-encoded (issue 15)
    assert (result.ext, result.content_type, result.size) == ("jpg", "image/jpeg", len(stored))
    assert result.sha256 == hashlib.sha256(stored).hexdigest()


def test_accepts_ultra_hdr_photo_with_its_gain_map() -> None:
    content = ultra_hdr_like_bytes()

    upload = SimpleUploadedFile("PXL_20250314_092653.jpg", content)
    assert validate_reply_file(upload).size == len(upload.read())


def test_the_hand_built_big_endian_index_is_the_one_viewers_read(small_jpeg: bytes) -> None:
    # Checks the sample builder itself. (Pillow opens a file with hdrgm XMP as a plain JPEG, so this is
    # the Ultra HDR layout without that XMP.)
    with Image.open(io.BytesIO(with_mpf_index(small_jpeg, [image_bytes("JPEG", (50, 40))]))) as opened:
        assert (opened.format, opened.n_frames) == ("MPO", 2)
        opened.seek(1)
        opened.load()
        assert opened.size == (50, 40)


def test_accepts_declared_pictures_separated_by_a_little_zero_padding(small_jpeg: bytes) -> None:
    content = with_mpf_index(small_jpeg, [small_jpeg], gap=b"\x00" * 16)

    assert validate_reply_file(SimpleUploadedFile("scan.jpg", content)).ext == "jpg"


def test_refuses_zip_appended_after_the_declared_pictures() -> None:
    content = mpo_bytes() + zip_bytes()

    assert refusal(SimpleUploadedFile("scan.jpg", content)).message == MSG_TRAILING_DATA


def test_refuses_an_undeclared_jpeg_after_the_declared_ones(small_jpeg: bytes) -> None:
    content = with_mpf_index(small_jpeg, [small_jpeg]) + small_jpeg

    assert refusal(SimpleUploadedFile("scan.jpg", content)).message == MSG_TRAILING_DATA


@pytest.mark.parametrize(
    "declared",
    [
        lambda jpeg: random.Random(7).randbytes(len(jpeg)),
        lambda jpeg: image_bytes("PNG"),
        lambda jpeg: jpeg + zip_bytes(),
        lambda jpeg: jpeg + b"<script>alert(1)</script>",
        lambda jpeg: jpeg[: len(jpeg) // 2],
    ],
    ids=["random-bytes", "png", "jpeg-then-zip", "jpeg-then-script", "truncated-jpeg"],
)
def test_refuses_a_declared_picture_that_is_not_one_complete_jpeg(
    small_jpeg: bytes, declared: Callable[[bytes], bytes]
) -> None:
    content = with_mpf_index(small_jpeg, [declared(small_jpeg)])

    assert refusal(SimpleUploadedFile("scan.jpg", content)).message == MSG_TRAILING_DATA


@pytest.mark.parametrize(
    ("gap", "shift"),
    [(b"", -40), (b"", 24), (b"PK\x03\x04hidden", 0), (b"\x00" * 2048, 0)],
    ids=["points-into-the-primary", "points-past-the-picture", "junk-before-the-picture", "long-zero-gap"],
)
def test_refuses_an_index_that_lies_about_where_its_pictures_are(small_jpeg: bytes, gap: bytes, shift: int) -> None:
    content = with_mpf_index(small_jpeg, [small_jpeg], gap=gap, shift=shift)

    assert refusal(SimpleUploadedFile("scan.jpg", content)).message == MSG_TRAILING_DATA


def test_refuses_an_index_that_declares_more_bytes_than_the_file_has(small_jpeg: bytes) -> None:
    content = with_mpf_index(small_jpeg, [small_jpeg])[:-10]

    assert refusal(SimpleUploadedFile("scan.jpg", content)).message == MSG_TRAILING_DATA


def test_refuses_an_index_that_declares_too_many_pictures(small_jpeg: bytes) -> None:
    content = with_mpf_index(small_jpeg, [small_jpeg] * uploads.MAX_MPF_IMAGES)

    assert refusal(SimpleUploadedFile("scan.jpg", content)).message == MSG_TRAILING_DATA


def test_refuses_a_declared_picture_with_too_many_pixels(small_jpeg: bytes) -> None:
    content = with_mpf_index(small_jpeg, [with_huge_declared_size(small_jpeg)])

    assert refusal(SimpleUploadedFile("scan.jpg", content)).message == MSG_TOO_MANY_PIXELS


@pytest.mark.parametrize(
    ("name", "fixture"), [("scan.png", "small_png"), ("scan.jpg", "small_jpeg")], ids=["png", "jpeg"]
)
def test_refuses_truncated_image(request: pytest.FixtureRequest, name: str, fixture: str) -> None:
    content: bytes = request.getfixturevalue(fixture)

    assert refusal(SimpleUploadedFile(name, content[: len(content) // 2])).message == MSG_CORRUPT


# --- behaviour the caller relies on ------------------------------------------------------------------


def test_upload_rejected_is_an_invalid_input_on_the_file_field() -> None:
    error = UploadRejected("x")

    assert isinstance(error, InvalidInput)
    assert (error.message, error.field) == ("x", "file")


def test_leaves_file_at_start_after_acceptance_and_refusal(small_pdf: bytes) -> None:
    accepted = SimpleUploadedFile("reply.pdf", small_pdf)
    refused = SimpleUploadedFile("reply.pdf", small_pdf[:100])

    validate_reply_file(accepted)
    refusal(refused)

    assert accepted.tell() == 0
    assert accepted.read() == small_pdf
    assert refused.tell() == 0


def test_reads_the_file_only_once(small_pdf: bytes) -> None:
    upload = StubUpload("reply.pdf", small_pdf)

    validate_reply_file(upload)  # type: ignore[arg-type]

    assert upload.chunks_calls == 1


def test_safe_name_drops_invisible_characters_and_keeps_extension(small_pdf: bytes) -> None:
    name = "回复\u202efdp.exe\u200b" + "很长的文件名" * 30 + ".PDF"

    result = validate_reply_file(SimpleUploadedFile(name, small_pdf))

    assert len(result.safe_name) == 100
    assert result.safe_name.startswith("回复fdp.exe很长")
    assert result.safe_name.endswith(".PDF")
    assert "\u202e" not in result.safe_name
    assert "\u200b" not in result.safe_name


def test_safe_name_has_a_stem_when_the_name_is_only_an_extension(small_pdf: bytes) -> None:
    assert validate_reply_file(SimpleUploadedFile(".pdf", small_pdf)).safe_name == "扫描件.pdf"


def test_wraps_unexpected_parser_errors_as_refusals(small_pdf: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("qpdf internal error")

    monkeypatch.setattr(uploads.pikepdf, "open", explode)

    assert refusal(SimpleUploadedFile("reply.pdf", small_pdf)).message == MSG_CORRUPT


@pytest.fixture(scope="module")
def small_mpo() -> bytes:
    return mpo_bytes()


# Pillow warns (and carries on) when it meets a damaged MPF index.
@pytest.mark.filterwarnings("ignore:Tag data larger than file:UserWarning")
@pytest.mark.filterwarnings("ignore:Image appears to be a malformed MPO file:UserWarning")
@pytest.mark.parametrize(
    ("name", "fixture"),
    [("reply.pdf", "small_pdf"), ("scan.png", "small_png"), ("scan.jpg", "small_jpeg"), ("scan.jpg", "small_mpo")],
    ids=["pdf", "png", "jpeg", "mpo"],
)
def test_damaged_bytes_are_refused_or_accepted_but_never_crash(
    request: pytest.FixtureRequest, name: str, fixture: str
) -> None:
    original: bytes = request.getfixturevalue(fixture)
    rng = random.Random(fixture)
    for _ in range(60):
        damaged = bytearray(original)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        if rng.random() < 0.3:
            damaged = damaged[: rng.randrange(1, len(damaged))]
        upload = SimpleUploadedFile(name, bytes(damaged))
        try:
            result = validate_reply_file(upload)
        except UploadRejected as error:
            assert CHINESE.search(error.message)
        else:
            assert result.sha256 == hashlib.sha256(upload.read()).hexdigest()
