"""A check and the write it guards share one BEGIN IMMEDIATE transaction.

Each test lets a rival writer on the same file (another `classlog` process, or the daemon)
commit at the last moment it could: just as the store begins its write transaction. A check
made before that transaction would not see the rival's commit and the write would go through
on stale facts; a check inside it sees the commit and refuses."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from schema.models import Action, IncidentDraft, TabKind
from schema.store import DeviceStore, IncidentChanges, StoreError


@pytest.fixture
def rival(home: Path, wall: Any, store: DeviceStore) -> Iterator[DeviceStore]:
    """A second store on the same device file, as another process would open it."""
    other = DeviceStore.open(home, wall=wall)
    yield other
    other.close()


def before_next_transaction(store: DeviceStore, rival_write: Callable[[], object]) -> list[str]:
    """Run ``rival_write`` (on another connection) as ``store`` begins its next transaction;
    the returned list holds the statement it ran before, so a test can assert it happened."""
    fired: list[str] = []

    def trace(statement: str) -> None:
        if statement == "BEGIN IMMEDIATE" and not fired:
            fired.append(statement)
            rival_write()

    store.connection.set_trace_callback(trace)
    return fired


def outbox_count(store: DeviceStore) -> int:
    count: int = store.connection.execute("SELECT count(*) FROM outbox").fetchone()[0]
    return count


def level_2(roster: Any, **values: Any) -> IncidentDraft:
    return IncidentDraft(student_id=roster.student_id, behavior_code="DIS-CLASS", level=2, **values)


def test_an_edit_is_refused_when_the_record_was_voided_as_the_edit_began(
    store: DeviceStore, rival: DeviceStore, roster: Any
) -> None:
    incident = store.log_incident(level_2(roster, note="first note"))
    queued = outbox_count(store)
    closed_by_the_void = len(store.follow_ups_for(incident.id))
    fired = before_next_transaction(store, lambda: rival.void_incident(incident.id, "logged twice"))
    with pytest.raises(StoreError, match="voided record cannot be edited"):
        store.edit_incident(incident.id, IncidentChanges(note="edited after the void"))
    assert fired
    stored = store.incident(incident.id)
    assert stored.note == "first note"
    assert stored.void_reason == "logged twice"
    assert outbox_count(store) == queued + 1 + closed_by_the_void


def test_a_void_is_refused_when_another_void_committed_as_it_began(
    store: DeviceStore, rival: DeviceStore, roster: Any
) -> None:
    incident = store.log_incident(level_2(roster))
    fired = before_next_transaction(store, lambda: rival.void_incident(incident.id, "first"))
    with pytest.raises(StoreError, match="already voided"):
        store.void_incident(incident.id, "second")
    assert fired
    assert store.incident(incident.id).void_reason == "first"
    assert [row["action"] for row in store.audit_for(incident.id)] == ["create", "void"]


def test_an_added_intervention_keeps_one_added_as_it_began(
    store: DeviceStore, rival: DeviceStore, roster: Any
) -> None:
    incident = store.log_incident(level_2(roster))
    fired = before_next_transaction(
        store, lambda: rival.add_actions(incident.id, [Action.REDIRECT])
    )
    store.add_actions(incident.id, [Action.FAMILY_CONTACT])
    assert fired
    assert set(store.incident(incident.id).actions) == {Action.REDIRECT, Action.FAMILY_CONTACT}


def test_a_second_take_a_break_cannot_start_as_another_starts(
    store: DeviceStore, rival: DeviceStore, roster: Any
) -> None:
    fired = before_next_transaction(store, lambda: rival.start_tab(roster.student_id))
    with pytest.raises(StoreError, match="already has a Take a Break running"):
        store.start_tab(roster.student_id, TabKind.OUT)
    assert fired
    assert len(store.running_tabs()) == 1


def test_a_take_a_break_cannot_be_stopped_twice_by_two_writers(
    store: DeviceStore, rival: DeviceStore, roster: Any, wall: Any
) -> None:
    tab = store.start_tab(roster.student_id)
    fired = before_next_transaction(store, lambda: rival.stop_tab(tab.id, returned_ready=True))
    with pytest.raises(StoreError, match="already ended"):
        store.stop_tab(tab.id, returned_ready=False)
    assert fired
    assert store.tab(tab.id).returned_ready is True


def test_a_take_a_break_cannot_be_voided_twice_by_two_writers(
    store: DeviceStore, rival: DeviceStore, roster: Any
) -> None:
    tab = store.start_tab(roster.student_id)
    fired = before_next_transaction(store, lambda: rival.void_tab(tab.id, "wrong student"))
    with pytest.raises(StoreError, match="already voided"):
        store.void_tab(tab.id, "started by mistake")
    assert fired
    assert store.tab(tab.id).void_reason == "wrong student"


def test_a_follow_up_cannot_be_completed_twice_by_two_writers(
    store: DeviceStore, rival: DeviceStore, roster: Any
) -> None:
    incident = store.log_incident(level_2(roster))
    follow_up = store.follow_ups_for(incident.id)[0]
    fired = before_next_transaction(
        store, lambda: rival.complete_follow_up(follow_up.id, "called home")
    )
    with pytest.raises(StoreError, match="already done"):
        store.complete_follow_up(follow_up.id, "called home too")
    assert fired
    assert store.follow_up(follow_up.id).note == "called home"
