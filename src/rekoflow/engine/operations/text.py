"""DetectText: LINE detections first, then their WORDs, as Rekognition orders them."""

from __future__ import annotations

from typing import Any

import numpy as np

from rekoflow.engine.models import text
from rekoflow.engine.operations._common import Context, bounding_box, percent, polygon

TEXT_MODEL_VERSION = "3.0"
_MAX_WORDS = 100  # Rekognition's DetectText returns at most 100 words


def detect_text(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    image = ctx.image(params)
    filters = params.get("Filters") or {}
    word_filter = filters.get("WordFilter") or {}
    min_conf = float(word_filter.get("MinConfidence", 0.0))
    min_h = float(word_filter.get("MinBoundingBoxHeight", 0.0))
    min_w = float(word_filter.get("MinBoundingBoxWidth", 0.0))
    regions = filters.get("RegionsOfInterest") or []

    def geometry(points: np.ndarray) -> dict[str, Any]:
        x1, y1 = points.min(axis=0)
        x2, y2 = points.max(axis=0)
        return {
            "BoundingBox": bounding_box(x1, y1, x2 - x1, y2 - y1, image.width, image.height),
            "Polygon": polygon(points, image.width, image.height),
        }

    def keep(word: text.Word) -> bool:
        g = geometry(word.polygon)["BoundingBox"]
        if word.confidence * 100 < min_conf or g["Height"] < min_h or g["Width"] < min_w:
            return False
        if not regions:
            return True
        cx, cy = g["Left"] + g["Width"] / 2, g["Top"] + g["Height"] / 2
        return any(_in_region(cx, cy, region) for region in regions)

    lines_out: list[tuple[int, str, Any, list[Any]]] = []  # (id, text, the read line, its kept words)
    words_out: list[dict[str, Any]] = []
    word_count = 0
    for line in text.read(image.bgr):
        words = [w for w in line.words if keep(w)][: max(0, _MAX_WORDS - word_count)]
        if not words:
            continue
        word_count += len(words)
        line_id = len(lines_out)
        # A line is reported with the words that passed the filters, as its text and extent.
        lines_out.append((line_id, " ".join(w.text for w in words), line, words))
    detections: list[dict[str, Any]] = []
    for line_id, line_text, line, words in lines_out:
        points = line.polygon if len(words) == len(line.words) else np.vstack([w.polygon for w in words])
        detections.append(
            {
                "DetectedText": line_text,
                "Type": "LINE",
                "Id": line_id,
                "Confidence": percent(line.confidence),
                "Geometry": geometry(points),
            }
        )
    next_id = len(lines_out)
    for line_id, _, _, words in lines_out:
        for word in words:
            words_out.append(
                {
                    "DetectedText": word.text,
                    "Type": "WORD",
                    "Id": next_id,
                    "ParentId": line_id,
                    "Confidence": percent(word.confidence),
                    "Geometry": geometry(word.polygon),
                }
            )
            next_id += 1
    return {"TextDetections": detections + words_out, "TextModelVersion": TEXT_MODEL_VERSION}


def _in_region(x: float, y: float, region: dict[str, Any]) -> bool:
    box = region.get("BoundingBox")
    if box:
        left, top = box.get("Left", 0.0), box.get("Top", 0.0)
        return left <= x <= left + box.get("Width", 0.0) and top <= y <= top + box.get("Height", 0.0)
    points = [(p.get("X", 0.0), p.get("Y", 0.0)) for p in region.get("Polygon") or []]
    return len(points) >= 3 and _point_in_polygon(x, y, points)


def _point_in_polygon(x: float, y: float, points: list[tuple[float, float]]) -> bool:
    inside = False
    for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside
