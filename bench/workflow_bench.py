"""Workflow throughput on this machine: executions of the real ASL on the local stack (in this process).

Two settings: a scripted Rekognition endpoint (the cost of the workflow itself: moto's interpreter,
the handlers, S3/DynamoDB emulation) and the real local engine (the cost with real models).
Writes a Markdown table to stdout and bench/results/workflow.md.
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.fake_rekognition import FakeRekognition  # noqa: E402
from support.images import image_bytes  # noqa: E402
from support.stack import LocalWorkflow, running_stack  # noqa: E402

ANALYSES = ["labels", "faces", "text"]


def measure(runtime: LocalWorkflow, images: list[dict], use_cache: bool) -> list[float]:
    durations = []
    for image in images:
        started = time.perf_counter()
        result = runtime.analyze(
            {"requestId": f"bench-{uuid.uuid4().hex[:8]}", "image": image, "analyses": ANALYSES, "useCache": use_cache}
        )
        assert result.succeeded, (result.error, result.cause)
        durations.append(time.perf_counter() - started)
    return durations


def row(name: str, durations: list[float]) -> str:
    ordered = sorted(durations)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    median = statistics.median(durations)
    rate = len(durations) / sum(durations)
    return f"| {name} | {len(durations)} | {median * 1000:.0f} | {p95 * 1000:.0f} | {rate:.1f} |"


def main() -> None:
    lines = [
        "| setting (labels+faces+text per execution) | executions | median ms | p95 ms | executions/s |",
        "|---|---:|---:|---:|---:|",
    ]
    fake = FakeRekognition().start()
    try:
        with running_stack(rekognition_endpoint=fake.url) as runtime:
            images = [
                runtime.put_bytes(image_bytes(320, 240, color=(i, 2 * i % 256, 90)), f"bench/{i}.png")
                for i in range(30)
            ]
            measure(runtime, images[:2], use_cache=False)  # warm the handlers (cold starts)
            lines.append(row("scripted endpoint, fresh analyses", measure(runtime, images, use_cache=False)))
            lines.append(row("scripted endpoint, all from cache", measure(runtime, images, use_cache=True)))
    finally:
        fake.stop()
    import io

    from PIL import Image
    from skimage import data

    with running_stack() as runtime:
        photos = []
        for i, photo in enumerate((data.astronaut(), data.coffee(), data.chelsea(), data.rocket())):
            buffer = io.BytesIO()
            Image.fromarray(photo).save(buffer, format="JPEG", quality=90)
            photos.append(runtime.put_bytes(buffer.getvalue(), f"bench/photo-{i}.jpg"))
        measure(runtime, photos[:1], use_cache=False)  # load the models once
        lines.append(row("local engine (real models), fresh analyses", measure(runtime, photos * 3, use_cache=False)))
    table = "\n".join(lines)
    print(table)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "workflow.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
