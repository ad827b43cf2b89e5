"""`classlog`: one entry point for every part (DESIGN section 7).

Each part adds its own sub-commands through a small ``commands`` module that imports nothing
heavy at module level, so that `classlog` alone opens the TUI without loading the server's stack.
A user's mistake ends with one line on stderr and a non-zero exit; bugs still raise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from classlog.common import OneLineParser, UserError, add_home_option, home_dir

__all__ = ["OneLineParser", "UserError", "add_home_option", "build_parser", "home_dir", "main"]


def build_parser() -> argparse.ArgumentParser:
    from classlog import device_commands
    from district import commands as district_commands
    from syncd import commands as sync_commands

    parser = OneLineParser(
        prog="classlog",
        description="Log Level 1 and 2 interventions and Take a Break events, offline first.",
    )
    add_home_option(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    device_commands.add_commands(commands)
    sync_commands.add_commands(commands)
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
