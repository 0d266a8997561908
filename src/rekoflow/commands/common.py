"""What the workflow commands share: the local stack they run on, and their common arguments."""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from rekoflow.local.client import StackClient
from rekoflow.local.process import StackProcessError, default_state_dir
from rekoflow.paths import read_request_schema

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}


class CommandError(Exception):
    """A failure to report in one line (exit code 1), not as a stack trace. Here, not in rekoflow.cli:
    the commands raise it and cli imports the commands."""


def add_stack_arguments(parser: argparse.ArgumentParser, timeout: bool = True) -> None:
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="the local stack's state folder: buckets, table, executions, models "
        "(default: $REKOFLOW_HOME or ./.rekoflow); "
        "a stack is started for it when none runs ($REKOFLOW_ENDPOINT names a running stack instead)",
    )
    if timeout:
        parser.add_argument(
            "--timeout",
            type=finite_float(0, exclusive_minimum=True),
            default=600.0,
            metavar="SECONDS",
            help="stop waiting after this long (default 600); the execution goes on in the local stack",
        )


def open_stack(args: argparse.Namespace) -> StackClient:
    """The running local stack for ``--state-dir``, started in the background (with a one-line note) if none runs."""

    def announce(line: str) -> None:
        print(f"rekoflow: {line}", file=sys.stderr, flush=True)

    try:
        return StackClient.connect(args.state_dir or default_state_dir(), announce=announce)
    except StackProcessError as error:
        raise CommandError(str(error)) from error


def upload_key(path: Path) -> str:
    """Uploads are keyed by content, so the same photo is the same object (and hits the cache)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return f"uploads/{digest}/{path.name}"


# ----- arguments checked before any work starts (docs/reliability.md, "CLI") -------------------------


def analysis_types() -> list[str]:
    """The analyses a request may ask for, in the schema's order: the one list (tests/functions/test_schema.py
    ties the options, the prices and the state machine's Choice to it)."""
    return list(read_request_schema()["properties"]["analyses"]["items"]["enum"])


def parse_analyses(text: str, *, target: object = None, model: str | None = None, batch: bool = False) -> list[str]:
    """``--analyses`` as a list; --target adds compare and --model adds custom. A batch has no compare (no
    second image per object)."""
    allowed = [a for a in analysis_types() if not (batch and a == "compare")]
    chosen = [a.strip() for a in text.split(",") if a.strip()]
    if target and "compare" not in chosen:
        chosen.append("compare")
    if model and "custom" not in chosen:
        chosen.append("custom")
    unknown = [a for a in chosen if a not in allowed]
    if unknown or not chosen:
        scope = " for a batch" if batch else ""
        raise CommandError(
            f"unknown analysis {', '.join(map(printable, unknown)) or '(none)'}{scope} "
            f"(choose from {', '.join(allowed)})"
        )
    if "compare" in chosen and not target:
        raise CommandError("'compare' needs --target IMAGE")
    if "custom" in chosen and not model:
        raise CommandError("'custom' needs --model ARN (train one with `rekoflow train`)")
    return chosen


def check_identifier(value: str, field: str, option: str) -> str:
    """``value`` matches the schema's pattern for ``field`` (requestId, batchId), or a one-line error."""
    import re

    pattern = read_request_schema()["properties"][field]["pattern"]
    if not re.fullmatch(pattern, value):
        shown = printable(value if len(value) <= 60 else value[:60] + "...")
        raise CommandError(
            f"{option} {shown!s} ({len(value):,} characters): "
            f"use 1-{_max_length(pattern)} letters, digits, '-' or '_', starting with a letter or digit"
        )
    return value


def _max_length(pattern: str) -> int:
    import re

    found = re.search(r"\{0,(\d+)\}\$$", pattern)
    return int(found.group(1)) + 1 if found else 0


def check_file(path: Path, what: str) -> Path:
    """An existing, readable regular file; otherwise a one-line error that says which of these it is not."""
    import os

    shown = printable(str(path))
    if not path.exists():
        raise CommandError(f"{what} {shown} does not exist")
    if path.is_dir():
        raise CommandError(f"{what} {shown} is a folder, not a file")
    if not path.is_file():
        raise CommandError(f"{what} {shown} is not a regular file")
    if not os.access(path, os.R_OK):
        raise CommandError(f"{what} {shown} cannot be read (permission denied)")
    return path


def inside(folder: Path, *parts: str) -> Path:
    """``folder/parts...``, refused unless it stays inside ``folder`` (no ``..``, no absolute parts)."""

    base = folder.resolve()
    target = base.joinpath(*parts).resolve()
    if target != base and base not in target.parents:
        raise CommandError(f"{printable(str(target))} would be outside --out {printable(str(folder))}")
    return target


def finite_float(minimum: float | None = None, maximum: float | None = None, exclusive_minimum: bool = False):
    """An argparse type: a finite number within the bounds (argparse says which argument on failure)."""
    import math

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if minimum is not None and (value <= minimum if exclusive_minimum else value < minimum):
            raise argparse.ArgumentTypeError(
                f"{text} must be {'greater than' if exclusive_minimum else 'at least'} {minimum:g}"
            )
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"{text} must be at most {maximum:g}")
        return value

    return parse


def bounded_int(minimum: int, maximum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"{text} must be between {minimum} and {maximum}")
        return value

    return parse


def printable(text: str) -> str:
    """``text`` safe to echo: control characters (ANSI escapes, newlines) shown as escapes, never sent raw."""
    import unicodedata

    out = []
    for char in text:
        if unicodedata.category(char)[0] == "C":
            out.append(char.encode("unicode_escape").decode("ascii"))
        else:
            out.append(char)
    return "".join(out)


def console(json_output: bool = False):
    """The terminal console; when the output is not a terminal, lines are never wrapped (an ARN piped to
    grep stays whole) and no colour codes are written."""
    from rich.console import Console

    probe = Console()
    if probe.is_terminal:
        return probe
    return Console(soft_wrap=True, width=100_000, no_color=True, highlight=False)
