"""Real image bytes for tests, made with Pillow (PNG/JPEG of given sizes) and a few broken files."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def image_bytes(
    width: int = 200,
    height: int = 160,
    fmt: str = "PNG",
    color: tuple[int, int, int] = (30, 120, 200),
    exif_padding: int = 0,
) -> bytes:
    image = Image.new("RGB", (width, height), color)
    ImageDraw.Draw(image).ellipse((width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=(240, 200, 60))
    buffer = io.BytesIO()
    if fmt == "JPEG" and exif_padding:
        # A large APP segment before the frame header, like cameras write (ICC profiles, thumbnails).
        image.save(buffer, format="JPEG", icc_profile=b"\0" * exif_padding)
    else:
        image.save(buffer, format=fmt)
    return buffer.getvalue()


GIF_BYTES = b"GIF89a" + b"\x00" * 200
TEXT_BYTES = b"this is not an image at all\n" * 10
