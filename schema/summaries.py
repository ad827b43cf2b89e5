"""Administrators' summaries (DESIGN section 6b): the filters, the report shape and the student
groups, shared by the server, the CLI, the dashboard and the HTML report.

Every report has the same envelope, :class:`SummaryReport`: ``rows`` is a list of flat rows whose
keys are the report's ``columns`` (so the same rows print as a table, CSV or JSON), and each row
names its ``section`` (a report has several tables, e.g. big5's by-month and by-behavior).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from schema.errors import UserError

ReportName = Literal["big5", "levels", "tab", "follow-ups", "progression", "equity"]
REPORT_NAMES: tuple[ReportName, ...] = get_args(ReportName)

Cell = str | int | float | bool | None
Row = dict[str, Cell]

Dimension = Literal["race", "sex", "iep", "grade"]
DIMENSIONS: tuple[Dimension, ...] = get_args(Dimension)

Outcome = Literal["any_level2", "removal", "iss", "office_referral", "tab_out"]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
OUTCOME_LABELS: dict[Outcome, str] = {
    "any_level2": "Any Level 2",
    "removal": "Removal from class",
    "iss": "In-School Suspension",
    "office_referral": "Office referral",
    "tab_out": "TAB Out",
}

RACE_CATEGORIES: dict[str, str] = {
    "hispanic_or_latino": "Hispanic or Latino",
    "american_indian_or_alaska_native": "American Indian or Alaska Native",
    "asian": "Asian",
    "black_or_african_american": "Black or African American",
    "native_hawaiian_or_other_pacific_islander": "Native Hawaiian or Other Pacific Islander",
    "white": "White",
    "two_or_more_races": "Two or more races",
    "not_reported": "Not reported",
}
"""The federal race/ethnicity categories (Hispanic or Latino of any race first, then one race,
then two or more races), by the key reports use."""

RACE_FLAG_CATEGORIES: dict[str, str] = {
    "americanIndianOrAlaskaNative": "american_indian_or_alaska_native",
    "asian": "asian",
    "blackOrAfricanAmerican": "black_or_african_american",
    "nativeHawaiianOrOtherPacificIslander": "native_hawaiian_or_other_pacific_islander",
    "white": "white",
}
TWO_OR_MORE_FLAG = "demographicRaceTwoOrMoreRaces"
NOT_REPORTED = "not_reported"

DEFAULT_MIN_NUMERATOR = 10
DEFAULT_MIN_DENOMINATOR = 30
FLOOR_MIN_NUMERATOR = 5
FLOOR_MIN_DENOMINATOR = 10


def race_category(race_flags: list[str] | None, hispanic_or_latino: bool | None) -> str:
    """One student's federal category from OneRoster demographics."""
    if hispanic_or_latino:
        return "hispanic_or_latino"
    flags = set(race_flags or ())
    races = {RACE_FLAG_CATEGORIES[flag] for flag in flags if flag in RACE_FLAG_CATEGORIES}
    if TWO_OR_MORE_FLAG in flags or len(races) > 1:
        return "two_or_more_races"
    if races:
        return races.pop()
    return NOT_REPORTED


def sex_group(sex: str | None) -> str:
    text = (sex or "").strip().lower()
    return text or NOT_REPORTED


class FilterError(UserError):
    """A filter a user gave that no report can answer (one line, for the CLI and HTTP 422)."""


def _group(text: str | None) -> str | None:
    if text is None:
        return None
    dimension, separator, value = text.partition(":")
    if not separator or not value.strip():
        raise ValueError(
            f"a student group is DIMENSION:VALUE with DIMENSION one of {', '.join(DIMENSIONS)} "
            f"(e.g. iep:yes), not {text!r}"
        )
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown group dimension {dimension!r}: use {', '.join(DIMENSIONS)}")
    value = value.strip()
    if dimension == "race" and value not in RACE_CATEGORIES:
        raise ValueError(f"unknown race/ethnicity {value!r}: use {', '.join(RACE_CATEGORIES)}")
    if dimension == "iep" and value not in ("yes", "no"):
        raise ValueError(f"iep group is yes or no, not {value!r}")
    if dimension == "sex":
        value = value.lower()
    return f"{dimension}:{value}"


def _level(level: int | None) -> int | None:
    if level == 1:
        raise ValueError("Level 1 never reaches the district server: summaries count Level 2")
    return level


