"""The hybrid logical clock: monotonic per node, causal across nodes, string-sortable."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schema.clock import (
    COUNTER_DIGITS,
    MAX_COUNTER,
    WALL_DIGITS,
    ClockError,
    HybridClock,
    Timestamp,
    next_after,
    observe,
)

WALLS = st.integers(min_value=0, max_value=10**12)
"""Up to the year 2001 + ~30 years of headroom: overflow carries stay inside 13 digits."""
COUNTERS = st.integers(min_value=0, max_value=MAX_COUNTER)
NODES = st.text(min_size=1, max_size=40)
TIMESTAMPS = st.builds(Timestamp, WALLS, COUNTERS, NODES)
NODE = "0190a4c2-7c1e-7000-8000-00000000cafe"


class ReplayWall:
    """A wall clock that returns the given readings in turn, jumps and stalls included."""

    def __init__(self, readings: list[int]) -> None:
        self.readings = list(readings)

    def __call__(self) -> int:
        return self.readings.pop(0)


@given(start=TIMESTAMPS, readings=st.lists(WALLS, min_size=1, max_size=60))
def test_tick_strictly_increases_whatever_the_wall_clock_does(
    start: Timestamp, readings: list[int]
) -> None:
    clock = HybridClock(start.node, last=start, wall=ReplayWall(readings))
    previous = start
    for reading in readings:
        current = clock.tick()
        assert current > previous
        assert (current.wall_ms, current.counter) > (previous.wall_ms, previous.counter)
        assert current.wall_ms >= reading
        assert current.counter <= MAX_COUNTER
        previous = current


@given(
    wall=st.integers(min_value=1, max_value=10**12), steps=st.integers(min_value=1, max_value=50)
)
def test_tick_counts_up_while_the_wall_clock_stands_still(wall: int, steps: int) -> None:
    clock = HybridClock(NODE, wall=lambda: wall)
    stamps = [clock.tick() for _ in range(steps)]
    assert [stamp.counter for stamp in stamps] == list(range(steps))
    assert {stamp.wall_ms for stamp in stamps} == {wall}


def test_tick_keeps_the_later_wall_after_the_clock_jumps_back_an_hour() -> None:
    readings = [1_800_000_000_000, 1_800_000_000_000 - 3_600_000]
    clock = HybridClock(NODE, wall=ReplayWall(readings))
    first = clock.tick()
    second = clock.tick()
    assert first == Timestamp(1_800_000_000_000, 0, NODE)
    assert second == Timestamp(1_800_000_000_000, 1, NODE)


@given(last=TIMESTAMPS, remote=TIMESTAMPS, physical=WALLS)
def test_receive_is_later_than_both_the_local_last_and_the_remote(
    last: Timestamp, remote: Timestamp, physical: int
) -> None:
    clock = HybridClock(last.node, last=last, wall=lambda: physical)
    received = clock.receive(remote)
    assert (received.wall_ms, received.counter) > (last.wall_ms, last.counter)
    assert (received.wall_ms, received.counter) > (remote.wall_ms, remote.counter)
    assert received.wall_ms >= physical
    assert received.node == last.node
    assert clock.last == received
    assert clock.tick() > received


@given(
    last=TIMESTAMPS,
    remote=TIMESTAMPS,
    physical=WALLS,
    offset=st.integers(min_value=-(10**9), max_value=10**9),
)
def test_receive_and_tick_follow_the_offset_corrected_physical_time(
    last: Timestamp, remote: Timestamp, physical: int, offset: int
) -> None:
    corrected = physical + offset
    clock = HybridClock(last.node, last=last, wall=lambda: physical, offset_ms=offset)
    assert clock.physical_ms() == corrected
    assert clock.receive(remote).wall_ms >= corrected
    assert clock.tick().wall_ms >= corrected


@given(stamp=TIMESTAMPS)
def test_encode_then_decode_returns_the_same_timestamp(stamp: Timestamp) -> None:
    text = stamp.encode()
    assert Timestamp.decode(text) == stamp
    assert str(stamp) == text
    assert Timestamp.decode(text).encode() == text


@given(first=TIMESTAMPS, second=TIMESTAMPS)
def test_encoded_string_order_is_timestamp_order(first: Timestamp, second: Timestamp) -> None:
    assert (first.encode() < second.encode()) == (first < second)
    assert (first.encode() == second.encode()) == (first == second)


@given(stamps=st.lists(TIMESTAMPS, min_size=2, max_size=20, unique=True))
def test_sqlite_orders_encoded_timestamps_like_timestamps(stamps: list[Timestamp]) -> None:
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute("CREATE TABLE t (hlc TEXT NOT NULL)")
        connection.executemany("INSERT INTO t VALUES (?)", [(s.encode(),) for s in stamps])
        ordered = [row[0] for row in connection.execute("SELECT hlc FROM t ORDER BY hlc")]
    finally:
        connection.close()
    assert ordered == [stamp.encode() for stamp in sorted(stamps)]


@given(wall=WALLS, node=NODES, physical_behind=st.integers(min_value=0, max_value=10**6))
def test_counter_overflow_carries_into_the_wall(wall: int, node: str, physical_behind: int) -> None:
    full = Timestamp(wall, MAX_COUNTER, node)
    physical = max(0, wall - physical_behind)
    assert next_after(full, physical, node) == Timestamp(wall + 1, 0, node)
    assert observe(full, full, physical, node) == Timestamp(wall + 1, 0, node)
    encoded = next_after(full, physical, node).encode()
    assert encoded.split("-", 2)[1] == "0" * COUNTER_DIGITS


def test_encoding_is_fixed_width_digits_then_node() -> None:
    text = Timestamp(1_791_986_400_000, 42, NODE).encode()
    assert text == f"1791986400000-000042-{NODE}"
    wall_text, counter_text, node = text.split("-", 2)
    assert (len(wall_text), len(counter_text), node) == (WALL_DIGITS, COUNTER_DIGITS, NODE)


DIGITISH = st.sampled_from("0123456789+-_ \u0661x")


@given(
    text=st.builds(
        "{}-{}-{}".format,
        st.text(DIGITISH, min_size=WALL_DIGITS, max_size=WALL_DIGITS),
        st.text(DIGITISH, min_size=COUNTER_DIGITS, max_size=COUNTER_DIGITS),
        NODES,
    )
)
def test_decode_accepts_only_what_encode_would_write(text: str) -> None:
    try:
        stamp = Timestamp.decode(text)
    except ClockError:
        return
    assert stamp.encode() == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not a clock",
        "1791986400000-000042-",
        "1791986400000-42-node",
        "179198640000-000042-node",
        "1791986400000000042node",
        "179198640000x-000042-node",
        "+179198640000-000042-node",
        " 179198640000-000042-node",
        "1_79198640000-000042-node",
        "1791986400000-0000_1-node",
        "١٧٩١٩٨٦٤٠٠٠٠٠-000042-node",
    ],
)
def test_decode_refuses_anything_but_the_canonical_encoding(text: str) -> None:
    with pytest.raises(ClockError, match="not a hybrid logical clock value"):
        Timestamp.decode(text)
