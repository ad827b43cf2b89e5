"""The dashboard's filters and the date presets, with no Textual in them."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

WHOLE_SCOPE = ""
"""The school filter's value for the device's whole scope: the district for a district admin,
the school for a school's admin (the server decides; no school is sent)."""


class Period(StrEnum):
    THIS_MONTH = "this-month"
    LAST_MONTH = "last-month"
    SCHOOL_YEAR = "school-year"


PERIOD_LABELS: dict[Period, str] = {
    Period.THIS_MONTH: "This month",
    Period.LAST_MONTH: "Last month",
    Period.SCHOOL_YEAR: "This school year",
}


def period_dates(period: Period, today: date) -> tuple[date | None, date | None]:
    """The first and last day of a preset; the school year is left to the server (None, None):
    it knows the district's school-year start."""
    if period is Period.THIS_MONTH:
        return today.replace(day=1), today
    if period is Period.LAST_MONTH:
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last.replace(day=calendar.monthrange(last.year, last.month)[1])
    return None, None


@dataclass(frozen=True, slots=True)
class Filters:
    """What the administrator chose. ``school`` is a school id, or :data:`WHOLE_SCOPE`."""

    school: str = WHOLE_SCOPE
    period: Period = Period.SCHOOL_YEAR
    grade: str | None = None
    level: int | None = None

    def with_(self, **changes: object) -> Filters:
        return replace(self, **changes)  # type: ignore[arg-type]

    def query(self, today: date) -> dict[str, str]:
        """The summaries API's query parameters for these filters."""
        params: dict[str, str] = {}
        if self.school:
            params["school"] = self.school
        date_from, date_to = period_dates(self.period, today)
        if date_from is not None:
            params["from"] = date_from.isoformat()
        if date_to is not None:
            params["to"] = date_to.isoformat()
        if self.grade:
            params["grade"] = self.grade
        if self.level is not None:
            params["level"] = str(self.level)
        return params

    def key(self, today: date) -> str:
        """A stable text key for these filters on ``today`` (the offline cache's key)."""
        return "&".join(f"{name}={value}" for name, value in sorted(self.query(today).items()))
