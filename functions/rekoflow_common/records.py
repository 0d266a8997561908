"""The analysis record stored in DynamoDB (docs/architecture.md, "Results table")."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeSerializer

RECORD_TYPE_ANALYSIS = "ANALYSIS"

# Step Functions fails an execution whose state passes 256 KiB (States.DataLimitExceeded, which no
# Catch can record), so every summary the state carries has a budget (docs/architecture.md,
# "State size"). An image-analysis state holds at most 6 analyses' summaries next to the validated
# request; tests/terraform/test_limits.py runs schema-maximal requests with worst-case Rekognition
# answers through the real workflow and checks every state against the limit.
STATE_LIMIT_BYTES = 256 * 1024
# One analysis' summary, as JSON: larger ones stay in S3 only (its resultKey), the state carries a pointer.
MAX_SUMMARY_JSON_BYTES = 24 * 1024
# The summaries in the record (a JSON string in the DynamoDB item, escaped once more inside the
# state): above this the record keeps pointers to S3 instead. Well under the state limit and under
# DynamoDB's 400 KB item limit.
MAX_RESULTS_JSON_BYTES = 160 * 1024

_serializer = TypeSerializer()


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


def state_bytes(value: Any) -> int:
    """Bytes ``value`` takes in a Step Functions state (UTF-8 JSON, as the service measures payloads)."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def fit_summary(summary: Mapping[str, Any], result_key: str | None) -> dict[str, Any]:
    """The summary itself, or, past MAX_SUMMARY_JSON_BYTES, a pointer to the full one in S3."""
    size = state_bytes(summary)
    if size <= MAX_SUMMARY_JSON_BYTES:
        return dict(summary)
    return {"truncated": True, "count": summary.get("count"), "summaryBytes": size, "resultKey": result_key}


def expires_at(ttl_days: int) -> int | None:
    return int(time.time()) + ttl_days * 86400 if ttl_days > 0 else None


def to_dynamodb_item(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB-typed attributes; None values are left out (a GSI key may be absent, never empty)."""
    item = {}
    for name, value in attributes.items():
        if value is None:
            continue
        if isinstance(value, float):
            value = Decimal(str(value))
        item[name] = _serializer.serialize(value)
    return item
