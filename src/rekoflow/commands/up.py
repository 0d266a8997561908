"""`rekoflow up`: run the local stack, one endpoint for every AWS client (our CLI, the AWS CLI, SDKs,
Terraform), with its state kept in the state folder. `--detach` returns once it answers."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rekoflow.commands.common import CommandError, add_stack_arguments
from rekoflow.local import process
from rekoflow.local.serve import add_stack_options, config_from, serve, stack_options_as_arguments


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "up", help="start the local stack (one endpoint for every AWS client)", description=__doc__
    )
    parser.add_argument(
        "--detach", "-d", action="store_true", help="run in the background and return once the stack answers"
    )
    parser.add_argument("--json", action="store_true", help="print the stack's status as JSON once it answers")
    add_stack_options(parser)
    add_stack_arguments(parser, timeout=False)
    parser.set_defaults(handler=run)


def describe(status: dict[str, Any]) -> str:
    endpoint = status["endpoint"]
    lines = [
        f"local stack at {endpoint} (pid {status['pid']}), state in {status.get('stateDir')}",
        (
            f"  AWS clients: export AWS_ENDPOINT_URL={endpoint} AWS_ACCESS_KEY_ID=testing "
            f"AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION={status['region']}"
        ),
    ]
    resources = status.get("resources") or {}
    if resources:
        lines.append(f"  images bucket {resources['imagesBucket']}, results table {resources['table']}")
        lines.append(f"  e.g. aws s3 cp photo.jpg s3://{resources['imagesBucket']}/uploads/photo.jpg")
    for name in ("apiUrl", "consoleUrl"):
        if status.get(name):
            lines.append(f"  {name}: {status[name]}")
    interrupted = (status.get("restored") or {}).get("interrupted") or []
    if interrupted:
        lines.append(
            f"  {len(interrupted)} execution(s) were cut off when the stack last stopped; "
            "they are ABORTED (Local.StackStopped)"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    state_dir = (args.state_dir or process.default_state_dir()).resolve()
    running = process.running_stack(state_dir)
    if running is not None:
        print(json.dumps(running, indent=2) if args.json else "already running: " + describe(running))
        return 0
    if args.detach:
        try:
            status = process.start_detached(state_dir, args.port, args.host, stack_options_as_arguments(args))
        except process.StackProcessError as error:
            raise CommandError(str(error)) from error
        print(json.dumps(status, indent=2) if args.json else describe(status))
        return 0

    def announce(status: dict[str, Any]) -> None:
        print(json.dumps(status, indent=2) if args.json else describe(status) + "\n  Ctrl-C stops it", flush=True)

    code = serve(config_from(args, state_dir), announce)
    if code:
        raise CommandError("the local stack could not start (see above)")
    print("local stack stopped", file=sys.stderr)
    return 0
