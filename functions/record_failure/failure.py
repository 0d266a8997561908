"""Records a failed execution in DynamoDB with a readable reason, so no failed request is lost.

A Lambda error reaches the state machine as Error = exception class name and Cause = a JSON
document (errorMessage, errorType, stackTrace); other errors (States.Timeout, Map failures) carry a
plain-text cause. The record keeps the readable message and the original cause.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger

from rekoflow_common.failures import fail_state_error, readable_cause
from rekoflow_common.records import RECORD_TYPE_ANALYSIS, compact_json, now_iso, to_dynamodb_item

logger = Logger(child=True)
MAX_REQUEST_JSON_BYTES = 100_000


def _request_json(event: Mapping[str, Any]) -> str:
    if "input" not in event:
        # Recorded without it (RequestTooLargeError): the failure path never carries a huge input.
        return compact_json({"notStored": "the request was too large to keep with its failure"})
    text = compact_json(event["input"])
    data = text.encode()
    if len(data) > MAX_REQUEST_JSON_BYTES:
        text = data[:MAX_REQUEST_JSON_BYTES].decode("utf-8", "ignore") + "...(truncated)"
    return text


def failure_record(event: Mapping[str, Any]) -> dict[str, Any]:
    failure = event.get("failure")
    if not isinstance(failure, Mapping):
        failure = {}
    request = event.get("input")
    batch_id = request.get("batchId") if isinstance(request, dict) else None
    error = failure.get("Error")
    now = now_iso()
    return {
        "requestId": event["requestId"],
        "status": "FAILED",
        "error": error[:256] if isinstance(error, str) and error else "States.Unknown",
        "cause": readable_cause(failure.get("Cause")),
        "request": _request_json(event),
        "executionArn": event.get("executionArn"),
        "createdAt": event.get("startedAt") or now,
        "updatedAt": now,
        # A batch id is a GSI key: only a string of the schema's size, never a huge or empty one.
        "batchId": batch_id if isinstance(batch_id, str) and 0 < len(batch_id) <= 47 else None,
    }


def record_failure(dynamodb: Any, table: str, event: Mapping[str, Any]) -> dict[str, Any]:
    record = failure_record(event)
    item = to_dynamodb_item({"pk": record["requestId"], "recordType": RECORD_TYPE_ANALYSIS, **record})
    dynamodb.put_item(TableName=table, Item=item)
    logger.warning("request failed", extra={"error": record["error"], "cause": record["cause"]})
    return {
        "requestId": record["requestId"],
        "status": "FAILED",
        "error": fail_state_error(record["error"]),
        "cause": record["cause"],
    }
