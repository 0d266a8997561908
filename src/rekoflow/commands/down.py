"""`rekoflow down`: stop the local stack of the state folder (its state stays; `rekoflow up` brings it back)."""

from __future__ import annotations

import argparse
from typing import Any

from rekoflow.commands.common import CommandError, add_stack_arguments
from rekoflow.local import process


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("down", help="stop the local stack (its state is kept)", description=__doc__)
    add_stack_arguments(parser, timeout=False)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    state_dir = (args.state_dir or process.default_state_dir()).resolve()
    try:
        status = process.stop_stack(state_dir)
    except process.StackProcessError as error:
        raise CommandError(str(error)) from error
    if status is None:
        print(f"no local stack runs for {state_dir}")
    else:
        print(f"stopped the local stack at {status['endpoint']} (pid {status['pid']}); its state stays in {state_dir}")
    return 0
