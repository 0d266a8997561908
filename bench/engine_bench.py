"""Latency and throughput of the local Rekognition engine, per operation, on package sample photos.

    .venv/bin/python bench/engine_bench.py [--requests N]

Starts an EngineServer on 127.0.0.1, warms every model, then measures each operation through boto3:
median and p95 latency (sequential), and throughput sequentially and with 2 concurrent clients.
Then, in-process, each model's own latency (warm, one call as the engine makes it) and the cost of
DetectLabels' dominant colours (whole image and one instance crop). `--models-only` skips the HTTP
part. Writes Markdown tables to stdout and to bench/results/engine.md.
"""

from __future__ import annotations

import argparse
import functools
import io
import operator
import os
import platform
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
from botocore.config import Config

from rekoflow.engine import EngineServer


def _png(array) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG")
    return buf.getvalue()


def _text_png() -> bytes:
    import matplotlib
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(
        os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data/fonts/ttf/DejaVuSans.ttf"), 40
    )
    image = Image.new("RGB", (640, 220), "white")
    draw = ImageDraw.Draw(image)
    draw.text((20, 30), "Hello rekoflow world", font=font, fill="black")
    draw.text((20, 130), "Invoice 2024 TOTAL", font=font, fill="black")
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def _cases() -> list[tuple[str, str, dict]]:
    from skimage import data

    astronaut, chelsea, coffee = _png(data.astronaut()), _png(data.chelsea()), _png(data.coffee())
    return [
        ("DetectLabels (coffee 600x400)", "detect_labels", {"Image": {"Bytes": coffee}}),
        (
            "DetectLabels + IMAGE_PROPERTIES (chelsea 451x300)",
            "detect_labels",
            {"Image": {"Bytes": chelsea}, "Features": ["GENERAL_LABELS", "IMAGE_PROPERTIES"]},
        ),
        ("DetectFaces ALL (astronaut 512x512)", "detect_faces", {"Image": {"Bytes": astronaut}, "Attributes": ["ALL"]}),
        (
            "CompareFaces (astronaut vs mirrored)",
            "compare_faces",
            {"SourceImage": {"Bytes": astronaut}, "TargetImage": {"Bytes": _png(data.astronaut()[:, ::-1].copy())}},
        ),
        ("DetectText (rendered 640x220)", "detect_text", {"Image": {"Bytes": _text_png()}}),
        ("DetectText (coffee 600x400)", "detect_text", {"Image": {"Bytes": coffee}}),
        ("DetectModerationLabels (chelsea)", "detect_moderation_labels", {"Image": {"Bytes": chelsea}}),
    ]


def _client(url: str):
    return boto3.client(
        "rekognition",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(retries={"max_attempts": 1}, read_timeout=120),
    )


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _median_ms(fn, repeats: int) -> float:
    fn()  # loads the model
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def _model_rows(repeats: int = 20) -> list[str]:
    """Median ms of each model's call, in-process, on the astronaut (512x512, one face) unless named."""
    import numpy as np
    from PIL import Image
    from skimage import data

    from rekoflow.engine.models import face_attributes, faces, moderation, nudity, objects, scene, text

    bgr = np.ascontiguousarray(data.astronaut()[:, :, ::-1])
    [face] = faces.detect(bgr)[:1]
    gray = bgr.mean(axis=2).astype(np.uint8)
    rendered = np.ascontiguousarray(np.asarray(Image.open(io.BytesIO(_text_png())).convert("RGB"))[:, :, ::-1])
    cases = [
        ("face boxes + landmarks: YuNet", lambda: faces.detect(bgr)),
        ("face embedding: SFace (one face)", lambda: faces.embed(bgr, face)),
        ("age + gender: dlib networks (one face, age mirrored too)", lambda: faces.age_gender(bgr, [face])),
        (
            "emotions: fer mini-Xception TFLite (one face)",
            lambda: face_attributes._emotion_probabilities(face_attributes._emotions.get(), gray, face),
        ),
        (
            "smile/eyes/mouth: MediaPipe FaceMesh TFLite (one face)",
            lambda: face_attributes.mesh_points(face_attributes._mesh.get(), bgr, face),
        ),
        ("ImageNet labels: EfficientNet-Lite0, 6 views", lambda: scene.classify(bgr)),
        ("text: PP-OCR det + rec (rendered 640x220)", lambda: text.read(rendered)),
        ("moderation: open_nsfw", lambda: moderation.explicit_probability(bgr)),
    ]
    if objects.available():
        cases.append(("objects: YOLO11n (objects extra)", lambda: objects.detect(bgr)))
    if nudity.available():
        cases.append(("body parts: NudeNet 320n (moderation-nudenet extra)", lambda: nudity.detect(bgr)))
    rows = ["", f"Models, in-process, median of {repeats} warm calls:", "", "| model | median ms |", "|---|---:|"]
    for name, fn in cases:
        rows.append(f"| {name} | {_median_ms(fn, repeats):.1f} |")
        print(f"  measured {name}", flush=True)
    return rows


