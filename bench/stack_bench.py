"""The local stack on this machine: start-up, and `rekoflow analyze` warm and cold next to the raw engine.

All in one run, so the ratios hold on a shared, noisy machine:

- **stack start**: `rekoflow up --detach` until the stack answers (fresh state folder; the engine's
  models load lazily, at the first request, so this is the time before model loading);
- **raw engine**: DetectLabels + DetectFaces + DetectText on the same photo, called on the engine in
  this process (models loaded), one after the other;
- **warm analyze**: `rekoflow analyze PHOTO --analyses labels,faces,text --no-cache` as a new
  process, with a stack running and its models loaded (what a user sees for their second photo);
- **cold analyze**: the same command when no stack runs (it starts one, whose models load).

Writes a Markdown table to stdout and bench/results/stack.md. Targets (issue: one local stack):
warm <= 1.5x raw, start <= 3 s.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANALYSES = "labels,faces,text"


def rekoflow(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rekoflow.cli", *args], capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})})


def photo_file(folder: Path) -> Path:
    from PIL import Image
    from skimage import data

    path = folder / "astronaut.jpg"
    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, format="JPEG", quality=90)
    path.write_bytes(buffer.getvalue())
    return path


def raw_engine_seconds(photo: Path, repeats: int) -> list[float]:
    from rekoflow.engine import Engine

    engine = Engine()
    image = {"Bytes": photo.read_bytes()}
    calls = [("DetectLabels", {"Image": image, "Features": ["GENERAL_LABELS", "IMAGE_PROPERTIES"]}),
             ("DetectFaces", {"Image": image, "Attributes": ["ALL"]}),
             ("DetectText", {"Image": image})]

    def once() -> float:
        started = time.perf_counter()
        for operation, params in calls:
            import base64

            engine.handle(operation, {**params, "Image": {"Bytes": base64.b64encode(image["Bytes"]).decode()}})
        return time.perf_counter() - started

    once()  # load the models
    return [once() for _ in range(repeats)]


def stack_start_seconds(work: Path, repeats: int) -> list[float]:
    durations = []
    for index in range(repeats):
        state = work / f"start-{index}"
        started = time.perf_counter()
        result = rekoflow("up", "--detach", "--port", "0", "--state-dir", str(state))
        durations.append(time.perf_counter() - started)
        assert result.returncode == 0, result.stderr
        rekoflow("down", "--state-dir", str(state))
    return durations


def analyze_seconds(photo: Path, state: Path, out: Path) -> float:
    started = time.perf_counter()
    result = rekoflow("analyze", str(photo), "--analyses", ANALYSES, "--no-cache", "--json", "--out", str(out), "--state-dir", str(state),
                      env={"REKOFLOW_PORT": "0"})
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "SUCCEEDED"
    return elapsed


def main() -> None:
    repeats = int(os.environ.get("BENCH_REPEATS", "5"))
    work = Path(tempfile.mkdtemp(prefix="rekoflow-stack-bench-"))
    try:
        photo = photo_file(work)
        raw = raw_engine_seconds(photo, repeats)
        start = stack_start_seconds(work, 3)
        warm_state = work / "warm"
        analyze_seconds(photo, warm_state, work / "out")  # starts the stack and loads its models
        warm = [analyze_seconds(photo, warm_state, work / "out") for _ in range(repeats)]
        rekoflow("down", "--state-dir", str(warm_state))
        cold = []
        for index in range(min(repeats, 3)):
            state = work / f"cold-{index}"
            cold.append(analyze_seconds(photo, state, work / "out"))
            rekoflow("down", "--state-dir", str(state))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    raw_median = statistics.median(raw)

    def line(name: str, values: list[float], ratio: bool = True) -> str:
        median = statistics.median(values)
        return f"| {name} | {len(values)} | {median:.2f} | {max(values):.2f} | {median / raw_median:.2f}x |" if ratio else \
            f"| {name} | {len(values)} | {median:.2f} | {max(values):.2f} | - |"

    table = "\n".join([
        f"| measure (astronaut photo, {ANALYSES}) | runs | median s | max s | / raw engine |",
        "|---|---:|---:|---:|---:|",
        line("raw engine: the three calls in-process, one after the other", raw),
        line("`rekoflow analyze`, stack running (warm)", warm),
        line("`rekoflow analyze`, no stack running (cold: starts one)", cold),
        line("stack start (`rekoflow up --detach` until it answers, before model loading)", start, ratio=False),
    ])
    load = os.getloadavg()
    text = f"{table}\n\nload average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores\n"
    print(text)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "stack.md").write_text(text)


if __name__ == "__main__":
    main()
