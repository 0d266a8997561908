"""The summary of one batch run and its BATCH record (docs/architecture.md, "Results table").

On success the Distributed Map's ResultWriter has written a manifest and result files (one entry
per child workflow execution: its input, its output or its error) to the results bucket; they are
the source of the counts. When the batch itself failed there may be no manifest: the records the
child executions stored (``batch-index``) are counted instead.

A result file holds one JSON array of every child's input and output and may be up to 5 GB: it is
parsed as a stream (ijson), one entry at a time, never read whole into the function's memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import ijson

from rekoflow_common.failures import fail_state_error, readable_cause
from rekoflow_common.pricing import total
from rekoflow_common.records import compact_json, now_iso, to_dynamodb_item

RECORD_TYPE_BATCH = "BATCH"
MAX_FAILURES_LISTED = 50
MAX_CAUSE_CHARS = 2_000


def batch_pk(batch_id: str) -> str:
    return f"batch#{batch_id}"


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return None


def _read_json(s3: Any, bucket: str, key: str) -> Any:
    """A small JSON object (the ResultWriter manifest)."""
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def iter_result_entries(s3: Any, bucket: str, key: str) -> Iterable[Mapping[str, Any]]:
    """The entries of one ResultWriter result file, streamed from S3 one array item at a time."""
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    try:
        yield from ijson.items(body, "item", use_float=True)
    finally:
        body.close()


def find_manifest(s3: Any, batch: Mapping[str, Any], results_bucket: str | None) -> tuple[str, str] | None:
    """The ResultWriter manifest: from the Map's output, or the newest one under batches/<batchId>/."""
    details = (batch.get("mapRun") or {}).get("ResultWriterDetails") or {}
    if details.get("Bucket") and details.get("Key"):
        return details["Bucket"], details["Key"]
    if not results_bucket or not batch.get("batchId"):
        return None
    newest: tuple[Any, str] | None = None
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=results_bucket, Prefix=f"batches/{batch['batchId']}/"):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith("/manifest.json") and (newest is None or obj["LastModified"] > newest[0]):
                newest = (obj["LastModified"], obj["Key"])
    return (results_bucket, newest[1]) if newest else None


class Tally:
    def __init__(self) -> None:
        self.succeeded = 0
        self.failed = 0
        self.cached = 0
        self.skipped = 0
        self.skipped_reasons: dict[str, int] = {}
        self.failures: list[dict[str, Any]] = []
        self.billings: list[Mapping[str, Any]] = []

    @property
    def analysed(self) -> int:
        return self.succeeded + self.failed

    @property
    def total(self) -> int:
        return self.analysed + self.skipped

    def add_output(self, output: Mapping[str, Any]) -> None:
        if output.get("status") == "SKIPPED":
            self.skipped += 1
            reason = str(output.get("reason") or "skipped")
            self.skipped_reasons[reason] = self.skipped_reasons.get(reason, 0) + 1
            return
        self.succeeded += 1
        if isinstance(output.get("billing"), Mapping):
            self.billings.append(output["billing"])
        analyses = set(output.get("analyses") or [])
        if analyses and analyses <= set(output.get("cachedAnalyses") or []):
            self.cached += 1

    def add_failure(self, key: str | None, error: str | None, cause: Any, request_id: str | None = None) -> None:
        self.failed += 1
        if len(self.failures) < MAX_FAILURES_LISTED:
            entry = {"key": key, "error": error or "States.Unknown", "cause": readable_cause(cause, MAX_CAUSE_CHARS)}
            if request_id:
                entry["requestId"] = request_id
            self.failures.append(entry)


def tally_result_files(s3: Any, bucket: str, manifest_key: str) -> Tally:
    manifest = _read_json(s3, bucket, manifest_key)
    tally = Tally()
    files = manifest.get("ResultFiles") or {}
    for group in ("SUCCEEDED", "FAILED", "PENDING"):
        for result_file in files.get(group) or []:
            for entry in iter_result_entries(s3, manifest.get("DestinationBucket") or bucket, result_file["Key"]):
                if entry.get("Status") == "SUCCEEDED":
                    tally.add_output(_json(entry.get("Output")) or {})
                else:
                    item = _json(entry.get("Input")) or {}
                    key = (item.get("image") or {}).get("key") if isinstance(item, dict) else None
                    tally.add_failure(key, entry.get("Error") or entry.get("Status"), entry.get("Cause"))
    return tally


def tally_records(records: Iterable[Mapping[str, Any]]) -> Tally:
    """Counts from the image records of the batch (used when there is no ResultWriter manifest)."""
    tally = Tally()
    for record in records:
        if record.get("recordType") != "ANALYSIS":
            continue
        image = _json(record.get("image")) or (_json(record.get("request")) or {}).get("image") or {}
        if record.get("status") == "SUCCEEDED":
            cached = record.get("cachedAnalyses") or []
            tally.add_output(
                {"analyses": record.get("analyses"), "cachedAnalyses": cached, "billing": _json(record.get("billing"))}
            )
        else:
            tally.add_failure(image.get("key"), record.get("error"), record.get("cause"), record.get("pk"))
    return tally


