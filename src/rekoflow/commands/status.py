"""`rekoflow status`: whether a local stack runs for the state folder, where, and what it holds."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from rekoflow.commands.common import add_stack_arguments
from rekoflow.commands.up import describe
from rekoflow.local import process


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "status", help="is the local stack running, and at which endpoint", description=__doc__
    )
    parser.add_argument(
        "--json", action="store_true", help="print the status as JSON (endpoint, apiUrl, consoleUrl, resources...)"
    )
    add_stack_arguments(parser, timeout=False)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    state_dir = (args.state_dir or process.default_state_dir()).resolve()
    status = process.running_stack(state_dir)
    if args.json:
        print(json.dumps({"running": status is not None, "stateDir": str(state_dir), **(status or {})}, indent=2))
        return 0 if status else 1
    if status is None:
        print(
            f"no local stack runs for {state_dir} "
            "(`rekoflow up` starts one; the workflow commands start one themselves)"
        )
        return 1
    print(describe(status))
    stored = status.get("stored") or {}
    uptime = time.time() - float(status.get("startedAt") or time.time())
    print(
        f"  up {uptime:.0f} s; stored: {stored.get('objects', 0)} objects, {stored.get('items', 0)} items, "
        f"{stored.get('executions', 0)} executions"
    )
    return 0
