"""`classlog`: one entry point for every part (DESIGN section 7).

Each part adds its own sub-commands through a small ``commands`` module that imports nothing
heavy at module level, so that `classlog` alone opens the TUI without loading the server's stack.
A user's mistake ends with one line on stderr and a non-zero exit; bugs still raise.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn


class UserError(Exception):
    """A mistake a user can make: printed as one line, exit status 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error as a single line."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def home_dir(args: argparse.Namespace) -> Path:
    """The device's data directory: --home, else $CLASSLOG_HOME, else the platform's data dir."""
    explicit = getattr(args, "home", None) or os.environ.get("CLASSLOG_HOME")
    if explicit:
        return Path(explicit).expanduser()
    from platformdirs import user_data_path

    return user_data_path("classlog", appauthor=False)


def add_home_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--home",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="the device's data directory (default: $CLASSLOG_HOME or the platform's data dir)",
    )


def build_parser() -> argparse.ArgumentParser:
    from classlog import device_commands

    parser = OneLineParser(
        prog="classlog",
        description="Log Level 1 and 2 interventions and Take a Break events, offline first.",
    )
    add_home_option(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    device_commands.add_commands(commands)
    try:
        from syncd import commands as sync_commands
    except ImportError:
        sync_commands = None  # type: ignore[assignment]
    if sync_commands is not None:
        sync_commands.add_commands(commands)
    try:
        from district import commands as district_commands
    except ImportError:
        district_commands = None  # type: ignore[assignment]
    if district_commands is not None:
        district_commands.add_commands(commands)
    parser.set_defaults(handler=device_commands.open_tui)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.handler(args)
    except UserError as error:
        print(f"classlog: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return int(result or 0)
