"""School years. The district sets the start date; progression never looks across it (R5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

DEFAULT_START = date(2026, 7, 1)


@dataclass(frozen=True, slots=True)
class SchoolYear:
    start: date
    end: date
    """First day of the next school year (exclusive)."""

    @property
    def label(self) -> str:
        return f"{self.start.year}-{self.start.year + 1}"

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day < self.end


def _same_day_in(year: int, anchor: date) -> date:
    day = min(anchor.day, 28) if anchor.month == 2 else anchor.day
    return date(year, anchor.month, day)


def school_year_for(day: date, start: date = DEFAULT_START) -> SchoolYear:
    """The school year containing ``day``. The configured start is exact for its own year; other
    years start on the same month and day."""
    this_year_start = start if start.year == day.year else _same_day_in(day.year, start)
    if day >= this_year_start:
        begin = this_year_start
    else:
        begin = start if start.year == day.year - 1 else _same_day_in(day.year - 1, start)
    following = start if start.year == begin.year + 1 else _same_day_in(begin.year + 1, start)
    return SchoolYear(begin, following)
