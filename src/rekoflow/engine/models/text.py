"""Text: PP-OCR detection + recognition ONNX models bundled in `rapidocr` (Apache-2.0)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from rekoflow.engine.models._runtime import THREADS, Lazy


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float  # 0..1
    polygon: np.ndarray  # (4, 2) pixels, clockwise from top-left


@dataclass(frozen=True)
class Line:
    text: str
    confidence: float
    polygon: np.ndarray
    words: list[Word]


class _Ocr:
    def __init__(self) -> None:
        from rapidocr import RapidOCR

        self._ocr = RapidOCR(
            params={
                "Global.log_level": "error",
                # Bound the detector's input by the long side: same accuracy on photos, far faster.
                "Det.limit_type": "max",
                "Det.limit_side_len": 960,
                "EngineConfig.onnxruntime.intra_op_num_threads": THREADS,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )
        # RapidOCR keeps per-call state in its pipeline objects; one call at a time.
        self._lock = threading.Lock()

    def read(self, bgr: np.ndarray) -> list[Line]:
        with self._lock:
            result = self._ocr(bgr, return_word_box=True)
        if result.txts is None or result.boxes is None:
            return []
        words_per_line = result.word_results or [() for _ in result.txts]
        lines = []
        for text, score, box, words in zip(result.txts, result.scores, result.boxes, words_per_line):
            parsed = [
                Word(text=w_text, confidence=float(w_score), polygon=np.asarray(w_box, dtype=np.float64))
                for w_text, w_score, w_box in words
                if w_text.strip()
            ]
            lines.append(Line(text=text, confidence=float(score), polygon=np.asarray(box, dtype=np.float64), words=parsed))
        return lines


_ocr = Lazy(_Ocr)


def read(bgr: np.ndarray) -> list[Line]:
    return _ocr.get().read(bgr)
