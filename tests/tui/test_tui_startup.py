"""The app as `classlog` starts it: on a plain reader of the device database, with the store
loaded in a thread after the first paint, or at once when a key needs it sooner."""

from __future__ import annotations

from tuikit import Wall

from schema.models import TabKind
from schema.rows import DeviceReader
from schema.store import DeviceStore
from tui.app import ClasslogApp
from tui.home.screen import HomeScreen


async def test_a_key_that_writes_before_the_store_has_loaded_still_saves(
    store: DeviceStore, wall: Wall
) -> None:
    reader = DeviceReader(store.connection, wall=wall)
    app = ClasslogApp(reader=reader)
    app.load_store_in_background = lambda: None  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, HomeScreen)
        assert app._store is None
        await pilot.press("t", "h", "2", "enter")
        await pilot.pause()
    [tab] = store.running_tabs()
    assert tab.student_id == "s-thomas"
    assert tab.kind is TabKind.OUT
    assert app.store.connection is reader.connection


async def test_the_store_loads_after_the_first_paint(store: DeviceStore, wall: Wall) -> None:
    app = ClasslogApp(reader=DeviceReader(store.connection, wall=wall))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.wait_for_store_loader()
        assert app._store is not None
        assert app.store.staff_id == store.staff_id
