"""The summaries' filters, calendar and thresholds: a bad filter is one clear error, never an
empty report; school days are weekdays minus the district's non-school dates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from schema.summaries import (
    SchoolCalendar,
    SummaryFilters,
    SuppressionThresholds,
    race_category,
    sex_group,
)


def test_from_after_to_is_refused_with_both_dates() -> None:
    with pytest.raises(ValidationError, match=r"from \(2026-10-02\) is after to \(2026-10-01\)"):
        SummaryFilters(date_from=date(2026, 10, 2), date_to=date(2026, 10, 1))


def test_level_1_is_refused_because_it_never_reaches_the_server() -> None:
    with pytest.raises(ValidationError, match="Level 1 never reaches the district server"):
        SummaryFilters(level=1)
    assert SummaryFilters(level=2).level == 2


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("iep", "DIMENSION:VALUE"),
        ("religion:x", "unknown group dimension"),
        ("race:martian", "unknown race/ethnicity"),
        ("iep:maybe", "iep group is yes or no"),
    ],
)
def test_a_bad_student_group_names_the_problem(text: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        SummaryFilters(group=text)


def test_a_group_is_read_as_dimension_and_value() -> None:
    filters = SummaryFilters(group="sex:Female")
    assert filters.group == "sex:female"
    assert (filters.group_dimension, filters.group_value) == ("sex", "female")


def test_unknown_filter_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        SummaryFilters.model_validate({"school": "s1"})


@given(
    first=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    length=st.integers(-3, 400),
    closed=st.lists(
        st.dates(min_value=date(2020, 1, 1), max_value=date(2031, 12, 31)), max_size=20
    ),
)
def test_school_days_are_weekdays_minus_non_school_dates(
    first: date, length: int, closed: list[date]
) -> None:
    last = first + timedelta(days=length)
    calendar = SchoolCalendar(non_school_dates=closed)
    expected = 0
    day = first
    while day <= last:
        expected += day.weekday() < 5 and day not in closed
        day += timedelta(days=1)
    assert calendar.school_days(first, last) == expected


def test_calendar_refuses_an_unknown_time_zone() -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        SchoolCalendar(time_zone="Mars/Olympus")


def test_thresholds_default_to_10_and_30_and_are_never_below_5_and_10() -> None:
    default = SuppressionThresholds()
    assert (default.min_numerator, default.min_denominator) == (10, 30)
    assert SuppressionThresholds(min_numerator=5, min_denominator=10).min_numerator == 5
    with pytest.raises(ValidationError):
        SuppressionThresholds(min_numerator=4)
    with pytest.raises(ValidationError):
        SuppressionThresholds(min_denominator=9)
    with pytest.raises(ValidationError, match="must be below the denominator"):
        SuppressionThresholds(min_numerator=30, min_denominator=30)


@pytest.mark.parametrize(
    ("flags", "hispanic", "category"),
    [
        (["white"], True, "hispanic_or_latino"),
        (["white"], False, "white"),
        (["asian"], None, "asian"),
        (["white", "blackOrAfricanAmerican"], False, "two_or_more_races"),
        (["demographicRaceTwoOrMoreRaces"], False, "two_or_more_races"),
        ([], False, "not_reported"),
        (None, None, "not_reported"),
    ],
)
def test_federal_race_categories(
    flags: list[str] | None, hispanic: bool | None, category: str
) -> None:
    assert race_category(flags, hispanic) == category


def test_sex_groups_are_lower_case_and_blank_is_not_reported() -> None:
    assert sex_group(" Female ") == "female"
    assert sex_group("") == "not_reported"
    assert sex_group(None) == "not_reported"
