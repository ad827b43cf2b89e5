"""The device clock against the server's: a year ahead, a day behind, jumping back an hour."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from synckit import ManualClock, Network

from schema.clock import Timestamp
from schema.store import IncidentChanges
from schema.wire import MAX_CLOCK_AHEAD_MS

YEAR_MS = 365 * 24 * 3600 * 1000
DAY_MS = 24 * 3600 * 1000
HOUR_MS = 3600 * 1000


async def test_clock_a_year_ahead_restamps_pending_ops_and_syncs(network: Network) -> None:
    ahead = ManualClock(network.server_clock.ms + YEAR_MS)
    device = network.device("ahead", wall=ahead)
    first = device.log(level=2, note="minted a year ahead")
    second = device.log(level=2, note="also ahead", student="stu-2")
    device.store.edit_incident(first, IncidentChanges(note="edited ahead"))
    assert device.sync_store.hlc().wall_ms > network.server_clock.ms + YEAR_MS - 1000
    report = await device.engine.push()
    assert report.restamped > 0
    assert device.pending() == 0
    held = network.district.records
    assert held[first].fields["note"] == "edited ahead"
    assert second in held
    for record in held.values():
        for stamp in record.field_hlc.values():
            assert Timestamp.decode(stamp).wall_ms <= network.server_clock.ms + MAX_CLOCK_AHEAD_MS
    persisted = device.sync_store.hlc()
    assert persisted.wall_ms <= network.server_clock.ms + MAX_CLOCK_AHEAD_MS
    assert abs(device.sync_store.clock_offset_ms() + YEAR_MS) < 2000
    third = device.log(level=2, note="after correction", student="stu-3")
    await device.engine.push()
    assert device.pending() == 0
    assert third in network.district.records
    assert device.sync_store.hlc() > persisted


async def test_restamped_ops_keep_their_order(network: Network) -> None:
    ahead = ManualClock(network.server_clock.ms + YEAR_MS)
    device = network.device("ahead", wall=ahead)
    record = device.log(level=2, note="v1")
    for version in range(2, 5):
        device.store.edit_incident(record, IncidentChanges(note=f"v{version}"))
    await device.engine.push()
    assert network.district.records[record].fields["note"] == "v4"


async def test_clock_a_day_behind_is_corrected_by_offset(network: Network) -> None:
    behind = ManualClock(network.server_clock.ms - DAY_MS)
    device = network.device("behind", wall=behind)
    record = device.log(level=2, note="yesterday's clock")
    await device.engine.push()
    assert device.pending() == 0
    assert abs(device.sync_store.clock_offset_ms() - DAY_MS) < 2000
    assert abs(device.store.now().timestamp() * 1000 - network.server_clock.ms) < 2000
    network.server_clock.advance(1)
    behind.advance(1)
    device.store.edit_incident(record, IncidentChanges(note="after offset"))
    await device.engine.push()
    assert network.district.records[record].fields["note"] == "after offset"


async def test_clock_jumping_back_an_hour_never_moves_the_hlc_back(network: Network) -> None:
    wall = ManualClock(network.server_clock.ms)
    device = network.device("jumpy", wall=wall)
    record = device.log(level=2, note="before jump")
    before = device.sync_store.hlc()
    wall.ms -= HOUR_MS
    later = device.log(level=2, note="after jump", student="stu-2")
    assert device.sync_store.hlc() > before
    stamps = [
        r[0] for r in device.sync_store.connection.execute("SELECT hlc FROM outbox ORDER BY seq")
    ]
    assert stamps == sorted(stamps)
    await device.engine.push()
    assert {record, later} <= set(network.district.records)
    assert abs(device.sync_store.clock_offset_ms() - HOUR_MS) < 2000


@settings(max_examples=40, deadline=None)
@given(
    offsets=st.lists(
        st.integers(min_value=-100 * DAY_MS, max_value=2 * YEAR_MS), min_size=1, max_size=6
    )
)
def test_hlc_stays_monotonic_across_restamps_and_offsets(offsets: list[int]) -> None:
    import tempfile
    from pathlib import Path

    from synckit import BASE_WALL_MS, seed_roster

    from schema.store import DeviceStore
    from schema.sync_store import SyncStore

    with tempfile.TemporaryDirectory() as folder:
        wall = ManualClock(BASE_WALL_MS)
        store = DeviceStore.open(Path(folder), wall=wall)
        seed_roster(store)
        sync = SyncStore.open(Path(folder), wall=wall)
        seen = sync.hlc()
        try:
            for offset in offsets:
                wall.ms = BASE_WALL_MS + offset
                from schema.models import IncidentDraft

                store.log_incident(
                    IncidentDraft(student_id="stu-1", behavior_code="DIS-CLASS", level=2)
                )
                stamps = [
                    row[0] for row in sync.connection.execute("SELECT hlc FROM outbox ORDER BY seq")
                ]
                assert stamps == sorted(stamps)
                sync.correct_clock(BASE_WALL_MS)
                stamps = [
                    row[0] for row in sync.connection.execute("SELECT hlc FROM outbox ORDER BY seq")
                ]
                assert stamps == sorted(stamps)
                assert all(
                    Timestamp.decode(s).wall_ms <= BASE_WALL_MS + MAX_CLOCK_AHEAD_MS for s in stamps
                )
                current = sync.hlc()
                if current < seen:
                    assert seen.wall_ms > BASE_WALL_MS + MAX_CLOCK_AHEAD_MS - 60_000
                seen = current
        finally:
            sync.close()
            store.close()
