"""Presigned uploads to the images bucket (POST /uploads), kept free of Lambda specifics.

The client asks to upload one image (``contentType`` image/png or image/jpeg, the image's SHA-256
as ``checksumSHA256`` (base64, as S3 writes it), and optionally a file name); the answer is a
presigned S3 **POST** (a URL and the form fields to send with the file, as a browser form or
``curl -F`` sends them) whose signed policy fixes the key, the content type and the checksum and
caps the size at Rekognition's limit (``content-length-range``): a presigned PUT cannot cap the
size. S3 rejects a body that does not match the checksum and stores it with the object:
validate_request keys the result cache on it (an SSE-KMS object's ETag is not a content hash).
Keys are always under the uploads prefix and contain a fresh UUID, so a client cannot overwrite
another upload or write outside the prefix.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from rekoflow_common.images import MAX_IMAGE_BYTES

ALLOWED_CONTENT_TYPES = {"image/png": "png", "image/jpeg": "jpg"}
_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_EXTENSIONS = {"image/png": {"png"}, "image/jpeg": {"jpg", "jpeg"}}


class UploadRequestError(ValueError):
    """The upload request is invalid; the message names the field."""


@dataclass(frozen=True)
class UploadSettings:
    bucket: str
    prefix: str = "uploads/"
    expiry_s: int = 300
    max_bytes: int = MAX_IMAGE_BYTES  # Rekognition's limit for images in S3


def parse_body(body: str | None) -> dict[str, Any]:
    """The request's JSON body, which must be an object."""
    try:
        parsed = json.loads(body or "{}")
    except ValueError as error:
        raise UploadRequestError(f"body is not valid JSON: {error}") from error
    if not isinstance(parsed, dict):
        raise UploadRequestError("body must be a JSON object")
    return parsed


def build_key(request: dict[str, Any], settings: UploadSettings) -> tuple[str, str]:
    """Validate ``contentType`` and ``filename``; return ``(content_type, key)``."""
    content_type = request.get("contentType")
    if content_type not in ALLOWED_CONTENT_TYPES:
        raise UploadRequestError(
            f"contentType must be one of {', '.join(sorted(ALLOWED_CONTENT_TYPES))}, got {content_type!r}"
        )
    filename = request.get("filename")
    if filename is None:
        filename = f"image.{ALLOWED_CONTENT_TYPES[content_type]}"
    if not isinstance(filename, str) or not _FILENAME.match(filename) or ".." in filename:
        raise UploadRequestError(
            "filename must be 1-128 characters of letters, digits, '.', '_' and '-', starting with a letter or digit"
        )
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in _EXTENSIONS[content_type]:
        raise UploadRequestError(
            f"filename extension must match contentType {content_type} ({', '.join(sorted(_EXTENSIONS[content_type]))})"
        )
    prefix = settings.prefix if settings.prefix.endswith("/") else settings.prefix + "/"
    return content_type, f"{prefix}{uuid.uuid4()}/{filename}"


def checksum_sha256(request: dict[str, Any]) -> str:
    """Validate ``checksumSHA256``: the base64 of the image's 32-byte SHA-256 digest."""
    value = request.get("checksumSHA256")
    hint = (
        "checksumSHA256 is required: the base64 of the image's SHA-256 digest "
        "(e.g. openssl dgst -sha256 -binary image.png | base64)"
    )
    if not isinstance(value, str) or not value:
        raise UploadRequestError(hint)
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as error:
        raise UploadRequestError(f"checksumSHA256 is not valid base64 ({error}); {hint}") from error
    if len(digest) != 32:
        raise UploadRequestError(f"checksumSHA256 decodes to {len(digest)} bytes, a SHA-256 digest has 32; {hint}")
    return value


def create_upload(s3_client: Any, request: dict[str, Any], settings: UploadSettings) -> dict[str, Any]:
    """A presigned POST (URL + form fields) for one image, and where the image will be."""
    content_type, key = build_key(request, settings)
    checksum = checksum_sha256(request)
    fields = {"Content-Type": content_type, "x-amz-checksum-sha256": checksum}
    post = s3_client.generate_presigned_post(
        Bucket=settings.bucket,
        Key=key,
        Fields=fields,
        Conditions=[
            {"Content-Type": content_type},
            {"x-amz-checksum-sha256": checksum},
            ["content-length-range", 1, settings.max_bytes],
        ],
        ExpiresIn=settings.expiry_s,
    )
    return {
        "url": post["url"],
        "method": "POST",
        "fields": post["fields"],
        "maxBytes": settings.max_bytes,
        "expiresIn": settings.expiry_s,
        "image": {"bucket": settings.bucket, "key": key},
    }
