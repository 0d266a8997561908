"""Turn a Rekognition `Image` parameter into pixels, enforcing Rekognition's documented limits.

Limits (https://docs.aws.amazon.com/rekognition/latest/dg/limits.html): PNG or JPEG only, at most
5 MB as raw bytes and 15 MB from S3, at least 80 px and at most 10,000 px per side. Real Rekognition
answers a too-small or too-large image with InvalidParameterException, so the engine does too.

Safe decoding: the declared width and height are read from the header (Pillow parses it without
decoding pixels) and checked before any pixel is decoded, so a small file that declares a huge image
(a decompression bomb) is refused at the cost of its bytes. JPEGs are decoded straight to a reduced
size (libjpeg's DCT scaling, Pillow's `draft`) when larger than the engine works at; large PNGs must
be inflated whole (300 MB for 10,000 x 10,000 RGB), so at most one such decode runs at a time
(`_LARGE_DECODES`). Every model looks at the image at 1,280 px or less, so the pixels handed on are
capped at `WORKING_SIDE`; ratios in responses are unchanged. Measured peaks: docs/engine.md.
"""

from __future__ import annotations

import base64
import binascii
import io
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from rekoflow.engine import errors

MAX_BYTES_INLINE = 5 * 1024 * 1024
MAX_BYTES_S3 = 15 * 1024 * 1024
MIN_SIDE_PX = 80
MAX_SIDE_PX = 10_000
MAX_PIXELS = MAX_SIDE_PX * MAX_SIDE_PX
# The largest side handed to the models; larger images are reduced while (JPEG) or after (PNG) decoding.
WORKING_SIDE = 2560
# Declared pixel counts above this need a large buffer while decoding: one such decode at a time.
_LARGE_DECODE_PIXELS = 25_000_000
_LARGE_DECODES = threading.BoundedSemaphore(1)

_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

S3ClientFactory = Callable[[], Any]


@dataclass(frozen=True)
class DecodedImage:
    """BGR uint8 pixels (OpenCV's order) plus the source format."""

    bgr: np.ndarray
    format: str  # "jpeg" | "png"

    @property
    def width(self) -> int:
        return int(self.bgr.shape[1])

    @property
    def height(self) -> int:
        return int(self.bgr.shape[0])


def sniff_format(data: bytes) -> str:
    if data.startswith(_JPEG_MAGIC):
        return "jpeg"
    if data.startswith(_PNG_MAGIC):
        return "png"
    raise errors.invalid_image_format()


def load_image(image: dict[str, Any], s3_client_factory: S3ClientFactory, field: str = "Image") -> DecodedImage:
    """Resolve `Image.Bytes` or `Image.S3Object`, check limits and decode."""
    if not isinstance(image, dict) or ("Bytes" in image) == ("S3Object" in image):
        raise errors.invalid_parameter(f"{field} must contain exactly one of Bytes or S3Object")
    if "Bytes" in image:
        data = _inline_bytes(image["Bytes"])
        if len(data) > MAX_BYTES_INLINE:
            raise errors.image_too_large()
    else:
        data = _s3_bytes(image["S3Object"], s3_client_factory)
    return decode(data)


def decode(data: bytes) -> DecodedImage:
    fmt = sniff_format(data)
    width, height = _declared_size(data, fmt)
    _check_dimensions(width, height)
    if width * height > _LARGE_DECODE_PIXELS:
        with _LARGE_DECODES:
            bgr = _decode_pixels(data, fmt, width, height)
    else:
        bgr = _decode_pixels(data, fmt, width, height)
    return DecodedImage(bgr=bgr, format=fmt)


def _pillow():
    from PIL import Image

    # Deliberate: Pillow refuses (DecompressionBombError) anything over twice this before decoding;
    # the engine's own check refuses anything over 10,000 px a side first, from the header.
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    return Image


