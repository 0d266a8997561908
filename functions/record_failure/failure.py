"""Records a failed execution in DynamoDB with a readable reason, so no failed request is lost.

A Lambda error reaches the state machine as Error = exception class name and Cause = a JSON
document (errorMessage, errorType, stackTrace); other errors (States.Timeout, Map failures) carry a
plain-text cause. The record keeps the readable message and the original cause.
"""

from __future__ import annotations

from typing import Any, Mapping

from aws_lambda_powertools import Logger

from rekoflow_common.failures import fail_state_error, readable_cause
from rekoflow_common.records import RECORD_TYPE_ANALYSIS, compact_json, now_iso, to_dynamodb_item

logger = Logger(child=True)
MAX_REQUEST_JSON_BYTES = 100_000


def failure_record(event: Mapping[str, Any]) -> dict[str, Any]:
    failure = event.get("failure") or {}
    request = event.get("input")
    batch_id = request.get("batchId") if isinstance(request, dict) else None
    request_json = compact_json(request)
    if len(request_json.encode()) > MAX_REQUEST_JSON_BYTES:
        request_json = request_json[:MAX_REQUEST_JSON_BYTES] + "...(truncated)"
    now = now_iso()
    return {
        "requestId": event["requestId"],
        "status": "FAILED",
        "error": failure.get("Error") or "States.Unknown",
        "cause": readable_cause(failure.get("Cause")),
        "request": request_json,
        "executionArn": event.get("executionArn"),
        "createdAt": event.get("startedAt") or now,
        "updatedAt": now,
        "batchId": batch_id if isinstance(batch_id, str) and batch_id else None,
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
