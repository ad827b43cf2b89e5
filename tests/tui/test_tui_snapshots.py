"""Reviewed SVG snapshots of the main screens at 80x24 (pytest-textual-snapshot).

Regenerate with ``--snapshot-update`` only after looking at the new SVGs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from test_tui_support import call_fields
from textual.pilot import Pilot
from tuikit import SCHOOL, seed_school

from schema.models import Student, TabKind
from schema.store import DeviceStore
from tui.app import ClasslogApp

sys.path.insert(0, str(Path(__file__).parent.parent / "support"))

from supportkit import deliver

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


def _mobile_with_a_call(store: DeviceStore) -> ClasslogApp:
    """A mobile response device (the aide, no sections) that has pulled one open call."""
    store.set_config(staff_id="staff-whitfield", enrolled_role="mobile", school_id=SCHOOL)
    deliver(store, "req-1", call_fields(note="by the sink"), cursor=1)
    return ClasslogApp(store)


async def calls_read(pilot: Pilot[object]) -> None:
    """Wait until the store has loaded and the call watcher and home have polled."""
    await settled(pilot)
    app = pilot.app
    assert isinstance(app, ClasslogApp)
    app.wait_for_store_loader()
    await pilot.pause(0.5)


def test_mobile_call_banner(store: DeviceStore, snap_compare: SnapCompare) -> None:
    """A new call over the mobile home: who, where, for whom, and Enter to take it."""
    assert snap_compare(_mobile_with_a_call(store), terminal_size=(80, 24), run_before=calls_read)


def test_mobile_home(store: DeviceStore, snap_compare: SnapCompare) -> None:
    """The school: open calls first, the students, then records with their authors."""
    assert snap_compare(
        _mobile_with_a_call(store), press=["escape"], terminal_size=(80, 24), run_before=calls_read
    )
