"""`rekoflow analyze IMAGE`: one real execution of the image-analysis state machine, locally."""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rekoflow.commands.common import (
    CommandError,
    add_stack_arguments,
    analysis_types,
    bounded_int,
    check_file,
    check_identifier,
    finite_float,
    inside,
    open_stack,
    parse_analyses,
    printable,
    upload_key,
)
from rekoflow.commands.common import (
    console as make_console,
)
from rekoflow.local.client import new_request_id

if TYPE_CHECKING:
    from rich.console import Console

# rich, PIL and the report are imported when used: every command pays for what the `rekoflow`
# command imports when it starts (`rekoflow analyze --json` needs none of them).

ANALYSES = analysis_types()
DEFAULT_ANALYSES = "labels,faces,text"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("analyze", help="analyse one image file end to end, locally", description=__doc__)
    add_analyze_arguments(parser)
    parser.set_defaults(handler=run)


def add_analyze_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", type=Path, help="PNG or JPEG file")
    parser.add_argument(
        "--analyses",
        default=None,
        help=f"comma-separated: {', '.join(ANALYSES)} (default {DEFAULT_ANALYSES}; compare when --target is given)",
    )
    parser.add_argument("--target", type=Path, help="second image for face comparison (adds 'compare')")
    parser.add_argument("--model", metavar="ARN", help="Custom Labels project version ARN (adds 'custom')")
    add_model_arguments(parser)
    parser.add_argument(
        "--min-confidence",
        type=finite_float(0, 100),
        metavar="PCT",
        help="minimum confidence (0-100) for labels, faces and moderation",
    )
    parser.add_argument("--request-id", help="idempotency key: 1-80 letters, digits, '-' or '_' (default: generated)")
    parser.add_argument(
        "--no-cache", action="store_true", help="analyse again even if the same image was analysed before"
    )
    parser.add_argument("--json", action="store_true", help="print the stored record as JSON")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("out"),
        help="where record.json and the annotated image go (default ./out/REQUEST_ID/)",
    )
    add_stack_arguments(parser)


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """The Custom Labels model's lifecycle options (docs/custom-labels.md, "Leases"), shared with `rekoflow batch`."""
    parser.add_argument(
        "--keep-running",
        action="store_true",
        help="pin the Custom Labels model: never stop it automatically (until a request with --auto-stop)",
    )
    parser.add_argument(
        "--auto-stop", action="store_true", help="undo --keep-running: stop the model once it has been idle"
    )
    parser.add_argument(
        "--idle-stop",
        type=bounded_int(0, 86400),  # the schema's options.custom.idleStopSeconds
        default=None,
        metavar="SECONDS",
        help="stop the model once no request has used it for this long, 0-86400 (default 900)",
    )


def custom_options(args: argparse.Namespace) -> dict[str, Any]:
    """options.custom for --model: the model, local polling (the engine starts a model in about a second, not
    minutes: poll every 2 s, not the production 60 s) and the lifecycle flags the user gave."""
    if args.keep_running and args.auto_stop:
        raise CommandError("--keep-running and --auto-stop contradict each other")
    options: dict[str, Any] = {"projectVersionArn": args.model, "pollIntervalSeconds": 2, "maxPolls": 300}
    if args.keep_running or args.auto_stop:
        options["keepRunning"] = bool(args.keep_running)
    if args.idle_stop is not None:
        options["idleStopSeconds"] = args.idle_stop
    return options


def check_arguments(args: argparse.Namespace) -> list[str]:
    """Every argument, before any work starts: the analyses, the files, the request id, where output goes."""
    analyses = parse_analyses(args.analyses or DEFAULT_ANALYSES, target=args.target, model=args.model)
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
        options.setdefault("custom", {}).update(custom_options(args))
    if options:
        request["options"] = options
    if args.no_cache:
        request["useCache"] = False
    return request


def analyze_file(args: argparse.Namespace, console: Console | None) -> int:
    analyses = check_arguments(args)
    stack = open_stack(args)
    # This process's boto3 clients are made by another thread while this one uploads and waits on the
    # stack (botocore loads their models in ~0.2 s; the upload itself needs none).
    ready = stack.prepare("stepfunctions", "dynamodb")
    image = stack.upload(args.image, key=upload_key(args.image))
    target = stack.upload(args.target, key=upload_key(args.target)) if args.target else None
    request = build_request(args, analyses, image, target)
    with _status(console, f"analysing {printable(args.image.name)}: {', '.join(analyses)}..."):
        result = stack.wait(stack.start_analysis(request), timeout_s=args.timeout)
        ready.join()
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
        error_name = (record or {}).get("error") or result.error or result.status
        if args.json:
            print(
                json.dumps(
                    record
                    or {
                        "requestId": request["requestId"],
                        "status": result.status,
                        "error": error_name,
                        "cause": reason,
                    },
                    indent=2,
                    default=str,
                )
            )
        raise CommandError(f"analysis {request['requestId']} {result.status.lower()}: {error_name}: {reason}")
    if record is None:
        raise CommandError(f"analysis {request['requestId']} succeeded but its record is not in the results table")
    from rekoflow.annotate import write_annotated

    annotated = write_annotated(args.image.read_bytes(), record["results"], out_dir / "annotated.png")
    if args.json:
        print(json.dumps(record, indent=2, default=str))
    else:
        from rich.markup import escape

        from rekoflow.report import print_record

        console = console or make_console()
        print_record(console, record, result.duration_s)
        console.print(
            f"[dim]record: {escape(printable(str(out_dir / 'record.json')))}  "
            f"annotated image: {escape(printable(str(annotated)))}[/dim]"
        )
    return 0


def _status(console: Console | None, text: str) -> Any:
    """A spinner while the analysis runs (none for --json)."""
    if console is None:
        return contextlib.nullcontext()
    from rich.markup import escape

    return console.status(escape(text), spinner="dots")


def run(args: argparse.Namespace) -> int:
    return analyze_file(args, None if args.json else make_console())
