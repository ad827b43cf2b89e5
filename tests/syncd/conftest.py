"""Fixtures for the daemon's tests; the pieces themselves live in ``synckit`` (in-process) and
``realworld`` (real processes)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from realworld import Templates, make_templates
from synckit import clock, network

__all__ = ["clock", "network", "templates"]


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    """The demo roster in a district database and in a device home, made once per session."""
    return make_templates(tmp_path_factory.mktemp("templates"))
