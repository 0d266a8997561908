"""DetectText: lines and words separated, the full text rebuilt from lines in reading order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rekoflow_common.analysis import Analysis, confidence, s3_object
from rekoflow_common.results import round_box

_WORD_FILTER = {
    "minConfidence": "MinConfidence",
    "minBoundingBoxHeight": "MinBoundingBoxHeight",
    "minBoundingBoxWidth": "MinBoundingBoxWidth",
}


def request_params(item: Mapping[str, Any]) -> dict[str, Any]:
    word_filter = {
        api: item["options"]["wordFilter"][name]
        for name, api in _WORD_FILTER.items()
        if name in item["options"].get("wordFilter", {})
    }
    params: dict[str, Any] = {"Image": s3_object(item["image"])}
    if word_filter:
        params["Filters"] = {"WordFilter": word_filter}
    return params


def _reading_order(detection: Mapping[str, Any]) -> tuple[float, float]:
    box = detection.get("Geometry", {}).get("BoundingBox", {})
    # Rows first (coarsely, so a slightly lower word on the same line is not a new row), then left to right.
    return (round(box.get("Top", 0) * 50), box.get("Left", 0))


def summarize(response: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    min_confidence = options.get("wordFilter", {}).get("minConfidence", 0)
    detections = response.get("TextDetections", [])
    lines = sorted((d for d in detections if d.get("Type") == "LINE"), key=_reading_order)
    words = [d for d in detections if d.get("Type") == "WORD" and d.get("Confidence", 0) >= min_confidence]
    kept_word_ids = {w.get("Id") for w in words}
    line_summaries = []
    for line in lines:
        line_summaries.append(
            {
                "id": line.get("Id"),
                "text": line.get("DetectedText", ""),
                "confidence": confidence(line.get("Confidence", 0)),
                "boundingBox": round_box(line.get("Geometry", {}).get("BoundingBox")),
            }
        )
    return {
        "count": len(words),
        "fullText": "\n".join(l["text"] for l in line_summaries),
        "lines": line_summaries,
        "words": [
            {
                "text": w.get("DetectedText", ""),
                "confidence": confidence(w.get("Confidence", 0)),
                "lineId": w.get("ParentId"),
                "boundingBox": round_box(w.get("Geometry", {}).get("BoundingBox")),
            }
            for w in words
        ],
        "droppedWords": sum(1 for d in detections if d.get("Type") == "WORD" and d.get("Id") not in kept_word_ids),
    }


detect_text = Analysis(name="text", operation="DetectText", request_params=request_params, summarize=summarize)
