"""`rekoflow demo`: the whole workflow on the bundled sample photo, offline (labels, faces, text, moderation)."""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path
from typing import Any

from rekoflow.commands.analyze import add_analyze_arguments, analyze_file
from rekoflow.commands.common import console as make_console
from rekoflow.commands.common import printable

SAMPLE = "sample_astronaut.jpg"


def sample_path() -> Path:
    return Path(str(resources.files("rekoflow").joinpath("data", SAMPLE)))


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("demo", help="analyse the bundled sample photo end to end", description=__doc__)
    add_analyze_arguments(parser)
    parser.set_defaults(handler=run, analyses="labels,faces,text,moderation")
    image_action = next(a for a in parser._actions if a.dest == "image")
    image_action.nargs = "?"
    image_action.default = sample_path()


def run(args: argparse.Namespace) -> int:
    if args.json:
        return analyze_file(args, None)
    from rich.markup import escape  # imported when used (see rekoflow.commands.analyze)

    # The console `rekoflow analyze` uses: lines are not wrapped when the output is not a terminal.
    console = make_console()
    path = escape(printable(str(args.image)))
    console.print(f"[bold]rekoflow demo[/bold]: {path} through the image-analysis state machine, offline\n")
    return analyze_file(args, console)
