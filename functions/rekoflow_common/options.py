"""Per-analysis option defaults and the cache key that identifies one analysis of one image's content."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

# Bump when a summary's shape changes, so stale cache entries are not served.
CACHE_FORMAT_VERSION = 1

DEFAULT_OPTIONS: dict[str, dict[str, Any]] = {
    "labels": {
        "minConfidence": 60.0,
        "maxLabels": 50,
        "features": ["GENERAL_LABELS", "IMAGE_PROPERTIES"],
        "maxDominantColors": 5,
    },
    "faces": {"attributes": ["ALL"], "minConfidence": 80.0, "maxFaces": 100},
    "text": {"wordFilter": {"minConfidence": 80.0}},
    "compare": {"similarityThreshold": 80.0, "qualityFilter": "AUTO"},
    "moderation": {"minConfidence": 60.0},
    # keepRunning has no default: absent, the model's own setting stays (docs/custom-labels.md, "Leases").
    "custom": {
        "minConfidence": 50.0,
        "minInferenceUnits": 1,
        "pollIntervalSeconds": 60,
        "maxPolls": 60,
        "idleStopSeconds": 900,
        "leaseSeconds": 300,
        "maxRequestsPerInferenceUnit": 5,
    },
}

# Applied to options.custom.training when a request trains a model. Training takes from ~30 min to
# many hours; 720 polls every 120 s bound it at 24 h and keep the execution history (~11 events per
# poll) well under Step Functions' 25,000-event limit. minF1Score 0 = no quality gate.
CUSTOM_TRAINING_DEFAULTS: dict[str, Any] = {
    "outputPrefix": "custom-labels/",
    "minF1Score": 0.0,
    "maxTrainingPolls": 720,
    "trainingPollIntervalSeconds": 120,
}


def with_defaults(analysis: str, options: Mapping[str, Any] | None) -> dict[str, Any]:
    merged = json.loads(json.dumps(DEFAULT_OPTIONS.get(analysis, {})))
    for key, value in (options or {}).items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    if analysis == "custom" and isinstance(merged.get("training"), dict):
        merged["training"] = {**CUSTOM_TRAINING_DEFAULTS, **merged["training"]}
    return merged


def content_identity(head: Mapping[str, Any]) -> str:
    """What identifies an S3 object's content: its SHA-256 checksum when S3 has one, else ETag + size."""
    checksum = head.get("ChecksumSHA256")
    if checksum:
        return f"sha256:{checksum}"
    return f"etag:{str(head.get('ETag', '')).strip(chr(34))}:{head.get('ContentLength', 0)}"


def cache_key(
    analysis: str, image_identity: str, options: Mapping[str, Any], extra_identities: list[str] | None = None
) -> str:
    material = json.dumps(
        {
            "v": CACHE_FORMAT_VERSION,
            "analysis": analysis,
            "image": image_identity,
            "options": options,
            "others": extra_identities or [],
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return "cache#" + hashlib.sha256(material.encode()).hexdigest()
