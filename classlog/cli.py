"""`classlog`: one entry point for every part (DESIGN section 7).

Each part adds its own sub-commands through a small ``commands`` module that imports nothing
heavy at module level, so that `classlog` alone opens the TUI without loading the server's stack.
The most common call, `classlog` or `classlog --home DIR`, does not even build the sub-command
tree: it goes straight to the TUI, with the garbage collector paused while the TUI starts
(see :func:`tui_only_arguments`). An error classlog raises on purpose ends as one line on stderr
and a non-zero exit (2 for a user's mistake, 1 for any other); bugs still raise.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
from collections.abc import Sequence

from schema.commandline import OneLineParser, add_home_option
from schema.errors import ClasslogError, UserError, one_line

__all__ = ["build_parser", "main", "tui_only_arguments"]


def build_parser() -> argparse.ArgumentParser:
    from classlog import device_commands, request_commands
    from district import commands as district_commands
    from syncd import commands as sync_commands

    parser = OneLineParser(
        prog="classlog",
        description="Log Level 1 and 2 interventions and Take a Break events, offline first.",
    )
    add_home_option(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    device_commands.add_commands(commands)
    request_commands.add_commands(commands)
    sync_commands.add_commands(commands)
    district_commands.add_commands(commands)
    parser.set_defaults(handler=device_commands.open_tui)
    return parser


def tui_only_arguments(argv: Sequence[str]) -> argparse.Namespace | None:
    """The namespace :func:`build_parser` gives for `classlog` alone or `classlog --home DIR`
    (the TUI), read without building the parser; None for any other command line, which the
    full parser reads (so its errors and --help are unchanged)."""
    if not argv:
        return argparse.Namespace(command=None)
    if len(argv) == 2 and argv[0] == "--home" and not argv[1].startswith("-"):
        return argparse.Namespace(home=argv[1], command=None)
    if len(argv) == 1 and argv[0].startswith("--home="):
        return argparse.Namespace(home=argv[0].removeprefix("--home="), command=None)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = tui_only_arguments(arguments)
    if args is None:
        args = build_parser().parse_args(arguments)
    else:
        from classlog.device_commands import open_tui

        args.handler = open_tui
        # Everything the TUI allocates while it imports and builds its first screen lives for
        # the whole session: collecting in the middle of that is wasted work. The TUI freezes
        # those objects and turns collection back on once it is ready (tui.startup).
        gc.disable()
    try:
        result = args.handler(args)
    except UserError as error:
        print(f"classlog: {one_line(error)}", file=sys.stderr)
        return 2
    except ClasslogError as error:
        print(f"classlog: {one_line(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _reader_went_away()
    finally:
        gc.enable()
    return int(result or 0)


def _reader_went_away() -> int:
    """The command's output went into a pipe whose reader stopped early (``classlog export |
    head``): that is the reader's choice, not an error. Standard output is pointed at the null
    device so the interpreter's last flush at exit stays quiet too."""
    import os

    with contextlib.suppress(OSError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    return 0
