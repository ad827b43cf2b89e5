"""Reviewed SVG snapshots of the main screens at 80x24 (pytest-textual-snapshot).

Regenerate with ``--snapshot-update`` only after looking at the new SVGs.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from tuikit import seed_school

from schema.models import Student, TabKind
from schema.store import DeviceStore
from tui.app import ClasslogApp

SnapCompare = Callable[..., bool]


async def settled(pilot: Pilot[object]) -> None:
    """Wait until the work started after the first paint is done, so the screen does not
    depend on timing."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_home(store: DeviceStore, snap_compare: SnapCompare) -> None:
    store.start_tab("s-priya", TabKind.OUT)
    assert snap_compare(
        ClasslogApp(store), press=["m", "a"], terminal_size=(80, 24), run_before=settled
    )


def test_home_long_list_scrolled_with_a_mark(store: DeviceStore, snap_compare: SnapCompare) -> None:
    """A full class: the list scrolls under the highlight, with its scrollbar."""
    extra = [
        Student(sourced_id=f"s-x{number:02}", given_name=f"Kid{number:02}", family_name="Zed")
        for number in range(33)
    ]
    seed_school(store, extra=extra)
    assert snap_compare(
        ClasslogApp(store),
        press=[*["down"] * 20, "plus", "down", "down"],
        terminal_size=(80, 24),
        run_before=settled,
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
