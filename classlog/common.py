"""What every part's commands share: the user-error type, the one-line parser and the device home.

It imports nothing of ours, so the daemon's and the server's commands can use it without
depending on the TUI.
"""

from __future__ import annotations

import argparse
import os
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
