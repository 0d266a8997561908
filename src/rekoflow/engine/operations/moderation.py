"""DetectModerationLabels backed by open_nsfw: only the top-level "Explicit" category is modelled."""

from __future__ import annotations

from typing import Any

from rekoflow.engine import errors
from rekoflow.engine.models import moderation
from rekoflow.engine.operations._common import Context, percent

MODERATION_MODEL_VERSION = "7.0"


def detect_moderation_labels(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    if params.get("ProjectVersion"):
        raise errors.RekognitionError(
            "ResourceNotFoundException", "Custom moderation adapters are not available in the local engine"
        )
    min_confidence = float(params.get("MinConfidence", 50.0))
    image = ctx.image(params)
    confidence = percent(moderation.explicit_probability(image.bgr))
    labels = []
    if confidence >= min_confidence:
        labels.append({"Confidence": confidence, "Name": "Explicit", "ParentName": "", "TaxonomyLevel": 1})
    return {"ModerationLabels": labels, "ModerationModelVersion": MODERATION_MODEL_VERSION}
