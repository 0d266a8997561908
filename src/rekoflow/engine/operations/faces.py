"""DetectFaces and CompareFaces."""

from __future__ import annotations

from typing import Any

from rekoflow.engine import errors
from rekoflow.engine.models import colors, face_attributes, faces
from rekoflow.engine.operations._common import Context, face_basics, face_box, percent

# Attributes with a shipped model behind them. Eyeglasses, Sunglasses, Beard, Mustache,
# FaceOccluded and EyeDirection have none and are omitted (docs/engine.md).
_DEFAULT = {"DEFAULT"}
_AGE_GENDER = {"AGE_RANGE", "GENDER"}
_EMOTIONS = {"EMOTIONS"}
_MESH = {"SMILE", "EYES_OPEN", "MOUTH_OPEN"}
_ALL = _DEFAULT | _AGE_GENDER | _EMOTIONS | _MESH


def _binary(value: face_attributes.Binary) -> dict[str, Any]:
    return {"Value": value.value, "Confidence": value.confidence}


def detect_faces(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    requested = set(params.get("Attributes") or ["DEFAULT"])
    if "ALL" in requested:
        requested |= _ALL
    image = ctx.image(params)
    found = face_attributes.real_faces(image.bgr, faces.detect(image.bgr))
    ages = faces.age_gender(image.bgr, found) if requested & _AGE_GENDER else [None] * len(found)
    wants_emotions, wants_mesh = bool(requested & _EMOTIONS), bool(requested & _MESH)
    extra = (
        face_attributes.analyse(image.bgr, found, with_emotions=wants_emotions, with_mesh=wants_mesh)
        if wants_emotions or wants_mesh
        else [None] * len(found)
    )
    details = []
    for face, age, more in zip(found, ages, extra, strict=True):
        detail: dict[str, Any] = {"BoundingBox": face_box(face, image)}
        if age is not None and "AGE_RANGE" in requested:
            detail["AgeRange"] = {"Low": age.age_low, "High": age.age_high}
        if more is not None:
            if "SMILE" in requested and more.smile is not None:
                detail["Smile"] = _binary(more.smile)
            if "EYES_OPEN" in requested and more.eyes_open is not None:
                detail["EyesOpen"] = _binary(more.eyes_open)
            if "MOUTH_OPEN" in requested and more.mouth_open is not None:
                detail["MouthOpen"] = _binary(more.mouth_open)
        if age is not None and "GENDER" in requested:
            detail["Gender"] = {"Value": age.gender, "Confidence": round(age.gender_confidence, 4)}
        if more is not None and "EMOTIONS" in requested and more.emotions is not None:
            detail["Emotions"] = [{"Type": name, "Confidence": confidence} for name, confidence in more.emotions]
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


def _compared(face: faces.Face, image, attributes: face_attributes.Attributes | None) -> dict[str, Any]:
    compared = {"BoundingBox": face_box(face, image), "Confidence": percent(face.score)}
    compared.update(face_basics(face, image))
    # ComparedFace carries Emotions and Smile in Rekognition's model; both come from the same models.
    if attributes is not None:
        if attributes.emotions is not None:
            compared["Emotions"] = [
                {"Type": name, "Confidence": confidence} for name, confidence in attributes.emotions
            ]
        if attributes.smile is not None:
            compared["Smile"] = _binary(attributes.smile)
    return compared


def compare_faces(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    threshold = float(params.get("SimilarityThreshold", 80.0))
    level = params.get("QualityFilter", "NONE")
    source_image = ctx.image(params, "SourceImage")
    target_image = ctx.image(params, "TargetImage")
    source_faces = [
        f
        for f in face_attributes.real_faces(source_image.bgr, faces.detect(source_image.bgr))
        if _passes_quality(f, source_image, level)
    ]
    if not source_faces:
        # What Rekognition answers when the source image has no usable face.
        raise errors.invalid_parameter("Request has invalid parameters: no face found in the source image")
    source = source_faces[0]  # detect() orders by size; Rekognition compares the largest face
    source_vec = faces.embed(source_image.bgr, source)
    targets = [
        f
        for f in face_attributes.real_faces(target_image.bgr, faces.detect(target_image.bgr))
        if _passes_quality(f, target_image, level)
    ]
    attributes = face_attributes.analyse(target_image.bgr, targets)
    matches: list[dict[str, Any]] = []
    unmatched: list[dict[str, Any]] = []
    for face, attrs in zip(targets, attributes, strict=True):
        similarity = faces.similarity_percent(float(source_vec @ faces.embed(target_image.bgr, face)))
        compared = _compared(face, target_image, attrs)
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
