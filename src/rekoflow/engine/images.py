"""Turn a Rekognition `Image` parameter into pixels, enforcing Rekognition's documented limits.

Limits (https://docs.aws.amazon.com/rekognition/latest/dg/limits.html): PNG or JPEG only, at most
5 MB as raw bytes and 15 MB from S3, at least 80 px and at most 10,000 px per side. Real Rekognition
answers a too-small or too-large image with InvalidParameterException, so the engine does too.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from rekoflow.engine import errors

MAX_BYTES_INLINE = 5 * 1024 * 1024
MAX_BYTES_S3 = 15 * 1024 * 1024
MIN_SIDE_PX = 80
MAX_SIDE_PX = 10_000

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
    import cv2

    fmt = sniff_format(data)
    bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise errors.invalid_image_format()
    height, width = bgr.shape[:2]
    if min(height, width) < MIN_SIDE_PX:
        raise errors.invalid_parameter(
            f"Request has invalid parameters: image is {width}x{height}, the minimum is {MIN_SIDE_PX} px per side"
        )
    if max(height, width) > MAX_SIDE_PX:
        raise errors.invalid_parameter(
            f"Input image dimensions {width} x {height} exceed maximum dimension size of {MAX_SIDE_PX} pixels"
        )
    return DecodedImage(bgr=bgr, format=fmt)


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
