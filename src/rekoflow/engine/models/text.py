"""Text: PP-OCR detection + recognition ONNX models bundled in `rapidocr` (Apache-2.0).

Words come from the recognised line text split at its spaces. RapidOCR's own word boxes also break
a word wherever two characters' CTC columns lie far apart (wide capitals at large sizes: "PLATFOR M"),
so its pieces are only used for geometry: consecutive pieces are merged until they spell each word.
"""

from __future__ import annotations

import itertools
import unicodedata
from dataclasses import dataclass

import numpy as np

from rekoflow.engine.models._runtime import Lazy, Pool, threads

# Small images are upscaled before OCR: PP-OCR's recogniser reads text about 32-48 px high, and a
# scan of small print (e.g. 8 px letters) is unreadable at its own size. Measured on bench/accuracy.py.
_UPSCALE_BELOW_SIDE = 1000
_MAX_UPSCALE = 3.0
_OCR_POOL = 2  # each RapidOCR pipeline holds three ONNX sessions (~60 MB): two callers at most at once


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float  # 0..1
    polygon: np.ndarray  # (4, 2) pixels, clockwise from top-left
    measured: bool = True  # False: the box is the line's extent shared by character count, not seen


@dataclass(frozen=True)
class Line:
    text: str
    confidence: float
    polygon: np.ndarray
    words: list[Word]


def _pipeline():
    from rapidocr import RapidOCR

    return RapidOCR(
        params={
            "Global.log_level": "error",
            # Bound the detector's input by the long side: same accuracy on photos, far faster.
            "Det.limit_type": "max",
            "Det.limit_side_len": 960,
            "EngineConfig.onnxruntime.intra_op_num_threads": threads(),
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
    )


class _Ocr:
    def __init__(self) -> None:
        # RapidOCR keeps per-call state in its pipeline objects: one caller per pipeline.
        self._pool = Pool(_pipeline, _OCR_POOL)

    def read(self, bgr: np.ndarray) -> list[Line]:
        import cv2

        height, width = bgr.shape[:2]
        scale = min(_MAX_UPSCALE, _UPSCALE_BELOW_SIDE / max(height, width))
        image = bgr
        if scale > 1.2:
            image = cv2.resize(bgr, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_CUBIC)
        else:
            scale = 1.0
        with self._pool.borrow() as ocr:
            result = ocr(image, return_word_box=True)
        if result.txts is None or result.boxes is None:
            return []
        pieces_per_line = result.word_results or [() for _ in result.txts]
        lines = []
        for text, score, box, pieces in zip(result.txts, result.scores, result.boxes, pieces_per_line, strict=False):
            # PP-OCR's dictionary has full-width forms ("ＬＴ"): NFKC folds them to the letters they are.
            text = unicodedata.normalize("NFKC", text)
            pieces = [(unicodedata.normalize("NFKC", p_text), p_score, p_box) for p_text, p_score, p_box in pieces]
            polygon = np.asarray(box, dtype=np.float64) / scale
            scaled = [
                (p_text, float(p_score), np.asarray(p_box, dtype=np.float64) / scale)
                for p_text, p_score, p_box in pieces
            ]
            words = split_words(text, float(score), polygon, scaled)
            if words:
                lines.append(Line(" ".join(w.text for w in words), float(score), _union(polygon, words), words))
        return reading_order(lines)


def split_words(
    text: str, line_score: float, polygon: np.ndarray, pieces: list[tuple[str, float, np.ndarray]]
) -> list[Word]:
    """The line's space-separated words, each with the merged geometry of the pieces that spell it."""
    tokens = text.split()
    if not tokens:
        return []
    pieces = [p for p in pieces if p[0].strip()]
    words: list[Word] = []
    i = 0
    for token in tokens:
        spelled, used = "", []
        while i < len(pieces) and len(spelled) < len(token):
            spelled += "".join(pieces[i][0].split())
            used.append(pieces[i])
            i += 1
        if spelled != token or not used:
            # The pieces do not spell the text (RapidOCR dropped or merged some): share the line's
            # extent by character count instead, so every word still gets a box inside its line.
            return _proportional(tokens, line_score, polygon)
        quad = np.array([used[0][2][0], used[-1][2][1], used[-1][2][2], used[0][2][3]], dtype=np.float64)
        words.append(Word(token, min(p[1] for p in used), quad))
    return words


def _proportional(tokens: list[str], score: float, polygon: np.ndarray) -> list[Word]:
    top_left, top_right, bottom_right, bottom_left = polygon
    total = sum(len(t) for t in tokens) + (len(tokens) - 1)
    words, start = [], 0
    for token in tokens:
        a, b = start / total, (start + len(token)) / total
        quad = np.array(
            [
                top_left + (top_right - top_left) * a,
                top_left + (top_right - top_left) * b,
                bottom_left + (bottom_right - bottom_left) * b,
                bottom_left + (bottom_right - bottom_left) * a,
            ]
        )
        words.append(Word(token, score, quad, measured=False))
        start += len(token) + 1
    return words


def _union(polygon: np.ndarray, words: list[Word]) -> np.ndarray:
    """The line's polygon, widened to an axis-aligned box if a word reaches outside it."""
    points = np.vstack([polygon] + [w.polygon for w in words])
    x1, y1 = points.min(axis=0)
    x2, y2 = points.max(axis=0)
    px1, py1 = polygon.min(axis=0)
    px2, py2 = polygon.max(axis=0)
    if x1 >= px1 - 0.5 and y1 >= py1 - 0.5 and x2 <= px2 + 0.5 and y2 <= py2 + 0.5:
        return polygon
    return np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], dtype=np.float64)


