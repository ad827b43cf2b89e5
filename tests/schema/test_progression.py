"""Progression advice (R5) as properties of ``advise``, and school years as a partition of the
calendar: progression never looks across a school year's start."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schema.progression import Advice, PriorOccurrence, advise
from schema.schoolyear import DEFAULT_START, SchoolYear, school_year_for

DAY_ONE = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


@st.composite
def level_ranges(draw: st.DrawFn) -> tuple[int, ...]:
    """A grid's allowed levels: a contiguous run inside 1..5."""
    lowest = draw(st.integers(min_value=1, max_value=5))
    highest = draw(st.integers(min_value=lowest, max_value=5))
    return tuple(range(lowest, highest + 1))


STAFF_RANGES = st.sampled_from([(1,), (2,), (1, 2)])
"""What the store actually passes: the grid's range cut to staff Levels 1 and 2."""


@st.composite
def histories(draw: st.DrawFn, levels: st.SearchStrategy[int]) -> list[PriorOccurrence]:
    """Earlier occurrences with unique ids; times may tie, to exercise the tie-break."""
    count = draw(st.integers(min_value=0, max_value=8))
    ids = draw(
        st.lists(
            st.text("0123456789abcdef", min_size=1, max_size=6),
            min_size=count,
            max_size=count,
            unique=True,
        )
    )
    return [
        PriorOccurrence(
            incident_id=incident_id,
            level=draw(levels),
            occurred_at=DAY_ONE + timedelta(hours=draw(st.integers(min_value=0, max_value=5))),
            had_intervention=draw(st.booleans()),
        )
        for incident_id in ids
    ]


@st.composite
def advice_cases(
    draw: st.DrawFn, ranges: st.SearchStrategy[tuple[int, ...]] = STAFF_RANGES
) -> tuple[tuple[int, ...], list[PriorOccurrence]]:
    """Allowed levels and a history whose levels were allowed when they were logged."""
    allowed = draw(ranges)
    return allowed, draw(histories(st.sampled_from(allowed)))


def latest(prior: list[PriorOccurrence]) -> PriorOccurrence:
    return max(prior, key=lambda occurrence: (occurrence.occurred_at, occurrence.incident_id))


@given(allowed=level_ranges(), prior=histories(st.integers(min_value=1, max_value=5)))
def test_the_advised_level_is_always_an_allowed_level(
    allowed: tuple[int, ...], prior: list[PriorOccurrence]
) -> None:
    advice = advise(allowed, prior)
    assert advice.advised_level in allowed
    assert advice.allowed_levels == allowed


@given(allowed=level_ranges(), noise=st.lists(st.integers(min_value=1, max_value=5)))
def test_allowed_levels_are_normalised_whatever_order_or_repeats_they_come_in(
    allowed: tuple[int, ...], noise: list[int]
) -> None:
    messy = [level for level in noise if level in allowed] + list(reversed(allowed))
    assert advise(messy, []).allowed_levels == allowed


@given(allowed=level_ranges())
def test_a_first_occurrence_is_advised_at_the_lowest_allowed_level(
    allowed: tuple[int, ...],
) -> None:
    advice = advise(allowed, [])
    assert advice.advised_level == min(allowed)
    assert advice.prior_count == 0
    assert advice.missing_intervention_for is None
    assert advice.previous_level is None
    assert not any(advice.is_bypass(level) for level in allowed)


def test_a_first_occurrence_of_a_1_2_behavior_may_be_answered_at_level_2() -> None:
    advice = advise([1, 2], [])
    assert advice.advised_level == 1
    assert advice.is_bypass(2) is False


@given(case=advice_cases(level_ranges()))
def test_advice_never_goes_more_than_one_level_above_the_previous_occurrence(
    case: tuple[tuple[int, ...], list[PriorOccurrence]],
) -> None:
    allowed, prior = case
    advice = advise(allowed, prior)
    if prior:
        previous = latest(prior)
        assert previous.level <= advice.advised_level <= previous.level + 1
        assert advice.previous_level == previous.level
        assert advice.prior_count == len(prior)


@given(case=advice_cases(level_ranges()))
def test_a_missing_intervention_holds_the_advice_at_the_previous_level(
    case: tuple[tuple[int, ...], list[PriorOccurrence]],
) -> None:
    allowed, prior = case
    advice = advise(allowed, prior)
    if not prior:
        return
    previous = latest(prior)
    if not previous.had_intervention and previous.level < max(allowed):
        assert advice.advised_level == previous.level
        assert advice.missing_intervention_for == previous.incident_id
        assert "Record an intervention" in advice.reason
    else:
        assert advice.advised_level == min(previous.level + 1, max(allowed))
        assert advice.missing_intervention_for is None


@given(case=advice_cases(level_ranges()))
def test_a_bypass_is_escalating_above_the_previous_level_without_its_intervention(
    case: tuple[tuple[int, ...], list[PriorOccurrence]],
) -> None:
    allowed, prior = case
    advice = advise(allowed, prior)
    for chosen in allowed:
        expected = bool(prior) and (
            chosen > latest(prior).level and not latest(prior).had_intervention
        )
        assert advice.is_bypass(chosen) is expected


