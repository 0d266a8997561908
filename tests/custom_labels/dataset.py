"""Real photos from scikit-image, varied (crops, flips, colour jitter) into a small Custom Labels dataset."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

CLASSES = ("cat", "cup", "rocket")


def class_photos() -> dict[str, np.ndarray]:
    """RGB photos shipped inside scikit-image: Chelsea the cat, a coffee cup, a rocket on its pad."""
    from skimage import data

    return {"cat": data.chelsea(), "cup": data.coffee(), "rocket": data.rocket()}


def variants(rgb: np.ndarray, count: int, seed: int) -> list[bytes]:
    """JPEGs of random crops (60-95% of each side), mirror images and brightness/colour shifts."""
    import cv2

    rng = np.random.default_rng(seed)
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    height, width = bgr.shape[:2]
    out = []
    for _ in range(count):
        scale = rng.uniform(0.6, 0.95)
        ch, cw = int(height * scale), int(width * scale)
        y, x = rng.integers(0, height - ch + 1), rng.integers(0, width - cw + 1)
        image = bgr[y : y + ch, x : x + cw].astype(np.float32)
        if rng.random() < 0.5:
            image = image[:, ::-1]
        image = image * rng.uniform(0.75, 1.25) + rng.uniform(-20, 20, 3)
        ok, encoded = cv2.imencode(".jpg", np.clip(image, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 90])
        assert ok
        out.append(encoded.tobytes())
    return out


def manifest_line(bucket: str, key: str, label: str, attribute: str = "category") -> str:
    """One GroundTruth image-classification line, as SageMaker Ground Truth and the console write it."""
    return json.dumps(
        {
            "source-ref": f"s3://{bucket}/{key}",
            attribute: 1,
            f"{attribute}-metadata": {
                "confidence": 1,
                "class-name": label,
                "human-annotated": "yes",
                "creation-date": "2024-01-01T00:00:00",
                "type": "groundtruth/image-classification",
            },
        }
    )


def upload_dataset(
    runtime: Any,
    prefix: str,
    per_class: int,
    seed: int,
    classes: tuple[str, ...] = CLASSES,
    relabel: dict[str, str] | None = None,
) -> tuple[dict[str, str], dict[str, list[dict[str, str]]]]:
    """Upload images and a manifest; returns (manifest reference, {label: [image references]})."""
    photos = class_photos()
    lines, images = [], {}
    for offset, label in enumerate(classes):
        for i, data in enumerate(variants(photos[label], per_class, seed + offset * 1000)):
            ref = runtime.put_bytes(data, f"{prefix}/{label}/{i:03d}.jpg")
            images.setdefault(label, []).append(ref)
            lines.append(manifest_line(ref["bucket"], ref["key"], (relabel or {}).get(label, label)))
    manifest = runtime.put_bytes(("\n".join(lines) + "\n").encode(), f"{prefix}/output.manifest")
    return manifest, images
