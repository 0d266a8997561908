"""The `rekoflow` command: the workflow and its local engine, offline on this machine."""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from rekoflow import __version__
from rekoflow.commands.common import CommandError
from rekoflow.local.client import StackRequestError

# Each command is a module in rekoflow.commands with register(subparsers); its parser sets `handler`.
HELPER_MODULES = {"common"}


def command_modules() -> list[str]:
    import rekoflow.commands

    names = (m.name for m in pkgutil.iter_modules(rekoflow.commands.__path__))
    return sorted(n for n in names if n not in HELPER_MODULES and not n.startswith("_"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rekoflow",
        description="Image recognition workflow (Step Functions + Rekognition), runnable offline on one machine.",
    )
    parser.add_argument("--version", action="version", version=f"rekoflow {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the workflow's logs")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in command_modules():
        module = importlib.import_module(f"rekoflow.commands.{name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.handler(args) or 0)
    except (CommandError, StackRequestError) as error:
        from rekoflow.commands.common import printable

        # One line, and nothing a terminal would act on (escapes from file names or causes are shown, not sent).
        print(f"rekoflow {args.command}: {printable(str(error))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"rekoflow {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
