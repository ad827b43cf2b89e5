"""Home's repaints reuse earlier paints only while they are still true: the scrollbar's paint
is the one Textual would make for the bar as it is now, after every key that moves or resizes
its thumb."""

from __future__ import annotations

import sys

import pytest
from textual.geometry import Region
from textual.scrollbar import ScrollBar
from tuikit import Wall, seed_school

from schema.models import Student
from schema.rows import DeviceReader
from schema.store import DeviceStore
from tui.app import ClasslogApp
from tui.home.student_list import StudentList

FULL_CLASS = [
    Student(sourced_id=f"s-x{number:02}", given_name=f"Kid{number:02}", family_name="Zed")
    for number in range(33)
]


async def test_scrollbar_paint_follows_the_thumb(store: DeviceStore) -> None:
    seed_school(store, extra=FULL_CLASS)
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        student_list = app.screen.query_one(StudentList)
        bar = student_list.vertical_scrollbar
        keys = [(), ("end",), ("k",), ("backspace",), ("home",), ("end",), ("k", "i"), ("escape",)]
        paints = []
        for pressed in keys:
            await pilot.press(*pressed)
            await pilot.pause()
            assert bar.display, pressed
            crop = Region(0, 0, *bar.size)
            shown = bar.render_lines(crop)
            assert shown == ScrollBar.render_lines(bar, crop), pressed
            paints.append(tuple(strip.text + repr(list(strip)) for strip in shown))
        assert paints[0] != paints[1], "the thumb moved down with the highlight"
        assert paints[1] != paints[2], "fewer students, a longer thumb"
        assert paints[3] == paints[0], "the whole class again, from its best match at the top"
        assert paints[5] == paints[1]
        assert paints[6] not in (paints[0], paints[1], paints[2])
        assert paints[7] == paints[0], "Esc shows the whole class from the top"


async def test_short_switch_interval_only_once_the_store_has_loaded(
    store: DeviceStore, wall: Wall
) -> None:
    """`classlog` hands the GIL to Textual's output thread sooner, but only once the store's
    loader thread is done (two busy threads switching often would slow the start)."""
    before = sys.getswitchinterval()
    app = ClasslogApp(reader=DeviceReader(store.connection, wall=wall))
    assert app.switch_interval is None
    app.switch_interval = before / 4
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.wait_for_store_loader()
            assert sys.getswitchinterval() == pytest.approx(before / 4)
    finally:
        sys.setswitchinterval(before)
    untouched = ClasslogApp(reader=DeviceReader(store.connection, wall=wall))
    async with untouched.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        untouched.wait_for_store_loader()
        assert untouched.store_loaded
        assert sys.getswitchinterval() == pytest.approx(before)