def _declared_size(data: bytes, fmt: str) -> tuple[int, int]:
    """Width and height from the header, without decoding pixels."""
    from PIL import UnidentifiedImageError

    Image = _pillow()  # noqa: N806

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt.upper()]) as image:
                return image.size
    except Image.DecompressionBombError:
        # Pillow refuses twice its MAX_IMAGE_PIXELS before we can read the size: a bomb by definition.
        raise errors.image_too_large(
            f"Image dimensions exceed the maximum of {MAX_SIDE_PX} x {MAX_SIDE_PX} pixels (decompression bomb refused)"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise errors.invalid_image_format(
            f"Request has unsupported image format: the {fmt.upper()} header is unreadable ({exc})"
        ) from None


def _check_dimensions(width: int, height: int) -> None:
    if min(height, width) < MIN_SIDE_PX:
        raise errors.invalid_parameter(
            f"Request has invalid parameters: image is {width}x{height}, the minimum is {MIN_SIDE_PX} px per side"
        )
    if max(height, width) > MAX_SIDE_PX:
        raise errors.invalid_parameter(
            f"Input image dimensions {width} x {height} exceed maximum dimension size of {MAX_SIDE_PX} pixels"
        )


def _decode_pixels(data: bytes, fmt: str, width: int, height: int) -> np.ndarray:
    from PIL import Image, ImageOps

    try:
        if fmt == "png":
            return _reduce(_decode_png(data))
        with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
            if max(width, height) > WORKING_SIDE:
                # DCT scaling: decode at 1/2, 1/4 or 1/8 size directly, never the full raster.
                scale = WORKING_SIDE / max(width, height)
                image.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
            image.load()
            # Rekognition reports geometry after applying the EXIF orientation.
            rgb = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    except OSError as exc:
        # Pillow says "image file is truncated" / "broken data stream" / "bad CRC": pass that on.
        raise errors.invalid_image_format(
            f"Request has unsupported image format: the {fmt.upper()} data is corrupt or truncated ({exc})"
        ) from None
    return _reduce(np.ascontiguousarray(rgb[:, :, ::-1]))


def _decode_png(data: bytes) -> np.ndarray:
    """Chunks and CRCs verified by Pillow (cheap: no inflating), pixels by OpenCV (3 bytes a pixel;
    Pillow would hold 4 and then a copy)."""
    import cv2
    from PIL import Image

    with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
        image.verify()  # raises on a truncated file or a damaged chunk
    bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise OSError("the PNG pixel data cannot be decoded")
    return bgr


def _reduce(bgr: np.ndarray) -> np.ndarray:
    import cv2

    height, width = bgr.shape[:2]
    if max(height, width) <= WORKING_SIDE:
        return bgr
    scale = WORKING_SIDE / max(height, width)
    return cv2.resize(bgr, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)


def _inline_bytes(value: Any) -> bytes:
    # Over the wire the blob is base64 text; in-process callers may pass raw bytes.
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if not isinstance(value, str):
        raise errors.invalid_parameter("Image.Bytes must be base64-encoded bytes")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise errors.serialization(f"Image.Bytes is not valid base64: {exc}") from exc


def _s3_bytes(s3_object: Any, s3_client_factory: S3ClientFactory) -> bytes:
    from botocore.exceptions import BotoCoreError, ClientError

    if not isinstance(s3_object, dict) or not s3_object.get("Bucket") or not s3_object.get("Name"):
        raise errors.invalid_parameter("Image.S3Object requires Bucket and Name")
    kwargs = {"Bucket": s3_object["Bucket"], "Key": s3_object["Name"]}
    if s3_object.get("Version"):
        kwargs["VersionId"] = s3_object["Version"]
    try:
        # Created per request, in the request thread: an in-process moto mock may start after the engine.
        client = s3_client_factory()
        response = client.get_object(**kwargs)
    except (ClientError, BotoCoreError) as exc:
        # Rekognition reports missing objects, missing buckets and S3 permission problems alike.
        raise errors.invalid_s3_object() from exc
    body = response["Body"]
    try:
        if int(response.get("ContentLength", 0)) > MAX_BYTES_S3:
            raise errors.image_too_large()
        data = body.read(MAX_BYTES_S3 + 1)
    finally:
        body.close()
    if len(data) > MAX_BYTES_S3:
        raise errors.image_too_large()
    return data
