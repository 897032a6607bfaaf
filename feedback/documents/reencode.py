"""Re-encoding accepted images (issue 15, part 6): what is stored is pixels, not the uploader's bytes.

A scan or phone photo can carry HTML or script in PNG tEXt/iTXt/zTXt chunks or JPEG COM/APPn segments,
and a phone photo carries the GPS position where it was taken (EXIF). The validated picture is decoded
and written again with only its pixels, its orientation applied, its colour profile and its resolution
(the print scale of a scan). JPEG keeps its own quantisation tables when nothing has to be turned, so
the letter's seal and signature lose nothing visible. Pure: Pillow only.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps


def reencode(data: bytes, pillow_format: str) -> bytes:
    with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
        image.load()
        keep: dict[str, object] = {}
        if image.info.get("icc_profile"):
            keep["icc_profile"] = image.info["icc_profile"]
        if image.info.get("dpi"):
            keep["dpi"] = tuple(round(float(v)) for v in image.info["dpi"])
        if pillow_format == "PNG" and "transparency" in image.info:
            keep["transparency"] = image.info["transparency"]
        # Read the orientation before the metadata goes.
        turned = pillow_format == "JPEG" and image.getexif().get(0x0112, 1) not in (0, 1)
        upright = ImageOps.exif_transpose(image) if turned else image
        # Pillow copies some of ``info`` into what it writes (a JPEG comment, for one): start from nothing.
        image.info = {}
        upright.info = {}
        out = io.BytesIO()
        if pillow_format == "JPEG":
            if not turned and image.format == "JPEG":
                # quality="keep": the same quantisation tables and subsampling, no generation loss to speak of.
                image.save(out, "JPEG", quality="keep", subsampling="keep", **keep)
            else:
                # Turned upright (or the first picture of an MPO): a fresh high-quality encode.
                picture = upright if upright.mode in ("L", "RGB", "CMYK") else upright.convert("RGB")
                picture.save(out, "JPEG", quality=95, **keep)
        else:
            # No pnginfo: Pillow writes no text chunks; transparency and palette are kept with the pixels.
            image.save(out, "PNG", **keep)
        return out.getvalue()
