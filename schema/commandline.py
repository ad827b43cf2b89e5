"""What every part's command line shares: the one-line argument parser and the device's home.

Only the standard library is imported at module level: `classlog` loads this while it starts.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import NoReturn

__all__ = ["OneLineParser", "add_home_option", "home_dir"]


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
