"""`rekoflow train FOLDER --project NAME`: train a Custom Labels model with the training state machine, locally.

FOLDER has one sub-folder per label (``FOLDER/cat/*.jpg``, ``FOLDER/dog/*.png``...). The images are
uploaded to the local images bucket with a GroundTruth manifest, and one execution of the training
state machine (statemachines/custom_labels_training.asl.json) prepares the datasets, trains (polled),
evaluates and applies the F1 gate. The new version is not started: the first request that uses it
(``rekoflow analyze IMAGE --model ARN``) starts it, and it stops once it has been idle.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rekoflow.commands.common import IMAGE_SUFFIXES, CommandError, add_stack_arguments, open_stack
from rekoflow.commands.common import console as make_console
from rekoflow.records import TERMINAL_STATUSES

if TYPE_CHECKING:
    from rich.console import Console

# rich is imported when used (see rekoflow.commands.analyze).

NAME_HELP = "letters, digits, '_', '.', '-' (Rekognition's rule)"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a Custom Labels model from a folder of labelled images, locally",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("folder", type=Path, help="folder with one sub-folder of PNG/JPEG images per label")
    parser.add_argument(
        "--project", required=True, help=f"Custom Labels project name, created when missing ({NAME_HELP})"
    )
    parser.add_argument("--version", help="model version name (default: v-<date>-<time>)")
    parser.add_argument(
        "--min-f1",
        type=float,
        default=0.0,
        metavar="X",
        help="fail unless the F1 score on the test split is at least X (0-1; default 0)",
    )
    split = parser.add_mutually_exclusive_group()
    split.add_argument(
        "--test-split",
        type=float,
        default=None,
        metavar="SHARE",
        help="share of each label's images held out for testing (default 0.2, Rekognition's auto-split)",
    )
    split.add_argument("--test-folder", type=Path, help="test images, one sub-folder per label (instead of a split)")
    parser.add_argument(
        "--poll-interval",
        type=int,
        default=1,
        metavar="SECONDS",
        help="seconds between status polls "
        "(default 1 locally; the workflow's production default is 120 s for training, 60 s for start)",
    )
    parser.add_argument(
        "--max-training-polls", type=int, default=600, help="give up on training after this many polls (default 600)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the training result (model ARN, F1, per-label metrics) as JSON"
    )
    add_stack_arguments(parser)
    parser.set_defaults(handler=run)


def labelled_images(folder: Path, what: str) -> dict[str, list[Path]]:
    if not folder.is_dir():
        raise CommandError(f"{what} {folder} is not a folder")
    labels = {
        sub.name: sorted(p for p in sub.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        for sub in sorted(folder.iterdir())
        if sub.is_dir() and not sub.name.startswith(".")
    }
    labels = {name: images for name, images in labels.items() if images}
    if not labels:
        raise CommandError(f"{what} {folder} has no sub-folders with PNG/JPEG images (one sub-folder per label)")
    return labels


def split_images(labels: dict[str, list[Path]], share: float) -> tuple[dict[str, list[Path]], dict[str, list[Path]]]:
    """Deterministic per-label split: every label with 2+ images gets at least one test image."""
    train: dict[str, list[Path]] = {}
    test: dict[str, list[Path]] = {}
    for label, images in labels.items():
        ordered = sorted(images, key=lambda p: hashlib.sha256(p.name.encode()).hexdigest())
        count = max(1, round(len(images) * share)) if len(images) > 1 else 0
        test[label], train[label] = ordered[:count], ordered[count:]
    return train, test


def manifest_line(bucket: str, key: str, label: str) -> str:
    return json.dumps(
        {
            "source-ref": f"s3://{bucket}/{key}",
            "label": 1,
            "label-metadata": {
                "class-name": label,
                "confidence": 1,
                "human-annotated": "yes",
                "type": "groundtruth/image-classification",
            },
        }
    )


def upload_split(stack: Any, labels: dict[str, list[Path]], prefix: str) -> tuple[dict[str, str], int]:
    lines = []
    for label, images in labels.items():
        for path in images:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            ref = stack.upload(path, key=f"{prefix}/{label}/{digest}-{path.name}")
            lines.append(manifest_line(ref["bucket"], ref["key"], label))
    manifest = stack.put_bytes(("\n".join(lines) + "\n").encode(), f"{prefix}/output.manifest")
    return manifest, len(lines)


def build_training(args: argparse.Namespace, training_manifest: dict, test_manifest: dict | None) -> dict[str, Any]:
    """The training machine's input: options.custom.training of the request schema."""
    training: dict[str, Any] = {
        "projectName": args.project,
        "versionName": args.version,
        "trainingManifest": training_manifest,
        "minF1Score": args.min_f1,
        "trainingPollIntervalSeconds": args.poll_interval,
        "maxTrainingPolls": args.max_training_polls,
    }
    if test_manifest:
        training["testManifest"] = test_manifest
    else:
        training["autoSplit"] = True
    return {"training": training}


def new_training_id() -> str:
    return time.strftime("train-%Y%m%d-%H%M%S-") + hashlib.sha256(str(time.time_ns()).encode()).hexdigest()[:8]


