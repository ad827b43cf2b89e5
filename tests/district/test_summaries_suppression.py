"""Invariant 10: no summary publishes a suppressed value, directly or by subtraction. A reader
sees the published cells and totals and each hidden cell's reason; for random small tables, every
hidden value must still have at least two values consistent with all of that."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from district.summaries.suppression import Thresholds, suppress_table

LARGE = 10_000


@dataclass
class Table:
    enrolled: dict[str, int]
    with_outcome: dict[str, dict[str, int]]
    thresholds: Thresholds

    def __repr__(self) -> str:
        return f"Table({self.enrolled}, {self.with_outcome}, {self.thresholds})"


@st.composite
def tables(draw: st.DrawFn) -> Table:
    min_numerator = draw(st.integers(5, 12))
    min_denominator = draw(st.integers(max(10, min_numerator + 1), 35))
    group_count = draw(st.integers(1, 6))
    groups = [f"g{index}" for index in range(group_count)]
    enrolled = {group: draw(st.integers(1, 90)) for group in groups}
    columns = [f"c{index}" for index in range(draw(st.integers(1, 3)))]
    with_outcome = {
        column: {group: draw(st.integers(0, enrolled[group])) for group in groups}
        for column in columns
    }
    return Table(enrolled, with_outcome, Thresholds(min_numerator, min_denominator))


def feasible_values(boxes: dict[str, tuple[int, int]], target: int | None, cell: str) -> set[int]:
    """Every value of ``cell`` for which some choice of the other hidden values within their
    boxes makes the hidden values sum to ``target`` (no equation when the total is hidden)."""
    low, high = boxes[cell]
    if target is None:
        return set(range(low, high + 1))
    reachable = {0}
    for name, (other_low, other_high) in boxes.items():
        if name == cell:
            continue
        reachable = {
            partial + value
            for partial in reachable
            for value in range(other_low, min(other_high, target) + 1)
            if partial + value <= target
        }
    return {value for value in range(low, high + 1) if target - value in reachable}


def check_nothing_derivable(table: Table) -> None:
    """Secret: every hidden numerator, and the enrolled count of every group under the
    denominator threshold (a larger group's enrolled count is no secret)."""
    min_n = table.thresholds.min_numerator
    min_d = table.thresholds.min_denominator
    result = suppress_table(
        list(table.enrolled), table.enrolled, table.with_outcome, table.thresholds
    )
    published_enrolled = {
        group
        for column in table.with_outcome
        for group in table.enrolled
        if result.reason(column, group) is None
    }
    total_enrolled = sum(table.enrolled.values())
    enrolled_total = None if result.enrolled_total_hidden else total_enrolled
    if enrolled_total is not None:
        assert enrolled_total >= min_d
    for column, values in table.with_outcome.items():
        total = sum(values.values())
        published_total = None if column in result.hidden_totals else total
        if published_total is not None:
            assert published_total >= min_n
        boxes: dict[str, tuple[int, int]] = {}
        for group, count in values.items():
            why = result.reason(column, group)
            known_cap = table.enrolled[group] if group in published_enrolled else LARGE
            if why is None:
                assert count >= min_n, (column, group)
                assert table.enrolled[group] >= min_d, (column, group)
                continue
            if why == "denominator":
                boxes[group] = (0, min(min_d - 1, known_cap))
            elif why == "numerator":
                boxes[group] = (0, min(min_n - 1, known_cap))
            else:
                boxes[group] = (min_n, min(known_cap, published_total or LARGE))
            assert boxes[group][0] <= count <= boxes[group][1], (column, group, why)
        target = None
        if published_total is not None:
            target = published_total - sum(
                count for group, count in values.items() if group not in boxes
            )
        for group in boxes:
            options = feasible_values(boxes, target, group)
            assert values[group] in options
            assert len(options) >= 2, f"{column}/{group} = {values[group]} is derivable"
    hidden_enrolled = {
        group: (
            (1, min_d - 1) if table.enrolled[group] < min_d else (min_d, enrolled_total or LARGE)
        )
        for group in table.enrolled
        if group not in published_enrolled
    }
    if hidden_enrolled:
        target = None
        if enrolled_total is not None:
            target = enrolled_total - sum(table.enrolled[group] for group in published_enrolled)
        for group in hidden_enrolled:
            if table.enrolled[group] >= min_d:
                continue
            options = feasible_values(hidden_enrolled, target, group)
            assert table.enrolled[group] in options
            assert len(options) >= 2, f"enrolled of {group} is derivable"


@settings(max_examples=300, deadline=None)
@given(tables())
def test_no_suppressed_value_can_be_solved_from_what_is_published(table: Table) -> None:
    check_nothing_derivable(table)


def test_one_small_group_beside_a_published_total_hides_a_second_group() -> None:
    thresholds = Thresholds(10, 30)
    enrolled = {"a": 200, "b": 150, "c": 40}
    with_outcome = {"removal": {"a": 40, "b": 25, "c": 3}}
    result = suppress_table(list(enrolled), enrolled, with_outcome, thresholds)
    assert result.hidden["removal"] == {"c": "numerator", "b": "complementary"}
    check_nothing_derivable(Table(enrolled, with_outcome, thresholds))


def test_a_small_group_is_hidden_in_every_outcome_and_protected_in_the_enrolled_column() -> None:
    thresholds = Thresholds(10, 30)
    enrolled = {"a": 300, "b": 120, "c": 12}
    with_outcome = {"any": {"a": 90, "b": 40, "c": 11}, "iss": {"a": 30, "b": 20, "c": 0}}
    result = suppress_table(list(enrolled), enrolled, with_outcome, thresholds)
    assert result.enrolled_hidden == {"b", "c"}
    for column in with_outcome:
        assert result.reason(column, "c") == "denominator"
        assert result.reason(column, "b") is not None
    assert result.reason("any", "a") is None
    check_nothing_derivable(Table(enrolled, with_outcome, thresholds))


def test_large_cells_are_all_published() -> None:
    enrolled = {"a": 300, "b": 120}
    with_outcome = {"any": {"a": 90, "b": 40}}
    result = suppress_table(list(enrolled), enrolled, with_outcome, Thresholds(10, 30))
    assert result.cell_count == 0
    assert not result.hidden_totals
