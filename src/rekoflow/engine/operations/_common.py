"""Helpers shared by the operations: Rekognition's ratio-based geometry and face structures."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rekoflow.engine.images import DecodedImage, S3ClientFactory, load_image
from rekoflow.engine.models import colors, faces


@dataclass(frozen=True)
class Context:
    s3_client_factory: S3ClientFactory
    # Stateful operations (Custom Labels) persist under this folder; None keeps them in memory.
    state_dir: Path | None = None
    # Their per-engine state, created on first use (custom_labels/store.py).
    stores: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def image(self, params: dict[str, Any], field: str = "Image") -> DecodedImage:
        return load_image(params[field], self.s3_client_factory, field)


def _ratio(value: float) -> float:
    return round(float(value), 6)


def bounding_box(x: float, y: float, w: float, h: float, width: int, height: int) -> dict[str, float]:
    """Pixel box -> Rekognition's BoundingBox (ratios of image size), clipped to the image."""
    x1, y1 = max(0.0, x), max(0.0, y)
    x2, y2 = min(float(width), x + w), min(float(height), y + h)
    return {
        "Width": _ratio(max(0.0, x2 - x1) / width),
        "Height": _ratio(max(0.0, y2 - y1) / height),
        "Left": _ratio(x1 / width),
        "Top": _ratio(y1 / height),
    }


def polygon(points: np.ndarray, width: int, height: int) -> list[dict[str, float]]:
    return [{"X": _ratio(px / width), "Y": _ratio(py / height)} for px, py in points]


def percent(probability: float) -> float:
    return round(min(100.0, max(0.0, probability * 100.0)), 4)


_LANDMARK_TYPES = ("eyeLeft", "eyeRight", "nose", "mouthLeft", "mouthRight")


def face_box(face: faces.Face, image: DecodedImage) -> dict[str, float]:
    return bounding_box(*face.box, image.width, image.height)


def face_basics(face: faces.Face, image: DecodedImage) -> dict[str, Any]:
    """Landmarks, Pose and Quality: the parts of FaceDetail/ComparedFace the detector gives."""
    roll, yaw, pitch = faces.pose(face)
    q = colors.face_quality(image.bgr, face.box)
    return {
        # YuNet's first eye is the image-left one, which is Rekognition's eyeLeft.
        "Landmarks": [
            {"Type": kind, "X": _ratio(px / image.width), "Y": _ratio(py / image.height)}
            for kind, (px, py) in zip(_LANDMARK_TYPES, face.landmarks, strict=True)
        ],
        "Pose": {"Roll": round(roll, 4), "Yaw": round(yaw, 4), "Pitch": round(pitch, 4)},
        "Quality": {"Brightness": q.brightness, "Sharpness": q.sharpness},
    }
