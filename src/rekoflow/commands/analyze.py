"""`rekoflow analyze IMAGE`: one real execution of the image-analysis state machine, locally."""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from rekoflow.annotate import write_annotated
from rekoflow.cli import CommandError
from rekoflow.commands.common import (
    add_stack_arguments,
    check_file,
    check_identifier,
    console as make_console,
    finite_float,
    inside,
    open_stack,
    printable,
    upload_key,
)
from rekoflow.local.client import new_request_id
from rekoflow.report import print_record

ANALYSES = ["labels", "faces", "text", "compare", "moderation", "custom"]
DEFAULT_ANALYSES = "labels,faces,text"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("analyze", help="analyse one image file end to end, locally", description=__doc__)
    add_analyze_arguments(parser)
    parser.set_defaults(handler=run)


def add_analyze_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", type=Path, help="PNG or JPEG file")
    parser.add_argument("--analyses", default=None, help=f"comma-separated: {', '.join(ANALYSES)} (default {DEFAULT_ANALYSES}; compare when --target is given)")
    parser.add_argument("--target", type=Path, help="second image for face comparison (adds 'compare')")
    parser.add_argument("--model", metavar="ARN", help="Custom Labels project version ARN (adds 'custom')")
    parser.add_argument("--keep-running", action="store_true", help="leave the Custom Labels model running afterwards")
    parser.add_argument("--min-confidence", type=finite_float(0, 100), metavar="PCT", help="minimum confidence (0-100) for labels, faces and moderation")
    parser.add_argument("--request-id", help="idempotency key: 1-80 letters, digits, '-' or '_' (default: generated)")
    parser.add_argument("--no-cache", action="store_true", help="analyse again even if the same image was analysed before")
    parser.add_argument("--json", action="store_true", help="print the stored record as JSON")
    parser.add_argument("--out", type=Path, default=Path("out"), help="where record.json and the annotated image go (default ./out/REQUEST_ID/)")
    add_stack_arguments(parser)


def parse_analyses(args: argparse.Namespace) -> list[str]:
    chosen = [a.strip() for a in (args.analyses or DEFAULT_ANALYSES).split(",") if a.strip()]
    if args.target and "compare" not in chosen:
        chosen.append("compare")
    if args.model and "custom" not in chosen:
        chosen.append("custom")
    unknown = [a for a in chosen if a not in ANALYSES]
    if unknown:
        raise CommandError(f"unknown analysis {', '.join(unknown)} (choose from {', '.join(ANALYSES)})")
    if "compare" in chosen and not args.target:
        raise CommandError("'compare' needs --target IMAGE")
    if "custom" in chosen and not args.model:
        raise CommandError("'custom' needs --model ARN (train one with `rekoflow train`)")
    return chosen


def check_arguments(args: argparse.Namespace) -> list[str]:
    """Every argument, before any work starts: the analyses, the files, the request id, where output goes."""
    analyses = parse_analyses(args)
    # The suffix is not checked: the workflow reads the magic bytes and says what the file really is.
    check_file(args.image, "image")
    if args.target:
        check_file(args.target, "target image")
    if args.request_id is not None:
        check_identifier(args.request_id, "requestId", "--request-id")
    if args.out.exists() and not args.out.is_dir():
        raise CommandError(f"--out {printable(str(args.out))} is a file, not a folder")
    if args.model and len(args.model) > 2048:
        raise CommandError(f"--model: {len(args.model):,} characters is not a model version ARN")
    return analyses


def build_request(args: argparse.Namespace, analyses: list[str], image: dict, target: dict | None) -> dict[str, Any]:
    request: dict[str, Any] = {"requestId": args.request_id or new_request_id(), "image": image, "analyses": analyses}
    options: dict[str, Any] = {}
    if args.min_confidence is not None:
        for name in ("labels", "faces", "moderation", "custom"):
            if name in analyses:
                options[name] = {"minConfidence": args.min_confidence}
    if target:
        options["compare"] = {"targetImage": target}
    if "custom" in analyses:
        # The local engine starts a model in about a second: poll every 2 s, not the production 60 s.
        options.setdefault("custom", {}).update(
            {"projectVersionArn": args.model, "keepRunning": bool(args.keep_running), "pollIntervalSeconds": 2, "maxPolls": 300}
        )
    if options:
        request["options"] = options
    if args.no_cache:
        request["useCache"] = False
    return request


def analyze_file(args: argparse.Namespace, console: Console) -> int:
    analyses = check_arguments(args)
    stack = open_stack(args)
    image = stack.upload(args.image, key=upload_key(args.image))
    target = stack.upload(args.target, key=upload_key(args.target)) if args.target else None
    request = build_request(args, analyses, image, target)
    status = f"analysing {escape(printable(args.image.name))}: {', '.join(analyses)}..."
    with console.status(status, spinner="dots") if not args.json else contextlib.nullcontext():
        result = stack.analyze(request, timeout_s=args.timeout)
    if result.status == "RUNNING":
        raise CommandError(
            f"analysis {request['requestId']} is still running after {args.timeout:g} s (--timeout); "
            f"it goes on in the local stack: follow it with `rekoflow trace {request['requestId']}`"
        )
    record = stack.get_record(request["requestId"])
    out_dir = inside(args.out, request["requestId"])
    out_dir.mkdir(parents=True, exist_ok=True)
    if record is not None:
        (out_dir / "record.json").write_text(json.dumps(record, indent=2, default=str))
    if not result.succeeded:
        reason = (record or {}).get("cause") or result.cause or "no cause given"
        error = (record or {}).get("error") or result.error or result.status
        if args.json:
            print(json.dumps(record or {"requestId": request["requestId"], "status": result.status, "error": error, "cause": reason}, indent=2, default=str))
        raise CommandError(f"analysis {request['requestId']} {result.status.lower()}: {error}: {reason}")
    annotated = write_annotated(args.image.read_bytes(), record["results"], out_dir / "annotated.png")
    if args.json:
        print(json.dumps(record, indent=2, default=str))
    else:
        print_record(console, record, result.duration_s)
        console.print(f"[dim]record: {escape(printable(str(out_dir / 'record.json')))}  annotated image: {escape(printable(str(annotated)))}[/dim]")
    return 0


def run(args: argparse.Namespace) -> int:
    return analyze_file(args, make_console())
