"""DetectFaces and CompareFaces."""

from __future__ import annotations

from typing import Any

from rekoflow.engine import errors
from rekoflow.engine.models import colors, faces
from rekoflow.engine.operations._common import Context, face_basics, face_box, percent

# Attributes with a shipped model behind them. Everything else (Emotions, Smile, EyesOpen,
# MouthOpen, Eyeglasses, Sunglasses, Beard, Mustache, FaceOccluded, EyeDirection) is omitted.
_DEFAULT = {"DEFAULT"}
_MODELLED = {"AGE_RANGE", "GENDER"}


def detect_faces(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    requested = set(params.get("Attributes") or ["DEFAULT"])
    if "ALL" in requested:
        requested |= _DEFAULT | _MODELLED
    image = ctx.image(params)
    found = faces.detect(image.bgr)
    want_age_gender = bool(requested & _MODELLED)
    attributes = faces.age_gender(image.bgr, found) if want_age_gender else [None] * len(found)
    details = []
    for face, attrs in zip(found, attributes):
        detail: dict[str, Any] = {"BoundingBox": face_box(face, image)}
        if attrs is not None and "AGE_RANGE" in requested:
            detail["AgeRange"] = {"Low": attrs.age_low, "High": attrs.age_high}
        if attrs is not None and "GENDER" in requested:
            detail["Gender"] = {"Value": attrs.gender, "Confidence": round(attrs.gender_confidence, 4)}
        if "DEFAULT" in requested:
            detail.update(face_basics(face, image))
        detail["Confidence"] = percent(face.score)
        details.append(detail)
    return {"FaceDetails": details}


# QualityFilter: minimum face side in pixels and minimum face sharpness for each level. Rekognition
# does not publish its thresholds; these drop faces too small or blurred to compare reliably.
_QUALITY_FLOORS = {"NONE": (0, 0.0), "LOW": (20, 5.0), "AUTO": (40, 15.0), "MEDIUM": (40, 15.0), "HIGH": (80, 35.0)}


def _passes_quality(face: faces.Face, image, level: str) -> bool:
    min_side, min_sharpness = _QUALITY_FLOORS[level]
    if min_side == 0:
        return True
    _, _, w, h = face.box
    return min(w, h) >= min_side and colors.face_quality(image.bgr, face.box).sharpness >= min_sharpness


def compare_faces(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    threshold = float(params.get("SimilarityThreshold", 80.0))
    level = params.get("QualityFilter", "NONE")
    source_image = ctx.image(params, "SourceImage")
    target_image = ctx.image(params, "TargetImage")
    source_faces = [f for f in faces.detect(source_image.bgr) if _passes_quality(f, source_image, level)]
    if not source_faces:
        # What Rekognition answers when the source image has no usable face.
        raise errors.invalid_parameter("Request has invalid parameters: no face found in the source image")
    source = source_faces[0]  # detect() orders by size; Rekognition compares the largest face
    source_vec = faces.embed(source_image.bgr, source)
    matches, unmatched = [], []
    for face in faces.detect(target_image.bgr):
        if not _passes_quality(face, target_image, level):
            continue
        similarity = faces.similarity_percent(float(source_vec @ faces.embed(target_image.bgr, face)))
        compared = {"BoundingBox": face_box(face, target_image), "Confidence": percent(face.score)}
        compared.update(face_basics(face, target_image))
        if similarity >= threshold:
            matches.append({"Similarity": round(similarity, 4), "Face": compared})
        else:
            unmatched.append(compared)
    matches.sort(key=lambda m: m["Similarity"], reverse=True)
    return {
        "SourceImageFace": {"BoundingBox": face_box(source, source_image), "Confidence": percent(source.score)},
        "FaceMatches": matches,
        "UnmatchedFaces": unmatched,
    }
