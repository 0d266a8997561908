"""DetectModerationLabels: open_nsfw's "Explicit" score, plus Rekognition's level-2/3 nudity labels
from NudeNet's body-part detector when the optional `moderation-nudenet` extra is installed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rekoflow.engine import errors
from rekoflow.engine.models import moderation, nudity
from rekoflow.engine.operations._common import Context, percent
from rekoflow.engine.taxonomy_moderation import (
    EXPLICIT,
    FEMALE_SWIMWEAR,
    LABELS,
    NUDENET_BARE_BELLY,
    NUDENET_COVERED,
    NUDENET_EXPOSED,
    ancestors,
)

MODERATION_MODEL_VERSION = "7.0"
_DEFAULT_MIN_CONFIDENCE = 50.0  # Rekognition's documented default
# Covered parts and the bare belly must both be this sure for Swimwear or Underwear (taxonomy_moderation.py).
_SWIMWEAR_MIN_SCORE = 0.5


def detect_moderation_labels(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    if params.get("ProjectVersion"):
        raise errors.RekognitionError(
            "ResourceNotFoundException", "Custom moderation adapters are not available in the local engine"
        )
    min_confidence = float(params.get("MinConfidence", _DEFAULT_MIN_CONFIDENCE))
    image = ctx.image(params)
    confidences = {EXPLICIT: percent(moderation.explicit_probability(image.bgr))}
    if nudity.available():
        for name, confidence in labels_from_parts(nudity.detect(image.bgr)).items():
            confidences[name] = max(confidences.get(name, 0.0), confidence)
    return {
        "ModerationLabels": moderation_labels(confidences, min_confidence),
        "ModerationModelVersion": MODERATION_MODEL_VERSION,
    }


def labels_from_parts(parts: Iterable[nudity.Part]) -> dict[str, float]:
    """NudeNet detections -> the most specific Rekognition labels they show, confidence = best score (0..100)."""
    found: dict[str, float] = {}
    covered = belly = 0.0
    for part in parts:
        name = NUDENET_EXPOSED.get(part.name)
        if name is not None:
            found[name] = max(found.get(name, 0.0), percent(part.score))
        elif part.name in NUDENET_COVERED:
            covered = max(covered, part.score)
        elif part.name == NUDENET_BARE_BELLY:
            belly = max(belly, part.score)
    if min(covered, belly) >= _SWIMWEAR_MIN_SCORE:
        found[FEMALE_SWIMWEAR] = percent(min(covered, belly))
    return found


def moderation_labels(confidences: dict[str, float], min_confidence: float) -> list[dict[str, Any]]:
    """Each label with its ancestors, a parent as confident as its surest child (Rekognition returns
    the L3 label with its L2 and L1), those at or above MinConfidence, surest first, children first."""
    totals: dict[str, float] = {}
    for name, confidence in confidences.items():
        for target in (name, *ancestors(name)):
            totals[target] = max(totals.get(target, 0.0), confidence)
    kept = [(name, conf) for name, conf in totals.items() if conf >= min_confidence]
    kept.sort(key=lambda item: (-item[1], -LABELS[item[0]].level, item[0]))
    return [
        {
            "Confidence": round(conf, 4),
            "Name": name,
            "ParentName": LABELS[name].parent,
            "TaxonomyLevel": LABELS[name].level,
        }
        for name, conf in kept
    ]
