"""The filters, always visible at the top: school (or the district), period, grade, level."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Select

from tui.admin.filters import PERIOD_LABELS, WHOLE_SCOPE, Filters, Period
from tui.text import one_line

GRADES = ("KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12")
LEVELS = (2, 3, 4, 5)
ALL = "all"


class FilterBar(Horizontal):
    """Four compact drop-downs; a change posts :class:`FilterBar.Changed`."""

    SELECT_IDS: ClassVar[dict[str, str]] = {
        "school": "filter-school",
        "period": "filter-period",
        "grade": "filter-grade",
        "level": "filter-level",
    }

    class Changed(Message):
        def __init__(self, filters: Filters) -> None:
            super().__init__()
            self.filters = filters

    def __init__(self, filters: Filters) -> None:
        super().__init__(id="filters")
        self.filters = filters

    def compose(self) -> ComposeResult:
        yield Select(
            [("All my schools", WHOLE_SCOPE)],
            value=WHOLE_SCOPE,
            allow_blank=False,
            compact=True,
            id="filter-school",
            tooltip="One school, or every school this device may see (s)",
        )
        yield Select(
            [(label, period.value) for period, label in PERIOD_LABELS.items()],
            value=self.filters.period.value,
            allow_blank=False,
            compact=True,
            id="filter-period",
            tooltip="Date range (d)",
        )
        yield Select(
            [("All grades", ALL), *((f"Grade {grade}", grade) for grade in GRADES)],
            value=self.filters.grade or ALL,
            allow_blank=False,
            compact=True,
            id="filter-grade",
            tooltip="Grade (g)",
        )
        yield Select(
            [("All levels", ALL), *((f"Level {level}", str(level)) for level in LEVELS)],
            value=str(self.filters.level) if self.filters.level is not None else ALL,
            allow_blank=False,
            compact=True,
            id="filter-level",
            tooltip="Level (l)",
        )

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        value = str(event.value)
        filters = self.filters
        if event.select.id == "filter-school":
            filters = filters.with_(school=value)
        elif event.select.id == "filter-period":
            filters = filters.with_(period=Period(value))
        elif event.select.id == "filter-grade":
            filters = filters.with_(grade=None if value == ALL else value)
        elif event.select.id == "filter-level":
            filters = filters.with_(level=None if value == ALL else int(value))
        if filters != self.filters:
            self.filters = filters
            self.post_message(self.Changed(filters))

    def set_schools(self, schools: list[tuple[str, str]]) -> None:
        """Offer these schools (id, name) by name beside the whole scope (one school alone
        needs no choice)."""
        select = self.query_one("#filter-school", Select)
        if len(schools) < 2:
            return
        options = [
            ("All my schools", WHOLE_SCOPE),
            *((one_line(name), school) for school, name in schools),
        ]
        select.set_options(options)
        select.value = self.filters.school

    def open(self, name: str) -> None:
        """Focus one drop-down and open it (the keys s, d, g, l)."""
        select = self.query_one(f"#{self.SELECT_IDS[name]}", Select)
        if select.disabled:
            self.app.bell()
            return
        select.focus()
        select.expanded = True
