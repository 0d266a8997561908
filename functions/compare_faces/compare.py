"""CompareFaces: is the largest face of the request image (source) in the target image?"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rekoflow_common.analysis import Analysis, confidence, s3_object
from rekoflow_common.results import round_box


def request_params(item: Mapping[str, Any]) -> dict[str, Any]:
    options = item["options"]
    return {
        "SourceImage": s3_object(item["image"]),
        "TargetImage": s3_object(item["targetImage"]),
        "SimilarityThreshold": options["similarityThreshold"],
        "QualityFilter": options["qualityFilter"],
    }


def summarize(response: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    matches = sorted(response.get("FaceMatches", []), key=lambda m: -m.get("Similarity", 0))
    source = response.get("SourceImageFace") or {}
    return {
        "count": len(matches),
        "matched": bool(matches),
        "similarityThreshold": options["similarityThreshold"],
        "bestSimilarity": confidence(matches[0]["Similarity"]) if matches else None,
        "matches": [
            {
                "similarity": confidence(m.get("Similarity", 0)),
                "confidence": confidence(m.get("Face", {}).get("Confidence", 0)),
                "boundingBox": round_box(m.get("Face", {}).get("BoundingBox")),
            }
            for m in matches
        ],
        "unmatchedCount": len(response.get("UnmatchedFaces", [])),
        "sourceFace": {
            "confidence": confidence(source.get("Confidence", 0)),
            "boundingBox": round_box(source.get("BoundingBox")),
        }
        if source
        else None,
        "target": {"bucket": options["targetImage"]["bucket"], "key": options["targetImage"]["key"]},
    }


compare_faces = Analysis(name="compare", operation="CompareFaces", request_params=request_params, summarize=summarize)
