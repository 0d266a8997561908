"""Turns an analysis request into the plan the state machine runs, or rejects it with a specific reason.

Checks, in order: the JSON Schema; rules the schema cannot express; then each image in S3 (it
exists, is PNG/JPEG by its magic bytes, and is within Rekognition's size and dimension limits).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from rekoflow_common.custom_labels import check_training_rules
from rekoflow_common.errors import (
    ImageValidationError,
    RequestValidationError,
    TransientServiceError,
    error_code,
    http_status,
)
from rekoflow_common.images import (
    ImageHeaderError,
    ImageInfo,
    ImageLimits,
    inspect_image,
    limit_violation,
)
from rekoflow_common.options import cache_key, content_identity, with_defaults
from rekoflow_common.schema import validate_request_schema

# Options of the custom analysis that change how the model is run, not what it answers.
logger = Logger(child=True)
_CUSTOM_LIFECYCLE_OPTIONS = {
    "keepRunning",
    "minInferenceUnits",
    "pollIntervalSeconds",
    "maxPolls",
    "training",
    "idleStopSeconds",
    "leaseSeconds",
    "maxRequestsPerInferenceUnit",
}


@dataclass(frozen=True)
class CheckedImage:
    bucket: str
    key: str
    version_id: str | None
    info: ImageInfo
    size_bytes: int
    identity: str

    def reference(self) -> dict[str, str]:
        ref = {"bucket": self.bucket, "key": self.key}
        if self.version_id:
            ref["versionId"] = self.version_id
        return ref

    def describe(self) -> dict[str, Any]:
        return {
            **self.reference(),
            "format": self.info.format,
            "width": self.info.width,
            "height": self.info.height,
            "sizeBytes": self.size_bytes,
        }


def check_rules(request: Mapping[str, Any]) -> None:
    """Rules across fields that JSON Schema draft-04 cannot state."""
    analyses = request["analyses"]
    options = request.get("options", {})
    for name in options:
        if name not in analyses:
            raise RequestValidationError(
                f"options.{name} is given but {name!r} is not in analyses ({', '.join(analyses)})"
            )
    if "compare" in analyses and "targetImage" not in options.get("compare", {}):
        raise RequestValidationError("options.compare.targetImage is required when analyses includes 'compare'")
    if "custom" in analyses:
        custom = options.get("custom", {})
        if "projectVersionArn" not in custom and "training" not in custom:
            raise RequestValidationError(
                "options.custom needs projectVersionArn (an existing model version) or training "
                "(to train one) when analyses includes 'custom'"
            )
        if "projectVersionArn" in custom and "training" in custom:
            raise RequestValidationError("options.custom: give either projectVersionArn or training, not both")
        check_training_rules(custom.get("training", {}), "options.custom.training")


def check_image(s3: Any, reference: Mapping[str, str], field: str, limits: ImageLimits) -> CheckedImage:
    bucket, key = reference["bucket"], reference["key"]
    version = reference.get("versionId")
    where = f"{field} s3://{bucket}/{key}" + (f" (version {version})" if version else "")
    extra = {"VersionId": version} if version else {}
    try:
        # ChecksumMode=ENABLED: S3 returns ChecksumSHA256 only when asked; it is the content cache key
        # (the ETag of an SSE-KMS object is not a hash of its content). docs/architecture.md, "Cache".
        head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED", **extra)
    except ClientError as error:
        raise _missing(s3, error, bucket, key, version, where) from error
    size = int(head.get("ContentLength", 0))
    if size == 0:
        raise ImageValidationError(f"{where}: image is empty (0 bytes)")
    if size > limits.max_bytes:  # refused before any byte is read
        raise ImageValidationError(f"{where}: {limit_violation(size, ImageInfo('', 0, 0), limits)}")
    info = _read_info(s3, bucket, key, extra, size, where)
    problem = limit_violation(size, info, limits)
    if problem:
        raise ImageValidationError(f"{where}: {problem}")
    return CheckedImage(bucket, key, version or head.get("VersionId") or None, info, size, content_identity(head))


def _read_info(s3: Any, bucket: str, key: str, extra: dict, size: int, where: str) -> ImageInfo:
    """Format, dimensions and wholeness from ranged reads: the header (past large metadata) and the tail."""

    def read(offset: int, length: int) -> bytes:
        try:
            return s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={offset}-{offset + length - 1}", **extra)[
                "Body"
            ].read()
        except ClientError as error:
            raise _s3_error(error, where) from error

    try:
        return inspect_image(read, size)
    except ImageHeaderError as error:
        message = str(error)
        if message.startswith("not a PNG or JPEG"):
            message += "; Rekognition accepts PNG and JPEG"
        raise ImageValidationError(f"{where}: {message}") from error


def _missing(s3: Any, error: ClientError, bucket: str, key: str, version: str | None, where: str) -> Exception:
    """HeadObject answers a bare 404 (a HEAD has no body): which of bucket, version or key is missing."""
    if error.response.get("Error", {}).get("Code") not in ("404", "NotFound", "NoSuchKey"):
        return _s3_error(error, where)
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as bucket_error:
        if bucket_error.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket", "NotFound"):
            return ImageValidationError(f"{where}: bucket does not exist")
        return _s3_error(error, where)
    if version:
        try:
            s3.head_object(Bucket=bucket, Key=key)
        except ClientError:
            return ImageValidationError(f"{where}: object does not exist")
        return ImageValidationError(f"{where}: version does not exist")
    return ImageValidationError(f"{where}: object does not exist")


def _s3_error(error: ClientError, where: str) -> Exception:
    code, status = error_code(error), http_status(error)
    if code in ("NoSuchKey", "404", "NotFound"):
        return ImageValidationError(f"{where}: object does not exist")
    if code in ("NoSuchBucket",):
        return ImageValidationError(f"{where}: bucket does not exist")
    if code in ("NoSuchVersion", "InvalidArgument") and "ersion" in str(error):
        return ImageValidationError(f"{where}: version does not exist")
    if code in ("AccessDenied", "403", "Forbidden"):
        # Without s3:ListBucket, S3 answers 403 for a key that does not exist too.
        return ImageValidationError(
            f"{where}: access denied: the object does not exist, or the workflow may not read it"
            " (it reads its images bucket only)"
        )
    if status >= 500 or code in ("SlowDown", "ServiceUnavailable", "InternalError"):
        detail = f"HTTP {status}" + (f" {code}" if code and not code.isdigit() else "")
        return TransientServiceError(f"{where}: S3 failed: {detail}")
    return ImageValidationError(f"{where}: cannot be read: {code or error}")


def build_plan(s3: Any, request: Mapping[str, Any], request_id: str, limits: ImageLimits) -> dict[str, Any]:
    validate_request_schema(request)
    check_rules(request)
    image = check_image(s3, request["image"], "image", limits)
    use_cache = bool(request.get("useCache", True))
    options = request.get("options", {})
    # "Cached result found?" serves an entry only if it expires after this (epoch seconds): DynamoDB's
    # TTL sweep may delete an expired item days late (docs/architecture.md, ADR-6).
    planned_at = int(time.time())
    items = []
    for analysis in request["analyses"]:
        resolved = with_defaults(analysis, options.get(analysis))
        others: list[str] = []
        item: dict[str, Any] = {
            "type": analysis,
            "requestId": request_id,
            "image": image.reference(),
            "options": resolved,
            "plannedAt": planned_at,
        }
        keyed_options = dict(resolved)
        if analysis == "compare":
            target = check_image(s3, resolved["targetImage"], "options.compare.targetImage", limits)
            item["targetImage"] = target.reference()
            others.append(target.identity)
        if analysis == "custom":
            keyed_options = {k: v for k, v in resolved.items() if k not in _CUSTOM_LIFECYCLE_OPTIONS}
        item["cacheKey"] = cache_key(analysis, image.identity, keyed_options, others)
        # Training makes a new model version: its answer is never a cached one.
        item["useCache"] = use_cache and not (analysis == "custom" and "training" in resolved)
        items.append(item)
    logger.info(
        "request validated",
        extra={"analyses": [i["type"] for i in items], "image": image.describe(), "use_cache": use_cache},
    )
    # batchId is always present (null outside a batch): JSONPath in the ASL cannot read a missing field.
    return {
        "requestId": request_id,
        "batchId": request.get("batchId"),
        "image": image.describe(),
        "analyses": items,
        "useCache": use_cache,
    }
