"""`python -m district ...`: the server's commands without the rest of `classlog` (used by
tests and benchmarks to start real server processes)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from district.commands import add_commands
from schema.commandline import OneLineParser
from schema.errors import ClasslogError, UserError, one_line


def main(argv: Sequence[str] | None = None) -> int:
    parser = OneLineParser(prog="classlog", description="The classlog district server.")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=OneLineParser
    )
    add_commands(subparsers)
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except UserError as error:
        sys.stderr.write(f"classlog: {one_line(error)}\n")
        return 2
    except ClasslogError as error:
        sys.stderr.write(f"classlog: {one_line(error)}\n")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
