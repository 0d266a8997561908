"""S3 for the local engine, read from moto's backend in this process (docs/architecture.md, ADR-9).

The engine reads every image it analyses from S3 (``S3Object``). Through a boto3 client of the
stack, each read cost a new botocore session and client (the engine asks its factory per request)
and an HTTP round trip to the stack's own socket. :class:`BackendS3` answers ``get_object`` from
moto's S3 backend directly, with the errors S3 would give (as ``botocore`` ``ClientError``, which
the engine reports as Rekognition does); anything else (``put_object`` of a training evaluation)
goes to one real client of the stack, made once.

``READS`` counts objects read from the backend (a test asserts the engine's reads land here).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import Any

READS = {"backend": 0}
_READS_LOCK = threading.Lock()


def _client_error(code: str, message: str, status: int) -> Exception:
    from botocore.exceptions import ClientError

    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, "GetObject"
    )


class BackendS3:
    """The S3 calls the engine makes, for the stack's account: reads from moto's backend."""

    def __init__(self, account_id: str, client_factory: Callable[[], Any], partition: str = "aws") -> None:
        self.account_id = account_id
        self.partition = partition
        self._client_factory = client_factory
        self._client: Any = None
        self._lock = threading.Lock()

    def get_object(self, Bucket: str, Key: str, VersionId: str | None = None, **_: Any) -> dict[str, Any]:  # noqa: N803 - boto3's names
        from moto.s3.exceptions import MissingBucket
        from moto.s3.models import s3_backends

        backend = s3_backends[self.account_id][self.partition]
        try:
            key = backend.get_object(Bucket, Key, version_id=VersionId)
        except MissingBucket:
            raise _client_error("NoSuchBucket", "The specified bucket does not exist", 404) from None
        if key is None and VersionId is None:
            raise _client_error("NoSuchKey", "The specified key does not exist.", 404)
        if key is None:
            raise _client_error("NoSuchVersion", "The specified version does not exist.", 404)
        data = key.value
        with _READS_LOCK:
            READS["backend"] += 1
        return {
            "Body": io.BytesIO(data),
            "ContentLength": len(data),
            "ContentType": key.metadata.get("Content-Type", "binary/octet-stream")
            if hasattr(key.metadata, "get")
            else "binary/octet-stream",
            "ETag": key.etag,
            **({"VersionId": key.version_id} if key.version_id and key.version_id != "null" else {}),
        }

    def __getattr__(self, name: str) -> Any:
        # Writes and anything else: a real client of the stack (made once, shared: thread-safe).
        if name.startswith("_"):
            raise AttributeError(name)
        with self._lock:
            if self._client is None:
                self._client = self._client_factory()
        return getattr(self._client, name)
