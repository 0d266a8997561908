"""Real photos for batch runs: variants of scikit-image's bundled photos, plus broken files."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

BROKEN = {"truncated.jpg", "gif-renamed.jpg", "too-small.png", "text-renamed.png"}
NOT_IMAGES = {"notes.txt", "labels.csv"}


def _photos() -> dict[str, np.ndarray]:
    from skimage import data

    photos = {
        "astronaut": data.astronaut(),
        "coffee": data.coffee(),
        "chelsea": data.chelsea(),
        "rocket": data.rocket(),
    }
    camera = data.camera()
    photos["camera"] = np.stack([camera] * 3, axis=-1)
    return photos


def _variants(name: str, photo: np.ndarray) -> list[tuple[str, Image.Image]]:
    image = Image.fromarray(photo).convert("RGB")
    image.thumbnail((320, 320))
    w, h = image.size
    shifted = np.clip(np.asarray(image).astype(int) + np.array([40, -20, 10]), 0, 255).astype("uint8")
    return [
        (f"{name}-orig", image),
        (f"{name}-flip", image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)),
        (f"{name}-vflip", image.transpose(Image.Transpose.FLIP_TOP_BOTTOM)),
        (f"{name}-crop", image.crop((w // 8, h // 8, w - w // 8, h - h // 8))),
        (f"{name}-small", image.resize((max(96, w // 2), max(96, h // 2)))),
        (f"{name}-large", image.resize((int(w * 1.4), int(h * 1.4)))),
        (f"{name}-warm", Image.fromarray(shifted)),
        (f"{name}-gray", image.convert("L").convert("RGB")),
        (f"{name}-rot", image.rotate(90, expand=True)),
        (f"{name}-cropleft", image.crop((0, 0, w // 2 + 40, h))),
    ]


def write_images(folder: Path, per_photo: int | None = None, broken: bool = True) -> list[Path]:
    """~50 PNG/JPEG variants (10 per photo), the broken files and two non-image files."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for index, (name, photo) in enumerate(_photos().items()):
        for number, (stem, image) in enumerate(_variants(name, photo)[:per_photo]):
            fmt, suffix = ("JPEG", ".jpg") if (index + number) % 2 else ("PNG", ".png")
            path = folder / f"{stem}{suffix}"
            image.save(path, format=fmt, **({"quality": 85} if fmt == "JPEG" else {}))
            written.append(path)
    if broken:
        jpeg = io.BytesIO()
        Image.fromarray(_photos()["coffee"]).save(jpeg, format="JPEG")
        (folder / "truncated.jpg").write_bytes(jpeg.getvalue()[:100])  # ends before the frame header
        gif = io.BytesIO()
        Image.new("RGB", (120, 120), (200, 30, 30)).save(gif, format="GIF")
        (folder / "gif-renamed.jpg").write_bytes(gif.getvalue())
        Image.new("RGB", (40, 40), (20, 200, 20)).save(folder / "too-small.png")
        (folder / "text-renamed.png").write_text("not a picture\n" * 20)
        (folder / "notes.txt").write_text("notes that sit next to the photos\n")
        (folder / "labels.csv").write_text("file,label\nastronaut-orig.png,person\n")
    return written


@pytest.fixture(scope="session")
def photo_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("photos")
    write_images(folder)
    return folder
