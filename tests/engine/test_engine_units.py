"""Model-free pieces: taxonomy, similarity scale, colors, geometry."""

from __future__ import annotations

import numpy as np
import pytest

from rekoflow.engine.models import colors, faces
from rekoflow.engine.operations._common import bounding_box
from rekoflow.engine.taxonomy import COCO_TO_LABEL, LABELS


def test_every_coco_class_and_parent_is_in_the_taxonomy():
    assert len(COCO_TO_LABEL) == 80
    for name in COCO_TO_LABEL.values():
        assert name in LABELS
    for name, info in LABELS.items():
        for parent in info.parents:
            assert parent in LABELS, f"{name}'s parent {parent} is not a label"
    assert LABELS["Cat"].parents == ("Animal", "Mammal", "Pet") and LABELS["Cat"].category == "Animals and Pets"


def test_similarity_scale_puts_sface_threshold_at_80():
    assert faces.similarity_percent(faces.SFACE_COSINE_THRESHOLD) == pytest.approx(80)
    assert faces.similarity_percent(1.0) == pytest.approx(100)
    assert faces.similarity_percent(-0.3) == 0
    values = [faces.similarity_percent(c) for c in np.linspace(0, 1, 21)]
    assert values == sorted(values)


def test_dominant_colors_of_a_two_colour_image():
    image = np.zeros((100, 100, 3), dtype=np.uint8)
    image[:, :75] = (0, 0, 255)  # BGR red
    image[:, 75:] = (255, 255, 255)
    found = colors.dominant_colors(image, 5)
    assert [(c.css_color, c.simplified_color) for c in found] == [("red", "red"), ("white", "white")]
    assert found[0].pixel_percent == pytest.approx(75, abs=2)
    assert found[0].hex_code == "#ff0000"


def test_quality_separates_sharp_from_blurred():
    import cv2

    rng = np.random.default_rng(0)
    sharp = (rng.random((200, 200, 3)) * 255).astype(np.uint8)
    blurred = cv2.GaussianBlur(sharp, (0, 0), 6)
    assert colors.quality(sharp).sharpness > colors.quality(blurred).sharpness + 30
    dark = np.full((100, 100, 3), 20, dtype=np.uint8)
    assert colors.quality(dark).brightness < 10 and colors.quality(dark).contrast == 0


def test_bounding_box_is_clipped_ratio():
    assert bounding_box(-10, 10, 60, 20, 100, 200) == {"Width": 0.5, "Height": 0.1, "Left": 0.0, "Top": 0.05}
