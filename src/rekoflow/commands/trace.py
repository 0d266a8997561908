"""`rekoflow trace EXECUTION|--last`: what an execution did, state by state, and the path it took.

Reads the execution from the local stack through the Step Functions API or, with --aws, from AWS
Step Functions (standard AWS credentials and region). Writes the state machine graph with the path
taken highlighted (visited states filled, the failed state red, edges taken bold).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rekoflow.commands.common import CommandError, add_stack_arguments, open_stack
from rekoflow.commands.common import console as make_console
from rekoflow.records import batch_record_key


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "trace", help="timeline and graph of one execution (local or --aws)", description=__doc__
    )
    parser.add_argument("execution", nargs="?", help="execution name (= request id or batch id) or ARN")
    parser.add_argument("--last", action="store_true", help="the most recently started execution")
    parser.add_argument(
        "--graph", type=Path, help="where to write the graph: .svg, .png, .pdf or .dot (default out/<execution>.svg)"
    )
    parser.add_argument("--no-graph", action="store_true", help="print the timeline only")
    parser.add_argument("--aws", action="store_true", help="read the execution from AWS Step Functions (give its ARN)")
    add_stack_arguments(parser, timeout=False)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from rekoflow import trace as tracing  # imported when used (see rekoflow.commands.analyze)

    console = make_console()
    if not args.execution and not args.last:
        raise CommandError("name an execution (name or ARN) or use --last")
    try:
        if args.aws:
            if not args.execution:
                raise CommandError("--aws needs the execution ARN")
            trace = tracing.from_aws(args.execution)
        else:
            stack = open_stack(args)
            arn = tracing.find_execution(stack.sfn, stack.state_machines, args.execution, last=args.last)
            trace = tracing.from_api(
                arn, stack.sfn, batch_record=lambda batch_id: stack.get_record(batch_record_key(batch_id))
            )
        tracing.print_trace(console, trace)
        if not args.no_graph:
            path = tracing.write_graph(trace, args.graph or Path("out") / f"{trace.name}.svg")
            console.print(f"[dim]graph: {path}[/dim]")
    except tracing.TraceError as error:
        raise CommandError(str(error)) from error
    return 0
