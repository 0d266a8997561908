"""Image checks done before Rekognition is called (docs/architecture.md, ADR-7).

Only the first bytes of the object are read: the format comes from its magic bytes and the
dimensions from the PNG IHDR chunk or the JPEG start-of-frame marker, so a 15 MB photo costs a
small ranged GET, not a download.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"

# Rekognition's documented limits for images passed as S3 objects.
MAX_IMAGE_BYTES = 15 * 1024 * 1024
MIN_IMAGE_SIDE_PX = 80
MAX_IMAGE_SIDE_PX = 10_000

# JPEG start-of-frame markers carry the dimensions (all SOFn except DHT, JPG and DAC).
_JPEG_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_STANDALONE_MARKERS = frozenset(range(0xD0, 0xDA)) | {0x01}


class ImageHeaderError(ValueError):
    """The bytes are not a readable PNG or JPEG header."""


class NeedMoreBytes(ImageHeaderError):
    """The header extends beyond the bytes read so far (large EXIF blocks before the frame)."""


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "PNG" or "JPEG"
    width: int
    height: int


def sniff_format(header: bytes) -> str | None:
    if header.startswith(PNG_SIGNATURE):
        return "PNG"
    if header.startswith(JPEG_SIGNATURE):
        return "JPEG"
    return None


def describe_magic(header: bytes) -> str:
    """A short human description of what the bytes look like, for error messages."""
    known = {
        b"GIF8": "GIF",
        b"RIFF": "RIFF (WebP?)",
        b"BM": "BMP",
        b"%PDF": "PDF",
        b"II*\x00": "TIFF",
        b"MM\x00*": "TIFF",
    }
    for magic, name in known.items():
        if header.startswith(magic):
            return name
    if header[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "HEIC"
    if not header:
        return "an empty object"
    return "starts with bytes " + header[:8].hex(" ")


def read_image_info(header: bytes) -> ImageInfo:
    fmt = sniff_format(header)
    if fmt == "PNG":
        return ImageInfo("PNG", *_png_size(header))
    if fmt == "JPEG":
        return ImageInfo("JPEG", *_jpeg_size(header))
    raise ImageHeaderError(f"not a PNG or JPEG image ({describe_magic(header)})")


def _png_size(data: bytes) -> tuple[int, int]:
    # Signature (8) + chunk length (4) + b"IHDR" (4) + width (4) + height (4).
    if len(data) < 24:
        raise ImageHeaderError("PNG header is truncated")
    if data[12:16] != b"IHDR":
        raise ImageHeaderError("PNG is malformed: IHDR is not the first chunk")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _jpeg_size(data: bytes) -> tuple[int, int]:
    offset = 2
    while True:
        # Markers may be preceded by fill bytes 0xFF.
        while offset < len(data) and data[offset] == 0xFF:
            offset += 1
        if offset >= len(data):
            raise NeedMoreBytes("JPEG frame header not found in the bytes read")
        marker = data[offset]
        offset += 1
        if marker in _JPEG_STANDALONE_MARKERS:
            continue
        if marker == 0xD9 or marker == 0xDA:  # end of image or start of scan before any frame
            raise ImageHeaderError("JPEG is malformed: no frame header before the image data")
        if offset + 2 > len(data):
            raise NeedMoreBytes("JPEG segment header is beyond the bytes read")
        (length,) = struct.unpack(">H", data[offset : offset + 2])
        if length < 2:
            raise ImageHeaderError("JPEG is malformed: invalid segment length")
        if marker in _JPEG_SOF_MARKERS:
            if offset + 7 > len(data):
                raise NeedMoreBytes("JPEG frame header is beyond the bytes read")
            height, width = struct.unpack(">HH", data[offset + 3 : offset + 7])
            return width, height
        offset += length


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = MAX_IMAGE_BYTES
    min_side_px: int = MIN_IMAGE_SIDE_PX
    max_side_px: int = MAX_IMAGE_SIDE_PX


def limit_violation(size_bytes: int, info: ImageInfo, limits: ImageLimits) -> str | None:
    """The first limit the image breaks, as a sentence naming the limit, or None."""
    if size_bytes > limits.max_bytes:
        return (
            f"image is {size_bytes:,} bytes; the limit for images read from S3 is "
            f"{limits.max_bytes:,} bytes ({limits.max_bytes / 1024 / 1024:g} MiB)"
        )
    if size_bytes == 0:
        return "image is empty (0 bytes)"
    if min(info.width, info.height) < limits.min_side_px:
        return (
            f"image is {info.width}x{info.height} px; each side must be at least {limits.min_side_px} px"
        )
    if max(info.width, info.height) > limits.max_side_px:
        return (
            f"image is {info.width}x{info.height} px; each side must be at most {limits.max_side_px} px"
        )
    return None
