"""Batch runs: the batch state machine over an S3 prefix, child executions of the image-analysis machine."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from batch.conftest import BROKEN, NOT_IMAGES

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def upload_folder(runtime, folder: Path, prefix: str) -> int:
    files = sorted(p for p in folder.iterdir() if p.is_file())
    for path in files:
        runtime.upload(path, key=prefix + path.name)
    return len(files)


def run_batch(runtime, prefix: str, batch_id: str, **extra) -> tuple:
    payload = {
        "bucket": runtime.config.images_bucket,
        "prefix": prefix,
        "analyses": ["labels"],
        "batchId": batch_id,
        "maxConcurrency": 10,
        **extra,
    }
    started = time.perf_counter()
    result = runtime.wait(runtime.start_execution("batch_analysis", payload, batch_id), timeout_s=240)
    return result, time.perf_counter() - started


@pytest.fixture(scope="module")
def batch_runs(workflow, fake_rekognition, photo_folder):
    """Two runs over the same ~54 images: the first analyses, the second must be all cache hits."""
    fake_rekognition.calls.clear()
    count = upload_folder(workflow, photo_folder, "photos/")
    first, first_s = run_batch(workflow, "photos/", "first")
    calls_after_first = len(fake_rekognition.calls)
    second, second_s = run_batch(workflow, "photos/", "second")
    calls_after_second = len(fake_rekognition.calls)
    analysed = count - len(NOT_IMAGES)
    print(
        f"\nbatch of {analysed} images: first run {first_s:.1f} s ({analysed / first_s:.1f} images/s), "
        f"cached run {second_s:.1f} s ({analysed / second_s:.1f} images/s)"
    )
    return {"count": count, "first": first, "second": second, "calls": (calls_after_first, calls_after_second)}


def test_batch_succeeds_within_the_tolerated_failures(batch_runs):
    first = batch_runs["first"]
    assert first.status == "SUCCEEDED", (first.error, first.cause)
    summary = first.output
    images = batch_runs["count"] - len(NOT_IMAGES)
    assert images >= 50 + len(BROKEN)
    assert summary["total"] == batch_runs["count"]
    assert summary["skipped"] == len(NOT_IMAGES)
    assert summary["skippedReasons"] == {"not a .jpg, .jpeg or .png file": len(NOT_IMAGES)}
    assert summary["failed"] == len(BROKEN)
    assert summary["succeeded"] == images - len(BROKEN)
    assert summary["cached"] == 0
    assert summary["countsFrom"] == "resultWriter"
    assert summary["resultManifest"].startswith("s3://rekoflow-local-results/batches/first/")


def test_every_image_has_a_record_and_broken_ones_say_why(workflow, batch_runs):
    records = [r for r in workflow.query_batch("first") if r.get("recordType") == "ANALYSIS"]
    assert len(records) == batch_runs["count"] - len(NOT_IMAGES)
    by_key = {}
    for record in records:
        image = record.get("image") or record["request"]["image"]
        by_key[image["key"].removeprefix("photos/")] = record
    failed = {key for key, record in by_key.items() if record["status"] == "FAILED"}
    assert failed == BROKEN, {key: (by_key[key].get("error"), by_key[key].get("cause")) for key in failed - BROKEN}
    reasons = {
        "truncated.jpg": "image is truncated: the JPEG ends at byte 100, before its frame header",
        "gif-renamed.jpg": "not a PNG or JPEG image (GIF)",
        "too-small.png": "image is 40x40 px; each side must be at least 80 px",
        "text-renamed.png": "not a PNG or JPEG image (starts with bytes 6e 6f 74 20",
    }
    assert set(reasons) == BROKEN
    for key, reason in reasons.items():
        record = by_key[key]
        assert record["error"] == "ImageValidationError"
        assert f"photos/{key}" in record["cause"] and reason in record["cause"], record["cause"]
    # each record's request id is the child execution's name: "<batchId>-<md5 of the key>"
    assert all(record["pk"].startswith("first-") and len(record["pk"]) == len("first-") + 32 for record in records)


def test_batch_summary_record(workflow, batch_runs):
    record = workflow.get_record("batch#first")
    assert record["recordType"] == "BATCH" and record["status"] == "SUCCEEDED"
    assert (record["succeeded"], record["failed"], record["skipped"], record["cached"]) == (
        batch_runs["first"].output["succeeded"],
        len(BROKEN),
        len(NOT_IMAGES),
        0,
    )
    assert record["durationSeconds"] > 0
    assert record["resultManifest"].endswith("/manifest.json")


def test_second_run_is_served_from_the_cache(workflow, batch_runs):
    second = batch_runs["second"]
    assert second.status == "SUCCEEDED"
    assert second.output["cached"] == second.output["succeeded"] == batch_runs["first"].output["succeeded"]
    first_calls, second_calls = batch_runs["calls"]
    assert first_calls >= batch_runs["first"].output["succeeded"]
    assert second_calls == first_calls  # Rekognition saw no new call


def test_a_batch_beyond_the_tolerated_failures_fails_and_is_recorded(workflow, photo_folder):
    for name in ("astronaut-orig.png", "astronaut-flip.jpg", *sorted(BROKEN)):
        workflow.upload(photo_folder / name, key=f"mostly-broken/{name}")
    result, _ = run_batch(workflow, "mostly-broken/", "mostly-broken", toleratedFailurePercentage=25)
    assert result.status == "FAILED"
    assert result.error == "Workflow.ExceedToleratedFailureThreshold"
    record = workflow.get_record("batch#mostly-broken")
    assert record["status"] == "FAILED" and record["error"] == "Workflow.ExceedToleratedFailureThreshold"
    # A failed Map Run still writes its result files: every object is counted from them.
    assert record["failed"] == len(BROKEN) and record["succeeded"] == 2 and record["total"] == 2 + len(BROKEN)
    assert record["countsFrom"] == "resultWriter"
    failures = record["failures"]  # parsed by the client (decode_record)
    assert {f["error"] for f in failures} == {"ImageValidationError"}


def test_invalid_batch_input_is_rejected_and_recorded(workflow):
    result, _ = run_batch(workflow, "photos/", "bad-input", maxConcurrency=0)
    assert result.status == "FAILED" and result.error == "InvalidBatchInput"
    assert workflow.get_record("batch#bad-input")["status"] == "FAILED"


def test_a_batch_id_children_cannot_be_named_after_is_rejected_before_listing(workflow, photo_folder):
    """Children are named <batchId>-<32 hex>, at most 80 characters: a 48-character batch id fails at once."""
    workflow.upload(photo_folder / "astronaut-orig.png", key="one-photo/astronaut-orig.png")
    too_long = "b" * 48
    result, _ = run_batch(workflow, "one-photo/", too_long)
    assert result.status == "FAILED" and result.error == "InvalidBatchInput"
    assert "1-47 characters" in result.cause and "48 characters" in result.cause
    record = workflow.get_record(f"batch#{too_long}")
    assert record["status"] == "FAILED" and record["total"] == 0
    longest = "b" * 47
    result, _ = run_batch(workflow, "one-photo/", longest)
    assert result.status == "SUCCEEDED", result.cause
    assert workflow.get_record(f"batch#{longest}")["succeeded"] == 1
