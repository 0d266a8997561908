"""What the workflow commands share: the local stack they run on, and their common arguments."""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from rekoflow.local.client import StackClient
from rekoflow.local.process import StackProcessError, default_state_dir

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}


def add_stack_arguments(parser: argparse.ArgumentParser, timeout: bool = True) -> None:
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="the local stack's state folder: buckets, table, executions, models (default: $REKOFLOW_HOME or ./.rekoflow); "
        "a stack is started for it when none runs ($REKOFLOW_ENDPOINT names a running stack instead)",
    )
    if timeout:
        parser.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS", help="stop waiting after this long (default 600)")


def open_stack(args: argparse.Namespace) -> StackClient:
    """The running local stack for ``--state-dir``, started in the background (with a one-line note) if none runs."""
    from rekoflow.cli import CommandError

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
