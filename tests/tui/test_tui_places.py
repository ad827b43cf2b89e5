"""Every record says truthfully where it is, in today's log, the history and on its own screen:
kept on this device (Level 1), waiting to sync, at the district, refused by the district,
withdrawn from the district. The daemon's side is played by SyncStore on its own connection."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.app import App
from tuikit import Wall

from schema.models import Action, IncidentDraft, TabKind
from schema.places import Place, RecordRef, record_places
from schema.store import DeviceStore
from schema.sync_store import SyncStore
from schema.wire import OpResult, OpStatus
from tui.app import ClasslogApp
from tui.records.record import RecordScreen
from tui.tabs.record import TabRecordScreen

Seen = Callable[[App[object]], str]


@pytest.fixture
def daemon(home: Path, wall: Wall, store: DeviceStore) -> Iterator[SyncStore]:
    sync = SyncStore.open(home, wall=wall)
    yield sync
    sync.close()


def push(sync: SyncStore, status: OpStatus = OpStatus.APPLIED, reason: str | None = None) -> int:
    """One push round of everything queued, answered with ``status`` for every op."""
    batch = sync.take_batch(max_ops=1000, max_bytes=10_000_000)
    sync.apply_push_results(
        batch.ops,
        [OpResult(op_id=op.op_id, status=status, reason=reason) for op in batch.ops],
    )
    return len(batch.ops)


def log(store: DeviceStore, level: int, student_id: str = "s-maya") -> str:
    return store.log_incident(
        IncidentDraft(
            student_id=student_id,
            behavior_code="DIS-CLASS",
            level=level,
            actions=[Action.REDIRECT, Action.REMOVAL] if level == 2 else [Action.REDIRECT],
            removal_minutes=20 if level == 2 else None,
        )
    ).id


def place(store: DeviceStore, incident_id: str) -> Place:
    incident = store.incident(incident_id)
    ref = RecordRef(incident.id, incident.level, incident.device_id == store.device_id)
    return record_places(store.connection, "incident", [ref])[incident_id].place


async def test_todays_log_says_where_each_record_is(
    store: DeviceStore, daemon: SyncStore, seen: Seen
) -> None:
    log(store, 1, "s-maya")
    at_district = log(store, 2, "s-priya")
    push(daemon)
    log(store, 2, "s-sofia")
    refused = log(store, 2, "s-thomas")
    store.start_tab("s-sam", TabKind.SPOT)
    batch = daemon.take_batch(max_ops=1000, max_bytes=10_000_000)
    daemon.apply_push_results(
        batch.ops,
        [
            OpResult(op_id=op.op_id, status=OpStatus.REJECTED, reason="grade band unknown")
            for op in batch.ops
            if op.id == refused
        ],
    )
    assert place(store, at_district) is Place.AT_DISTRICT
    app = ClasslogApp(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("ctrl+d")
        text = seen(app)
        assert "Maya Lopez DIS-CLASS Level 1 kept on this device (Level 1)" in text
        assert "Priya Raman DIS-CLASS Level 2 at the district" in text
        assert "Sofía Castañeda DIS-CLASS Level 2 waiting to sync" in text
        assert "Thomas Nguyen DIS-CLASS Level 2 refused by the district: grade band unknown" in text
        assert "Sam Okafor Take a Break support waiting to sync" in text


async def test_a_synced_level_2_edited_down_says_it_is_withdrawn_never_that_it_never_left(
    store: DeviceStore, daemon: SyncStore, seen: Seen
) -> None:
    record_id = log(store, 2)
    push(daemon)
    app = ClasslogApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+d", "enter")
        assert isinstance(app.screen, RecordScreen)
        assert "Where: at the district" in seen(app)
        await pilot.press("l")
        text = seen(app)
        assert "This record has reached the district" in text
        assert "withdrawn from there at the next sync" in text
        assert "never" not in text
        await pilot.press("y")
        await pilot.pause()
        assert store.incident(record_id).level == 1
        queued = store.connection.execute(
            "SELECT op FROM outbox WHERE entity_id = ?", (record_id,)
        ).fetchall()
        assert [row[0] for row in queued] == ["retract"]
        text = seen(app)
        assert "Where: being withdrawn from the district (waiting to sync)" in text
        assert "never leaves" not in text
        push(daemon)
        app.screen.reload()
        await pilot.pause()
        text = seen(app)
        assert "Where: withdrawn from the district" in text
        assert "the district keeps none of its content" in text
        assert "never leaves" not in text
        await pilot.press("escape")
        assert "Maya Lopez DIS-CLASS Level 1 withdrawn from the district" in seen(app)


async def test_a_level_2_never_sent_and_edited_down_stays_on_the_device(
    store: DeviceStore, seen: Seen
) -> None:
    record_id = log(store, 2)
    app = ClasslogApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+d", "enter", "l")
        text = seen(app)
        assert "reached the district" not in text
        assert "It has not left this device: as Level 1 it stays on this device only" in text
        await pilot.press("y")
        await pilot.pause()
        queued = store.connection.execute(
            "SELECT count(*) FROM outbox WHERE entity_id = ?", (record_id,)
        ).fetchone()[0]
        assert queued == 0
        assert "Where: kept on this device (Level 1)" in seen(app)


async def test_the_history_says_where_each_record_is(
    store: DeviceStore, daemon: SyncStore, seen: Seen
) -> None:
    log(store, 2)
    push(daemon)
    log(store, 1)
    app = ClasslogApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("m", "a", "ctrl+o")
        text = seen(app)
        assert "History: Maya Lopez" in text
        assert "DIS-CLASS Level 2 at the district" in text
        assert "DIS-CLASS Level 1 kept on this device (Level 1)" in text


async def test_a_refusal_shows_its_reason_on_the_record(
    store: DeviceStore, daemon: SyncStore, seen: Seen
) -> None:
    log(store, 2)
    push(daemon, OpStatus.REJECTED, "[b]level[/b] not allowed for grade 07")
    app = ClasslogApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+d", "enter")
        text = seen(app)
        assert "Where: refused by the district: [b]level[/b] not allowed for grade 07" in text


async def test_an_ended_break_opens_with_its_times_reflection_and_place(
    store: DeviceStore, wall: Wall, daemon: SyncStore, seen: Seen
) -> None:
    tab = store.start_tab("s-priya", TabKind.OUT_AND_BACK)
    wall.advance(420)
    store.stop_tab(tab.id, True, "I took deep breaths")
    push(daemon)
    app = ClasslogApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+d", "enter")
        assert isinstance(app.screen, TabRecordScreen)
        text = seen(app)
        assert "Take a Break: Priya Raman TAB Out and Back" in text
        assert "Where: at the district" in text
        assert "Started: Mon Sep 14 10:05" in text
        assert "Ended: Mon Sep 14 10:12 (7 min)" in text
        assert "Returned ready: yes" in text
        assert "Reflection: I took deep breaths" in text
        assert "Marisol Alvarez ended the break: returned ready." in text