class SummaryFilters(BaseModel):
    """What a report covers. Dates are school-local days, both inclusive; no dates means the
    current school year. ``group`` is ``DIMENSION:VALUE`` (``race:asian``, ``sex:female``,
    ``iep:yes``, ``grade:07``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    school_id: str | None = Field(default=None, min_length=1, max_length=255)
    date_from: date | None = None
    date_to: date | None = None
    grade: str | None = Field(default=None, min_length=1, max_length=32)
    level: Annotated[int | None, AfterValidator(_level)] = Field(default=None, ge=1, le=5)
    group: Annotated[str | None, AfterValidator(_group)] = Field(
        default=None, min_length=3, max_length=100
    )

    @model_validator(mode="after")
    def _ordered(self) -> SummaryFilters:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"from ({self.date_from}) is after to ({self.date_to})")
        return self

    @property
    def group_dimension(self) -> Dimension | None:
        if self.group is None:
            return None
        dimension = self.group.split(":", 1)[0]
        assert dimension in DIMENSIONS
        return dimension

    @property
    def group_value(self) -> str | None:
        return None if self.group is None else self.group.split(":", 1)[1]


class Suppression(BaseModel):
    """How small cells were hidden (R8): a cell with fewer than ``min_numerator`` students with
    the outcome or fewer than ``min_denominator`` enrolled shows no numbers; then complementary
    cells, so that no hidden value follows from the published totals and cells."""

    model_config = ConfigDict(extra="forbid")

    min_numerator: int = DEFAULT_MIN_NUMERATOR
    min_denominator: int = DEFAULT_MIN_DENOMINATOR
    applies_to: list[str] = Field(default_factory=list)
    """The sections whose cells are subject to suppression (empty: none in this report)."""
    suppressed_cells: int = 0
    complementary_cells: int = 0


class SummaryReport(BaseModel):
    """One report: the same numbers for the API, the CLI, the dashboard and the HTML report."""

    model_config = ConfigDict(extra="forbid")

    report: ReportName
    filters: SummaryFilters
    scope: str
    """``district`` or the school the report covers."""
    period_from: date
    period_to: date
    generated_at: datetime
    suppression: Suppression
    columns: list[str]
    rows: list[Row]
    notes: list[str] = Field(default_factory=list)
    """What a reader must know to read the numbers right (e.g. a kind not recorded yet)."""

    def section(self, name: str) -> list[Row]:
        return [row for row in self.rows if row.get("section") == name]


REPORT_COLUMNS: dict[ReportName, tuple[str, ...]] = {
    "big5": (
        "section", "key", "label", "incidents", "office_referrals", "school_days",
        "per_school_day", "students", "share",
    ),
    "levels": ("section", "key", "label", "value", "unit"),
    "tab": (
        "section", "key", "label", "events", "minutes_total", "minutes_median", "students",
        "enrolled", "share", "suppressed", "reason",
    ),
    "follow-ups": (
        "section", "key", "label", "total", "open", "overdue", "done", "completion_rate",
        "median_days_to_done",
    ),
    "progression": (
        "section", "key", "label", "school_id", "behavior_code", "student_id", "incidents",
        "interventions", "bypasses",
    ),
    "equity": (
        "section", "outcome", "dimension", "group", "label", "enrolled", "with_outcome", "risk",
        "risk_ratio", "composition_outcome", "composition_enrolled", "suppressed", "reason",
    ),
}  # fmt: skip
"""Each report's columns, in the order the table and the CSV show them."""


def _zone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r} (use a name like America/Chicago)") from error
    return name


def _sorted_dates(days: list[date]) -> list[date]:
    return sorted(set(days))


MAX_NON_SCHOOL_DATES = 3660


class SchoolCalendar(BaseModel):
    """The district's school calendar: school days are weekdays minus ``non_school_dates``;
    ``time_zone`` is the district's, for "today" and the default school year."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time_zone: Annotated[str, AfterValidator(_zone)] = Field(
        default="UTC", min_length=1, max_length=64
    )
    non_school_dates: Annotated[list[date], AfterValidator(_sorted_dates)] = Field(
        default_factory=list, max_length=MAX_NON_SCHOOL_DATES
    )

    def school_days(self, first: date, last: date) -> int:
        """Weekdays from ``first`` to ``last`` (inclusive) that are not non-school dates."""
        if last < first:
            return 0
        days = (last - first).days + 1
        whole_weeks, rest = divmod(days, 7)
        weekdays = whole_weeks * 5 + sum(
            1 for offset in range(rest) if (first.weekday() + offset) % 7 < 5
        )
        closed = sum(
            1 for day in self.non_school_dates if first <= day <= last and day.weekday() < 5
        )
        return weekdays - closed


def _thresholds(value: SuppressionThresholds) -> SuppressionThresholds:
    if value.min_numerator >= value.min_denominator:
        raise ValueError(
            f"the numerator threshold ({value.min_numerator}) must be below the denominator "
            f"threshold ({value.min_denominator})"
        )
    return value


class SuppressionThresholds(BaseModel):
    """R8's small-cell thresholds (district config): never lower than 5 and 10."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_numerator: int = Field(
        default=DEFAULT_MIN_NUMERATOR,
        ge=FLOOR_MIN_NUMERATOR,
        le=1000,
        description="cells with fewer students with the outcome are suppressed",
    )
    min_denominator: int = Field(
        default=DEFAULT_MIN_DENOMINATOR,
        ge=FLOOR_MIN_DENOMINATOR,
        le=10000,
        description="cells with fewer students enrolled are suppressed",
    )

    @model_validator(mode="after")
    def _ordered(self) -> SuppressionThresholds:
        return _thresholds(self)


class SummaryConfig(BaseModel):
    """The district config the summaries read: the calendar and the suppression thresholds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    calendar: SchoolCalendar = Field(default_factory=SchoolCalendar)
    suppression: SuppressionThresholds = Field(default_factory=SuppressionThresholds)
