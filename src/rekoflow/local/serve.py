"""``python -m rekoflow.local.serve``: run the local stack in this process until stopped.

``rekoflow up`` runs this in the foreground, ``rekoflow up --detach`` (and the workflow commands, when
no stack runs) in the background. SIGTERM, SIGINT and ``POST /_rekoflow/shutdown`` stop it cleanly.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rekoflow.local.process import DEFAULT_PORT


def add_stack_options(parser: argparse.ArgumentParser) -> None:
    """The options of a stack process (shared by ``rekoflow up`` and this module)."""
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port of the single endpoint (default {DEFAULT_PORT}; 0: any free port)",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)"
    )
    parser.add_argument(
        "--rekognition-endpoint",
        metavar="URL",
        default=os.environ.get("REKOFLOW_REKOGNITION_ENDPOINT"),
        help="Rekognition for the workflow's Lambdas "
        "(default: the local engine, on the stack's endpoint; env REKOFLOW_REKOGNITION_ENDPOINT)",
    )
    parser.add_argument(
        "--retry-time-scale",
        type=float,
        default=1.0,
        metavar="X",
        help="multiply Step Functions Retry waits by X (0-1; tests and demos)",
    )
    parser.add_argument(
        "--function-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override an environment variable of every function (repeatable)",
    )
    parser.add_argument(
        "--trigger-prefix",
        default="incoming/",
        metavar="PREFIX",
        help="images created under this prefix of the images bucket start an analysis (default incoming/)",
    )
    parser.add_argument(
        "--bare",
        action="store_true",
        help="create none of the stack's own resources (an empty local AWS, e.g. for Terraform)",
    )
    parser.add_argument(
        "--no-fsync",
        action="store_true",
        help="do not fsync each change (survives a killed stack, not a power cut; faster)",
    )


def stack_options_as_arguments(args: argparse.Namespace) -> list[str]:
    """``args``' stack options as command-line arguments for a background stack process."""
    extra: list[str] = []
    if args.rekognition_endpoint:
        extra += ["--rekognition-endpoint", args.rekognition_endpoint]
    if args.retry_time_scale != 1.0:
        extra += ["--retry-time-scale", str(args.retry_time_scale)]
    for item in args.function_env:
        extra += ["--function-env", item]
    if args.trigger_prefix != "incoming/":
        extra += ["--trigger-prefix", args.trigger_prefix]
    if args.bare:
        extra.append("--bare")
    if args.no_fsync:
        extra.append("--no-fsync")
    return extra


def config_from(args: argparse.Namespace, state_dir: Path) -> Any:
    from rekoflow.local.stack import StackConfig

    overrides = {}
    for item in args.function_env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"--function-env {item!r}: expected NAME=VALUE")
        overrides[name] = value
    if not 0 <= args.retry_time_scale <= 1:
        raise SystemExit("--retry-time-scale must be between 0 and 1")
    if not args.trigger_prefix.endswith("/") or args.trigger_prefix.startswith("/"):
        raise SystemExit("--trigger-prefix must be a key prefix ending with / (e.g. incoming/)")
    return StackConfig(
        state_dir=state_dir,
        host=args.host,
        port=args.port,
        rekognition_endpoint=args.rekognition_endpoint,
        retry_time_scale=args.retry_time_scale,
        function_environment=overrides,
        resources=not args.bare,
        fsync=not args.no_fsync,
        trigger_prefix=args.trigger_prefix,
    )


def serve(config: Any, announce: Callable[[dict[str, Any]], None] | None = None) -> int:
    """Run a stack with ``config`` until a signal or a shutdown request; 0 when it stopped cleanly."""
    from rekoflow.local.stack import Stack, StackError

    stack = Stack(config)
    try:
        stack.start()
    except StackError as error:
        print(f"rekoflow up: {error}", file=sys.stderr)
        return 1

    def stop(signum: int, frame: Any) -> None:
        stack._stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if announce:
        announce(stack.status())
    try:
        while not stack.wait_stopped(1.0):
            pass
    finally:
        stack.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rekoflow.local.serve", description=__doc__)
    parser.add_argument("--state-dir", type=Path, required=True)
    add_stack_options(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    def announce(status: dict[str, Any]) -> None:
        print(
            f"rekoflow local stack {status['endpoint']} (pid {status['pid']}) serving {status['stateDir']}; "
            f"restored {status.get('restored')}",
            flush=True,
        )

    return serve(config_from(args, args.state_dir.resolve()), announce)


if __name__ == "__main__":
    sys.exit(main())
