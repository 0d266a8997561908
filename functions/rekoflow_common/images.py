"""Image checks done before Rekognition is called (docs/architecture.md, ADR-7).

Only the first bytes of the object are read: the format comes from its magic bytes and the
dimensions from the PNG IHDR chunk or the JPEG start-of-frame marker, so a 15 MB photo costs a
small ranged GET, not a download.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
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


class TruncatedImageError(ImageHeaderError):
    """The file ends before its data does: it was cut short (an interrupted upload or copy)."""


class CorruptImageError(ImageHeaderError):
    """The bytes say PNG or JPEG but their structure is broken."""


# Bytes of the first ranged GET while looking for the frame header, and how many reads at most:
# JPEGs from cameras carry EXIF/ICC/XMP blocks of up to several MB before it. Each further read
# starts at the segment where the last one ended and is twice as large (at most 4 MiB), so a header
# behind 10 MB of metadata takes a few reads, and the bytes read stay below the file's size
# (docs/reliability.md).
READ_WINDOW_BYTES = 64 * 1024
MAX_READ_WINDOW_BYTES = 4 * 1024 * 1024
MAX_HEADER_READS = 16
# The trailer is looked for in the file's last bytes: some cameras append data after it.
TAIL_BYTES = 64 * 1024
PNG_IEND = b"IEND\xaeB`\x82"
JPEG_EOI = b"\xff\xd9"


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


def _png_size(data: bytes) -> tuple[int, int]:
    # Signature (8) + chunk length (4) + b"IHDR" (4) + width (4) + height (4).
    if len(data) < 24:
        raise ImageHeaderError("PNG header is truncated")
    if data[12:16] != b"IHDR":
        raise ImageHeaderError("PNG is malformed: IHDR is not the first chunk")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


class _Window:
    """Random access to an object's bytes through ranged reads of ``READ_WINDOW_BYTES``."""

    def __init__(self, read: Callable[[int, int], bytes], size: int, first: bytes = b"") -> None:
        self._read, self.size = read, size
        self.start, self.data = 0, first or read(0, min(size, READ_WINDOW_BYTES))
        self.reads = 1

    def byte(self, offset: int) -> int:
        return self.bytes(offset, 1)[0]

    def bytes(self, offset: int, length: int) -> bytes:
        if offset + length > self.size:
            raise TruncatedImageError(f"ends at byte {self.size:,}, inside its header")
        end = self.start + len(self.data)
        if offset < self.start or offset + length > end:
            if self.reads >= MAX_HEADER_READS:
                raise CorruptImageError(f"no frame header found in {MAX_HEADER_READS} reads (bytes up to {offset:,})")
            window = min(READ_WINDOW_BYTES << self.reads, MAX_READ_WINDOW_BYTES)
            self.start, self.data = offset, self._read(offset, min(self.size - offset, max(length, window)))
            self.reads += 1
        return self.data[offset - self.start : offset - self.start + length]


def _jpeg_frame(window: _Window) -> tuple[int, int, int]:
    """(width, height, offset of the frame header): walks the segments, reading past large ones."""
    offset = 2
    while True:
        if offset >= window.size:
            raise TruncatedImageError(f"ends at byte {window.size:,}, before its frame header")
        if window.byte(offset) != 0xFF:
            raise CorruptImageError(
                f"a segment marker was expected at byte {offset:,}, found 0x{window.byte(offset):02x}"
            )
        while offset < window.size and window.byte(offset) == 0xFF:  # fill bytes before a marker
            offset += 1
        if offset >= window.size:
            raise TruncatedImageError(f"ends at byte {window.size:,}, before its frame header")
        marker = window.byte(offset)
        offset += 1
        if marker in _JPEG_STANDALONE_MARKERS:
            continue
        if marker in (0xD9, 0xDA):  # end of image or start of scan before any frame
            raise CorruptImageError("no frame header before the image data")
        (length,) = struct.unpack(">H", window.bytes(offset, 2))
        if length < 2:
            raise CorruptImageError(f"invalid segment length {length} at byte {offset:,}")
        if marker in _JPEG_SOF_MARKERS:
            height, width = struct.unpack(">HH", window.bytes(offset + 3, 4))
            return width, height, offset
        offset += length


def inspect_image(read: Callable[[int, int], bytes], size: int, first: bytes = b"") -> ImageInfo:
    """Format and dimensions of an object of ``size`` bytes, read through ``read(offset, length)``,
    and whether it is whole: a truncated file (no PNG IEND / JPEG end-of-image marker in its last
    bytes) or a corrupt header is refused here, not by Rekognition as "unsupported image format".
    ``first`` holds bytes already read from offset 0, if any."""
    window = _Window(read, size, first)
    fmt = sniff_format(window.data)
    if fmt is None:
        raise ImageHeaderError(f"not a PNG or JPEG image ({describe_magic(window.data)})")
    try:
        if fmt == "PNG":
            header = window.bytes(0, 33)  # signature, IHDR chunk and its CRC
            width, height = _png_size(header)
            if zlib.crc32(header[12:29]) != struct.unpack(">I", header[29:33])[0]:
                raise CorruptImageError("its header checksum (IHDR CRC) does not match")
            data_start, trailer = 33, PNG_IEND
        else:
            width, height, data_start = _jpeg_frame(window)
            trailer = JPEG_EOI
        tail_start = max(data_start, size - TAIL_BYTES)
        if trailer not in window.bytes(tail_start, size - tail_start):
            name = "IEND chunk" if fmt == "PNG" else "end-of-image marker"
            raise TruncatedImageError(f"ends without its {name} ({size:,} bytes)")
    except TruncatedImageError as error:
        raise TruncatedImageError(
            f"image is truncated: the {fmt} {error}; the file was cut short, upload it again"
        ) from error
    except CorruptImageError as error:
        raise CorruptImageError(f"image is corrupt: the {fmt} is malformed: {error}") from error
    except ImageHeaderError as error:  # the PNG header checks of _png_size
        raise CorruptImageError(f"image is corrupt: {error}") from error
    return ImageInfo(fmt, width, height)


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
        return f"image is {info.width}x{info.height} px; each side must be at least {limits.min_side_px} px"
    if max(info.width, info.height) > limits.max_side_px:
        return f"image is {info.width}x{info.height} px; each side must be at most {limits.max_side_px} px"
    return None
