"""The TAB report's medians per category, taken in one pass over lengths given with how many
times each occurs, equal the median of the lengths written out one by one."""

from __future__ import annotations

import statistics

from hypothesis import given
from hypothesis import strategies as st

from district.summaries.reports import _weighted_medians

CATEGORIES = ("all", "spot", "out", "student", "teacher")
entries = st.lists(
    st.tuples(
        st.sets(st.sampled_from(CATEGORIES), min_size=1, max_size=3).map(tuple),
        st.integers(min_value=0, max_value=600),
        st.integers(min_value=1, max_value=5),
    ),
    max_size=40,
)


@given(entries)
def test_each_category_s_median_is_the_median_of_its_values_written_out(
    given_entries: list[tuple[tuple[str, ...], int, int]],
) -> None:
    expected = {}
    for category in CATEGORIES:
        values = [
            value
            for categories, value, count in given_entries
            if category in categories
            for _ in range(count)
        ]
        if values:
            expected[category] = statistics.median(values)
    assert _weighted_medians(given_entries) == expected
