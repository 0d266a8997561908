"""`rekoflow demo`: the whole workflow on the bundled sample photo, offline (labels, faces, text, moderation)."""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path
from typing import Any

from rekoflow.commands.analyze import add_analyze_arguments, analyze_file

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
    from rich.console import Console  # imported when used (see rekoflow.commands.analyze)

    console = Console()
    if not args.json:
        console.print(f"[bold]rekoflow demo[/bold]: {args.image} through the image-analysis state machine, offline\n")
    return analyze_file(args, console)
