"""The Behavior Response Grid as data: school year x grade band x behavior -> allowed levels.

The grid shipped in ``schema/data/grid.json`` comes from the district's published plan, with every
row unverified; a district replaces it by file (``load_grid``) or by sync.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from schema.errors import UserError

STAFF_LEVELS = frozenset({1, 2})
TITLE_IX_NOTICE = (
    "Refer to Title IX guidelines before determining discipline. Staff with actual knowledge "
    "must contact the Title IX Coordinator."
)
MANDATORY_REPORTING_NOTICE = (
    "Serious threats of school violence must be reported (Wisconsin Act 143): contact law "
    "enforcement immediately. This reminder does not replace that call."
)
OFFICE_MANAGED_NOTICE = "This behavior is office-managed (Level 3 or higher): contact the office."

_GRADE_NUMBERS = {"PK": -1, "TK": -1, "KG": 0, "K": 0}


class GridError(UserError, ValueError):
    """A grid file could not be read, or a behavior is unknown for a grade and year."""


def grade_number(grade: str) -> int | None:
    """OneRoster grade codes ('06', 'KG', '12') as numbers; None when not a grade."""
    text = grade.strip().upper()
    if text in _GRADE_NUMBERS:
        return _GRADE_NUMBERS[text]
    return int(text) if text.isdigit() else None


class GridEntry(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    school_year: str = Field(pattern=r"^\d{4}-\d{4}$")
    grade_band: str
    code: str = Field(pattern=r"^[A-Z][A-Z0-9-]*$")
    category: str
    behavior: str
    levels: tuple[int, ...] = Field(min_length=1)
    title_ix: bool = False
    mandatory_reporting: bool = False
    alternatives_to_suspension: bool = False
    verified: bool = False
    confidence: str = ""
    review: str = ""
    """Why the district should review this row (the plan contradicts it); empty when none."""

    @field_validator("levels")
    @classmethod
    def _contiguous(cls, levels: tuple[int, ...]) -> tuple[int, ...]:
        ordered = tuple(sorted(set(levels)))
        if ordered[0] < 1 or ordered[-1] > 5:
            raise ValueError("levels run from 1 to 5")
        if ordered != tuple(range(ordered[0], ordered[-1] + 1)):
            raise ValueError("allowed levels must be a contiguous range")
        return ordered

    @field_validator("grade_band")
    @classmethod
    def _band(cls, band: str) -> str:
        if not re.fullmatch(r"(PK|TK|KG|K|\d{1,2})(-(KG|K|\d{1,2}))?", band.upper()):
            raise ValueError(f"grade band {band!r} is not like '6-8' or 'K-5'")
        return band.upper()

    @property
    def staff_levels(self) -> tuple[int, ...]:
        """The levels staff may log for this behavior (Levels 1 and 2 only, R4)."""
        return tuple(level for level in self.levels if level in STAFF_LEVELS)

    @property
    def office_managed(self) -> bool:
        return self.levels[0] >= 3

    @property
    def notices(self) -> list[str]:
        notices = []
        if self.title_ix:
            notices.append(TITLE_IX_NOTICE)
        if self.mandatory_reporting:
            notices.append(MANDATORY_REPORTING_NOTICE)
        return notices

    def covers_grade(self, grade: str) -> bool:
        number = grade_number(grade)
        if number is None:
            return False
        low_text, _, high_text = self.grade_band.partition("-")
        low = grade_number(low_text)
        high = grade_number(high_text or low_text)
        return low is not None and high is not None and low <= number <= high


class Grid:
    """Lookup over grid entries by school year, grade and behavior code."""

    def __init__(self, entries: Iterable[GridEntry]) -> None:
        self.entries = list(entries)
        seen: set[tuple[str, str, str]] = set()
        for entry in self.entries:
            key = (entry.school_year, entry.grade_band, entry.code)
            if key in seen:
                raise GridError(
                    f"grid has {entry.code} twice for {entry.school_year} {entry.grade_band}"
                )
            seen.add(key)

    def __iter__(self) -> Iterator[GridEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def school_years(self) -> list[str]:
        return sorted({entry.school_year for entry in self.entries})

    def effective_year(self, school_year: str) -> str | None:
        """The grid year in force: the year itself, else the latest earlier one."""
        candidates = [year for year in self.school_years() if year <= school_year]
        return candidates[-1] if candidates else None

    def behaviors(self, school_year: str, grade: str) -> list[GridEntry]:
        year = self.effective_year(school_year)
        return [e for e in self.entries if e.school_year == year and e.covers_grade(grade)]

    def lookup(self, school_year: str, grade: str, code: str) -> GridEntry:
        for entry in self.behaviors(school_year, grade):
            if entry.code == code:
                return entry
        raise GridError(
            f"behavior {code!r} is not in the grid for grade {grade or '?'} in {school_year}"
        )

    def by_code(self, code: str) -> list[GridEntry]:
        return [entry for entry in self.entries if entry.code == code]

    def to_json(self) -> str:
        return json.dumps(
            {"version": 1, "entries": [entry.model_dump(mode="json") for entry in self.entries]},
            indent=1,
        )


def parse_grid(text: str, source: str = "grid") -> Grid:
    try:
        document = json.loads(text)
        raw_entries = document["entries"] if isinstance(document, dict) else document
        return Grid(GridEntry.model_validate(raw) for raw in raw_entries)
    except GridError as error:
        raise GridError(f"{source}: {error}") from error
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise GridError(f"{source}: not a grid file ({error})") from error
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise GridError(f"{source}: {where}: {first['msg']}") from error


def load_grid(path: Path) -> Grid:
    try:
        return parse_grid(path.read_text(encoding="utf-8"), str(path))
    except OSError as error:
        raise GridError(f"{path}: {error.strerror}") from error


@cache
def default_grid() -> Grid:
    text = resources.files("schema").joinpath("data/grid.json").read_text(encoding="utf-8")
    return parse_grid(text, "built-in grid")
