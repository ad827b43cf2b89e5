"""Small-cell suppression with complementary suppression (R8, DESIGN section 6b, invariant 10).

A table here is one dimension of one report: groups (rows) that partition the students in scope,
each with ``enrolled`` (the denominator, the same for every outcome) and, per outcome (column),
the number of students with that outcome. Totals over all groups are published.

A cell is hidden when its numerator is under ``min_numerator`` or its denominator under
``min_denominator`` (primary). Then, because the totals are published, a hidden value could be
solved for: in each column, the hidden cells sum to the total minus the published cells, and a
reader also knows each hidden cell's bounds from its reason (under the numerator threshold:
0..min_numerator-1; under the denominator threshold: enrolled 1..min_denominator-1;
complementary: at least the thresholds, so neither primary reason applied). With one equation
and bounds, a hidden value is determined exactly when its feasible interval is one number; while
any is, the smallest published cell of that column is hidden too (complementary), and if none is
left the column's total is hidden as well.

Denominators are shared by every outcome: a group's ``enrolled`` stays secret only when the group
is hidden in every column, so the groups under the denominator threshold are first protected in
the enrolled column the same way, and the groups hidden there are hidden in every column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

Reason = Literal["denominator", "numerator", "complementary"]
UNBOUNDED = 10**12

REASON_TEXT: dict[Reason, str] = {
    "denominator": "fewer than {min_denominator} students enrolled in the group",
    "numerator": "fewer than {min_numerator} students with the outcome",
    "complementary": "hidden so that another hidden cell cannot be recomputed from the totals",
}


@dataclass(frozen=True)
class Thresholds:
    min_numerator: int
    min_denominator: int

    def describe(self, reason: Reason) -> str:
        return REASON_TEXT[reason].format(
            min_numerator=self.min_numerator, min_denominator=self.min_denominator
        )


@dataclass
class TableSuppression:
    """Which cells of a table are hidden, and why."""

    hidden: dict[str, dict[str, Reason]] = field(default_factory=dict)
    """Per column (outcome): hidden groups and the reason."""
    hidden_totals: dict[str, Reason] = field(default_factory=dict)
    """Columns whose total is hidden (then every cell of the column is hidden too)."""
    enrolled_hidden: set[str] = field(default_factory=set)
    """Groups whose enrolled count appears nowhere (hidden in every column)."""
    enrolled_total_hidden: bool = False

    def reason(self, column: str, group: str) -> Reason | None:
        return self.hidden.get(column, {}).get(group)

    @property
    def cell_count(self) -> int:
        return sum(len(cells) for cells in self.hidden.values())

    @property
    def complementary_count(self) -> int:
        return sum(
            1 for cells in self.hidden.values() for why in cells.values() if why == "complementary"
        )


def _determined(
    hidden: Sequence[str], bounds: Mapping[str, tuple[int, int]], remainder: int | None
) -> bool:
    """Whether any hidden value is fixed by its bounds and (when the total is published) the
    equation sum(hidden) == remainder."""
    if not hidden:
        return False
    low_sum = sum(bounds[name][0] for name in hidden)
    high_sum = sum(min(bounds[name][1], UNBOUNDED) for name in hidden)
    for name in hidden:
        low, high = bounds[name]
        if remainder is not None:
            others_low = low_sum - low
            others_high = high_sum - min(high, UNBOUNDED)
            low = max(low, remainder - others_high)
            high = min(high, remainder - others_low)
        if low >= high:
            return True
    return False


def _protect(
    hidden: dict[str, Reason],
    values: Mapping[str, int],
    bounds_of: dict[str, tuple[int, int]],
    complementary_bounds: Mapping[str, tuple[int, int]],
    total: int,
    order: Sequence[str],
) -> bool:
    """Add complementary cells to ``hidden`` until no hidden value is determined by the total.
    Returns False when even hiding every cell leaves one determined (hide the total then)."""
    while True:
        names = [name for name in order if name in hidden]
        remainder = total - sum(values[name] for name in order if name not in hidden)
        if not _determined(names, bounds_of, remainder):
            return True
        candidates = [name for name in order if name not in hidden]
        if not candidates:
            return False
        smallest = min(candidates, key=lambda name: (values[name], order.index(name)))
        hidden[smallest] = "complementary"
        bounds_of[smallest] = complementary_bounds[smallest]


def suppress_table(
    groups: Sequence[str],
    enrolled: Mapping[str, int],
    with_outcome: Mapping[str, Mapping[str, int]],
    thresholds: Thresholds,
) -> TableSuppression:
    """Decide what to hide in one table (see the module docstring). ``with_outcome`` maps each
    column to its numerators by group; every group has at least one student enrolled."""
    min_n, min_d = thresholds.min_numerator, thresholds.min_denominator
    result = TableSuppression()
    order = sorted(groups, key=lambda name: (enrolled[name], name))
    total_enrolled = sum(enrolled[name] for name in order)
    if total_enrolled < min_d:
        result.enrolled_total_hidden = True
        result.enrolled_hidden = set(order)
        for column in with_outcome:
            result.hidden[column] = dict.fromkeys(order, "denominator")
            result.hidden_totals[column] = "denominator"
        return result

    base: dict[str, Reason] = {name: "denominator" for name in order if enrolled[name] < min_d}
    enrolled_bounds = dict.fromkeys(base, (1, min_d - 1))
    enrolled_bounds_complementary = dict.fromkeys(order, (min_d, UNBOUNDED))
    if not _protect(
        base, enrolled, enrolled_bounds, enrolled_bounds_complementary, total_enrolled, order
    ):
        result.enrolled_total_hidden = True
    result.enrolled_hidden = set(base)

    for column, values in with_outcome.items():
        total = sum(values[name] for name in order)
        hidden: dict[str, Reason] = {}
        for name in order:
            if enrolled[name] < min_d:
                hidden[name] = "denominator"
            elif values[name] < min_n:
                hidden[name] = "numerator"
            elif name in base:
                hidden[name] = "complementary"
        if total < min_n or result.enrolled_total_hidden:
            result.hidden[column] = hidden
            result.hidden_totals[column] = "numerator" if total < min_n else "complementary"
            continue
        bounds = {
            name: _cell_bounds(why, enrolled[name], thresholds) for name, why in hidden.items()
        }
        complementary = {
            name: _cell_bounds("complementary", enrolled[name], thresholds) for name in order
        }
        if not _protect(hidden, values, bounds, complementary, total, order):
            result.hidden_totals[column] = "complementary"
        result.hidden[column] = hidden
    _hide_columns_whose_total_is_hidden(result, order)
    return result


def _cell_bounds(why: Reason, enrolled: int, thresholds: Thresholds) -> tuple[int, int]:
    """What a reader can tell of a hidden numerator from its reason. The true denominator caps
    it even where the reader cannot see that denominator: tighter bounds only make the check
    stricter."""
    if why == "denominator":
        return (0, enrolled)
    if why == "numerator":
        return (0, min(thresholds.min_numerator - 1, enrolled))
    return (thresholds.min_numerator, enrolled)


def _hide_columns_whose_total_is_hidden(result: TableSuppression, order: Sequence[str]) -> None:
    for column in result.hidden_totals:
        cells = result.hidden[column]
        for name in order:
            cells.setdefault(name, "complementary")