@given(case=advice_cases(level_ranges()), data=st.data())
def test_the_order_of_earlier_occurrences_does_not_change_the_advice(
    case: tuple[tuple[int, ...], list[PriorOccurrence]], data: st.DataObject
) -> None:
    allowed, prior = case
    shuffled = data.draw(st.permutations(prior))
    assert advise(allowed, shuffled) == advise(allowed, prior)


@given(case=advice_cases())
def test_choosing_the_advised_level_is_never_a_bypass(
    case: tuple[tuple[int, ...], list[PriorOccurrence]],
) -> None:
    allowed, prior = case
    advice = advise(allowed, prior)
    assert advice.is_bypass(advice.advised_level) is False


def test_advice_needs_at_least_one_staff_level() -> None:
    with pytest.raises(ValueError, match="no staff-loggable level"):
        advise([], [])


def _history(levels_and_interventions: list[tuple[int, bool]]) -> list[PriorOccurrence]:
    return [
        PriorOccurrence(f"i{index}", level, DAY_ONE + timedelta(days=index), intervened)
        for index, (level, intervened) in enumerate(levels_and_interventions)
    ]


def test_a_repeat_after_an_intervention_is_advised_one_level_higher() -> None:
    advice = advise([1, 2], _history([(1, True)]))
    assert advice == Advice(
        advised_level=2,
        allowed_levels=(1, 2),
        reason=(
            "2nd occurrence this school year; the Level 1 on Sep 01 had an intervention: Level 2."
        ),
        prior_count=1,
        previous_level=1,
    )


def test_a_repeat_without_an_intervention_names_the_occurrence_that_needs_one() -> None:
    advice = advise([1, 2], _history([(1, True), (1, False)]))
    assert advice.advised_level == 1
    assert advice.missing_intervention_for == "i1"
    assert advice.reason == (
        "3rd occurrence this school year. Record an intervention for the Level 1 on Sep 02 "
        "before answering one level higher."
    )
    assert advice.is_bypass(2) is True
    assert advice.is_bypass(1) is False


def test_the_highest_staff_level_stays_the_advice_once_reached() -> None:
    advice = advise([1, 2], _history([(1, True), (2, False)]))
    assert advice.advised_level == 2
    assert advice.missing_intervention_for is None
    assert "highest staff level" in advice.reason


@pytest.mark.parametrize(
    ("prior_count", "ordinal"),
    [(1, "2nd"), (2, "3rd"), (3, "4th"), (10, "11th"), (11, "12th"), (12, "13th"), (20, "21st")],
)
def test_the_reason_counts_the_occurrence_in_plain_english(prior_count: int, ordinal: str) -> None:
    advice = advise([1, 2], _history([(1, True)] * prior_count))
    assert advice.reason.startswith(f"{ordinal} occurrence this school year")


# -- school years -------------------------------------------------------------------------------

DATES = st.dates(min_value=date(1950, 1, 1), max_value=date(2150, 12, 31))


@given(day=DATES, start=DATES)
def test_every_date_falls_in_exactly_one_school_year(day: date, start: date) -> None:
    year = school_year_for(day, start)
    assert day in year
    assert year.start <= day < year.end
    before = school_year_for(year.start - timedelta(days=1), start)
    after = school_year_for(year.end, start)
    assert day not in before
    assert day not in after
    assert school_year_for(year.start, start) == year
    assert school_year_for(year.end - timedelta(days=1), start) == year


@given(day=DATES, start=DATES)
def test_consecutive_school_years_are_contiguous(day: date, start: date) -> None:
    year = school_year_for(day, start)
    assert school_year_for(year.end, start).start == year.end
    assert school_year_for(year.start - timedelta(days=1), start).end == year.start
    assert 365 <= (year.end - year.start).days <= 366


@given(start=DATES)
def test_the_configured_start_date_begins_its_own_school_year(start: date) -> None:
    year = school_year_for(start, start)
    assert year.start == start
    assert year.label == f"{start.year}-{start.year + 1}"
    assert school_year_for(start - timedelta(days=1), start).end == start


def test_the_default_school_year_runs_from_july_to_july() -> None:
    assert school_year_for(date(2026, 10, 14)) == SchoolYear(DEFAULT_START, date(2027, 7, 1))
    assert school_year_for(date(2027, 6, 30)).label == "2026-2027"
    assert school_year_for(date(2027, 7, 1)).label == "2027-2028"
    assert school_year_for(date(2026, 6, 30)).label == "2025-2026"


def test_a_leap_day_start_keeps_every_year_contiguous() -> None:
    start = date(2028, 2, 29)
    assert school_year_for(date(2028, 3, 1), start) == SchoolYear(start, date(2029, 2, 28))
    assert school_year_for(date(2029, 2, 28), start).start == date(2029, 2, 28)


def test_a_school_year_contains_only_dates() -> None:
    year = school_year_for(date(2026, 10, 14))
    assert "2026-10-14" not in year
    assert None not in year
