"""Reviewed SVG snapshots of the main screens at 80x24 (pytest-textual-snapshot).

Regenerate with ``--snapshot-update`` only after looking at the new SVGs.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from schema.models import TabKind
from schema.store import DeviceStore
from tui.app import ClasslogApp

SnapCompare = Callable[..., bool]


async def settled(pilot: Pilot[object]) -> None:
    """Wait for the background follow-up count, so the screen does not depend on timing."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_home(store: DeviceStore, snap_compare: SnapCompare) -> None:
    store.start_tab("s-priya", TabKind.OUT)
    assert snap_compare(
        ClasslogApp(store), press=["m", "a"], terminal_size=(80, 24), run_before=settled
    )


def test_behavior_picker(store: DeviceStore, snap_compare: SnapCompare) -> None:
    assert snap_compare(ClasslogApp(store), press=["m", "a", "enter"], terminal_size=(80, 24))


def test_level_and_actions(store: DeviceStore, snap_compare: SnapCompare) -> None:
    assert snap_compare(
        ClasslogApp(store),
        press=["s", "a", "m", "enter", "1", "right", "i"],
        terminal_size=(80, 24),
    )


def test_office_managed(store: DeviceStore, snap_compare: SnapCompare) -> None:
    assert snap_compare(
        ClasslogApp(store),
        press=["m", "a", "enter", *"sex-images", "enter"],
        terminal_size=(80, 24),
    )