def reading_order(lines: list[Line]) -> list[Line]:
    """Top to bottom; lines that share a row (vertical centres within half a line height) left to right,
    and pieces of one row that the detector boxed apart (a gap under one text height) joined again."""
    if not lines:
        return lines

    def extent(line: Line) -> tuple[float, float, float]:
        ys = line.polygon[:, 1]
        return float(ys.min()), float(ys.max()), float(line.polygon[:, 0].min())

    ordered = sorted(lines, key=lambda line: (extent(line)[0] + extent(line)[1]) / 2)
    rows: list[list[Line]] = []
    for line in ordered:
        top, bottom, _ = extent(line)
        centre, height = (top + bottom) / 2, bottom - top
        if rows:
            last = rows[-1][-1]
            l_top, l_bottom, _ = extent(last)
            if abs(centre - (l_top + l_bottom) / 2) < 0.5 * min(height, l_bottom - l_top):
                rows[-1].append(line)
                continue
        rows.append([line])
    joined = [line for row in rows for line in _join_row(sorted(row, key=lambda line: extent(line)[2]))]
    return [_close_letter_spacing(line) for line in joined]


# Letter-spaced capitals ("P L A T F O R M", signage with wide tracking) are read as one-letter words.
# A run of at least this many one-character words is regrouped by its gaps: a word break is a gap
# wider than the run's typical letter gap by a fifth of the text height (about a space's width).
_MIN_SPACED_RUN = 3
_WORD_BREAK = 0.2


def _close_letter_spacing(line: Line) -> Line:
    words, out, i = line.words, [], 0
    while i < len(words):
        j = i
        while j < len(words) and len(words[j].text) == 1 and words[j].text.isalnum() and words[j].measured:
            j += 1
        if j - i >= _MIN_SPACED_RUN and _is_level(line.polygon):
            out.extend(_regroup(words[i:j]))
            i = j
        else:
            out.append(words[i])
            i += 1
    if len(out) == len(words):
        return line
    return Line(" ".join(w.text for w in out), line.confidence, line.polygon, out)


def _regroup(run: list[Word]) -> list[Word]:
    gaps = [float(b.polygon[:, 0].min() - a.polygon[:, 0].max()) for a, b in itertools.pairwise(run)]
    height = float(np.median([np.ptp(w.polygon[:, 1]) for w in run]))
    breaks = {k for k, gap in enumerate(gaps) if gap > float(np.median(gaps)) + _WORD_BREAK * height}
    groups, current = [], [run[0]]
    for k, word in enumerate(run[1:]):
        if k in breaks:
            groups.append(current)
            current = []
        current.append(word)
    groups.append(current)
    return [_merge(group) for group in groups]


def _merge(group: list[Word]) -> Word:
    if len(group) == 1:
        return group[0]
    text = "".join(w.text for w in group)
    # Read one glyph at a time the recogniser has no word context: a letter-spaced "O" comes back as
    # "0" ("PLATF0RM"). In a word of mostly letters it is the letter.
    if sum(c.isalpha() for c in text) > sum(c.isdigit() for c in text):
        text = text.replace("0", "O")
    points = np.vstack([w.polygon for w in group])
    x1, y1 = points.min(axis=0)
    x2, y2 = points.max(axis=0)
    quad = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], dtype=np.float64)
    return Word(text, min(w.confidence for w in group), quad)


def _is_level(polygon: np.ndarray) -> bool:
    dx, dy = polygon[1] - polygon[0]
    return abs(dy) <= 0.1 * abs(dx) + 1.0


def _join_row(row: list[Line]) -> list[Line]:
    out: list[Line] = []
    for line in row:
        if out and _is_level(out[-1].polygon) and _is_level(line.polygon):
            last = out[-1]
            l_height = float(np.ptp(last.polygon[:, 1]))
            height = float(np.ptp(line.polygon[:, 1]))
            gap = float(line.polygon[:, 0].min() - last.polygon[:, 0].max())
            if -0.5 * min(height, l_height) < gap < 1.0 * min(height, l_height) and max(height, l_height) < 1.6 * min(
                height, l_height
            ):
                words = last.words + line.words
                points = np.vstack([last.polygon, line.polygon])
                x1, y1 = points.min(axis=0)
                x2, y2 = points.max(axis=0)
                box = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], dtype=np.float64)
                out[-1] = Line(" ".join(w.text for w in words), min(last.confidence, line.confidence), box, words)
                continue
        out.append(line)
    return out


_ocr = Lazy(_Ocr)


def read(bgr: np.ndarray) -> list[Line]:
    return _ocr.get().read(bgr)