def _dominant_colour_rows(repeats: int = 30) -> list[str]:
    """Median ms of colors.dominant_colors on whole photos (10 colours, as ImageProperties) and on a
    200 x 200 crop (3 colours, as each instance's DominantColors)."""
    import numpy as np
    from skimage import data

    from rekoflow.engine.models import colors

    def median_ms(fn) -> float:
        return _median_ms(fn, repeats)

    rows = [
        "",
        f"Dominant colours, in-process, median of {repeats} calls:",
        "",
        "| photo | whole image (10 colours) ms | instance crop 200x200 (3 colours) ms |",
        "|---|---:|---:|",
    ]
    for name in ("chelsea", "coffee", "astronaut"):
        bgr = np.ascontiguousarray(getattr(data, name)()[:, :, ::-1])
        crop = np.ascontiguousarray(bgr[50:250, 100:300])
        whole = median_ms(functools.partial(colors.dominant_colors, bgr, 10))
        instance = median_ms(functools.partial(colors.dominant_colors, crop, 3))
        rows.append(f"| {name} {bgr.shape[1]}x{bgr.shape[0]} | {whole:.1f} | {instance:.1f} |")
    return rows


def _http_rows(requests: int) -> list[tuple[str, float, float, float, float]]:
    rows = []
    with EngineServer() as server:
        clients = [_client(server.url), _client(server.url)]
        for name, method, params in _cases():
            call = operator.methodcaller(method, **params)
            for client in clients:
                call(client)  # loads the models and opens the connection
            latencies = []
            start = time.perf_counter()
            for _ in range(requests):
                t0 = time.perf_counter()
                call(clients[0])
                latencies.append((time.perf_counter() - t0) * 1000)
            sequential = requests / (time.perf_counter() - start)
            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=2) as pool:
                list(pool.map(call, [clients[i % 2] for i in range(requests)]))
            concurrent = requests / (time.perf_counter() - start)
            rows.append((name, statistics.median(latencies), _p95(latencies), sequential, concurrent))
            print(f"  measured {name}", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20, help="requests per operation and mode (default 20)")
    parser.add_argument("--models-only", action="store_true", help="only the in-process model and colour tables")
    args = parser.parse_args()
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    cpu = f"{os.cpu_count()} CPU, {platform.machine()}, Python {platform.python_version()}"
    lines = [
        f"Local engine, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {cpu}, load average at start {load}, "
        f"REKOFLOW_ENGINE_THREADS={os.environ.get('REKOFLOW_ENGINE_THREADS', '1 (default)')}.",
    ]
    if not args.models_only:
        lines += [
            "",
            f"Through boto3 over HTTP, {args.requests} requests per row:",
            "",
            "| operation | median ms | p95 ms | req/s sequential | req/s 2 clients |",
            "|---|---:|---:|---:|---:|",
        ] + [
            f"| {n} | {med:.0f} | {p95:.0f} | {seq:.1f} | {conc:.1f} |"
            for n, med, p95, seq, conc in _http_rows(args.requests)
        ]
    lines += _model_rows()
    lines += _dominant_colour_rows()
    table = "\n".join(lines) + "\n"
    print(table)
    out = Path(__file__).resolve().parent / "results" / ("engine-models.md" if args.models_only else "engine.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table)


if __name__ == "__main__":
    main()
