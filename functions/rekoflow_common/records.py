"""The analysis record stored in DynamoDB (docs/architecture.md, "Results table")."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Mapping

from boto3.dynamodb.types import TypeSerializer

RECORD_TYPE_ANALYSIS = "ANALYSIS"
# Leave room under DynamoDB's 400 KB item limit for the other attributes.
MAX_RESULTS_JSON_BYTES = 300_000

_serializer = TypeSerializer()


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


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
