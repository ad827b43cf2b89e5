"""The synced field set of each kind equals the list written by hand from DESIGN.md and the
models' documentation (tests/recordfields.py), in the code's declared sets, in what the wire
accepts, and in what the device actually queues when it creates a record."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError
from recordfields import BY_KIND, FOLLOW_UP, INCIDENT, NEVER_SYNCED, TAB

from schema.clock import Timestamp
from schema.models import Action, FollowUp, Incident, IncidentDraft, StartedBy, TabEvent, TabKind
from schema.store import DeviceStore
from schema.wire import PushOp

HLC = Timestamp(1_795_000_000_000, 0, "device-1").encode()


def test_the_declared_synced_fields_are_the_hand_written_lists() -> None:
    from schema import fields

    assert {kind: set(names) for kind, names in fields.FIELDS_BY_KIND.items()} == {
        kind: set(names) for kind, names in BY_KIND.items()
    }


@pytest.mark.parametrize(
    ("model", "synced"),
    [(Incident, INCIDENT), (TabEvent, TAB), (FollowUp, FOLLOW_UP)],
    ids=["incident", "tab", "follow_up"],
)
def test_every_field_of_the_device_model_is_synced_but_its_id_and_origin(
    model: type[Any], synced: frozenset[str]
) -> None:
    assert set(model.model_fields) - {"id", "origin"} == set(synced)


@pytest.mark.parametrize("kind", sorted(BY_KIND))
def test_the_wire_accepts_each_listed_field_and_nothing_else(kind: str) -> None:
    for name in sorted(BY_KIND[kind]):
        PushOp(
            op_id="op-1", seq=1, kind=kind, id="rec-1", op="upsert", fields={name: None}, hlc=HLC
        )
    for name in (*NEVER_SYNCED, "shoe_size"):
        with pytest.raises(ValidationError, match="unknown fields"):
            PushOp(
                op_id="op-1", seq=1, kind=kind, id="rec-1", op="upsert", fields={name: 1}, hlc=HLC
            )


def _queued(store: DeviceStore, record_id: str) -> list[set[str]]:
    rows = store.connection.execute(
        "SELECT fields FROM outbox WHERE entity_id = ? ORDER BY seq", (record_id,)
    ).fetchall()
    return [set(json.loads(row[0])) for row in rows]


def test_a_created_record_is_queued_with_every_listed_field(
    store: DeviceStore, roster: Any
) -> None:
    """A create carries the whole record: every field of the list, none outside it."""
    incident = store.log_incident(
        IncidentDraft(
            student_id=roster.student_id,
            behavior_code="DIS-CLASS",
            level=2,
            actions=[Action.REDIRECT],
            location="Gym",
        )
    )
    assert _queued(store, incident.id) == [set(INCIDENT)]
    follow_ups = store.follow_ups_for(incident.id)
    assert follow_ups
    for follow_up in follow_ups:
        assert _queued(store, follow_up.id) == [set(FOLLOW_UP)]
    tab = store.start_tab(
        roster.student_id, TabKind.OUT, StartedBy.STUDENT, incident_id=incident.id
    )
    assert _queued(store, tab.id) == [set(TAB)]