def progress(stack: Any, arn: str) -> tuple[str, str, int, str | None]:
    """(execution status, current state, training polls so far, last training status) from the history."""
    execution = stack.sfn.describe_execution(executionArn=arn)["status"]
    state, polls, status = "", 0, None
    for event in stack.history(arn):
        if "stateEnteredEventDetails" in event:
            state = event["stateEnteredEventDetails"]["name"]
            polls += state == "Check training status"
        exited = event.get("stateExitedEventDetails")
        if exited and exited["name"] == "Check training status":
            with contextlib.suppress(KeyError, TypeError, ValueError):
                status = json.loads(exited.get("output") or "{}")["model"]["status"]
    return execution, state, polls, status


def run(args: argparse.Namespace) -> int:
    # An ARN is printed whole when the output is not a terminal (rich would wrap it at 80 columns).
    console = make_console()
    if not 0 <= args.min_f1 <= 1:
        raise CommandError("--min-f1 must be between 0 and 1")
    if args.test_split is not None and not 0 < args.test_split < 1:
        raise CommandError("--test-split must be between 0 and 1 (exclusive)")
    args.version = args.version or time.strftime("v-%Y%m%d-%H%M%S")
    labels = labelled_images(args.folder, "training folder")
    if len(labels) < 2:
        console.print(
            f"[yellow]only one label ({next(iter(labels))}): training will fail, a classifier needs 2 or more[/yellow]"
        )
    stack = open_stack(args)
    prefix = f"training/{args.project}/{args.version}"
    test_manifest = None
    if args.test_folder:
        train = labels
        test_manifest, test_count = upload_split(
            stack, labelled_images(args.test_folder, "test folder"), f"{prefix}/test"
        )
    elif args.test_split is not None and args.test_split != 0.2:
        train, test = split_images(labels, args.test_split)
        test_manifest, test_count = upload_split(stack, test, f"{prefix}/test")
    else:
        train, test_count = labels, 0
    training_manifest, train_count = upload_split(stack, train, f"{prefix}/train")
    split = f"{test_count} test images" if test_manifest else "auto-split ~20% for testing"
    if not args.json:
        console.print(
            f"project [bold]{args.project}[/bold], version [bold]{args.version}[/bold]: "
            f"{len(labels)} labels ({', '.join(labels)}), {train_count} training images, {split}"
        )
    name = new_training_id()
    started = time.monotonic()
    arn = stack.start_execution("custom_labels_training", build_training(args, training_manifest, test_manifest), name)
    with console.status("training...", spinner="dots") if not args.json else contextlib.nullcontext() as status_line:
        while True:
            execution, state, polls, status = progress(stack, arn)
            if status_line is not None:
                status_line.update(
                    f"{state or 'starting'} · training polls: {polls}"
                    + (f" · model {status}" if status else "")
                    + f" · {time.monotonic() - started:.0f} s"
                )
            if execution in TERMINAL_STATUSES:
                break
            if time.monotonic() - started > args.timeout:
                raise CommandError(
                    f"training {name} is still running after {args.timeout:g} s (--timeout); "
                    f"it goes on in the local stack: follow it with `rekoflow trace {name}`"
                )
            stack.wait(arn, timeout_s=0.5)
    result = stack.describe(arn)
    if not result.succeeded:
        raise CommandError(f"training {name} {result.status.lower()}: {result.error}: {readable_cause(result.cause)}")
    model = result.output
    evaluation = None
    if model.get("evaluationSummary"):
        summary = model["evaluationSummary"]
        evaluation = json.loads(stack.s3.get_object(Bucket=summary["bucket"], Key=summary["key"])["Body"].read())
    if args.json:
        labels_metrics = [
            {"label": item["Label"], **item["Metrics"], "testImages": item.get("NumberOfTestingImages")}
            for item in (evaluation or {}).get("LabelEvaluationResults", [])
        ]
        print(json.dumps({**model, "executionArn": arn, "labelMetrics": labels_metrics}, indent=2, default=str))
    else:
        print_training(console, model, evaluation, time.monotonic() - started)
    return 0


def readable_cause(cause: str | None) -> str:
    """The message inside a Lambda error's JSON cause, or the cause as it is."""
    try:
        parsed = json.loads(cause or "")
    except ValueError:
        return cause or "no cause given"
    return str(parsed.get("errorMessage", cause)) if isinstance(parsed, dict) else str(cause)


def print_training(
    console: Console, model: dict[str, Any], evaluation: dict[str, Any] | None, elapsed_s: float
) -> None:
    console.print(
        f"[bold green]model trained[/bold green] in {elapsed_s:.1f} s ({model['trainingPolls']} training polls)"
    )
    # Plain lines for what a script reads: never wrapped, never styled.
    print(f"model ARN: {model['projectVersionArn']}", flush=True)
    console.print(
        f"F1 score on the test split: [bold]{model['f1Score']:.3f}[/bold] "
        f"({model['testImages']} test images, {model['trainingImages']} training images)"
    )
    if evaluation:
        from rich.table import Table

        table = Table("label", "precision", "recall", "F1", "test images", title="per-label metrics")
        for item in evaluation.get("LabelEvaluationResults", []):
            m = item["Metrics"]
            table.add_row(
                item["Label"],
                f"{m['Precision']:.3f}",
                f"{m['Recall']:.3f}",
                f"{m['F1Score']:.3f}",
                str(item.get("NumberOfTestingImages", "")),
            )
        console.print(table)
    console.print(
        f"model status: {model['status']} (not started: the first request that uses it starts it; it stops once idle)"
    )
    print(f"use it: rekoflow analyze IMAGE --model {model['projectVersionArn']}", flush=True)
