"""The local workflow next to the models it runs, side by side in one run (docs/performance.md).

Everything runs against a real `rekoflow up` stack process on this machine, on the same distinct
photos, so the ratios hold on a shared, noisy machine:

- **raw engine**: the calls the workflow makes, on the engine in this process (models loaded): the
  batch's DetectLabels at the batch's concurrency (threads), and one photo's labels + faces + text
  one after the other and at once;
- **batch**: `rekoflow batch FOLDER --analyses labels --max-concurrency C`, fresh (`--no-cache`),
  then cached twice, then cached over the folder three times over (a larger batch: memory);
- **one execution**: the image-analysis execution's own duration (its history) for labels + faces
  + text, next to the raw engine's time for the same three calls; its state transitions;
- **memory**: the stack process's resident set after each phase (and its peak), per cached image;
- **stack start**: `rekoflow up --detach` on a fresh state folder until it answers (its models
  load at their first request, so this is the time before model loading);
- **analyze**: `rekoflow analyze PHOTO --no-cache` as a new process, warm (stack running, models
  loaded) and cold (no stack: it starts one, whose models load).

Writes bench/results/stack.md and docs/performance.md (with the machine's load). Targets (issue 12
and the stack issue): fresh batch >= 0.8x raw engine throughput at the same concurrency; cached
rerun >= 25 images/s; one execution <= 1.25x the raw engine time for the same calls; memory flat
with batch size; warm analyze <= 1.5x the raw engine; start <= 3 s.

    .venv/bin/python bench/stack_bench.py     # BENCH_IMAGES=32 BENCH_CONCURRENCY=2 BENCH_REPEATS=5
"""

from __future__ import annotations

import base64
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SINGLE_ANALYSES = "labels,faces,text"
# What the detect functions send for these analyses with the default options
# (functions/rekoflow_common/options.py): the raw engine gets the same calls.
LABELS_CALL = (
    "DetectLabels",
    {"MaxLabels": 50, "MinConfidence": 60.0, "Features": ["GENERAL_LABELS", "IMAGE_PROPERTIES"]},
)
SINGLE_CALLS = [
    LABELS_CALL,
    ("DetectFaces", {"Attributes": ["ALL"]}),
    ("DetectText", {"Filters": {"WordFilter": {"MinConfidence": 80.0}}}),
]


# ----- inputs ----------------------------------------------------------------------------------------
def distinct_photos(count: int) -> list[tuple[str, bytes]]:
    """``count`` distinct JPEG photos: the package's sample photos, flipped and cropped."""
    import numpy as np
    from PIL import Image
    from skimage import data

    sources = [
        ("astronaut", data.astronaut()),
        ("chelsea", data.chelsea()),
        ("coffee", data.coffee()),
        ("rocket", data.rocket()),
        ("hubble", data.hubble_deep_field()),
        ("ihc", data.immunohistochemistry()),
        ("camera", np.stack([data.camera()] * 3, axis=-1)),
        ("page", np.stack([data.page()] * 3, axis=-1)),
    ]
    variants = [
        ("full", lambda a: a),
        ("mirror", lambda a: a[:, ::-1]),
        (
            "crop",
            lambda a: a[a.shape[0] // 10 : -max(1, a.shape[0] // 10), a.shape[1] // 10 : -max(1, a.shape[1] // 10)],
        ),
        ("flip", lambda a: a[::-1]),
    ]
    photos = []
    for variant, transform in variants:
        for name, array in sources:
            if len(photos) == count:
                return photos
            buffer = io.BytesIO()
            Image.fromarray(np.ascontiguousarray(transform(array))).convert("RGB").save(
                buffer, format="JPEG", quality=90
            )
            photos.append((f"{name}-{variant}.jpg", buffer.getvalue()))
    while len(photos) < count:  # more than the variants give: recompress at other qualities
        name, body = photos[len(photos) % len(variants * len(sources))]
        buffer = io.BytesIO()
        Image.open(io.BytesIO(body)).save(buffer, format="JPEG", quality=70 + len(photos) % 25)
        photos.append((f"q{len(photos)}-{name}", buffer.getvalue()))
    return photos


# ----- the raw engine, in this process ------------------------------------------------------------------
class RawEngine:
    def __init__(self) -> None:
        from rekoflow.engine import Engine

        self.engine = Engine()

    def call(self, operation: str, params: dict[str, Any], body: bytes) -> None:
        self.engine.handle(operation, {**params, "Image": {"Bytes": base64.b64encode(body).decode()}})

    def throughput(self, photos: list[bytes], concurrency: int) -> float:
        operation, params = LABELS_CALL
        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(lambda body: self.call(operation, params, body), photos))
        return len(photos) / (time.perf_counter() - started)

    def single(self, body: bytes, parallel: bool) -> float:
        started = time.perf_counter()
        if parallel:
            with ThreadPoolExecutor(len(SINGLE_CALLS)) as pool:
                list(pool.map(lambda call: self.call(call[0], call[1], body), SINGLE_CALLS))
        else:
            for operation, params in SINGLE_CALLS:
                self.call(operation, params, body)
        return time.perf_counter() - started


