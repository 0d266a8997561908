"""`rekoflow batch FOLDER|s3://BUCKET/PREFIX`: a batch run of the batch state machine, locally.

Every image under the prefix is analysed by a child execution of the image-analysis state machine
(Distributed Map), so each image is cached, traced and recorded like a single request.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rekoflow.commands.analyze import add_model_arguments, custom_options
from rekoflow.commands.common import (
    IMAGE_SUFFIXES,
    CommandError,
    add_stack_arguments,
    analysis_types,
    bounded_int,
    check_identifier,
    finite_float,
    open_stack,
    parse_analyses,
    printable,
)
from rekoflow.commands.common import (
    console as make_console,
)
from rekoflow.local.client import StackClient
from rekoflow.records import batch_record_key

if TYPE_CHECKING:
    from rich.console import Console

# rich and the report are imported when used (see rekoflow.commands.analyze).

DEFAULT_ANALYSES = "labels,faces,text"
MAX_IMAGE_BYTES = 15 * 1024 * 1024


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "batch", help="analyse every image in a folder or under an S3 prefix, locally", description=__doc__
    )
    parser.add_argument(
        "source", help="a local folder (uploaded to the local images bucket) or s3://BUCKET/PREFIX in the local stack"
    )
    parser.add_argument(
        "--analyses",
        default=DEFAULT_ANALYSES,
        help=f"comma-separated: {', '.join(a for a in analysis_types() if a != 'compare')} "
        f"(default {DEFAULT_ANALYSES}; custom needs --model)",
    )
    parser.add_argument(
        "--model",
        metavar="ARN",
        help="Custom Labels project version ARN for 'custom' (adds it): leased for the whole batch, started once",
    )
    add_model_arguments(parser)
    parser.add_argument(
        "--batch-id",
        help="batch id (1-47 letters, digits, '-' or '_'), also the execution name and the prefix "
        "of every child execution (default: generated)",
    )
    parser.add_argument(
        "--max-concurrency",
        type=bounded_int(1, 1000),
        default=5,
        metavar="N",
        help="child executions at once, 1-1000; keep it within the Rekognition TPS quota (default 5)",
    )
    parser.add_argument(
        "--tolerated-failure-percentage",
        type=finite_float(0, 100),
        default=10.0,
        metavar="PCT",
        help="the batch fails when more images fail, 0-100 (default 10)",
    )
    parser.add_argument("--no-cache", action="store_true", help="analyse again even images analysed before")
    parser.add_argument("--json", action="store_true", help="print the batch summary as JSON")
    add_stack_arguments(parser)
    parser.set_defaults(handler=run)


def new_batch_id() -> str:
    return time.strftime("batch-%Y%m%d-%H%M%S-") + hashlib.sha256(str(time.time_ns()).encode()).hexdigest()[:6]


def folder_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def upload_folder(stack: StackClient, folder: Path) -> tuple[str, str, int]:
    """Upload every file of the folder under a prefix keyed by the folder's content.

    The same photos, the same objects.
    """
    files = folder_files(folder)
    if not files:
        raise CommandError(f"{folder} holds no files")
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    prefix = f"folders/{digest.hexdigest()[:16]}/"
    for path in files:
        stack.upload(path, key=prefix + path.relative_to(folder).as_posix())
    return stack.images_bucket, prefix, len(files)


def parse_s3(source: str) -> tuple[str, str]:
    bucket, _, prefix = source.removeprefix("s3://").partition("/")
    if not bucket:
        raise CommandError(f"{source}: expected s3://BUCKET/PREFIX")
    return bucket, prefix


def expected_images(stack: StackClient, bucket: str, prefix: str) -> int:
    count = 0
    for page in stack.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if Path(obj["Key"]).suffix.lower() in IMAGE_SUFFIXES and 0 < obj["Size"] <= MAX_IMAGE_BYTES:
                count += 1
    return count


class ChildTracker:
    """Counts the batch's finished child executions (named "<batchId>-...") from the stack's execution events."""

    def __init__(self, batch_id: str) -> None:
        self.batch_id = batch_id
        self.finished: dict[str, dict[str, Any]] = {}
        self.batch_ended = False

    def add(self, events: list[dict[str, Any]]) -> dict[str, int]:
        for event in events:
            name = event["name"]
            if name == self.batch_id:
                self.batch_ended = True
            elif name.startswith(f"{self.batch_id}-"):
                output = json.loads(event["output"]) if event.get("output") else {}
                analyses = set(output.get("analyses") or [])
                self.finished[name] = {
                    "status": event["status"],
                    "cached": bool(analyses) and analyses <= set(output.get("cachedAnalyses") or []),
                }
        done = list(self.finished.values())
        return {
            "done": len(done),
            "succeeded": sum(1 for f in done if f["status"] == "SUCCEEDED"),
            "failed": sum(1 for f in done if f["status"] != "SUCCEEDED"),
            "cached": sum(1 for f in done if f["cached"]),
        }


def rate_column() -> Any:
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            elapsed = task.elapsed or 0
            rate = task.completed / elapsed if elapsed > 0 else 0.0
            return Text(f"{rate:.1f} images/s", style="cyan")

    return RateColumn()


def describe_findings(record: dict[str, Any]) -> str:
    results = record.get("results") or {}
    parts = []
    labels = results.get("labels")
    if labels:
        top = ", ".join(l["name"] for l in labels.get("labels", [])[:3])
        parts.append(f"{labels.get('count', 0)} labels" + (f" ({top})" if top else ""))
    for name, word in (("faces", "faces"), ("text", "words")):
        if results.get(name):
            parts.append(f"{results[name].get('count', 0)} {word}")
    if results.get("moderation"):
        parts.append("flagged" if results["moderation"].get("flagged") else "safe")
    custom = results.get("custom")
    if custom:
        parts.append(
            "custom: "
            + (", ".join(f"{l['name']} {l['confidence']:.0f}%" for l in custom.get("labels", [])[:3]) or "none")
        )
    return "; ".join(parts) or "-"


def print_summary(console: Console, summary: dict[str, Any], records: list[dict[str, Any]], elapsed: float) -> None:
    from rich.markup import escape
    from rich.table import Table

    from rekoflow.report import describe_cost

    images = sorted(
        (r for r in records if r.get("recordType") == "ANALYSIS"), key=lambda r: (r.get("image") or {}).get("key") or ""
    )
    table = Table(
        title=escape(printable(f"Batch {summary.get('batchId')}: {summary.get('source')}")), title_justify="left"
    )
    for column in ("image", "status", "cached", "findings / reason"):
        table.add_column(column)
    for record in images:
        image = record.get("image") or (record.get("request") or {}).get("image") or {}
        key = escape(printable(str(image.get("key", record.get("pk")))))
        if record.get("status") == "SUCCEEDED":
            analyses = set(record.get("analyses") or [])
            cached = bool(analyses) and analyses <= set(record.get("cachedAnalyses") or [])
            table.add_row(
                key.rsplit("/", 1)[-1],
                "[green]SUCCEEDED[/green]",
                "yes" if cached else "no",
                escape(printable(describe_findings(record))),
            )
        else:
            table.add_row(
                key.rsplit("/", 1)[-1],
                "[red]FAILED[/red]",
                "-",
                escape(printable(f"{record.get('error')}: {record.get('cause')}")),
            )
    console.print(table)
    reasons = summary.get("skippedReasons") or {}
    if summary.get("skipped"):
        console.print(
            escape(f"Skipped {summary['skipped']}: " + "; ".join(f"{n} {reason}" for reason, n in reasons.items()))
        )
    analysed = summary.get("analysed", 0)
    rate = analysed / elapsed if elapsed > 0 else 0.0
    console.print(
        f"[bold]{summary.get('status')}[/bold]: {summary.get('succeeded', 0)} succeeded, "
        f"{summary.get('failed', 0)} failed, {summary.get('skipped', 0)} skipped of {summary.get('total', 0)} objects "
        f"in {elapsed:.1f} s ({rate:.1f} images/s)"
    )
    if summary.get("succeeded"):
        note = " (no Rekognition calls)" if summary.get("cached") == summary.get("succeeded") else ""
        console.print(f"{summary.get('cached', 0)} of {summary.get('succeeded')} from cache{note}")
    cost = describe_cost(summary.get("billing"))
    if cost:
        console.print(cost)
    if summary.get("resultManifest"):
        console.print(
            f"[dim]results: {summary['resultManifest']}  trace: rekoflow trace {summary.get('batchId')}[/dim]"
        )


def check_arguments(args: argparse.Namespace) -> tuple[list[str], str]:
    """Every argument before any work starts: analyses, batch id (the schema's pattern), the source."""
    analyses = parse_analyses(args.analyses, model=args.model, batch=True)
    if args.model and len(args.model) > 2048:
        raise CommandError(f"--model: {len(args.model):,} characters is not a model version ARN")
    batch_id = check_identifier(args.batch_id, "batchId", "--batch-id") if args.batch_id is not None else new_batch_id()
    source = args.source
    if source.startswith("s3://"):
        parse_s3(source)
    else:
        path = Path(source)
        if not path.exists():
            raise CommandError(f"{printable(source)} does not exist (give a folder or s3://BUCKET/PREFIX)")
        if not path.is_dir():
            raise CommandError(f"{printable(source)} is a file, not a folder (give a folder or s3://BUCKET/PREFIX)")
    return analyses, batch_id


def run(args: argparse.Namespace) -> int:
    from rich.markup import escape
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = make_console()
    analyses, batch_id = check_arguments(args)
    source = args.source
    is_s3 = source.startswith("s3://")
    stack = open_stack(args)
    if is_s3:
        bucket, prefix = parse_s3(source)
        try:
            stack.s3.head_bucket(Bucket=bucket)
        except Exception as error:  # noqa: BLE001
            raise CommandError(
                f"bucket {bucket} is not in the local stack (the images bucket is {stack.images_bucket})"
            ) from error
    else:
        with console.status(f"uploading {escape(printable(source))}...", spinner="dots"):
            bucket, prefix, _ = upload_folder(stack, Path(source))
    expected = expected_images(stack, bucket, prefix)
    batch_input: dict[str, Any] = {
        "bucket": bucket,
        "prefix": prefix,
        "analyses": analyses,
        "batchId": batch_id,
        "maxConcurrency": args.max_concurrency,
        "toleratedFailurePercentage": args.tolerated_failure_percentage,
    }
    if "custom" in analyses:
        batch_input["options"] = {"custom": custom_options(args)}
    if args.no_cache:
        batch_input["useCache"] = False
    started = time.monotonic()
    # Follow the batch from the stack's events (executions that ended), not by listing executions.
    events = stack.ended_executions(prefix=batch_id, after=stack.event_sequence(), timeout_s=0.5)
    arn = stack.start_execution("batch_analysis", batch_input, batch_id)
    # The same batch under an id used before is that execution: if it has ended, no event will come.
    ended_before = stack.describe(arn).status != "RUNNING"
    tracker = ChildTracker(batch_id)
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(
            "[green]{task.fields[succeeded]} ok[/green] [red]{task.fields[failed]} failed[/red] "
            "[cyan]{task.fields[cached]} cached[/cyan]"
        ),
        rate_column(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    timed_out = False
    with Progress(*columns, console=console, disable=args.json, transient=False) as progress:
        task = progress.add_task(f"batch {batch_id}", total=expected or None, succeeded=0, failed=0, cached=0)
        deadline = started + args.timeout
        for ended in () if ended_before else events:
            counts = tracker.add(ended)
            progress.update(
                task,
                completed=counts["done"],
                succeeded=counts["succeeded"],
                failed=counts["failed"],
                cached=counts["cached"],
            )
            if tracker.batch_ended:
                break
            if time.monotonic() > deadline:
                timed_out = True
                break
    if timed_out:
        raise CommandError(
            f"batch {batch_id} is still running after {args.timeout:g} s (--timeout): "
            f"{tracker.add([])['done']} of {expected} images done; "
            f"it goes on in the local stack: follow it with `rekoflow trace {batch_id}`"
        )
    result = stack.describe(arn)
    elapsed = time.monotonic() - started
    record = stack.get_record(batch_record_key(batch_id))
    records = stack.query_batch(batch_id)
    summary = result.output if result.succeeded and isinstance(result.output, dict) else {}
    if not summary and record:
        summary = dict(record)  # its JSON attributes already parsed (decode_record)
    summary.setdefault("batchId", batch_id)
    summary.setdefault("status", result.status)
    if args.json:
        print(json.dumps({**summary, "elapsedSeconds": round(elapsed, 3)}, indent=2, default=str))
    else:
        print_summary(console, summary, records, elapsed)
    if not result.succeeded:
        raise CommandError(f"batch {batch_id} {result.status.lower()}: {result.error}: {result.cause}")
    return 0
