"""The filters, always visible at the top: school (or the district), period, grade, level."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Select

from tui.admin.filters import DISTRICT, PERIOD_LABELS, Filters, Period

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

    def __init__(
        self, filters: Filters, schools: list[tuple[str, str]], *, district_scope: bool
    ) -> None:
        super().__init__(id="filters")
        self.filters = filters
        self.schools = schools
        self.district_scope = district_scope

    def compose(self) -> ComposeResult:
        school_options = [(name, school_id) for school_id, name in self.schools]
        if self.district_scope:
            school_options.insert(0, ("All schools", DISTRICT))
        yield Select(
            school_options,
            value=self.filters.school,
            allow_blank=False,
            compact=True,
            id="filter-school",
            tooltip="School, or all schools (s)",
            disabled=len(school_options) < 2,
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

    def open(self, name: str) -> None:
        """Focus one drop-down and open it (the keys s, d, g, l)."""
        select = self.query_one(f"#{self.SELECT_IDS[name]}", Select)
        if select.disabled:
            self.app.bell()
            return
        select.focus()
        select.expanded = True
