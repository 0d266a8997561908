"""DetectLabels with GENERAL_LABELS and IMAGE_PROPERTIES, summarised by parent and category."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rekoflow_common.analysis import Analysis, confidence, s3_object
from rekoflow_common.results import round_box

_FILTERS = {
    "inclusionFilters": "LabelInclusionFilters",
    "exclusionFilters": "LabelExclusionFilters",
    "categoryInclusionFilters": "LabelCategoryInclusionFilters",
    "categoryExclusionFilters": "LabelCategoryExclusionFilters",
}


def request_params(item: Mapping[str, Any]) -> dict[str, Any]:
    options = item["options"]
    params: dict[str, Any] = {
        "Image": s3_object(item["image"]),
        "MaxLabels": options["maxLabels"],
        "MinConfidence": options["minConfidence"],
        "Features": options["features"],
    }
    settings: dict[str, Any] = {}
    general = {api: options[name] for name, api in _FILTERS.items() if options.get(name)}
    if general:
        settings["GeneralLabels"] = general
    if "IMAGE_PROPERTIES" in options["features"]:
        settings["ImageProperties"] = {"MaxDominantColors": options["maxDominantColors"]}
    if settings:
        params["Settings"] = settings
    return params


def summarize(response: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    labels = []
    by_parent: dict[str, list[str]] = {}
    by_category: dict[str, list[str]] = {}
    for label in sorted(response.get("Labels", []), key=lambda l: -l.get("Confidence", 0)):
        name = label["Name"]
        parents = [p["Name"] for p in label.get("Parents", [])]
        categories = [c["Name"] for c in label.get("Categories", [])]
        labels.append(
            {
                "name": name,
                "confidence": confidence(label.get("Confidence", 0)),
                "parents": parents,
                "categories": categories,
                "instances": [
                    {"confidence": confidence(i.get("Confidence", 0)), "boundingBox": round_box(i.get("BoundingBox"))}
                    for i in label.get("Instances", [])
                ],
            }
        )
        # Grouped under each direct parent, like the console; labels without parents are roots.
        for parent in parents[:1] or ["(top level)"]:
            by_parent.setdefault(parent, []).append(name)
        for category in categories or ["Other"]:
            by_category.setdefault(category, []).append(name)
    summary: dict[str, Any] = {
        "count": len(labels),
        "labels": labels,
        "byParent": by_parent,
        "byCategory": by_category,
    }
    properties = response.get("ImageProperties")
    if properties:
        summary["imageProperties"] = {
            "quality": {k.lower(): confidence(v) for k, v in properties.get("Quality", {}).items()},
            "dominantColors": [
                {
                    "hex": c.get("HexCode"),
                    "name": c.get("CSSColor"),
                    "simplified": c.get("SimplifiedColor"),
                    "pixelPercent": confidence(c.get("PixelPercent", 0)),
                }
                for c in properties.get("DominantColors", [])
            ],
        }
    return summary


detect_labels = Analysis(name="labels", operation="DetectLabels", request_params=request_params, summarize=summarize)
