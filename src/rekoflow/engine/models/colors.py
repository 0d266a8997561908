"""Image properties computed from pixels: quality (brightness, sharpness, contrast) and dominant colors.

No model: these are direct measurements, so they are real for every image.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass

import numpy as np

# CSS3 extended color keywords, spelled with spaces as Rekognition's CSSColor is.
_CSS = """
alice blue f0f8ff|antique white faebd7|aqua 00ffff|aquamarine 7fffd4|azure f0ffff|beige f5f5dc|bisque ffe4c4
black 000000|blanched almond ffebcd|blue 0000ff|blue violet 8a2be2|brown a52a2a|burly wood deb887
cadet blue 5f9ea0|chartreuse 7fff00|chocolate d2691e|coral ff7f50|cornflower blue 6495ed|cornsilk fff8dc
crimson dc143c|dark blue 00008b|dark cyan 008b8b|dark goldenrod b8860b|dark gray a9a9a9|dark green 006400
dark khaki bdb76b|dark magenta 8b008b|dark olive green 556b2f|dark orange ff8c00|dark orchid 9932cc
dark red 8b0000|dark salmon e9967a|dark sea green 8fbc8f|dark slate blue 483d8b|dark slate gray 2f4f4f
dark turquoise 00ced1|dark violet 9400d3|deep pink ff1493|deep sky blue 00bfff|dim gray 696969
dodger blue 1e90ff|firebrick b22222|floral white fffaf0|forest green 228b22|gainsboro dcdcdc
ghost white f8f8ff|gold ffd700|goldenrod daa520|gray 808080|green 008000|green yellow adff2f
honeydew f0fff0|hot pink ff69b4|indian red cd5c5c|indigo 4b0082|ivory fffff0|khaki f0e68c|lavender e6e6fa
lavender blush fff0f5|lawn green 7cfc00|lemon chiffon fffacd|light blue add8e6|light coral f08080
light cyan e0ffff|light goldenrod yellow fafad2|light gray d3d3d3|light green 90ee90|light pink ffb6c1
light salmon ffa07a|light sea green 20b2aa|light sky blue 87cefa|light slate gray 778899
light steel blue b0c4de|light yellow ffffe0|lime 00ff00|lime green 32cd32|linen faf0e6|magenta ff00ff
maroon 800000|medium aquamarine 66cdaa|medium blue 0000cd|medium orchid ba55d3|medium purple 9370db
medium sea green 3cb371|medium slate blue 7b68ee|medium spring green 00fa9a|medium turquoise 48d1cc
medium violet red c71585|midnight blue 191970|mint cream f5fffa|misty rose ffe4e1|moccasin ffe4b5
navajo white ffdead|navy 000080|old lace fdf5e6|olive 808000|olive drab 6b8e23|orange ffa500
orange red ff4500|orchid da70d6|pale goldenrod eee8aa|pale green 98fb98|pale turquoise afeeee
pale violet red db7093|papaya whip ffefd5|peach puff ffdab9|peru cd853f|pink ffc0cb|plum dda0dd
powder blue b0e0e6|purple 800080|red ff0000|rosy brown bc8f8f|royal blue 4169e1|saddle brown 8b4513
salmon fa8072|sandy brown f4a460|sea green 2e8b57|seashell fff5ee|sienna a0522d|silver c0c0c0
sky blue 87ceeb|slate blue 6a5acd|slate gray 708090|snow fffafa|spring green 00ff7f|steel blue 4682b4
tan d2b48c|teal 008080|thistle d8bfd8|tomato ff6347|turquoise 40e0d0|violet ee82ee|wheat f5deb3
white ffffff|white smoke f5f5f5|yellow ffff00|yellow green 9acd32
"""


def _parse_css() -> tuple[list[str], np.ndarray]:
    names, rgbs = [], []
    for entry in _CSS.replace("\n", "|").split("|"):
        if entry.strip():
            name, hexcode = entry.strip().rsplit(" ", 1)
            names.append(name)
            rgbs.append([int(hexcode[i : i + 2], 16) for i in (0, 2, 4)])
    return names, np.asarray(rgbs, dtype=np.float64)


_CSS_NAMES, _CSS_RGB = _parse_css()
# Measured on downscaled copies: quality needs some detail, colour clustering only needs coverage.
_QUALITY_SIDE = 256
_COLOR_SIDE = 96
_KMEANS_ITERATIONS = 20  # an upper bound: it stops when no bin changes cluster


@dataclass(frozen=True)
class Quality:
    brightness: float
    sharpness: float
    contrast: float


def quality(bgr: np.ndarray, mask: np.ndarray | None = None) -> Quality:
    """0-100 scores: mean luminance, Laplacian variance (edge energy), luminance standard deviation."""
    import cv2

    gray = cv2.cvtColor(_downscale(bgr, _QUALITY_SIDE), cv2.COLOR_BGR2GRAY).astype(np.float64)
    small_mask = None if mask is None else _downscale(mask.astype(np.uint8), _QUALITY_SIDE) > 0
    values = gray if small_mask is None else gray[small_mask]
    lap = cv2.Laplacian(gray, cv2.CV_64F, ksize=3)
    lap_values = lap if small_mask is None else lap[small_mask]
    if values.size == 0:
        return Quality(0.0, 0.0, 0.0)
    brightness = float(values.mean()) / 255.0 * 100.0
    # Edge energy spans decades (heavy blur ~10, crisp photos ~10^4): score it on a log scale.
    sharpness = min(100.0, max(0.0, (math.log10(float(lap_values.var()) + 1.0) - 1.0) / 3.3 * 100.0))
    contrast = min(100.0, float(values.std()) / 127.5 * 100.0)
    return Quality(round(brightness, 4), round(sharpness, 4), round(contrast, 4))


def face_quality(bgr: np.ndarray, box: tuple[float, float, float, float]) -> Quality:
    """Quality of a face crop, normalised to a fixed size so the score does not depend on face size."""
    import cv2

    height, width = bgr.shape[:2]
    x, y, w, h = box
    x1, y1 = max(0, int(x)), max(0, int(y))
    x2, y2 = min(width, int(math.ceil(x + w))), min(height, int(math.ceil(y + h)))
    if x2 - x1 < 2 or y2 - y1 < 2:
        return Quality(0.0, 0.0, 0.0)
    crop = cv2.resize(bgr[y1:y2, x1:x2], (112, 112), interpolation=cv2.INTER_AREA)
    return quality(crop)


@dataclass(frozen=True)
class DominantColor:
    red: int
    green: int
    blue: int
    css_color: str
    simplified_color: str
    pixel_percent: float

    @property
    def hex_code(self) -> str:
        return f"#{self.red:02x}{self.green:02x}{self.blue:02x}"


def dominant_colors(bgr: np.ndarray, max_colors: int = 10, mask: np.ndarray | None = None) -> list[DominantColor]:
    """Weighted k-means over a colour histogram, clusters merged by CSS name, ordered by share of pixels.

    The pixels of a 96 px copy are binned at 5 bits per channel (each bin keeps its pixels' mean
    colour and count), so k-means runs over the occupied bins (typically a few hundred to a few
    thousand) instead of every pixel: the same clusters at a fraction of the cost (docs/engine.md,
    "Dominant colours").
    """
    small = _downscale(bgr, _COLOR_SIDE)
    pixels = small.reshape(-1, 3)
    if mask is not None:
        pixels = pixels[(_downscale(mask.astype(np.uint8), _COLOR_SIDE) > 0).reshape(-1)]
    if len(pixels) == 0 or max_colors <= 0:
        return []
    bins, weights = _histogram(pixels[:, ::-1])  # RGB
    centers, counts = _weighted_kmeans(bins, weights, min(max_colors, 10, len(bins)))
    merged: dict[str, tuple[np.ndarray, float]] = {}
    for center, count in zip(centers, counts, strict=True):
        if count <= 0:
            continue
        name = css_name(center)
        total, n = merged.get(name, (np.zeros(3), 0.0))
        merged[name] = (total + center * count, n + count)
    colors = []
    for name, (total, n) in merged.items():
        r, g, b = (int(round(v)) for v in np.clip(total / n, 0, 255))
        colors.append(DominantColor(r, g, b, name, _simplified(r, g, b), round(100.0 * n / len(pixels), 4)))
    colors.sort(key=lambda c: c.pixel_percent, reverse=True)
    return colors[:max_colors]


def css_name(rgb: np.ndarray) -> str:
    """The CSS3 colour nearest in CIELAB (perceptual distance; RGB distance called a brown tabby "gray")."""
    return _CSS_NAMES[
        int(np.argmin(((_CSS_LAB - _lab(np.asarray(rgb, dtype=np.float64)[None, :])[0]) ** 2).sum(axis=1)))
    ]


def _lab(rgb: np.ndarray) -> np.ndarray:
    import cv2

    scaled = (np.asarray(rgb, dtype=np.float32) / 255.0).reshape(-1, 1, 3)
    return cv2.cvtColor(scaled, cv2.COLOR_RGB2Lab).reshape(-1, 3).astype(np.float64)


_CSS_LAB = _lab(_CSS_RGB)
_BIN_BITS = 5


def _histogram(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Occupied colour bins: each bin's mean colour and pixel count."""
    shift = 8 - _BIN_BITS
    q = (rgb >> shift).astype(np.int64)
    codes = (q[:, 0] << (2 * _BIN_BITS)) | (q[:, 1] << _BIN_BITS) | q[:, 2]
    size = 1 << (3 * _BIN_BITS)
    counts = np.bincount(codes, minlength=size)
    occupied = np.flatnonzero(counts)
    sums = np.stack([np.bincount(codes, weights=rgb[:, c], minlength=size)[occupied] for c in range(3)], axis=1)
    weights = counts[occupied].astype(np.float64)
    return sums / weights[:, None], weights


