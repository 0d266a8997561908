"""`rekoflow engine serve`: the local Rekognition-compatible engine as an HTTP endpoint."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("engine", help="the local Rekognition-compatible engine", description=__doc__)
    engine_commands = parser.add_subparsers(dest="engine_command", metavar="ENGINE_COMMAND")
    engine_commands.required = True
    serve = engine_commands.add_parser("serve", help="serve the Rekognition API on 127.0.0.1")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; only change it on a trusted network)"
    )
    serve.add_argument(
        "--port",
        type=int,
        default=4598,
        help="port (default 4598; the local stack, which serves the engine too, uses 4599)",
    )
    serve.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from rekoflow.engine import serve

    print(
        f"rekoflow engine: Rekognition API on http://{args.host}:{args.port} "
        f"(AWS_ENDPOINT_URL_REKOGNITION=http://{args.host}:{args.port}); Ctrl-C stops it"
    )
    serve(host=args.host, port=args.port)
    return 0
