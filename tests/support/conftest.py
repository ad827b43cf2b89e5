"""Fixtures for the support request tests: real device databases with a small roster (a
teacher's device, and a mobile responder's), and a wall clock the test moves by hand."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "syncd"))

from supportkit import ManualWall, open_device

from schema.store import DeviceStore


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The demo roster in a district database and in a device home, made once per session."""
    from realworld import make_templates

    return make_templates(tmp_path_factory.mktemp("templates"))


@pytest.fixture
def wall() -> ManualWall:
    return ManualWall()


@pytest.fixture
def teacher(tmp_path: Path, wall: ManualWall) -> Iterator[DeviceStore]:
    store = open_device(tmp_path / "teacher", wall, staff_id="t-1", role="classroom")
    yield store
    store.close()


@pytest.fixture
def responder(tmp_path: Path, wall: ManualWall) -> Iterator[DeviceStore]:
    store = open_device(tmp_path / "responder", wall, staff_id="m-1", role="mobile")
    yield store
    store.close()
