"""Writing full results to S3 and shaping the compact summaries passed between states (decision 4)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rekoflow_common.config import ResultsLocation

BOX_DIGITS = 4


def round_box(box: Mapping[str, float] | None, digits: int = BOX_DIGITS) -> dict[str, float] | None:
    if not box:
        return None
    return {key: round(float(box[key]), digits) for key in ("Left", "Top", "Width", "Height") if key in box}


def result_key(location: ResultsLocation, request_id: str, analysis: str) -> str:
    return f"{location.prefix}{request_id}/{analysis}.json"


def write_result(
    s3: Any,
    location: ResultsLocation,
    request_id: str,
    analysis: str,
    response: Mapping[str, Any],
    summary: Mapping[str, Any],
) -> str:
    """Store the raw service response and its summary; return the S3 key."""
    key = result_key(location, request_id, analysis)
    body = {"requestId": request_id, "analysis": analysis, "summary": summary, "response": _strip_metadata(response)}
    s3.put_object(
        Bucket=location.bucket,
        Key=key,
        Body=json.dumps(body, default=str, separators=(",", ":")).encode(),
        ContentType="application/json",
    )
    return key


def _strip_metadata(response: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}
