"""Combines the per-analysis outputs (fresh or cached) into the record stored in DynamoDB.

What it returns replaces the execution's state (docs/architecture.md, "State size"): the typed
DynamoDB item, which carries the summaries once (as a JSON string), and the execution's output, a
record *without* the summaries (status, image, analyses, result keys). Nothing else of the state
is kept, so the summaries are never in the state twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger

from rekoflow_common.pricing import billing
from rekoflow_common.records import (
    MAX_RESULTS_JSON_BYTES,
    RECORD_TYPE_ANALYSIS,
    compact_json,
    expires_at,
    now_iso,
    state_bytes,
    to_dynamodb_item,
)

logger = Logger(child=True)


def fit_results(summaries: dict[str, Any], result_keys: Mapping[str, str]) -> tuple[dict[str, Any], bool]:
    """Summaries as they are, or, when too large for the state and the item, pointers to the full results in S3."""
    if state_bytes(compact_json(summaries)) <= MAX_RESULTS_JSON_BYTES:
        return summaries, False
    return {name: {"truncated": True, "resultKey": result_keys.get(name)} for name in summaries}, True


def aggregate(event: Mapping[str, Any], record_ttl_days: int) -> dict[str, Any]:
    outputs = event["results"]
    summaries = {o["type"]: o["summary"] for o in outputs}
    result_keys = {o["type"]: o["resultKey"] for o in outputs if o.get("resultKey")}
    cached = sorted(o["type"] for o in outputs if o.get("cached"))
    stored_summaries, truncated = fit_results(summaries, result_keys)
    cost = billing(outputs)
    completed = now_iso()
    record = {
        "requestId": event["requestId"],
        "status": "SUCCEEDED",
        "image": event["image"],
        "analyses": [o["type"] for o in outputs],
        "resultKeys": result_keys,
        "resultsTruncated": truncated,
        "cachedAnalyses": cached,
        "billing": cost,
        "executionArn": event.get("executionArn"),
        "createdAt": event.get("startedAt") or completed,
        "completedAt": completed,
    }
    if event.get("batchId"):
        record["batchId"] = event["batchId"]
    item = to_dynamodb_item(
        {
            "pk": record["requestId"],
            "recordType": RECORD_TYPE_ANALYSIS,
            "requestId": record["requestId"],
            "status": "SUCCEEDED",
            "image": compact_json(record["image"]),
            "analyses": record["analyses"],
            "results": compact_json(stored_summaries),
            "resultsTruncated": truncated,
            "resultKeys": compact_json(result_keys),
            "cachedAnalyses": cached,
            "cacheHits": len(cached),
            "billing": compact_json(cost),
            "executionArn": record["executionArn"],
            "createdAt": record["createdAt"],
            "updatedAt": completed,
            "batchId": record.get("batchId"),
            "expiresAt": expires_at(record_ttl_days),
        }
    )
    logger.info("record ready", extra={"analyses": record["analyses"], "cached": cached, "truncated": truncated})
    return {"record": record, "item": item}
