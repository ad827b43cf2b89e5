"""The device store: every write is one transaction, Level 1 never leaves the device, the plan's
rules (R2-R7) hold on every write, and the reads the TUI needs report what was stored."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from schema.clock import Timestamp
from schema.db import connect, db_path
from schema.grid import MANDATORY_REPORTING_NOTICE, TITLE_IX_NOTICE, Grid, GridEntry
from schema.models import (
    Action,
    FollowUpKind,
    IncidentDraft,
    InterventionDraft,
    InterventionKind,
    IssSafeguards,
    StartedBy,
    TabKind,
)
from schema.store import (
    FUTURE_TOLERANCE,
    BypassReasonNeededError,
    DeviceStore,
    IncidentChanges,
    LevelNotAllowedError,
    OfficeManagedError,
    StoreError,
    UnknownRecordError,
    UnknownStudentError,
)
from schema.wire import FIELDS_BY_KIND, INCIDENT_FIELDS, TAB_FIELDS, PushOp

RECORD_TABLES = ("incidents", "tab_events", "follow_ups", "audit", "outbox")


def snapshot(store: DeviceStore) -> dict[str, Any]:
    """Row counts of every table a write touches, plus the stored clock."""
    counts: dict[str, Any] = {
        table: store.connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in RECORD_TABLES
    }
    counts["hlc"] = store.meta("hlc")
    return counts


def outbox(store: DeviceStore) -> list[dict[str, Any]]:
    rows = store.connection.execute("SELECT * FROM outbox ORDER BY seq").fetchall()
    return [{**dict(row), "fields": json.loads(row["fields"])} for row in rows]


def outbox_for(store: DeviceStore, entity_id: str) -> list[dict[str, Any]]:
    return [row for row in outbox(store) if row["entity_id"] == entity_id]


def outbox_dump(store: DeviceStore) -> str:
    """Every byte the outbox holds, as one text to search for content that must not be there."""
    rows = store.connection.execute("SELECT * FROM outbox ORDER BY seq").fetchall()
    return "\n".join(repr(tuple(row)) for row in rows)


def push_ops(store: DeviceStore) -> list[PushOp]:
    """The outbox as the wire ops the daemon would send; each must be valid and acceptable."""
    ops = [
        PushOp(
            op_id=row["op_id"],
            seq=row["seq"],
            kind=row["kind"],
            id=row["entity_id"],
            op=row["op"],
            fields=row["fields"],
            hlc=row["hlc"],
        )
        for row in outbox(store)
    ]
    assert [op.refusal() for op in ops] == [None] * len(ops)
    return ops


def mark_sent(store: DeviceStore) -> None:
    """What the daemon does once the server acknowledged the queue: remember what may be on the
    server, and empty the outbox."""
    store.connection.execute(
        "INSERT OR IGNORE INTO remote_copies (kind, entity_id) SELECT kind, entity_id FROM outbox"
    )
    store.connection.execute("DELETE FROM outbox")


def hlc(store: DeviceStore) -> Timestamp:
    return Timestamp.decode(store.meta("hlc") or "")


def draft(student_id: str, code: str = "DIS-CLASS", level: int = 1, **values: Any) -> IncidentDraft:
    return IncidentDraft(student_id=student_id, behavior_code=code, level=level, **values)


def follow_up_kinds(store: DeviceStore, incident_id: str) -> dict[FollowUpKind, bool]:
    """Follow-up kind -> done, for one record."""
    return {f.kind: f.done_at is not None for f in store.follow_ups_for(incident_id)}


@pytest.fixture
def blocker(home: Path) -> Iterator[sqlite3.Connection]:
    """A second connection to the same file, as another process (the daemon) would hold."""
    connection = connect(db_path(home))
    yield connection
    connection.close()


# -- one write, one transaction ---------------------------------------------------------------


def test_a_level_2_save_holds_record_audit_follow_ups_outbox_and_clock_advance(
    store: DeviceStore, roster: Any
) -> None:
    before = snapshot(store)
    incident = store.log_incident(
        draft(roster.student_id, level=2, actions=[Action.REDIRECT], note="threw a pencil")
    )
    after = snapshot(store)

    assert {table: after[table] - before[table] for table in RECORD_TABLES} == {
        "incidents": 1,
        "tab_events": 0,
        "follow_ups": 2,
        "audit": 1,
        "outbox": 3,
    }
    assert Timestamp.decode(after["hlc"]) > Timestamp.decode(before["hlc"])
    [audit] = store.audit_for(incident.id)
    assert (audit["entity"], audit["action"], audit["staff_id"]) == (
        "incident",
        "create",
        roster.teacher_id,
    )
    ops = push_ops(store)
    assert [(op.kind, op.op) for op in ops] == [
        ("incident", "upsert"),
        ("follow_up", "upsert"),
        ("follow_up", "upsert"),
    ]
    assert ops[0].id == incident.id
    assert ops[0].fields["note"] == "threw a pencil"
    assert ops[0].fields["level"] == 2
    assert {op.id for op in ops[1:]} == {f.id for f in store.follow_ups_for(incident.id)}


def test_every_write_kind_strictly_advances_the_stored_clock(
    store: DeviceStore, roster: Any, wall: Any
) -> None:
    seen = [hlc(store)]

    def wrote() -> None:
        seen.append(hlc(store))
        assert seen[-1] > seen[-2]

    first = store.log_incident(draft(roster.student_id))
    wrote()
    store.edit_incident(first.id, IncidentChanges(note="edited"))
    wrote()
    store.add_actions(first.id, [Action.REDIRECT])
    wrote()
    wall.advance(timedelta(hours=-1))
    second = store.log_incident(draft(roster.iep_student_id, level=2))
    wrote()
    store.complete_follow_up(store.follow_ups_for(second.id)[0].id, "called home")
    wrote()
    tab = store.start_tab(roster.sixth_grader_id)
    wrote()
    store.stop_tab(tab.id, returned_ready=True)
    wrote()
    store.void_tab(tab.id, "started by mistake")
    wrote()
    store.void_incident(second.id, "wrong student")
    wrote()
    assert all(stamp.node == store.device_id for stamp in seen[1:])


def test_record_and_outbox_clocks_are_behind_the_stored_clock_and_ordered_by_seq(
    store: DeviceStore, roster: Any, wall: Any
) -> None:
    incident = store.log_incident(draft(roster.student_id, level=2))
    store.edit_incident(incident.id, IncidentChanges(note="edited"))
    wall.advance(timedelta(minutes=-30))
    store.start_tab(roster.student_id, incident_id=incident.id)
    store.log_incident(draft(roster.iep_student_id, level=2))
    stamps = [Timestamp.decode(row["hlc"]) for row in outbox(store)]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)
    record_hlc = store.connection.execute(
        "SELECT hlc FROM incidents WHERE id = ?", (incident.id,)
    ).fetchone()[0]
    assert Timestamp.decode(record_hlc) < hlc(store)
    assert stamps[-1] <= hlc(store)


@pytest.mark.parametrize(
    ("table", "event"),
    [("audit", "INSERT"), ("follow_ups", "INSERT"), ("outbox", "INSERT"), ("meta", "UPDATE")],
)
def test_a_failure_in_the_middle_of_a_save_leaves_nothing_behind(
    store: DeviceStore, roster: Any, blocker: sqlite3.Connection, table: str, event: str
) -> None:
    store.log_incident(draft(roster.sixth_grader_id, level=2))
    before = snapshot(store)
    blocker.execute(
        f"CREATE TRIGGER injected_failure BEFORE {event} ON {table} "
        "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
    )

    with pytest.raises(sqlite3.IntegrityError, match="injected failure"):
        store.log_incident(draft(roster.student_id, level=2, note="never saved"))

    assert snapshot(store) == before
    assert not store.connection.in_transaction
    assert store.todays_incidents()[0].student_id == roster.sixth_grader_id
    blocker.execute("DROP TRIGGER injected_failure")
    saved = store.log_incident(draft(roster.student_id, level=2, note="saved this time"))
    assert store.incident(saved.id).note == "saved this time"


def test_a_failure_in_the_middle_of_an_edit_leaves_the_record_as_it_was(
    store: DeviceStore, roster: Any, blocker: sqlite3.Connection
) -> None:
    incident = store.log_incident(draft(roster.student_id, level=2, note="before"))
    before = snapshot(store)
    blocker.execute(
        "CREATE TRIGGER injected_failure BEFORE INSERT ON outbox "
        "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
    )
    with pytest.raises(sqlite3.IntegrityError):
        store.edit_incident(incident.id, IncidentChanges(note="after"))
    assert snapshot(store) == before
    assert store.incident(incident.id).note == "before"


def test_a_save_while_another_connection_holds_the_write_lock_fails_cleanly(
    store: DeviceStore, roster: Any, blocker: sqlite3.Connection
) -> None:
    before = snapshot(store)
    store.connection.execute("PRAGMA busy_timeout = 50")
    blocker.execute("BEGIN IMMEDIATE")
    blocker.execute("INSERT INTO meta (key, value) VALUES ('daemon', 'busy')")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        store.log_incident(draft(roster.student_id, level=2))
    blocker.execute("ROLLBACK")

    assert snapshot(store) == before
    assert not store.connection.in_transaction
    store.log_incident(draft(roster.student_id, level=2))
    assert snapshot(store)["incidents"] == 1


def test_a_full_disk_refuses_the_save_with_a_disk_full_error_and_keeps_the_store_usable(
    store: DeviceStore, roster: Any
) -> None:
    before = snapshot(store)
    store.connection.execute("VACUUM")
    assert store.connection.execute("PRAGMA freelist_count").fetchone()[0] == 0
    page_count = store.connection.execute("PRAGMA page_count").fetchone()[0]
    store.connection.execute(f"PRAGMA max_page_count = {page_count}")
    with pytest.raises(sqlite3.OperationalError, match="full"):
        store.log_incident(draft(roster.student_id, level=2, note="x" * 4000))
    assert snapshot(store) == before
    assert not store.connection.in_transaction
    store.connection.execute(f"PRAGMA max_page_count = {page_count * 100}")
    store.log_incident(draft(roster.student_id, level=2, note="x" * 4000))
    assert snapshot(store)["incidents"] == 1


def test_ids_are_time_ordered_uuid_version_7(store: DeviceStore, roster: Any) -> None:
    made: list[str] = []
    for student_id in (roster.student_id, roster.iep_student_id, roster.sixth_grader_id):
        incident = store.log_incident(draft(student_id, level=2))
        made.append(incident.id)
        made.extend(f.id for f in store.follow_ups_for(incident.id))
        made.append(store.start_tab(student_id).id)
    op_ids = [row["op_id"] for row in outbox(store)]
    for text in made + op_ids:
        assert uuid.UUID(text).version == 7
        assert str(uuid.UUID(text)) == text
    assert len(set(made)) == len(made)
    incident_ids = [row[0] for row in store.connection.execute("SELECT id FROM incidents")]
    assert sorted(incident_ids) == [made[0], made[4], made[8]]
    assert op_ids == sorted(op_ids)


def test_a_save_is_durable_once_log_incident_returns(
    home: Path, store: DeviceStore, roster: Any, wall: Any
) -> None:
    incident = store.log_incident(draft(roster.student_id, level=1, note="durable"))
    store.connection.close()

    reopened = DeviceStore.open(home, wall=wall)
    try:
        assert reopened.incident(incident.id).note == "durable"
        assert len(reopened.follow_ups_for(incident.id)) == 2
        assert reopened.audit_for(incident.id)[0]["action"] == "create"
    finally:
        reopened.close()


def test_a_save_survives_the_process_being_killed_right_after_it_returns(
    home: Path, store: DeviceStore, roster: Any, wall: Any
) -> None:
    store.close()
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from pathlib import Path
        from schema.models import IncidentDraft
        from schema.store import DeviceStore
        store = DeviceStore.open(Path({str(home)!r}), wall=lambda: {wall()})
        incident = store.log_incident(IncidentDraft(
            student_id={roster.student_id!r}, behavior_code="DIS-CLASS", level=2, note="kill -9"))
        sys.stdout.write(incident.id + "\\n")
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONWARNINGS": "error"},
        check=False,
    )
    assert completed.returncode == -signal.SIGKILL, completed.stderr
    incident_id = completed.stdout.strip()

    reopened = DeviceStore.open(home, wall=wall)
    try:
        assert reopened.incident(incident_id).note == "kill -9"
        assert len(outbox_for(reopened, incident_id)) == 1
    finally:
        reopened.close()


def test_saving_needs_a_staff_member_for_this_device(home: Path, wall: Any) -> None:
    bare = DeviceStore.open(home, wall=wall)
    try:
        with pytest.raises(StoreError, match="no staff member"):
            bare.log_incident(draft("anyone"))
        assert snapshot(bare)["incidents"] == 0
    finally:
        bare.close()


# -- R1: Level 1 never leaves the device ------------------------------------------------------


def test_a_level_1_save_queues_nothing(store: DeviceStore, roster: Any) -> None:
    incident = store.log_incident(
        draft(roster.student_id, actions=[Action.REDIRECT], note="level one note")
    )
    assert outbox(store) == []
    assert len(store.follow_ups_for(incident.id)) == 2
    assert len(store.audit_for(incident.id)) == 1


def test_a_level_1_edit_stays_off_the_outbox(store: DeviceStore, roster: Any) -> None:
    incident = store.log_incident(draft(roster.student_id, note="first"))
    store.edit_incident(
        incident.id, IncidentChanges(note="second", actions=[Action.PROXIMITY], level=1)
    )
    store.add_actions(incident.id, [Action.RETEACH])
    assert store.incident(incident.id).actions == [Action.PROXIMITY, Action.RETEACH]
    assert outbox(store) == []


def test_level_1_follow_ups_are_completed_without_queueing(store: DeviceStore, roster: Any) -> None:
    incident = store.log_incident(draft(roster.student_id))
    for follow_up in store.follow_ups_for(incident.id):
        store.complete_follow_up(follow_up.id, "done in person")
    assert all(follow_up_kinds(store, incident.id).values())
    assert outbox(store) == []


def test_a_level_1_void_stays_off_the_outbox(store: DeviceStore, roster: Any) -> None:
    incident = store.log_incident(draft(roster.student_id))
    store.void_incident(incident.id, "logged twice")
    assert outbox(store) == []


def test_a_tab_linked_to_level_1_syncs_without_the_link(store: DeviceStore, roster: Any) -> None:
    incident = store.log_incident(draft(roster.student_id, note="private L1 note"))
    tab = store.start_tab(
        roster.student_id, TabKind.OUT, StartedBy.STUDENT, incident_id=incident.id
    )
    store.stop_tab(tab.id, returned_ready=True, reflection="felt calmer")

    assert store.tab(tab.id).incident_id == incident.id
    ops = push_ops(store)
    assert {(op.kind, op.id) for op in ops} == {("tab", tab.id)}
    assert ops[0].fields["incident_id"] is None
    dump = outbox_dump(store)
    assert incident.id not in dump
    assert "private L1 note" not in dump


def test_no_level_1_content_reaches_the_outbox_across_its_whole_life(
    store: DeviceStore, roster: Any, wall: Any
) -> None:
    secret = "L1-SECRET-7f3a"
    incident = store.log_incident(
        draft(roster.student_id, actions=[Action.FAMILY_CONTACT], note=secret, location=secret)
    )
    store.start_tab(roster.student_id, incident_id=incident.id, note="tab note")
    store.edit_incident(incident.id, IncidentChanges(note=secret + " edited"))
    for follow_up in store.follow_ups_for(incident.id):
        if follow_up.done_at is None:
            store.complete_follow_up(follow_up.id, secret)
    wall.advance(timedelta(minutes=5))
    store.void_incident(incident.id, secret)

    follow_up_ids = [f.id for f in store.follow_ups_for(incident.id)]
    dump = outbox_dump(store)
    for forbidden in [secret, incident.id, *follow_up_ids]:
        assert forbidden not in dump
    assert {op.kind for op in push_ops(store)} == {"tab"}


# -- R1: level changes ------------------------------------------------------------------------


def test_a_downgrade_to_level_1_drops_every_pending_op_of_the_record_and_its_follow_ups(
    store: DeviceStore, roster: Any
) -> None:
    other = store.log_incident(draft(roster.iep_student_id, level=2))
    incident = store.log_incident(draft(roster.student_id, level=2, note="was level 2"))
    store.edit_incident(incident.id, IncidentChanges(note="edited at level 2"))
    tree = {incident.id, *(f.id for f in store.follow_ups_for(incident.id))}
    assert tree <= {row["entity_id"] for row in outbox(store)}

    store.edit_incident(incident.id, IncidentChanges(level=1))

    remaining = {row["entity_id"] for row in outbox(store)}
    assert remaining.isdisjoint(tree)
    assert other.id in remaining
    assert "was level 2" not in outbox_dump(store)
    assert all(row["op"] == "upsert" for row in outbox(store))


def test_a_downgrade_retracts_without_content_only_what_may_be_on_the_server(
    store: DeviceStore, roster: Any
) -> None:
    incident = store.log_incident(draft(roster.student_id, level=2, note="sent once"))
    family, feedback = store.follow_ups_for(incident.id)
    for kind, entity_id in [("incident", incident.id), ("follow_up", family.id)]:
        store.connection.execute("DELETE FROM outbox WHERE entity_id = ?", (entity_id,))
        store.connection.execute(
            "INSERT INTO remote_copies (kind, entity_id) VALUES (?, ?)", (kind, entity_id)
        )
    assert [row["entity_id"] for row in outbox(store)] == [feedback.id]

    store.edit_incident(incident.id, IncidentChanges(level=1, note="now private"))

    rows = outbox(store)
    assert [(row["kind"], row["entity_id"], row["op"]) for row in rows] == [
        ("incident", incident.id, "retract"),
        ("follow_up", family.id, "retract"),
    ]
    assert all(row["fields"] == {} for row in rows)
    assert feedback.id not in outbox_dump(store)
    assert "now private" not in outbox_dump(store)
    push_ops(store)


def test_a_downgrade_strips_the_incident_link_from_its_take_a_breaks(
    store: DeviceStore, roster: Any
) -> None:
    incident = store.log_incident(draft(roster.student_id, level=2))
    pending_tab = store.start_tab(roster.student_id, incident_id=incident.id)
    store.stop_tab(pending_tab.id, returned_ready=False)
    sent_tab = store.start_tab(roster.iep_student_id, incident_id=incident.id)
    assert outbox_for(store, pending_tab.id)[0]["fields"]["incident_id"] == incident.id
    store.connection.execute("DELETE FROM outbox WHERE entity_id = ?", (sent_tab.id,))
    store.connection.execute(
        "INSERT INTO remote_copies (kind, entity_id) VALUES ('tab', ?)", (sent_tab.id,)
    )

    store.edit_incident(incident.id, IncidentChanges(level=1))

    assert incident.id not in outbox_dump(store)
    assert [row["fields"] for row in outbox_for(store, sent_tab.id)] == [{"incident_id": None}]
    assert outbox_for(store, pending_tab.id)[0]["fields"]["incident_id"] is None
    assert {op.kind for op in push_ops(store)} == {"tab"}


def test_an_upgrade_to_level_2_queues_the_whole_record_its_follow_ups_and_tab_link(
    store: DeviceStore, roster: Any
) -> None:
    incident = store.log_incident(
        draft(roster.student_id, actions=[Action.REDIRECT], note="now official", location="Gym")
    )
    tab = store.start_tab(roster.student_id, incident_id=incident.id)
    mark_sent(store)

    store.edit_incident(incident.id, IncidentChanges(level=2))

    ops = push_ops(store)
    [record] = [op for op in ops if op.kind == "incident"]
    assert record.id == incident.id
    assert record.op == "upsert"
    assert set(record.fields) == INCIDENT_FIELDS
    assert record.fields["level"] == 2
    assert record.fields["note"] == "now official"
    assert record.fields["location"] == "Gym"
    assert record.fields["actions"] == ["redirect"]
    follow_up_ops = [op for op in ops if op.kind == "follow_up"]
    assert {op.id for op in follow_up_ops} == {f.id for f in store.follow_ups_for(incident.id)}
    assert all(op.fields["incident_id"] == incident.id for op in follow_up_ops)
    assert [(op.id, op.fields) for op in ops if op.kind == "tab"] == [
        (tab.id, {"incident_id": incident.id})
    ]


def test_a_level_2_edit_queues_only_the_changed_fields(store: DeviceStore, roster: Any) -> None:
    incident = store.log_incident(draft(roster.student_id, level=2, note="first"))
    mark_sent(store)
    store.edit_incident(incident.id, IncidentChanges(note="second"))
    [op] = push_ops(store)
    assert (op.kind, op.id, op.op) == ("incident", incident.id, "upsert")
    assert set(op.fields) == {"note", "updated_at"}
    assert op.fields["note"] == "second"


# -- void ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   ", "\n"])
def test_voiding_needs_a_reason(store: DeviceStore, roster: Any, reason: str) -> None:
    incident = store.log_incident(draft(roster.student_id, level=2))
    before = snapshot(store)
    with pytest.raises(StoreError, match="reason"):
        store.void_incident(incident.id, reason)
    assert snapshot(store) == before
    assert store.incident(incident.id).voided_at is None


def test_a_voided_record_is_kept_with_its_reason_and_left_out_of_counts(
    store: DeviceStore, roster: Any
) -> None:
    kept = store.log_incident(draft(roster.student_id))
    voided = store.log_incident(draft(roster.student_id, code="DRESS"))
    assert store.counts_for_day() == {roster.student_id: 2}

    store.void_incident(voided.id, "  wrong student  ")

    record = store.incident(voided.id)
    assert record.voided_at is not None
    assert record.void_reason == "wrong student"
    assert store.counts_for_day() == {roster.student_id: 1}
    assert {i.id for i in store.todays_incidents()} == {kept.id, voided.id}
    assert store.audit_for(voided.id)[-1]["action"] == "void"
    assert store.audit_for(voided.id)[-1]["changes"] == {"reason": "wrong student"}
    assert voided.id not in {item.incident.id for item in store.open_follow_ups()}


def test_a_level_2_void_is_queued_for_the_server(store: DeviceStore, roster: Any) -> None:
    incident = store.log_incident(draft(roster.student_id, level=2))
    mark_sent(store)
    store.void_incident(incident.id, "duplicate")
    [op] = [op for op in push_ops(store) if op.kind == "incident"]
    assert (op.kind, op.id, op.op) == ("incident", incident.id, "upsert")
    assert op.fields["void_reason"] == "duplicate"
    assert op.fields["voided_at"] is not None


def test_a_voided_record_cannot_be_edited_or_voided_again(store: DeviceStore, roster: Any) -> None:
    incident = store.log_incident(draft(roster.student_id, level=2))
    store.void_incident(incident.id, "duplicate")
    before = snapshot(store)
    with pytest.raises(StoreError, match="voided"):
        store.edit_incident(incident.id, IncidentChanges(note="sneaky"))
    with pytest.raises(StoreError, match="voided"):
        store.edit_incident(incident.id, IncidentChanges(level=1))
    with pytest.raises(StoreError, match="already voided"):
        store.void_incident(incident.id, "again")
    assert snapshot(store) == before


def test_a_reason_longer_than_the_limit_is_refused(store: DeviceStore, roster: Any) -> None:
    incident = store.log_incident(draft(roster.student_id))
    with pytest.raises(StoreError, match="longer"):
        store.void_incident(incident.id, "x" * 501)
    assert store.incident(incident.id).voided_at is None


# -- edits ----------------------------------------------------------------------------------------


def test_an_edit_is_audited_with_old_and_new_values(
    store: DeviceStore, roster: Any, wall: Any
) -> None:
    incident = store.log_incident(draft(roster.student_id, note="old note"))
    wall.advance(timedelta(minutes=3))
    edited = store.edit_incident(incident.id, IncidentChanges(note="new note", location="Hallway"))

    assert edited.note == "new note"
    assert edited.location == "Hallway"
    assert edited.updated_at > incident.updated_at
    create, edit = store.audit_for(incident.id)
    assert create["action"] == "create"
    assert edit["action"] == "edit"
    assert edit["changes"] == {"note": ["old note", "new note"], "location": [None, "Hallway"]}
    assert edit["staff_id"] == roster.teacher_id
    assert Timestamp.decode(edit["hlc"]) > Timestamp.decode(create["hlc"])


def test_a_level_change_is_audited(store: DeviceStore, roster: Any) -> None:
    incident = store.log_incident(draft(roster.student_id))
    store.edit_incident(incident.id, IncidentChanges(level=2))
    assert store.audit_for(incident.id)[-1]["changes"]["level"] == [1, 2]


def test_an_edit_that_changes_nothing_writes_nothing(store: DeviceStore, roster: Any) -> None:
    incident = store.log_incident(draft(roster.student_id, level=2, note="same"))
    before = snapshot(store)
    store.edit_incident(incident.id, IncidentChanges(note="same", level=2))
    assert snapshot(store) == before


def test_editing_an_unknown_record_is_refused(store: DeviceStore) -> None:
    with pytest.raises(UnknownRecordError):
        store.edit_incident("no-such-id", IncidentChanges(note="x"))


# -- R4: only allowed levels; office-managed behaviors -----------------------------------------


def test_a_level_outside_the_grid_range_is_refused_and_nothing_written(
    store: DeviceStore, roster: Any
) -> None:
    before = snapshot(store)
    with pytest.raises(LevelNotAllowedError, match="PHYS-AGGR cannot be logged at Level 1"):
        store.log_incident(draft(roster.student_id, code="PHYS-AGGR", level=1))
    assert snapshot(store) == before
    assert store.log_incident(draft(roster.student_id, code="PHYS-AGGR", level=2)).level == 2


@pytest.mark.parametrize(
    ("code", "notice"),
    [
        ("WPN-FIREARM", MANDATORY_REPORTING_NOTICE),
        ("LANG-THREAT", MANDATORY_REPORTING_NOTICE),
        ("SEX-ASSAULT", TITLE_IX_NOTICE),
        ("SEX-IMAGES", TITLE_IX_NOTICE),
    ],
)
@pytest.mark.parametrize("level", [1, 2])
def test_an_office_managed_behavior_is_refused_with_its_notice_and_nothing_written(
    store: DeviceStore, roster: Any, code: str, notice: str, level: int
) -> None:
    before = snapshot(store)
    with pytest.raises(OfficeManagedError) as refused:
        store.log_incident(draft(roster.student_id, code=code, level=level))
    assert "office-managed" in str(refused.value)
    assert notice in str(refused.value)
    assert refused.value.notices == [notice]
    assert "\n" not in str(refused.value)
    assert snapshot(store) == before
    with pytest.raises(OfficeManagedError):
        store.advice(roster.student_id, code)


def test_an_office_managed_behavior_without_a_flag_has_no_notice(
    store: DeviceStore, roster: Any
) -> None:
    with pytest.raises(OfficeManagedError) as refused:
        store.log_incident(draft(roster.student_id, code="DIS-SERIOUS", level=2))
    assert refused.value.notices == []


def test_an_edit_to_an_office_managed_behavior_or_a_disallowed_level_is_refused(
    store: DeviceStore, roster: Any
) -> None:
    incident = store.log_incident(draft(roster.student_id, level=1))
    before = snapshot(store)
    with pytest.raises(OfficeManagedError):
        store.edit_incident(incident.id, IncidentChanges(behavior_code="WPN-FIREARM"))
    with pytest.raises(LevelNotAllowedError):
        store.edit_incident(incident.id, IncidentChanges(behavior_code="PHYS-AGGR"))
    assert snapshot(store) == before
    assert store.incident(incident.id).behavior_code == "DIS-CLASS"


@pytest.mark.parametrize("code", ["NOT-A-CODE", "dis-class"])
def test_a_behavior_not_in_the_grid_is_refused(store: DeviceStore, roster: Any, code: str) -> None:
    before = snapshot(store)
    with pytest.raises(StoreError, match="not in the grid"):
        store.log_incident(draft(roster.student_id, code=code))
    assert snapshot(store) == before


def test_an_unknown_student_is_refused(store: DeviceStore) -> None:
    before = snapshot(store)
    with pytest.raises(UnknownStudentError):
        store.log_incident(draft("stu-nobody"))
    assert snapshot(store) == before


@pytest.mark.parametrize("action", [Action.SUPPORT_STAFF, Action.REMOVAL, Action.ISS])
def test_level_2_only_actions_are_refused_at_level_1(
    store: DeviceStore, roster: Any, action: Action
) -> None:
    before = snapshot(store)
    with pytest.raises(LevelNotAllowedError, match=action.value):
        store.log_incident(draft(roster.student_id, actions=[Action.REDIRECT, action]))
    assert snapshot(store) == before


def test_a_downgrade_keeping_level_2_only_actions_is_refused(
    store: DeviceStore, roster: Any
) -> None:
    incident = store.log_incident(
        draft(roster.student_id, level=2, actions=[Action.REMOVAL], removal_minutes=20)
    )
    before = snapshot(store)
    with pytest.raises(LevelNotAllowedError):
        store.edit_incident(incident.id, IncidentChanges(level=1))
    assert snapshot(store) == before
    edited = store.edit_incident(
        incident.id, IncidentChanges(level=1, actions=[Action.PRIVATE_CONFERENCE])
    )
    assert (edited.level, edited.actions) == (1, [Action.PRIVATE_CONFERENCE])


# -- R7: ISS for students with an IEP ------------------------------------------------------------


@pytest.mark.parametrize(
    "safeguards",
    [
        None,
        IssSafeguards(),
        IssSafeguards(school_work=True, special_education_services=True),
        IssSafeguards(school_work=True, peer_without_disability=True),
        IssSafeguards(special_education_services=True, peer_without_disability=True),
    ],
)
def test_an_iss_for_an_iep_student_without_all_three_safeguards_is_stored_as_a_removal(
    store: DeviceStore, roster: Any, safeguards: IssSafeguards | None
) -> None:
    incident = store.log_incident(
        draft(
            roster.iep_student_id,
            level=2,
            actions=[Action.ISS],
            iss_days=0.5,
            iss_safeguards=safeguards,
        )
    )
    assert incident.iss_recorded_as_removal is True
    assert incident.actions == [Action.REMOVAL]
    assert incident.is_iss is False
    assert incident.is_removal is True
    assert incident.iss_days == 0.5, "the ISS's length is kept as removal time"
    assert set(follow_up_kinds(store, incident.id)) == {
        FollowUpKind.FAMILY_CONTACT,
        FollowUpKind.STUDENT_VERSION,
        FollowUpKind.REPAIR_PLAN,
    }, "the ISS's due-process and repair follow-ups are kept"
    [op] = [op for op in push_ops(store) if op.kind == "incident"]
    assert op.fields["actions"] == ["removal"]
    assert op.fields["iss_recorded_as_removal"] is True


def test_an_iss_for_an_iep_student_with_all_three_safeguards_stays_an_iss(
    store: DeviceStore, roster: Any
) -> None:
    incident = store.log_incident(
        draft(
            roster.iep_student_id,
            level=2,
            actions=[Action.ISS],
            iss_days=0.5,
            iss_safeguards=IssSafeguards(
                school_work=True, special_education_services=True, peer_without_disability=True
            ),
        )
    )
    assert incident.actions == [Action.ISS]
    assert incident.iss_recorded_as_removal is False
    assert incident.iss_days == 0.5
    assert incident.iss_safeguards is not None
    assert incident.iss_safeguards.complete


def test_an_iss_for_a_student_without_an_iep_needs_no_safeguards_and_defaults_to_one_day(
    store: DeviceStore, roster: Any
) -> None:
    incident = store.log_incident(draft(roster.student_id, level=2, actions=[Action.ISS]))
    assert incident.actions == [Action.ISS]
    assert incident.iss_recorded_as_removal is False
    assert incident.iss_days == 1.0


def test_an_iss_added_by_edit_for_an_iep_student_without_safeguards_becomes_a_removal(
    store: DeviceStore, roster: Any
) -> None:
    incident = store.log_incident(draft(roster.iep_student_id, level=2))
    edited = store.edit_incident(incident.id, IncidentChanges(actions=[Action.ISS]))
    assert edited.actions == [Action.REMOVAL]
    assert edited.iss_recorded_as_removal is True
    assert edited.iss_days == 1.0
    assert {FollowUpKind.STUDENT_VERSION, FollowUpKind.REPAIR_PLAN} <= set(
        follow_up_kinds(store, incident.id)
    )


# -- R6: follow-ups ---------------------------------------------------------------------------


def test_an_iss_opens_family_contact_student_version_and_repair_plan(
    store: DeviceStore, roster: Any
) -> None:
    incident = store.log_incident(draft(roster.student_id, level=2, actions=[Action.ISS]))
    assert follow_up_kinds(store, incident.id) == {
        FollowUpKind.FAMILY_CONTACT: False,
        FollowUpKind.STUDENT_VERSION: False,
        FollowUpKind.REPAIR_PLAN: False,
    }


@pytest.mark.parametrize("level", [1, 2])
def test_support_or_redirection_opens_family_contact_and_corrective_feedback(
    store: DeviceStore, roster: Any, level: int
) -> None:
    incident = store.log_incident(draft(roster.student_id, level=level, actions=[Action.RETEACH]))
    assert follow_up_kinds(store, incident.id) == {
        FollowUpKind.FAMILY_CONTACT: False,
        FollowUpKind.CORRECTIVE_FEEDBACK: False,
    }


@pytest.mark.parametrize("extra", [[], [Action.ISS]])
def test_family_contact_is_already_done_when_that_action_was_taken(
    store: DeviceStore, roster: Any, extra: list[Action]
) -> None:
    incident = store.log_incident(
        draft(roster.student_id, level=2, actions=[Action.FAMILY_CONTACT, *extra])
    )
    done = {f.kind: f for f in store.follow_ups_for(incident.id)}
    family = done[FollowUpKind.FAMILY_CONTACT]
    assert family.done_at is not None
    assert family.done_by == roster.teacher_id
    assert [kind for kind, f in done.items() if f.done_at is None] == [
        kind for kind in done if kind is not FollowUpKind.FAMILY_CONTACT
    ]


def test_adding_an_iss_by_edit_opens_the_iss_follow_ups_and_queues_them(
    store: DeviceStore, roster: Any
) -> None:
    incident = store.log_incident(draft(roster.student_id, level=2, actions=[Action.REDIRECT]))
    mark_sent(store)
    store.add_actions(incident.id, [Action.ISS])
    kinds = follow_up_kinds(store, incident.id)
    assert set(kinds) >= {FollowUpKind.STUDENT_VERSION, FollowUpKind.REPAIR_PLAN}
    queued = {op.id for op in push_ops(store) if op.kind == "follow_up"}
    new_ids = {
        f.id
        for f in store.follow_ups_for(incident.id)
        if f.kind in {FollowUpKind.STUDENT_VERSION, FollowUpKind.REPAIR_PLAN}
    }
    assert queued == new_ids


def test_open_follow_ups_list_what_is_not_done_on_live_records(
    store: DeviceStore, roster: Any
) -> None:
    open_one = store.log_incident(draft(roster.student_id, actions=[Action.FAMILY_CONTACT]))
    voided = store.log_incident(draft(roster.iep_student_id))
    store.void_incident(voided.id, "not this student")
    finished = store.log_incident(draft(roster.sixth_grader_id, level=2))
    for follow_up in store.follow_ups_for(finished.id):
        store.complete_follow_up(follow_up.id, "done")

    listed = [(item.incident.id, item.follow_up.kind) for item in store.open_follow_ups()]
    assert listed == [(open_one.id, FollowUpKind.CORRECTIVE_FEEDBACK)]


def test_a_follow_up_cannot_be_completed_twice(store: DeviceStore, roster: Any) -> None:
    incident = store.log_incident(draft(roster.student_id, level=2))
    follow_up = store.follow_ups_for(incident.id)[0]
    store.complete_follow_up(follow_up.id, "called")
    before = snapshot(store)
    with pytest.raises(StoreError, match="already done"):
        store.complete_follow_up(follow_up.id, "called again")
    assert snapshot(store) == before


def test_completing_a_level_2_follow_up_is_queued(store: DeviceStore, roster: Any) -> None:
    incident = store.log_incident(draft(roster.student_id, level=2))
    follow_up = store.follow_ups_for(incident.id)[0]
    mark_sent(store)
    store.complete_follow_up(follow_up.id, "called home")
    [op] = push_ops(store)
    assert (op.kind, op.id) == ("follow_up", follow_up.id)
    assert op.fields["note"] == "called home"
    assert op.fields["done_by"] == roster.teacher_id


# -- R3: Take a Break -------------------------------------------------------------------------


def test_a_take_a_break_starts_and_stops_with_its_outcome(
    store: DeviceStore, roster: Any, wall: Any
) -> None:
    tab = store.start_tab(roster.iep_student_id, TabKind.OUT_AND_BACK, StartedBy.STUDENT)
    assert [running.id for running in store.running_tabs()] == [tab.id]
    assert tab.ended_at is None
    assert tab.minutes is None
    wall.advance(timedelta(minutes=7))

    stopped = store.stop_tab(tab.id, returned_ready=True, reflection="I was frustrated")

    assert stopped.ended_at is not None
    assert stopped.minutes == pytest.approx(7)
    assert stopped.returned_ready is True
    assert stopped.reflection == "I was frustrated"
    assert (stopped.kind, stopped.started_by) == (TabKind.OUT_AND_BACK, StartedBy.STUDENT)
    assert store.running_tabs() == []
    start_op, stop_op = push_ops(store)
    assert start_op.fields["kind"] == "out_and_back"
    assert start_op.fields["started_by"] == "student"
    assert stop_op.fields == {
        "ended_at": stop_op.fields["ended_at"],
        "returned_ready": True,
        "reflection": "I was frustrated",
    }
    assert [entry["action"] for entry in store.audit_for(tab.id)] == ["start", "stop"]


def test_a_student_has_at_most_one_running_take_a_break(store: DeviceStore, roster: Any) -> None:
    first = store.start_tab(roster.student_id)
    before = snapshot(store)
    with pytest.raises(StoreError, match="already has a Take a Break running"):
        store.start_tab(roster.student_id, TabKind.OUT)
    assert snapshot(store) == before
    other = store.start_tab(roster.iep_student_id)
    assert {tab.id for tab in store.running_tabs()} == {first.id, other.id}
    store.stop_tab(first.id, returned_ready=True)
    again = store.start_tab(roster.student_id)
    assert {tab.id for tab in store.running_tabs()} == {other.id, again.id}


def test_a_take_a_break_can_only_be_stopped_once(store: DeviceStore, roster: Any) -> None:
    tab = store.start_tab(roster.student_id)
    store.stop_tab(tab.id, returned_ready=False)
    before = snapshot(store)
    with pytest.raises(StoreError, match="already ended"):
        store.stop_tab(tab.id, returned_ready=True)
    assert snapshot(store) == before


def test_a_take_a_break_is_voided_with_a_reason_and_the_void_is_queued(
    store: DeviceStore, roster: Any
) -> None:
    tab = store.start_tab(roster.student_id)
    with pytest.raises(StoreError, match="reason"):
        store.void_tab(tab.id, " ")
    voided = store.void_tab(tab.id, "wrong student")
    assert voided.void_reason == "wrong student"
    assert store.running_tabs() == []
    assert push_ops(store)[-1].fields == {
        "voided_at": push_ops(store)[-1].fields["voided_at"],
        "void_reason": "wrong student",
    }
    store.start_tab(roster.student_id)


def test_a_voided_take_a_break_keeps_its_first_void(
    store: DeviceStore, roster: Any, wall: Any
) -> None:
    tab = store.start_tab(roster.student_id)
    first = store.void_tab(tab.id, "wrong student")
    before = snapshot(store)
    wall.advance(timedelta(minutes=2))
    with pytest.raises(StoreError, match="already voided"):
        store.void_tab(tab.id, "changed my mind")
    assert snapshot(store) == before
    assert store.tab(tab.id).voided_at == first.voided_at
    assert store.tab(tab.id).void_reason == "wrong student"


def test_a_take_a_break_is_never_an_iss_or_removal(store: DeviceStore, roster: Any) -> None:
    tab = store.start_tab(roster.iep_student_id, TabKind.OUT, StartedBy.TEACHER)
    store.stop_tab(tab.id, returned_ready=False)

    assert snapshot(store)["incidents"] == 0
    assert snapshot(store)["follow_ups"] == 0
    assert store.counts_for_day() == {}
    assert store.open_follow_ups() == []
    for op in push_ops(store):
        assert op.kind == "tab"
        assert set(op.fields) <= TAB_FIELDS
        assert not {"actions", "iss_days", "iss_recorded_as_removal", "level"} & set(op.fields)
    [row] = store.export_rows()
    assert row["record_type"] == "take_a_break"
    assert not {"actions", "iss_days", "iss_recorded_as_removal", "level"} & set(row)
    assert not hasattr(store.tab(tab.id), "is_iss")
    assert not hasattr(store.tab(tab.id), "is_removal")


def test_a_tab_linked_to_a_level_2_record_carries_the_link(store: DeviceStore, roster: Any) -> None:
    incident = store.log_incident(draft(roster.student_id, level=2))
    tab = store.start_tab(roster.student_id, incident_id=incident.id)
    [op] = [op for op in push_ops(store) if op.kind == "tab"]
    assert (op.id, op.fields["incident_id"]) == (tab.id, incident.id)
    assert store.incident(incident.id).is_iss is False


def test_a_take_a_break_for_an_unknown_student_is_refused(store: DeviceStore) -> None:
    before = snapshot(store)
    with pytest.raises(UnknownStudentError):
        store.start_tab("stu-nobody")
    assert snapshot(store) == before


# -- times ------------------------------------------------------------------------------------


def test_a_time_in_the_future_is_refused_and_nothing_written(
    store: DeviceStore, roster: Any, wall: Any
) -> None:
    before = snapshot(store)
    beyond = wall.moment + FUTURE_TOLERANCE + timedelta(seconds=1)
    with pytest.raises(StoreError, match="future"):
        store.log_incident(draft(roster.student_id, occurred_at=beyond))
    with pytest.raises(StoreError, match="future"):
        store.log_incident(draft(roster.student_id, occurred_at=wall.moment + timedelta(days=1)))
    assert snapshot(store) == before


def test_an_edit_to_a_future_time_is_refused(store: DeviceStore, roster: Any, wall: Any) -> None:
    incident = store.log_incident(draft(roster.student_id))
    with pytest.raises(StoreError, match="future"):
        store.edit_incident(
            incident.id, IncidentChanges(occurred_at=wall.moment + timedelta(hours=2))
        )
    assert store.incident(incident.id).occurred_at == incident.occurred_at


@pytest.mark.parametrize("correction", ["wall_clock_jumps_back", "server_offset"])
def test_an_edit_that_keeps_the_time_works_after_the_device_clock_is_corrected_backwards(
    store: DeviceStore, roster: Any, wall: Any, correction: str
) -> None:
    incident = store.log_incident(draft(roster.student_id, level=2, note="clock was ahead"))
    if correction == "wall_clock_jumps_back":
        wall.advance(timedelta(hours=-1))
    else:
        store.set_config(clock_offset_ms=str(-3_600_000))

    store.add_actions(incident.id, [Action.PRIVATE_CONFERENCE])
    downgraded = store.edit_incident(incident.id, IncidentChanges(level=1))

    assert downgraded.level == 1
    assert downgraded.actions == [Action.PRIVATE_CONFERENCE]
    assert downgraded.occurred_at == incident.occurred_at
    assert incident.id not in outbox_dump(store)


def test_an_edit_with_a_time_without_a_zone_is_refused_and_nothing_written(
    store: DeviceStore, roster: Any
) -> None:
    incident = store.log_incident(draft(roster.student_id))
    before = snapshot(store)
    with pytest.raises(ValueError, match="time zone"):
        store.edit_incident(
            incident.id, IncidentChanges(occurred_at=datetime.fromisoformat("2026-10-14T09:00"))
        )
    assert snapshot(store) == before


def test_backdating_is_allowed_and_counts_on_its_own_local_day(
    store: DeviceStore, roster: Any, wall: Any
) -> None:
    late_yesterday = datetime(2026, 10, 13, 23, 30, tzinfo=roster.timezone)
    incident = store.log_incident(draft(roster.student_id, occurred_at=late_yesterday))
    assert incident.occurred_at == late_yesterday
    assert incident.occurred_at.date() != late_yesterday.date()
    assert store.counts_for_day(late_yesterday.date()) == {roster.student_id: 1}
    assert store.counts_for_day() == {}
    assert incident.created_at == wall.moment


def test_times_are_stored_in_utc_with_the_device_zone_recorded(
    store: DeviceStore, roster: Any
) -> None:
    incident = store.log_incident(draft(roster.student_id))
    row = store.connection.execute(
        "SELECT occurred_at, tz FROM incidents WHERE id = ?", (incident.id,)
    ).fetchone()
    assert row["occurred_at"] == "2026-10-14T15:00:00.000+00:00"
    assert row["tz"] == "America/Chicago"


# -- R5: progression through the store --------------------------------------------------------


@pytest.mark.parametrize(("code", "lowest"), [("DIS-CLASS", 1), ("PHYS-AGGR", 2), ("DRESS", 1)])
def test_a_first_occurrence_is_advised_at_the_lowest_allowed_level(
    store: DeviceStore, roster: Any, code: str, lowest: int
) -> None:
    entry, advice = store.advice(roster.student_id, code)
    assert advice.advised_level == lowest
    assert advice.allowed_levels == entry.staff_levels
    assert advice.prior_count == 0
    incident = store.log_incident(draft(roster.student_id, code=code, level=lowest))
    assert incident.advised_level == lowest
    assert incident.progression_bypassed is False


def test_a_first_occurrence_may_be_answered_at_level_2_directly(
    store: DeviceStore, roster: Any
) -> None:
    incident = store.log_incident(draft(roster.student_id, level=2))
    assert incident.advised_level == 1
    assert incident.progression_bypassed is False


def test_a_repeat_without_an_intervention_asks_for_it_and_going_higher_is_a_bypass(
    store: DeviceStore, roster: Any, wall: Any
) -> None:
    first = store.log_incident(draft(roster.student_id, level=1))
    wall.advance(timedelta(hours=1))

    _, advice = store.advice(roster.student_id, "DIS-CLASS")
    assert advice.advised_level == 1
    assert advice.missing_intervention_for == first.id
    assert "Record an intervention" in advice.reason

    second = store.log_incident(draft(roster.student_id, level=2, bypass_reason="principal asked"))
    assert second.advised_level == 1
    assert second.progression_bypassed is True
    assert second.bypass_reason == "principal asked"
    [op] = [op for op in push_ops(store) if op.kind == "incident"]
    assert op.fields["progression_bypassed"] is True


def test_a_repeat_at_the_same_level_without_an_intervention_is_not_a_bypass(
    store: DeviceStore, roster: Any, wall: Any
) -> None:
    store.log_incident(draft(roster.student_id, level=1))
    wall.advance(timedelta(hours=1))
    second = store.log_incident(draft(roster.student_id, level=1, bypass_reason="ignored"))
    assert second.progression_bypassed is False
    assert second.bypass_reason is None


@pytest.mark.parametrize(
    "how",
    [
        "routine action",
        "private conference",
        "family contact",
        "ticked follow-up",
        "voided intervention",
    ],
)
def test_actions_follow_ups_and_voided_interventions_are_not_the_intervention(
    store: DeviceStore, roster: Any, wall: Any, how: str
) -> None:
    first = store.log_incident(draft(roster.student_id, level=1))
    if how == "routine action":
        store.add_actions(first.id, [Action.REDIRECT, Action.PROXIMITY])
    elif how == "private conference":
        store.add_actions(first.id, [Action.PRIVATE_CONFERENCE])
    elif how == "iss":
        store.edit_incident(first.id, IncidentChanges(level=2, actions=[Action.ISS]))
    elif how == "ticked follow-up":
        store.complete_follow_up(store.follow_ups_for(first.id)[1].id, "gave feedback")
    else:
        recorded = store.add_intervention(
            InterventionDraft(
                student_id=roster.student_id,
                behavior_code="DIS-CLASS",
                kind=InterventionKind.RETEACHING,
            )
        )
        store.void_intervention(recorded.id, "entered for the wrong student")
    wall.advance(timedelta(hours=1))

    _, advice = store.advice(roster.student_id, "DIS-CLASS")
    assert advice.missing_intervention_for == first.id
    with pytest.raises(BypassReasonNeededError):
        store.log_incident(draft(roster.student_id, level=2))


@pytest.mark.parametrize("behavior", ["DIS-CLASS", None])
def test_a_recorded_intervention_lets_the_repeat_go_one_level_higher(
    store: DeviceStore, roster: Any, wall: Any, behavior: str | None
) -> None:
    first = store.log_incident(draft(roster.student_id, level=1))
    recorded = store.add_intervention(
        InterventionDraft(
            student_id=roster.student_id,
            behavior_code=behavior,
            kind=InterventionKind.MONITORED_STRATEGY,
            incident_id=first.id if behavior else None,
        )
    )
    assert recorded.review_on == recorded.starts_on + timedelta(days=14)
    assert recorded.label == "2-week monitored strategy"
    wall.advance(timedelta(hours=1))

    _, advice = store.advice(roster.student_id, "DIS-CLASS")
    assert advice.advised_level == 2
    assert advice.missing_intervention_for is None
    second = store.log_incident(draft(roster.student_id, level=2))
    assert second.progression_bypassed is False
    assert second.advised_level == 2
    assert store.interventions_for(roster.student_id) == [recorded]
    ops = push_ops(store)
    assert not [op for op in ops if op.kind not in {"incident", "follow_up", "intervention"}]
    queued = [op.id for op in ops if op.kind == "intervention"]
    if behavior:
        assert queued == []  # it answers the Level 1 record: it stays on this device (R1)
    else:
        assert queued == [recorded.id]


def test_an_intervention_for_another_behavior_does_not_count(
    store: DeviceStore, roster: Any, wall: Any
) -> None:
    store.log_incident(draft(roster.student_id, level=1))
    store.add_intervention(
        InterventionDraft(
            student_id=roster.student_id, behavior_code="DRESS", kind=InterventionKind.RETEACHING
        )
    )
    wall.advance(timedelta(hours=1))
    _, advice = store.advice(roster.student_id, "DIS-CLASS")
    assert advice.missing_intervention_for is not None


def test_a_bypass_needs_a_reason_and_the_reason_is_stored(
    store: DeviceStore, roster: Any, wall: Any
) -> None:
    store.log_incident(draft(roster.student_id, level=1))
    wall.advance(timedelta(hours=1))
    before = snapshot(store)
    with pytest.raises(BypassReasonNeededError, match="needs a reason"):
        store.log_incident(draft(roster.student_id, level=2, bypass_reason="  "))
    assert snapshot(store) == before
    second = store.log_incident(draft(roster.student_id, level=2, bypass_reason="safety"))
    assert (second.progression_bypassed, second.bypass_reason) == (True, "safety")


def test_editing_a_repeat_up_to_level_2_is_a_bypass_with_its_reason(
    store: DeviceStore, roster: Any, wall: Any
) -> None:
    store.log_incident(draft(roster.student_id, level=1))
    wall.advance(timedelta(hours=1))
    second = store.log_incident(draft(roster.student_id, level=1))
    assert second.progression_bypassed is False
    with pytest.raises(BypassReasonNeededError):
        store.edit_incident(second.id, IncidentChanges(level=2))
    edited = store.edit_incident(second.id, IncidentChanges(level=2, bypass_reason="fight"))
    assert (edited.progression_bypassed, edited.bypass_reason) == (True, "fight")
    [op] = [op for op in push_ops(store) if op.kind == "incident"]
    assert op.fields["progression_bypassed"] is True
    assert op.fields["bypass_reason"] == "fight"


def test_a_bypass_ends_when_the_earlier_record_is_voided_or_edited_away(
    store: DeviceStore, roster: Any, wall: Any
) -> None:
    first = store.log_incident(draft(roster.student_id, level=1))
    wall.advance(timedelta(hours=1))
    second = store.log_incident(draft(roster.student_id, level=2, bypass_reason="x"))
    assert second.progression_bypassed is True
    store.edit_incident(first.id, IncidentChanges(behavior_code="DRESS"))
    assert store.incident(second.id).progression_bypassed is False
    assert store.incident(second.id).bypass_reason is None
    assert store.incident(second.id).advised_level == 1
    store.edit_incident(first.id, IncidentChanges(behavior_code="DIS-CLASS"))
    assert store.incident(second.id).progression_bypassed is True
    store.void_incident(first.id, "wrong student")
    assert store.incident(second.id).progression_bypassed is False


def test_progression_counts_only_the_same_student_behavior_and_live_records(
    store: DeviceStore, roster: Any, wall: Any
) -> None:
    store.log_incident(draft(roster.iep_student_id))
    store.log_incident(draft(roster.student_id, code="DRESS"))
    voided = store.log_incident(draft(roster.student_id))
    store.void_incident(voided.id, "wrong student")
    wall.advance(timedelta(minutes=10))
    _, advice = store.advice(roster.student_id, "DIS-CLASS")
    assert advice.prior_count == 0
    assert advice.advised_level == 1


def test_a_new_school_year_resets_progression(store: DeviceStore, roster: Any, wall: Any) -> None:
    store.set_config(school_year_start="2026-08-20")
    wall.set(datetime(2027, 6, 1, 10, 0, tzinfo=roster.timezone))
    first = store.log_incident(draft(roster.student_id))
    wall.advance(timedelta(hours=1))
    _, same_year = store.advice(roster.student_id, "DIS-CLASS")
    assert same_year.prior_count == 1
    assert same_year.missing_intervention_for == first.id

    wall.set(datetime(2027, 8, 25, 10, 0, tzinfo=roster.timezone))
    _, next_year = store.advice(roster.student_id, "DIS-CLASS")
    assert next_year.prior_count == 0
    assert next_year.advised_level == 1
    assert store.log_incident(draft(roster.student_id, level=2)).progression_bypassed is False


def test_the_school_year_boundary_follows_the_school_local_date(
    store: DeviceStore, roster: Any, wall: Any
) -> None:
    store.set_config(school_year_start="2027-08-20")
    wall.set(datetime(2027, 8, 20, 9, 0, tzinfo=roster.timezone))
    last_evening = datetime(2027, 8, 19, 22, 30, tzinfo=roster.timezone)
    store.log_incident(draft(roster.student_id, occurred_at=last_evening))

    _, advice = store.advice(roster.student_id, "DIS-CLASS")
    assert advice.prior_count == 0
    _, same_evening = store.advice(
        roster.student_id, "DIS-CLASS", at=last_evening + timedelta(minutes=20)
    )
    assert same_evening.prior_count == 1


# -- reads for the TUI ----------------------------------------------------------------------------


def test_counts_for_day_count_interventions_per_student_on_the_local_day(
    store: DeviceStore, roster: Any, wall: Any
) -> None:
    store.log_incident(draft(roster.student_id))
    store.log_incident(draft(roster.student_id, code="DRESS"))
    store.log_incident(draft(roster.iep_student_id, level=2))
    store.start_tab(roster.sixth_grader_id)
    store.log_incident(
        draft(
            roster.sixth_grader_id,
            occurred_at=datetime(2026, 10, 14, 0, 10, tzinfo=roster.timezone),
        )
    )
    wall.set(datetime(2026, 10, 14, 23, 50, tzinfo=roster.timezone))
    store.log_incident(draft(roster.iep_student_id, code="DRESS"))

    assert store.counts_for_day() == {
        roster.student_id: 2,
        roster.iep_student_id: 2,
        roster.sixth_grader_id: 1,
    }
    wall.advance(timedelta(minutes=20))
    assert store.counts_for_day() == {}


def test_top_behaviors_are_this_staff_members_most_used_this_school_year(
    store: DeviceStore, roster: Any, wall: Any
) -> None:
    for student_id, code in [
        (roster.student_id, "PROP"),
        (roster.iep_student_id, "PROP"),
        (roster.sixth_grader_id, "PROP"),
        (roster.student_id, "DRESS"),
        (roster.iep_student_id, "DRESS"),
        (roster.student_id, "GAMBLING"),
    ]:
        store.log_incident(draft(student_id, code=code))
    store.set_config(staff_id=roster.other_teacher_id)
    for student_id in (roster.student_id, roster.iep_student_id, roster.sixth_grader_id):
        store.log_incident(draft(student_id, code="TECH"))
    store.set_config(staff_id=roster.teacher_id)

    assert store.top_behaviors() == ["PROP", "DRESS", "GAMBLING"]
    assert store.top_behaviors(limit=2) == ["PROP", "DRESS"]
    assert store.top_behaviors(roster.other_teacher_id) == ["TECH"]
    wall.set(datetime(2027, 7, 2, 9, 0, tzinfo=roster.timezone))
    assert store.top_behaviors() == []


def test_export_rows_hold_this_staff_members_records_level_1_included(
    store: DeviceStore, roster: Any
) -> None:
    level_1 = store.log_incident(draft(roster.student_id, note="my own note"))
    level_2 = store.log_incident(draft(roster.iep_student_id, level=2))
    tab = store.start_tab(roster.sixth_grader_id)
    store.set_config(staff_id=roster.other_teacher_id)
    someone_else = store.log_incident(draft(roster.sixth_grader_id))
    store.set_config(staff_id=roster.teacher_id)

    rows = store.export_rows()
    assert [(row["record_type"], row["id"]) for row in rows] == [
        ("intervention", level_1.id),
        ("intervention", level_2.id),
        ("take_a_break", tab.id),
    ]
    assert rows[0]["note"] == "my own note"
    assert rows[0]["level"] == 1
    json.dumps(rows)
    assert [row["id"] for row in store.export_rows(roster.other_teacher_id)] == [someone_else.id]


def test_sync_status_reports_pending_ops_and_what_the_daemon_wrote(
    store: DeviceStore, roster: Any, wall: Any
) -> None:
    fresh = store.sync_status()
    assert (fresh.pending_count, fresh.oldest_pending_at, fresh.online) == (0, None, None)
    assert (fresh.dead_letter_count, fresh.enrolled, fresh.last_error) == (0, False, None)

    store.log_incident(draft(roster.student_id))
    assert store.sync_status().pending_count == 0
    first_queued_at = wall.moment
    store.log_incident(draft(roster.iep_student_id, level=2))
    wall.advance(timedelta(minutes=4))
    store.start_tab(roster.sixth_grader_id)
    store.connection.execute(
        "UPDATE sync_state SET online = 0, last_success_at = '2026-10-14T14:00:00.000+00:00', "
        "last_error = 'connection refused', last_error_at = '2026-10-14T15:01:00.000+00:00' "
        "WHERE id = 1"
    )
    store.connection.execute(
        "INSERT INTO dead_letters (op_id, kind, entity_id, op, reason, at) "
        "VALUES ('op-x', 'incident', 'i', 'upsert', 'refused', '2026-10-14T15:01:00.000+00:00')"
    )
    store.set_config(server_url="https://district.example")

    status = store.sync_status()
    assert status.pending_count == 4
    assert status.oldest_pending_at == first_queued_at
    assert status.online is False
    assert status.last_success_at == datetime.fromisoformat("2026-10-14T14:00:00+00:00")
    assert status.last_error == "connection refused"
    assert status.dead_letter_count == 1
    assert status.enrolled is True


def test_every_queued_op_carries_only_fields_its_kind_may_send(
    store: DeviceStore, roster: Any
) -> None:
    incident = store.log_incident(draft(roster.student_id, level=2, actions=[Action.ISS]))
    store.start_tab(roster.student_id, incident_id=incident.id)
    store.complete_follow_up(store.follow_ups_for(incident.id)[0].id, "done")
    store.edit_incident(incident.id, IncidentChanges(note="edited"))
    store.void_incident(incident.id, "duplicate")
    for op in push_ops(store):
        assert set(op.fields) <= FIELDS_BY_KIND[op.kind]


def test_an_iss_stored_as_a_removal_becomes_an_iss_once_all_three_safeguards_are_recorded(
    store: DeviceStore, roster: Any
) -> None:
    incident = store.log_incident(draft(roster.iep_student_id, level=2, actions=[Action.ISS]))
    assert incident.actions == [Action.REMOVAL]

    edited = store.edit_incident(
        incident.id,
        IncidentChanges(
            actions=[Action.ISS],
            iss_safeguards=IssSafeguards(
                school_work=True, special_education_services=True, peer_without_disability=True
            ),
        ),
    )

    assert edited.actions == [Action.ISS]
    assert edited.iss_days == 1.0
    assert edited.iss_recorded_as_removal is False


def test_an_iss_stored_as_a_removal_stays_flagged_through_unrelated_edits(
    store: DeviceStore, roster: Any
) -> None:
    incident = store.log_incident(draft(roster.iep_student_id, level=2, actions=[Action.ISS]))
    edited = store.edit_incident(incident.id, IncidentChanges(note="went to the office"))
    assert edited.actions == [Action.REMOVAL]
    assert edited.iss_recorded_as_removal is True


def test_logging_several_students_is_all_or_nothing(store: DeviceStore, roster: Any) -> None:
    saved = store.log_incidents(
        [draft(roster.student_id, group_id="g-1"), draft(roster.iep_student_id, group_id="g-1")]
    )
    assert {incident.group_id for incident in saved} == {"g-1"}
    before = store.connection.execute("SELECT count(*) FROM incidents").fetchone()[0]
    with pytest.raises(StoreError, match=r"^nobody: unknown student"):
        store.log_incidents([draft(roster.student_id), draft("nobody")])
    assert store.connection.execute("SELECT count(*) FROM incidents").fetchone()[0] == before


def _office_managed(entry: GridEntry) -> GridEntry:
    return entry.model_copy(update={"levels": (3, 4)})


def test_a_group_save_after_a_grid_pull_made_its_behavior_office_managed_is_refused(
    store: DeviceStore, roster: Any
) -> None:
    """The screen offered DIS-CLASS; a pull then made it office-managed. The group save answers
    with the refusal (naming the student, keeping the grid entry and its notices), not a crash."""
    drafts = [draft(roster.student_id), draft(roster.iep_student_id)]
    store.replace_grid(
        Grid([_office_managed(e) if e.code == "DIS-CLASS" else e for e in store.grid()])
    )
    before = snapshot(store)
    with pytest.raises(OfficeManagedError) as refused:
        store.log_incidents(drafts)
    message = str(refused.value)
    assert message.startswith(f"{roster.student_id}: DIS-CLASS")
    assert "office-managed" in message
    assert refused.value.entry.code == "DIS-CLASS"
    assert refused.value.notices == []
    assert snapshot(store) == before


def test_a_group_save_backdated_into_a_year_where_its_behavior_is_office_managed_is_refused(
    store: DeviceStore, roster: Any
) -> None:
    current = list(store.grid())
    earlier = [
        entry.model_copy(update={"school_year": "2025-2026"})
        for entry in current
        if entry.school_year == "2026-2027"
    ]
    store.replace_grid(
        Grid(current + [_office_managed(e) if e.code == "DIS-CLASS" else e for e in earlier])
    )
    last_may = datetime(2026, 5, 20, 10, 0, tzinfo=roster.timezone)
    drafts = [
        draft(student_id, occurred_at=last_may)
        for student_id in (roster.student_id, roster.iep_student_id)
    ]
    before = snapshot(store)
    with pytest.raises(OfficeManagedError, match=rf"^{roster.student_id}: DIS-CLASS"):
        store.log_incidents(drafts)
    assert snapshot(store) == before
    assert store.log_incidents([draft(roster.student_id), draft(roster.iep_student_id)])


def test_iss_follow_ups_are_kept_when_the_iss_becomes_a_removal(
    store: DeviceStore, roster: Any
) -> None:
    incident = store.log_incident(draft(roster.student_id, level=2, actions=[Action.ISS]))
    assert store.open_follow_up_count() == 3
    store.edit_incident(incident.id, IncidentChanges(actions=[Action.REMOVAL], removal_minutes=40))
    open_kinds = {item.follow_up.kind for item in store.open_follow_ups()}
    assert {FollowUpKind.STUDENT_VERSION, FollowUpKind.REPAIR_PLAN} <= open_kinds
    assert store.incident(incident.id).removal_minutes == 40


def test_iss_follow_ups_left_open_are_voided_when_the_iss_is_taken_back(
    store: DeviceStore, roster: Any
) -> None:
    incident = store.log_incident(draft(roster.student_id, level=2, actions=[Action.ISS]))
    assert store.open_follow_up_count() == 3
    store.edit_incident(incident.id, IncidentChanges(actions=[Action.REDIRECT]))
    open_kinds = {item.follow_up.kind for item in store.open_follow_ups()}
    assert open_kinds == {FollowUpKind.FAMILY_CONTACT, FollowUpKind.CORRECTIVE_FEEDBACK}
    assert store.open_follow_up_count() == 2
    voided = [f for f in store.follow_ups_for(incident.id) if f.voided_at is not None]
    assert {f.kind for f in voided} == {FollowUpKind.STUDENT_VERSION, FollowUpKind.REPAIR_PLAN}
    queued_voids = [
        op.id for op in push_ops(store) if op.kind == "follow_up" and op.fields.get("voided_at")
    ]
    assert sorted(queued_voids) == sorted(f.id for f in voided)


def test_open_follow_ups_limit_and_count_agree(store: DeviceStore, roster: Any) -> None:
    for student_id in (roster.student_id, roster.iep_student_id):
        store.log_incident(draft(student_id))
    assert store.open_follow_up_count() == 4
    assert len(store.open_follow_ups()) == 4
    assert len(store.open_follow_ups(limit=3)) == 3


def test_a_follow_up_of_another_devices_record_cannot_be_completed_here(
    store: DeviceStore, roster: Any
) -> None:
    incident = store.log_incident(draft(roster.student_id, level=2))
    store.connection.execute(
        "UPDATE incidents SET device_id = 'another-device', origin = 'remote' WHERE id = ?",
        (incident.id,),
    )
    follow_up = store.follow_ups_for(incident.id)[0]
    with pytest.raises(StoreError, match="another staff member"):
        store.complete_follow_up(follow_up.id)
    assert store.follow_up(follow_up.id).done_at is None
