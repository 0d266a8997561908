"""DetectLabels: COCO objects (optional model), ImageNet scene/object labels, faces, image properties."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rekoflow.engine import errors
from rekoflow.engine.images import DecodedImage
from rekoflow.engine.models import colors, face_attributes, faces, objects, scene
from rekoflow.engine.operations._common import Context, bounding_box, percent
from rekoflow.engine.taxonomy import COCO_TO_LABEL, LABELS
from rekoflow.engine.taxonomy_imagenet import IMAGENET_TO_LABEL

LABEL_MODEL_VERSION = "3.0"
_DEFAULT_MIN_CONFIDENCE = 55.0  # Rekognition's documented default for DetectLabels
_DEFAULT_MAX_LABELS = 1000
_INSTANCE_COLORS = 3
# YuNet detections below this score are kept by DetectFaces (Rekognition reports low-confidence faces)
# but do not make a Face/Person label.
_FACE_LABEL_MIN_SCORE = 0.7
# ImageNet classes below this probability are noise (many weak animal classes on a star field add up
# to "Animal"): they are not summed into any label. Chosen on bench/accuracy.py.
_CLASS_FLOOR = 0.04


@dataclass
class _Label:
    name: str
    confidence: float = 0.0  # 0..100
    boxes: list[tuple[tuple[float, float, float, float], float]] = field(default_factory=list)  # (x,y,w,h), conf


def detect_labels(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    features = set(params.get("Features") or ["GENERAL_LABELS"])
    settings = params.get("Settings") or {}
    if "GeneralLabels" in settings and "GENERAL_LABELS" not in features:
        raise errors.invalid_parameter("Settings.GeneralLabels requires the GENERAL_LABELS feature")
    if "ImageProperties" in settings and "IMAGE_PROPERTIES" not in features:
        raise errors.invalid_parameter("Settings.ImageProperties requires the IMAGE_PROPERTIES feature")
    min_confidence = float(params.get("MinConfidence", _DEFAULT_MIN_CONFIDENCE))
    max_labels = int(params.get("MaxLabels", _DEFAULT_MAX_LABELS))
    image = ctx.image(params)

    found = _detect(image)
    response: dict[str, Any] = {}
    if "GENERAL_LABELS" in features:
        labels = _with_parents(found, min_confidence)
        labels = [lab for lab in labels if _passes_filters(lab.name, settings.get("GeneralLabels") or {})]
        labels.sort(key=lambda lab: (-lab.confidence, lab.name))
        with_colors = "IMAGE_PROPERTIES" in features
        response["Labels"] = [_label_json(lab, image, with_colors) for lab in labels[:max_labels]]
    response["LabelModelVersion"] = LABEL_MODEL_VERSION
    if "IMAGE_PROPERTIES" in features:
        max_colors = int((settings.get("ImageProperties") or {}).get("MaxDominantColors", 10))
        response["ImageProperties"] = _image_properties(image, found, max_colors)
    return response


def _detect(image: DecodedImage) -> dict[str, _Label]:
    """Rekognition-named labels with instances, from every model available."""
    labels: dict[str, _Label] = {}
    if objects.available():
        for det in objects.detect(image.bgr):
            name = COCO_TO_LABEL[det.coco_name]
            x1, y1, x2, y2 = det.box
            label = labels.setdefault(name, _Label(name))
            label.boxes.append(((x1, y1, x2 - x1, y2 - y1), det.confidence * 100))
    # Only detections the face mesh accepts (or YuNet is sure of) are faces: YuNet alone fires on
    # textures (a motorcycle's engine was "Person 74%").
    for face in face_attributes.real_faces(image.bgr, faces.detect(image.bgr)):
        if face.score < _FACE_LABEL_MIN_SCORE:
            continue
        label = labels.setdefault("Face", _Label("Face"))
        label.boxes.append((face.box, face.score * 100))
    for label in labels.values():
        label.confidence = max(conf for _, conf in label.boxes)
    if scene.available():
        for name, confidence in scene_labels(scene.classify(image.bgr)).items():
            label = labels.setdefault(name, _Label(name))
            label.confidence = max(label.confidence, confidence)
    return labels


def scene_labels(probabilities: np.ndarray) -> dict[str, float]:
    """ImageNet class probabilities -> label confidences (0..100), summed over each label's classes
    and passed up to every ancestor, then calibrated (docs/engine.md, "Labels: calibration").

    ImageNet's 1000 classes are exclusive and fine-grained, so a label's probability is shared among
    near-synonyms (eight cat breeds); Rekognition's labels are independent, their confidences high for
    what is plainly there. The square root maps a summed probability of 0.3 to 55 (the default
    MinConfidence) and 0.8 to 89.
    """
    totals: dict[str, float] = {}
    for index in np.flatnonzero(probabilities >= _CLASS_FLOOR):
        name = IMAGENET_TO_LABEL.get(int(index))
        if name is None:
            continue
        for target in {name, *_ancestors(name)}:
            totals[target] = totals.get(target, 0.0) + float(probabilities[index])
    return {name: round(100.0 * min(1.0, total) ** 0.5, 4) for name, total in totals.items()}


def _ancestors(name: str) -> set[str]:
    seen: set[str] = set()
    stack = list(LABELS[name].parents)
    while stack:
        parent = stack.pop()
        if parent not in seen:
            seen.add(parent)
            stack.extend(LABELS[parent].parents)
    return seen


def _with_parents(found: dict[str, _Label], min_confidence: float) -> list[_Label]:
    """Keep labels above MinConfidence and add their parents, each as confident as its best child."""
    out: dict[str, _Label] = {}
    for label in found.values():
        label.boxes = [b for b in label.boxes if b[1] >= min_confidence]
    for label in found.values():
        if label.confidence < min_confidence:
            continue
        out[label.name] = label
        for parent in LABELS[label.name].parents:
            existing = out.get(parent) or found.get(parent)
            if existing is None:
                out[parent] = _Label(parent, label.confidence)
            else:
                out[parent] = existing
                existing.confidence = max(existing.confidence, label.confidence)
    return list(out.values())


def _passes_filters(name: str, general: dict[str, Any]) -> bool:
    category = LABELS[name].category
    if name in set(general.get("LabelExclusionFilters") or []):
        return False
    if category in set(general.get("LabelCategoryExclusionFilters") or []):
        return False
    inclusion = set(general.get("LabelInclusionFilters") or [])
    category_inclusion = set(general.get("LabelCategoryInclusionFilters") or [])
    if inclusion or category_inclusion:
        return name in inclusion or category in category_inclusion
    return True


def _label_json(label: _Label, image: DecodedImage, with_colors: bool) -> dict[str, Any]:
    info = LABELS[label.name]
    instances = []
    for (x, y, w, h), conf in sorted(label.boxes, key=lambda b: -b[1]):
        instance: dict[str, Any] = {
            "BoundingBox": bounding_box(x, y, w, h, image.width, image.height),
            "Confidence": round(conf, 4),
        }
        if with_colors:
            instance["DominantColors"] = _colors_json(
                colors.dominant_colors(_crop(image.bgr, x, y, w, h), _INSTANCE_COLORS)
            )
        instances.append(instance)
    return {
        "Name": label.name,
        "Confidence": round(label.confidence, 4),
        "Instances": instances,
        "Parents": [{"Name": p} for p in info.parents],
        "Aliases": [{"Name": a} for a in info.aliases],
        "Categories": [{"Name": info.category}],
    }


def _image_properties(image: DecodedImage, found: dict[str, _Label], max_colors: int) -> dict[str, Any]:
    q = colors.quality(image.bgr)
    result: dict[str, Any] = {
        "Quality": {"Brightness": q.brightness, "Sharpness": q.sharpness, "Contrast": q.contrast},
        "DominantColors": _colors_json(colors.dominant_colors(image.bgr, max_colors)),
    }
    # Foreground = what the detectors found (confident boxes); no saliency model ships in a package,
    # so without detections Foreground/Background are omitted rather than guessed.
    mask = np.zeros(image.bgr.shape[:2], dtype=bool)
    for label in found.values():
        for (x, y, w, h), conf in label.boxes:
            if conf >= _DEFAULT_MIN_CONFIDENCE:
                mask[max(0, int(y)) : int(y + h), max(0, int(x)) : int(x + w)] = True
    share = mask.mean()
    if 0.01 <= share <= 0.99:
        for key, region in (("Foreground", mask), ("Background", ~mask)):
            rq = colors.quality(image.bgr, region)
            result[key] = {
                "Quality": {"Brightness": rq.brightness, "Sharpness": rq.sharpness},
                "DominantColors": _colors_json(colors.dominant_colors(image.bgr, max_colors, region)),
            }
    return result


def _colors_json(found: list[colors.DominantColor]) -> list[dict[str, Any]]:
    return [
        {
            "Red": c.red,
            "Blue": c.blue,
            "Green": c.green,
            "HexCode": c.hex_code,
            "CSSColor": c.css_color,
            "SimplifiedColor": c.simplified_color,
            "PixelPercent": percent(c.pixel_percent / 100),
        }
        for c in found
    ]


def _crop(bgr: np.ndarray, x: float, y: float, w: float, h: float) -> np.ndarray:
    crop = bgr[max(0, int(y)) : max(int(y) + 1, int(y + h)), max(0, int(x)) : max(int(x) + 1, int(x + w))]
    return crop if crop.size else bgr