def _weighted_kmeans(points: np.ndarray, weights: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    # Deterministic init, greedy k-means++: next centre = the point with the most weight x squared
    # distance, so a populous distinct colour is picked before a few stray pixels. Same image, same answer.
    centers = [np.average(points, axis=0, weights=weights)]
    dist = ((points - centers[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        centers.append(points[int(np.argmax(dist * weights))])
        dist = np.minimum(dist, ((points - centers[-1]) ** 2).sum(axis=1))
    c = np.asarray(centers, dtype=np.float64)
    labels = None
    for _ in range(_KMEANS_ITERATIONS):
        new_labels = _nearest(points, c)
        if labels is not None and np.array_equal(new_labels, labels):
            break
        labels = new_labels
        totals = np.bincount(labels, weights=weights, minlength=k)
        for channel in range(3):
            sums = np.bincount(labels, weights=weights * points[:, channel], minlength=k)
            c[:, channel] = np.where(totals > 0, sums / np.maximum(totals, 1e-12), c[:, channel])
    labels = _nearest(points, c)
    return c, np.bincount(labels, weights=weights, minlength=k)


def _nearest(points: np.ndarray, centers: np.ndarray) -> np.ndarray:
    # |p - c|^2 = |p|^2 - 2 p.c + |c|^2; |p|^2 is the same for every centre.
    return np.argmin((centers**2).sum(axis=1)[None, :] - 2.0 * points @ centers.T, axis=1)


def _simplified(r: int, g: int, b: int) -> str:
    hue, lightness, saturation = colorsys.rgb_to_hls(r / 255, g / 255, b / 255)
    if saturation < 0.18 or lightness < 0.08 or lightness > 0.94:
        if lightness < 0.2:
            return "black"
        return "white" if lightness > 0.85 else "grey"
    degrees = hue * 360
    if degrees < 15 or degrees >= 340:
        return "brown" if lightness < 0.3 else ("pink" if lightness > 0.75 else "red")
    if degrees < 45:
        # Desaturated orange is what people call brown or tan (a tabby's fur, wood, coffee).
        return "brown" if lightness < 0.45 or saturation < 0.4 else "orange"
    if degrees < 70:
        return "brown" if lightness < 0.3 else "yellow"
    if degrees < 165:
        return "green"
    if degrees < 255:
        return "blue"
    if degrees < 290:
        return "purple"
    return "pink" if lightness > 0.6 else "purple"


def _downscale(image: np.ndarray, side: int) -> np.ndarray:
    import cv2

    height, width = image.shape[:2]
    scale = side / max(height, width)
    if scale >= 1:
        return image
    return cv2.resize(
        image, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
    )
