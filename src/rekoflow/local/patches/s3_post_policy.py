"""Browser uploads (S3 POST with a signed policy) checked as S3 checks them.

moto (``moto/s3/responses.py``, ``S3Response._bucket_response_post``) stores whatever a form POSTs:
it checks neither the policy's signature nor its expiration nor its conditions, so a presigned POST
that caps the size (``content-length-range``) or the content type would not be enforced locally.
The patch checks, before moto stores the object: the SigV4 signature of the policy (with the
stack's credentials), the expiration, every condition (``eq``/exact, ``starts-with``,
``content-length-range``) and that every form field is covered by one, answering with S3's error
codes and messages (AccessDenied, SignatureDoesNotMatch, EntityTooLarge, EntityTooSmall).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from rekoflow.local.patches import durability
from rekoflow.local.patches._base import Patcher, Undo, install

# Form fields S3 does not require the policy to name.
_EXEMPT = {"policy", "x-amz-signature", "file", "x-amz-security-token"}
# What moto adds to the form fields it parses (not sent by the client).
_MOTO_FIELDS = {"bucketname"}


def _error(status: int, code: str, message: str, **extra: Any) -> tuple[int, dict[str, str], str]:
    details = "".join(f"<{k}>{v}</{k}>" for k, v in extra.items())
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
        f"{details}<RequestId>local</RequestId></Error>"
    )
    return status, {"Content-Type": "application/xml"}, body


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def check_post(
    fields: Mapping[str, str],
    bucket: str,
    size: int,
    credentials: Mapping[str, str],
    now: datetime.datetime | None = None,
) -> tuple[int, dict[str, str], str] | None:
    """None when the POST may be stored; else S3's error answer. ``fields``: form fields, names as sent."""
    lowered = {k.lower(): v for k, v in fields.items()}
    encoded = lowered.get("policy")
    if not encoded:
        return _error(
            403,
            "AccessDenied",
            "Bucket POST must contain a field named 'policy'. "
            "If it is specified, please check the order of the fields.",
        )
    credential = lowered.get("x-amz-credential", "").split("/")
    if lowered.get("x-amz-algorithm") != "AWS4-HMAC-SHA256" or len(credential) != 5:
        return _error(400, "InvalidArgument", "POST requires x-amz-algorithm AWS4-HMAC-SHA256 and x-amz-credential")
    secret = credentials.get(credential[0])
    if secret is None:
        return _error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
    expected = hmac.new(
        _signing_key(secret, credential[1], credential[2], credential[3]), encoded.encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, lowered.get("x-amz-signature", "")):
        return _error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
        )
    try:
        policy = json.loads(base64.b64decode(encoded))
        expiration = datetime.datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError):
        return _error(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")
    if (now or datetime.datetime.now(datetime.UTC)) > expiration:
        return _error(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    values = {**lowered, "bucket": bucket}
    covered = set()
    for condition in policy.get("conditions", []):
        if isinstance(condition, dict):
            condition = ["eq", *next(iter(condition.items()))]
            condition[1] = "$" + condition[1]
        operator, *arguments = condition
        if operator == "content-length-range":
            low, high = int(arguments[0]), int(arguments[1])
            if size > high:
                return _error(
                    400,
                    "EntityTooLarge",
                    "Your proposed upload exceeds the maximum allowed size",
                    ProposedSize=size,
                    MaxSizeAllowed=high,
                )
            if size < low:
                return _error(
                    400,
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed size",
                    ProposedSize=size,
                    MinSizeAllowed=low,
                )
            continue
        name = str(arguments[0]).lstrip("$").lower()
        covered.add(name)
        actual = values.get(name, "")
        ok = (
            actual == arguments[1]
            if operator == "eq"
            else actual.startswith(str(arguments[1]))
            if operator == "starts-with"
            else False
        )
        if not ok:
            shown = json.dumps([operator, arguments[0], arguments[1]])
            return _error(403, "AccessDenied", f"Invalid according to Policy: Policy Condition failed: {shown}")
    extra = sorted(
        name
        for name in lowered
        if name not in covered
        and name not in _EXEMPT
        and not name.startswith("x-ignore-")
        and name not in ("x-amz-algorithm", "x-amz-credential", "x-amz-date")
    )
    if extra:
        return _error(403, "AccessDenied", f"Invalid according to Policy: Extra input fields: {', '.join(extra)}")
    return None


def install_post_policy_checks(credentials: Mapping[str, str]) -> Undo:
    """Check every S3 POST upload's policy (``credentials``: access key id -> secret) before moto stores it."""

    def apply(patcher: Patcher) -> None:
        from moto.s3.responses import S3Response

        original = S3Response._bucket_response_post

        def bucket_response_post(self: Any, request: Any, bucket_name: str) -> Any:
            if self.is_delete_keys() or "key" not in self.querystring:
                return original(self, request, bucket_name)
            status, headers, body = checked_post(self, request, bucket_name)
            # A browser reads the answer only with the bucket's CORS headers (moto adds none to a POST).
            try:
                cors = self._get_cors_headers_other()
            except Exception:  # noqa: BLE001 - no bucket, no rule: no headers
                cors = {}
            return status, {**(headers or {}), **cors}, body

        def checked_post(self: Any, request: Any, bucket_name: str) -> Any:
            fields = {
                name: values[0]
                for name, values in self.querystring.items()
                if values and name.lower() not in _MOTO_FIELDS
            }
            body = self.body or b""
            refused = check_post(fields, bucket_name, len(body), credentials)
            if refused is not None:
                return refused
            # S3 checks a declared checksum and keeps it with the object (moto ignores the form field).
            declared = next((v for k, v in fields.items() if k.lower() == "x-amz-checksum-sha256"), None)
            if declared is not None and declared != base64.b64encode(hashlib.sha256(body).digest()).decode():
                return _error(400, "BadDigest", "The SHA256 you specified did not match the calculated checksum.")
            answer = original(self, request, bucket_name)
            if declared is not None:
                key = self.backend.get_object(bucket_name, self.querystring["key"][0])
                if key is not None:
                    key.checksum_algorithm, key.checksum_value = "SHA256", declared
                    durability.key_changed(self.backend, bucket_name, key.name)
            return answer

        patcher.set(S3Response, "_bucket_response_post", bucket_response_post)

    return install(apply)
