"""Exposed and covered body parts: NudeNet's detector (a YOLOv8n export, 18 classes) bundled in `nudenet`.

The package's LICENSE file is AGPL-3.0 (its metadata says MIT; the model's own ONNX metadata says
Ultralytics' AGPL-3.0), so the stricter reading is taken: it lives in the optional
`moderation-nudenet` extra, like the YOLO weights in `objects`. The package's own wrapper builds a
session with default threading and post-processes row by row in Python; the engine loads the ONNX
file itself with its thread settings and does the same pre/post-processing vectorised:
pad to a square at the bottom/right, resize to 320, scaled to 0..1, boxes from centre/size, OpenCV's
NMS. One difference: the wrapper converts with COLOR_RGBA2BGR (which on a 3-channel image swaps R and
B) and then swaps again in blobFromImage, so the network sees BGR; Ultralytics models are trained on
RGB, which the engine gives it (true faces score higher: 0.81 vs 0.72 on the astronaut, 0.76 vs 0.61
on Grace Hopper).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import numpy as np

from rekoflow.engine.models._runtime import Lazy, bundled_file, is_installed, onnx_session

_PACKAGE = "nudenet"
_INPUT_SIDE = 320
# The package's own floors: candidates under 0.2 are dropped, NMS at score 0.25 and IoU 0.45.
_SCORE_FLOOR = 0.2
_NMS_SCORE = 0.25
_NMS_IOU = 0.45


@dataclass(frozen=True)
class Part:
    name: str  # NudeNet's class, e.g. "BELLY_EXPOSED"
    score: float  # 0..1
    box: tuple[float, float, float, float]  # x, y, w, h in pixels


class _Detector:
    def __init__(self) -> None:
        path = bundled_file(_PACKAGE, "320n.onnx")
        self._session = onnx_session(path)
        self._input = self._session.get_inputs()[0].name
        self._names = _class_names(self._session)

    def detect(self, bgr: np.ndarray) -> list[Part]:
        import cv2

        height, width = bgr.shape[:2]
        side = max(height, width)
        square = cv2.copyMakeBorder(bgr, 0, side - height, 0, side - width, cv2.BORDER_CONSTANT, value=(0, 0, 0))
        blob = cv2.dnn.blobFromImage(square, 1 / 255.0, (_INPUT_SIDE, _INPUT_SIDE), (0, 0, 0), swapRB=True, crop=False)
        rows = self._session.run(None, {self._input: blob})[0][0].T  # (candidates, 4 + classes)
        scores = rows[:, 4:]
        best = scores.argmax(axis=1)
        best_score = scores[np.arange(len(rows)), best]
        keep = best_score >= _SCORE_FLOOR
        rows, best, best_score = rows[keep], best[keep], best_score[keep]
        scale = side / _INPUT_SIDE
        cx, cy, w, h = (rows[:, i] * scale for i in range(4))
        x = np.clip(cx - w / 2, 0, width)
        y = np.clip(cy - h / 2, 0, height)
        w = np.minimum(w, width - x)
        h = np.minimum(h, height - y)
        boxes = np.stack([x, y, w, h], axis=1)
        indices = cv2.dnn.NMSBoxes(boxes.tolist(), best_score.tolist(), _NMS_SCORE, _NMS_IOU)
        return [
            Part(
                self._names[int(best[i])],
                float(best_score[i]),
                (float(boxes[i][0]), float(boxes[i][1]), float(boxes[i][2]), float(boxes[i][3])),
            )
            for i in np.asarray(indices, dtype=int).reshape(-1)
        ]


def _class_names(session) -> list[str]:
    """Class names from the export's metadata ({0: 'FEMALE_GENITALIA_COVERED', ...})."""
    meta = session.get_modelmeta().custom_metadata_map
    names = ast.literal_eval(meta["names"])
    return [names[i] for i in range(len(names))]


_detector = Lazy(_Detector)


def available() -> bool:
    return is_installed(_PACKAGE)


def detect(bgr: np.ndarray) -> list[Part]:
    return _detector.get().detect(bgr)