def query_batch_records(dynamodb: Any, table: str, batch_id: str) -> list[dict[str, Any]]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    records: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": table,
        "IndexName": "batch-index",
        "KeyConditionExpression": "batchId = :b",
        "ExpressionAttributeValues": {":b": {"S": batch_id}},
    }
    while True:
        page = dynamodb.query(**kwargs)
        records.extend({k: deserializer.deserialize(v) for k, v in item.items()} for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return records
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def batch_id_of(event: Mapping[str, Any]) -> str:
    batch = event.get("batch") or {}
    if isinstance(batch.get("batchId"), str) and batch["batchId"]:
        return batch["batchId"]
    return str(event.get("executionArn", "unknown")).rsplit(":", 1)[-1]


def summarize(s3: Any, dynamodb: Any, table: str, event: Mapping[str, Any]) -> dict[str, Any]:
    batch = event.get("batch") or {}
    batch_id = batch_id_of(event)
    status = event.get("status", "SUCCEEDED")
    completed = now_iso()
    started = _parse_time(event.get("startedAt"))
    duration = (datetime.now(UTC) - started).total_seconds() if started else None

    location = None
    try:
        location = find_manifest(s3, {**batch, "batchId": batch_id}, event.get("resultsBucket"))
    except Exception:  # noqa: BLE001 - a failed batch may have no results at all
        if status == "SUCCEEDED":
            raise
    if location:
        tally = tally_result_files(s3, *location)
        source = "resultWriter"
    else:
        tally = tally_records(query_batch_records(dynamodb, table, batch_id))
        source = "records"

    summary: dict[str, Any] = {
        "batchId": batch_id,
        "status": status,
        "source": f"s3://{batch.get('bucket')}/{batch.get('prefix', '')}",
        "analyses": batch.get("analyses") or [],
        "total": tally.total,
        "analysed": tally.analysed,
        "succeeded": tally.succeeded,
        "failed": tally.failed,
        "cached": tally.cached,
        "skipped": tally.skipped,
        "skippedReasons": tally.skipped_reasons,
        "failures": tally.failures,
        "billing": total(tally.billings),
        "countsFrom": source,
        "resultManifest": f"s3://{location[0]}/{location[1]}" if location else None,
        "mapRunArn": (batch.get("mapRun") or {}).get("MapRunArn"),
        "executionArn": event.get("executionArn"),
        "startedAt": event.get("startedAt"),
        "completedAt": completed,
        "durationSeconds": round(duration, 3) if duration is not None else None,
    }
    if status != "SUCCEEDED":
        failure = batch.get("failure") or {}
        summary["error"] = fail_state_error(str(failure.get("Error") or "States.Unknown"))
        summary["cause"] = readable_cause(failure.get("Cause"), MAX_CAUSE_CHARS)

    # The record is the summary (its lists and maps as compact JSON) with the table's own fields.
    record = {name: value for name, value in summary.items() if name not in _NOT_STORED}
    record.update({name: compact_json(summary[name]) for name in _STORED_AS_JSON})
    item = to_dynamodb_item(
        {
            **record,
            "pk": batch_pk(batch_id),
            "recordType": RECORD_TYPE_BATCH,
            "analyses": summary["analyses"] or None,
            "createdAt": summary["startedAt"] or completed,
            "updatedAt": completed,
        }
    )
    dynamodb.put_item(TableName=table, Item=item)
    return summary


_STORED_AS_JSON = ("skippedReasons", "failures", "billing")
_NOT_STORED = ("startedAt", "completedAt")  # the record keeps createdAt and updatedAt instead
_LOGGED = ("batchId", "status", "total", "succeeded", "failed", "cached", "skipped", "durationSeconds")


def record_batch_metrics(logger: Any, metrics: Any, summary: dict[str, Any]) -> dict[str, Any]:
    """The batch's outcome and its image counts as metrics, and one log line with its figures."""
    from aws_lambda_powertools.metrics import MetricUnit

    outcome = "BatchesSucceeded" if summary["status"] == "SUCCEEDED" else "BatchesFailed"
    metrics.add_metric(name=outcome, unit=MetricUnit.Count, value=1)
    for name in ("succeeded", "failed", "cached", "skipped"):
        metrics.add_metric(name=f"BatchImages{name.capitalize()}", unit=MetricUnit.Count, value=summary[name])
    logger.info("batch summarized", extra={field: summary[field] for field in _LOGGED})
    return summary
