"""What the workflow commands share: the local runtime's settings from flags and environment."""

from __future__ import annotations

import argparse
import hashlib
import os
from pathlib import Path

from rekoflow.local.runtime import LocalConfig, LocalRuntime, default_state_dir

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}


def add_runtime_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rekognition-endpoint",
        default=os.environ.get("REKOFLOW_REKOGNITION_ENDPOINT"),
        metavar="URL",
        help="Rekognition endpoint for the workflow's Lambdas (default: start the local engine; "
        "env REKOFLOW_REKOGNITION_ENDPOINT)",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="where the local buckets, table and execution histories are kept between commands "
        "(default: $REKOFLOW_HOME or ./.rekoflow)",
    )
    parser.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS", help="give up waiting after this long (default 600)")


def open_runtime(args: argparse.Namespace, **overrides) -> LocalRuntime:
    config = LocalConfig(
        rekognition_endpoint=args.rekognition_endpoint,
        state_dir=args.state_dir or default_state_dir(),
        log_level="DEBUG" if getattr(args, "verbose", False) else "INFO",
        **overrides,
    )
    return LocalRuntime(config)


def upload_key(path: Path) -> str:
    """Uploads are keyed by content, so the same photo is the same object (and hits the cache)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return f"uploads/{digest}/{path.name}"