# ----- the stack, as a user runs it ---------------------------------------------------------------------
def rekoflow(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rekoflow.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "REKOFLOW_PORT": "0"},
        check=False,
    )


def must(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    if result.returncode != 0:
        raise SystemExit(f"bench: {' '.join(result.args[3:])} failed: {result.stderr[-1500:]}")
    return result


def stack_status(state: Path) -> dict[str, Any]:
    return json.loads((state / "stack.json").read_text())


def memory_kib(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def stack_clients(status: dict[str, Any]) -> tuple[Any, Any]:
    import boto3

    credentials = status["credentials"]
    session = boto3.session.Session()
    kwargs = {
        "endpoint_url": status["endpoint"],
        "region_name": status["region"],
        "aws_access_key_id": credentials["accessKeyId"],
        "aws_secret_access_key": credentials["secretAccessKey"],
    }
    return session.client("stepfunctions", **kwargs), session.client("dynamodb", **kwargs)


def transitions(sfn: Any, arn: str) -> int:
    """States entered (what Step Functions bills as state transitions)."""
    count = 0
    for page in sfn.get_paginator("get_execution_history").paginate(
        executionArn=arn, PaginationConfig={"PageSize": 1000}
    ):
        count += sum(1 for event in page["events"] if event["type"].endswith("StateEntered"))
    return count


def execution_seconds(sfn: Any, arn: str) -> float:
    described = sfn.describe_execution(executionArn=arn)
    return (described["stopDate"] - described["startDate"]).total_seconds()


def run_batch(folder: Path, state: Path, concurrency: int, fresh: bool) -> dict[str, Any]:
    args = [
        "batch",
        str(folder),
        "--analyses",
        "labels",
        "--max-concurrency",
        str(concurrency),
        "--json",
        "--state-dir",
        str(state),
        "--tolerated-failure-percentage",
        "0",
    ]
    started = time.perf_counter()
    summary = json.loads(must(rekoflow(*args, *(["--no-cache"] if fresh else []))).stdout)
    summary["wallSeconds"] = time.perf_counter() - started
    if summary.get("status") != "SUCCEEDED" or summary.get("failed"):
        raise SystemExit(f"bench: batch {summary.get('batchId')} {summary.get('status')}: {summary.get('failures')}")
    return summary


def analyze(photo: Path, state: Path, out: Path) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    result = must(
        rekoflow(
            "analyze",
            str(photo),
            "--analyses",
            SINGLE_ANALYSES,
            "--no-cache",
            "--json",
            "--out",
            str(out),
            "--state-dir",
            str(state),
        )
    )
    elapsed = time.perf_counter() - started
    record = json.loads(result.stdout)
    if record.get("status") != "SUCCEEDED":
        raise SystemExit(f"bench: analyze {record.get('status')}: {record.get('error')}: {record.get('cause')}")
    return elapsed, record


def start_seconds(work: Path, repeats: int) -> list[float]:
    durations = []
    for index in range(repeats):
        state = work / f"start-{index}"
        started = time.perf_counter()
        must(rekoflow("up", "--detach", "--port", "0", "--state-dir", str(state)))
        durations.append(time.perf_counter() - started)
        rekoflow("down", "--state-dir", str(state))
    return durations


class LoadSampler:
    """The machine's 1-minute load average, sampled while the bench runs (other work shares it)."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(5):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadSampler:
        self.samples.append(os.getloadavg()[0])
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self.samples.append(os.getloadavg()[0])


# ----- the run ------------------------------------------------------------------------------------------
def main() -> None:
    count = int(os.environ.get("BENCH_IMAGES", "32"))
    concurrency = int(os.environ.get("BENCH_CONCURRENCY", "2"))
    repeats = int(os.environ.get("BENCH_REPEATS", "5"))
    work = Path(tempfile.mkdtemp(prefix="rekoflow-stack-bench-"))
    measured: dict[str, Any] = {}
    try:
        with LoadSampler() as load:
            photos = distinct_photos(count)
            folder = work / "photos"
            folder.mkdir()
            for name, body in photos:
                (folder / name).write_bytes(body)
            larger = work / "photos-x3"  # the same photos three times over, under other names: a larger (cached) batch
            for copy in range(3):
                (larger / f"copy{copy}").mkdir(parents=True)
                for name, body in photos:
                    (larger / f"copy{copy}" / name).write_bytes(body)
            single_photo = folder / photos[0][0]

            # The raw engine lives in this process for the whole run: each raw measure is taken
            # next to the stack's (paired), so a change in the machine's load hits both.
            raw = RawEngine()
            raw.throughput([body for _, body in photos[:concurrency]], concurrency)  # load the labels model
            raw.single(photos[0][1], parallel=False)  # load the others

            measured["start"] = start_seconds(work, 3)

            state = work / "bench-stack"
            must(rekoflow("up", "--detach", "--port", "0", "--state-dir", str(state)))
            status = stack_status(state)
            pid = int(status["pid"])
            sfn, _ = stack_clients(status)
            memory = {"started": memory_kib(pid)}
            analyze(single_photo, state, work / "out")  # loads the models
            memory["models loaded"] = memory_kib(pid)

            measured["raw_throughput"], measured["fresh"] = [], []
            for index in range(3):
                measured["raw_throughput"].append(raw.throughput([body for _, body in photos], concurrency))
                measured["fresh"].append(run_batch(folder, state, concurrency, fresh=True))
                memory[f"fresh batch ({count}) #{index + 1}"] = memory_kib(pid)
            measured["cached"] = [run_batch(folder, state, concurrency, fresh=False) for _ in range(3)]
            memory[f"cached batch ({count}) x3"] = memory_kib(pid)
            measured["cached_larger"] = run_batch(larger, state, concurrency, fresh=False)
            memory[f"cached batch ({3 * count})"] = memory_kib(pid)

            machines = status["resources"]["stateMachines"]
            batch_executions = machines["batch_analysis"].replace(":stateMachine:", ":execution:")
            batch_arn = f"{batch_executions}:{measured['fresh'][0]['batchId']}"
            child_prefix = f"{measured['fresh'][0]['batchId']}-"
            children = [
                e["executionArn"]
                for page in sfn.get_paginator("list_executions").paginate(
                    stateMachineArn=status["resources"]["stateMachines"]["image_analysis"]
                )
                for e in page["executions"]
                if e["name"].startswith(child_prefix)
            ]
            measured["batch_transitions"] = transitions(sfn, batch_arn)
            measured["child_transitions"] = statistics.mean(transitions(sfn, arn) for arn in children[:5])

            image_executions = machines["image_analysis"].replace(":stateMachine:", ":execution:")
            warm, executions, sequential, parallel = [], [], [], []
            for _ in range(repeats):
                sequential.append(raw.single(photos[0][1], parallel=False))
                parallel.append(raw.single(photos[0][1], parallel=True))
                elapsed, record = analyze(single_photo, state, work / "out")
                warm.append(elapsed)
                arn = f"{image_executions}:{record['requestId']}"
                executions.append(execution_seconds(sfn, arn))
            measured.update(
                warm=warm, execution=executions, raw_single_sequential=sequential, raw_single_parallel=parallel
            )
            measured["single_transitions"] = transitions(sfn, arn)
            memory["after analyses"] = memory_kib(pid)
            rekoflow("down", "--state-dir", str(state))
            del raw

            cold = []
            for index in range(min(repeats, 3)):
                cold_state = work / f"cold-{index}"
                cold.append(analyze(single_photo, cold_state, work / "out")[0])
                rekoflow("down", "--state-dir", str(cold_state))
            measured["cold"] = cold
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(measured, memory, load.samples, count, concurrency)


def report(
    m: dict[str, Any], memory: dict[str, dict[str, int]], load: list[float], count: int, concurrency: int
) -> None:
    median = statistics.median
    raw_rate = statistics.mean(m["raw_throughput"])
    raw_seq, raw_par = median(m["raw_single_sequential"]), median(m["raw_single_parallel"])
    fresh_rate = statistics.mean(count / run["elapsedSeconds"] for run in m["fresh"])
    cached_rates = [count / run["elapsedSeconds"] for run in m["cached"]]
    cached_rate = median(cached_rates)
    larger_rate = 3 * count / m["cached_larger"]["elapsedSeconds"]
    execution = median(m["execution"])
    warm = median(m["warm"])

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    throughput = "\n".join(
        [
            f"| throughput: {count} distinct photos, labels, concurrency {concurrency} "
            "| images/s | / raw engine | target |",
            "|---|---:|---:|---|",
            f"| raw engine: DetectLabels in this process, {concurrency} threads, mean of 3 (each before a fresh batch) "
            f"| {raw_rate:.2f} | 1.00x | |",
            f"| `rekoflow batch --no-cache` (fresh: every image analysed), mean of 3 | {fresh_rate:.2f} "
            f"| {fresh_rate / raw_rate:.2f}x | >= 0.8x: {verdict(fresh_rate >= 0.8 * raw_rate)} |",
            f"| `rekoflow batch` again (cached: no model call), median of 3 (best {max(cached_rates):.1f}) "
            f"| {cached_rate:.1f} | - | >= 25/s: {verdict(cached_rate >= 25)} |",
            f"| `rekoflow batch` over the folder x3 ({3 * count} images, cached) | {larger_rate:.1f} | - | |",
        ]
    )
    single = "\n".join(
        [
            f"| one photo, {SINGLE_ANALYSES} (astronaut), median of {len(m['execution'])} "
            "(raw measured right before each) | seconds | / raw, one after the other | / raw, at once | target |",
            "|---|---:|---:|---:|---|",
            f"| raw engine: the three calls one after the other | {raw_seq:.2f} | 1.00x | {raw_seq / raw_par:.2f}x | |",
            f"| raw engine: the three calls at once (as the workflow's Map runs them) | {raw_par:.2f} "
            f"| {raw_par / raw_seq:.2f}x | 1.00x | |",
            f"| one execution (its history: start to end) | {execution:.2f} | {execution / raw_seq:.2f}x "
            f"| {execution / raw_par:.2f}x | <= 1.25x: {verdict(execution <= 1.25 * raw_seq)} |",
            f"| `rekoflow analyze`, stack running (warm) | {warm:.2f} | {warm / raw_seq:.2f}x "
            f"| {warm / raw_par:.2f}x | <= 1.5x: {verdict(warm <= 1.5 * raw_seq)} |",
            f"| `rekoflow analyze`, no stack running (cold: starts one, loads models) | {median(m['cold']):.2f} "
            f"| {median(m['cold']) / raw_seq:.2f}x | - | |",
            "| stack start: `rekoflow up --detach` until it answers (before model loading), "
            f"median of {len(m['start'])} | {median(m['start']):.2f} | - | - "
            f"| <= 3 s: {verdict(median(m['start']) <= 3)} |",
        ]
    )
    transitions_table = "\n".join(
        [
            "| state transitions (states entered) | per execution |",
            "|---|---:|",
            f"| one execution, {SINGLE_ANALYSES} | {m['single_transitions']} |",
            f"| a batch child (labels) | {m['child_transitions']:.0f} |",
            f"| the batch execution itself ({count} images; its Map Run's iterations run as the children) "
            f"| {m['batch_transitions']} |",
        ]
    )
    rows = ["| stack process memory | RSS MiB | peak MiB |", "|---|---:|---:|"]
    for phase, values in memory.items():
        rows.append(f"| {phase} | {values['VmRSS'] / 1024:.0f} | {values['VmHWM'] / 1024:.0f} |")
    fresh_rss = memory[f"fresh batch ({count}) #3"]["VmRSS"] - memory[f"fresh batch ({count}) #2"]["VmRSS"]
    fresh_growth = fresh_rss / count
    cached_x3 = memory[f"cached batch ({count}) x3"]["VmRSS"]
    per_image = (memory[f"cached batch ({3 * count})"]["VmRSS"] - cached_x3) / (3 * count)
    rows.append(
        "| growth per image, third fresh batch (the first two fill the engine's and allocator's pools) "
        f"| {fresh_growth:.0f} KiB | |"
    )
    rows.append(
        f"| growth per image over the larger cached batch | {per_image:.0f} KiB "
        f"| flat: {verdict(max(per_image, fresh_growth) < 64)} |"
    )
    memory_table = "\n".join(rows)
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"1-minute load average during the run min {min(load):.1f} / median {median(load):.1f} / max {max(load):.1f} "
        "(the machine is shared: ratios are within this run)"
    )
    text = "\n\n".join([throughput, single, transitions_table, memory_table, machine]) + "\n"
    print(text)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "stack.md").write_text(text)
    write_docs(text)


def write_docs(tables: str) -> None:
    """docs/performance.md: the prose stays, the measured section is replaced by this run's tables."""
    path = ROOT / "docs" / "performance.md"
    begin, end = "<!-- stack_bench: begin -->", "<!-- stack_bench: end -->"
    stamp = time.strftime("%Y-%m-%d %H:%M")
    section = f"{begin}\nMeasured by `make bench` (bench/stack_bench.py) on {stamp}:\n\n{tables}{end}"
    text = path.read_text() if path.exists() else f"# Performance\n\n{begin}\n{end}\n"
    if begin in text and end in text:
        head, _, rest = text.partition(begin)
        _, _, tail = rest.partition(end)
        text = head + section + tail
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text)


if __name__ == "__main__":
    main()
