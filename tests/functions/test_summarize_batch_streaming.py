"""summarize_batch reads ResultWriter result files (up to 5 GB each) as a stream, never whole."""

from __future__ import annotations

import io
import json

import pytest

from summarize_batch.summary import tally_result_files


class StreamOnlyBody:
    """An S3 body that serves bounded reads only: a read of the whole object fails the test."""

    def __init__(self, data: bytes) -> None:
        self._stream = io.BytesIO(data)
        self.largest_read = 0
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        assert size is not None and size >= 0, "a result file was read whole"
        self.largest_read = max(self.largest_read, size)
        return self._stream.read(size)

    def close(self) -> None:
        self.closed = True


class WholeBody(StreamOnlyBody):
    def read(self, size: int = -1) -> bytes:
        return self._stream.read() if size in (None, -1) else self._stream.read(size)


class FakeS3:
    def __init__(self, objects: dict[str, bytes], manifest_key: str) -> None:
        self.objects = objects
        self.manifest_key = manifest_key
        self.bodies: dict[str, StreamOnlyBody] = {}

    def get_object(self, Bucket: str, Key: str) -> dict:  # noqa: N803 - boto3's parameter names
        body = (WholeBody if Key == self.manifest_key else StreamOnlyBody)(self.objects[Key])
        self.bodies[Key] = body
        return {"Body": body}


def entry(i: int, status: str) -> dict:
    key = f"photos/{i}.png"
    if status == "SUCCEEDED":
        output = {
            "status": "SUCCEEDED",
            "requestId": f"b-{i}",
            "key": key,
            "analyses": ["labels"],
            "cachedAnalyses": ["labels"] if i % 3 == 0 else [],
        }
        return {"Status": "SUCCEEDED", "Input": json.dumps({"image": {"key": key}}), "Output": json.dumps(output)}
    return {
        "Status": "FAILED",
        "Input": json.dumps({"image": {"key": key}}),
        "Error": "ImageValidationError",
        "Cause": json.dumps({"errorMessage": f"{key}: too small"}),
    }


def test_result_files_are_streamed_entry_by_entry():
    succeeded = [entry(i, "SUCCEEDED") for i in range(3000)] + [
        {"Status": "SUCCEEDED", "Output": json.dumps({"status": "SKIPPED", "reason": "not an image"})}
    ]
    failed = [entry(i, "FAILED") for i in range(3000, 3010)]
    manifest = {
        "DestinationBucket": "results",
        "ResultFiles": {
            "SUCCEEDED": [{"Key": "batches/b/run/SUCCEEDED_0.json"}],
            "FAILED": [{"Key": "batches/b/run/FAILED_0.json"}],
        },
    }
    objects = {
        "batches/b/run/manifest.json": json.dumps(manifest).encode(),
        "batches/b/run/SUCCEEDED_0.json": json.dumps(succeeded).encode(),
        "batches/b/run/FAILED_0.json": json.dumps(failed).encode(),
    }
    s3 = FakeS3(objects, "batches/b/run/manifest.json")
    tally = tally_result_files(s3, "results", "batches/b/run/manifest.json")
    assert (tally.succeeded, tally.failed, tally.skipped, tally.cached) == (3000, 10, 1, 1000)
    assert tally.failures[0] == {
        "key": "photos/3000.png",
        "error": "ImageValidationError",
        "cause": "photos/3000.png: too small",
    }
    big = s3.bodies["batches/b/run/SUCCEEDED_0.json"]
    # Bounded reads of a file far larger than each read, and the stream is closed afterwards.
    assert big.largest_read < len(objects["batches/b/run/SUCCEEDED_0.json"]) / 10 and big.closed


def test_a_truncated_result_file_is_an_error_not_a_partial_count():
    manifest = {"ResultFiles": {"SUCCEEDED": [{"Key": "r/SUCCEEDED_0.json"}]}}
    text = json.dumps([entry(i, "SUCCEEDED") for i in range(10)])
    s3 = FakeS3(
        {"m.json": json.dumps(manifest).encode(), "r/SUCCEEDED_0.json": text[: len(text) // 2].encode()}, "m.json"
    )
    with pytest.raises(Exception, match="(?i)incomplete|premature|parse"):
        tally_result_files(s3, "results", "m.json")
