"""DetectModerationLabels: unsafe-content labels and a flagged verdict."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rekoflow_common.analysis import Analysis, confidence, s3_object


def request_params(item: Mapping[str, Any]) -> dict[str, Any]:
    return {"Image": s3_object(item["image"]), "MinConfidence": item["options"]["minConfidence"]}


def summarize(response: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    labels = [
        {
            "name": label["Name"],
            "parent": label.get("ParentName") or None,
            "taxonomyLevel": label.get("TaxonomyLevel"),
            "confidence": confidence(label.get("Confidence", 0)),
        }
        for label in sorted(response.get("ModerationLabels", []), key=lambda l: -l.get("Confidence", 0))
        if label.get("Confidence", 0) >= options["minConfidence"]
    ]
    top_level = sorted(
        {l["name"] if not l["parent"] else l["parent"] for l in labels if l["taxonomyLevel"] in (1, 2, None)}
    )
    return {
        "count": len(labels),
        "flagged": bool(labels),
        "categories": top_level,
        "labels": labels,
        "modelVersion": response.get("ModerationModelVersion"),
    }


detect_moderation_labels = Analysis(
    name="moderation", operation="DetectModerationLabels", request_params=request_params, summarize=summarize
)
