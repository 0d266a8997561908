"""Latency and throughput of the local Rekognition engine, per operation, on package sample photos.

    .venv/bin/python bench/engine_bench.py [--requests N]

Starts an EngineServer on 127.0.0.1, warms every model, then measures each operation through boto3:
median and p95 latency (sequential), and throughput sequentially and with 2 concurrent clients.
Then, in-process, the cost of DetectLabels' dominant colours (whole image and one instance crop).
Writes Markdown tables to stdout and to bench/results/engine.md.
"""

from __future__ import annotations

import argparse
import io
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

    font = ImageFont.truetype(os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data/fonts/ttf/DejaVuSans.ttf"), 40)
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
        ("CompareFaces (astronaut vs mirrored)", "compare_faces", {
            "SourceImage": {"Bytes": astronaut}, "TargetImage": {"Bytes": _png(data.astronaut()[:, ::-1].copy())}}),
        ("DetectText (rendered 640x220)", "detect_text", {"Image": {"Bytes": _text_png()}}),
        ("DetectText (coffee 600x400)", "detect_text", {"Image": {"Bytes": coffee}}),
        ("DetectModerationLabels (chelsea)", "detect_moderation_labels", {"Image": {"Bytes": chelsea}}),
    ]


def _client(url: str):
    return boto3.client(
        "rekognition", endpoint_url=url, region_name="us-east-1", aws_access_key_id="bench",
        aws_secret_access_key="bench", config=Config(retries={"max_attempts": 1}, read_timeout=120),
    )


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _dominant_colour_rows(repeats: int = 30) -> list[str]:
    """Median ms of colors.dominant_colors on whole photos (10 colours, as ImageProperties) and on a
    200 x 200 crop (3 colours, as each instance's DominantColors)."""
    import numpy as np
    from skimage import data

    from rekoflow.engine.models import colors

    def median_ms(fn) -> float:
        fn()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000)
        return statistics.median(times)

    rows = ["", "Dominant colours, in-process, median of %d calls:" % repeats, "",
            "| photo | whole image (10 colours) ms | instance crop 200x200 (3 colours) ms |", "|---|---:|---:|"]
    for name in ("chelsea", "coffee", "astronaut"):
        bgr = np.ascontiguousarray(getattr(data, name)()[:, :, ::-1])
        crop = np.ascontiguousarray(bgr[50:250, 100:300])
        whole = median_ms(lambda: colors.dominant_colors(bgr, 10))
        instance = median_ms(lambda: colors.dominant_colors(crop, 3))
        rows.append(f"| {name} {bgr.shape[1]}x{bgr.shape[0]} | {whole:.1f} | {instance:.1f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20, help="requests per operation and mode (default 20)")
    args = parser.parse_args()
    rows = []
    with EngineServer() as server:
        clients = [_client(server.url), _client(server.url)]
        for name, method, params in _cases():
            call = lambda c: getattr(c, method)(**params)  # noqa: E731
            for client in clients:
                call(client)  # loads the models and opens the connection
            latencies = []
            start = time.perf_counter()
            for _ in range(args.requests):
                t0 = time.perf_counter()
                call(clients[0])
                latencies.append((time.perf_counter() - t0) * 1000)
            sequential = args.requests / (time.perf_counter() - start)
            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=2) as pool:
                list(pool.map(lambda i: call(clients[i % 2]), range(args.requests)))
            concurrent = args.requests / (time.perf_counter() - start)
            rows.append((name, statistics.median(latencies), _p95(latencies), sequential, concurrent))
            print(f"  measured {name}", flush=True)
    cpu = f"{os.cpu_count()} CPU, {platform.machine()}, Python {platform.python_version()}"
    lines = [
        f"Local engine, {args.requests} requests per row, {cpu}, REKOFLOW_ENGINE_THREADS="
        f"{os.environ.get('REKOFLOW_ENGINE_THREADS', '2')}.",
        "",
        "| operation | median ms | p95 ms | req/s sequential | req/s 2 clients |",
        "|---|---:|---:|---:|---:|",
    ] + [f"| {n} | {med:.0f} | {p95:.0f} | {seq:.1f} | {conc:.1f} |" for n, med, p95, seq, conc in rows]
    lines += _dominant_colour_rows()
    table = "\n".join(lines) + "\n"
    print(table)
    out = Path(__file__).resolve().parent / "results" / "engine.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table)


if __name__ == "__main__":
    main()
