"""A real device store in tmp_path with a small roster and a fixed wall clock.

The clock stands at Monday 2026-09-14 10:05 in America/Chicago, inside period 2, so the home
screen opens on "Science 7" and every screen is deterministic.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.app import App

from schema.store import DeviceStore

sys.path.insert(0, str(Path(__file__).parent))

from tuikit import TEACHER, Wall, screen_text, seed_school, seen_words

Screen = Callable[[App[object]], str]


@pytest.fixture
def wall() -> Wall:
    return Wall()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def bare_store(home: Path, wall: Wall) -> Iterator[DeviceStore]:
    """A store with no roster and no staff member."""
    store = DeviceStore.open(home, wall=wall)
    store.set_config(timezone="America/Chicago")
    yield store
    store.close()


@pytest.fixture
def unstaffed_store(bare_store: DeviceStore) -> DeviceStore:
    """A store with the roster but no staff member chosen yet (a first run)."""
    seed_school(bare_store)
    return bare_store


@pytest.fixture
def store(unstaffed_store: DeviceStore) -> DeviceStore:
    """A store with the roster, this device's teacher set, and a period schedule."""
    unstaffed_store.set_config(
        staff_id=TEACHER,
        period_schedule=json.dumps({"1": "08:55-09:45", "2": "09:50-10:40", "3": "10:45-11:35"}),
    )
    return unstaffed_store


@pytest.fixture
def seen() -> Screen:
    """What the user sees: ``seen(app)`` is the current screen's words (see seen_words)."""
    return seen_words


@pytest.fixture
def seen_lines() -> Screen:
    """The screen exactly as laid out, line by line (for layout assertions)."""
    return screen_text
