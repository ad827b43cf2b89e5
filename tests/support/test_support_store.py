"""The device's side of a support request (R9): what the teacher's key and the responder's
Enter store, what they queue for the server, and the words the teacher reads. The server's part
(acknowledging a push, delivering a pull page) is played through the daemon's own store
functions, so what is tested here is exactly what the daemon will do with the real answers."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from supportkit import ManualWall, acknowledge, deliver, table_counts

from schema.contract import SupportRequestRecord, check_fields, field_names
from schema.models import IncidentDraft
from schema.store import DeviceStore
from schema.support import (
    UNCONFIRMED_SECONDS,
    SupportError,
    accept_request,
    cancel_request,
    get_request,
    list_requests,
    resolve_request,
    send_request,
    status_words,
)
from schema.wire import OpStatus, PushOp


def test_a_call_is_stored_queued_and_audited_in_one_write(teacher: DeviceStore) -> None:
    before = table_counts(teacher)
    request = send_request(teacher, student_ids=["s-1"], note="  needs   a walk ")
    after = table_counts(teacher)
    assert {name: after[name] - before[name] for name in after} == {
        "support_requests": 1,
        "audit": 1,
        "outbox": 1,
        "dead_letters": 0,
    }
    assert request.state == "open"
    assert request.requested_by == "t-1"
    assert request.requested_by_name == "Rosa Alvarez"
    assert request.school_id == "sch-1"
    assert request.student_ids == ("s-1",)
    assert request.note == "needs a walk"
    assert request.urgency == "now"
    assert (request.section_id, request.room) == ("sec-1", "Math 7")
    assert request.device_id == teacher.device_id
    assert not request.confirmed
    assert get_request(teacher, request.id) == request


def test_the_queued_op_is_the_whole_record_and_carries_no_level_1_content(
    teacher: DeviceStore,
) -> None:
    teacher.log_incident(
        IncidentDraft(student_id="s-1", behavior_code="DIS-CLASS", level=1, note="SECRET-L1")
    )
    request = send_request(teacher, student_ids=["s-1"])
    rows = teacher.connection.execute(
        "SELECT kind, entity_id, fields, hlc FROM outbox WHERE kind = 'support_request'"
    ).fetchall()
    assert len(rows) == 1
    fields = json.loads(rows[0]["fields"])
    assert set(fields) == set(field_names(SupportRequestRecord))
    assert check_fields("support_request", fields, create=True) == fields
    op = PushOp(
        op_id="x", seq=1, kind="support_request", id=request.id, op="upsert",
        fields=fields, hlc=rows[0]["hlc"],
    )  # fmt: skip
    assert op.refusal() is None
    assert "SECRET-L1" not in rows[0]["fields"]
    assert not {"level", "behavior_code", "actions"} & set(fields)


def test_the_teacher_is_told_plainly_when_the_server_has_not_confirmed(
    teacher: DeviceStore, wall: ManualWall
) -> None:
    request = send_request(teacher)
    assert status_words(request, wall.moment) == "sending…"
    later = wall.moment + timedelta(seconds=UNCONFIRMED_SECONDS)
    assert status_words(request, later) == "not sent: call the office (still trying)"
    acknowledge(teacher)
    confirmed = get_request(teacher, request.id)
    assert confirmed is not None
    assert confirmed.confirmed
    assert status_words(confirmed, later) == "sent, waiting for a responder"


def test_a_request_the_server_refused_says_so_and_is_not_confirmed(
    teacher: DeviceStore, wall: ManualWall
) -> None:
    request = send_request(teacher)
    acknowledge(teacher, OpStatus.REJECTED, reason="student s-1 is not in this device's scope")
    refused = get_request(teacher, request.id)
    assert refused is not None
    assert not refused.confirmed
    assert status_words(refused, wall.moment) == (
        "not sent: call the office (refused: student s-1 is not in this device's scope)"
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"student_ids": ["nobody"]}, "unknown student"),
        ({"note": "x" * 141}, "longer than 140"),
        ({"note": "bell\x07"}, "control characters"),
        ({"urgency": "later"}, "urgency must be one of now, soon"),
        ({"section_id": "sec-404"}, "unknown section"),
    ],
)
def test_bad_input_is_one_clear_error_and_changes_nothing(
    teacher: DeviceStore, arguments: dict[str, object], message: str
) -> None:
    before = table_counts(teacher)
    with pytest.raises(SupportError, match=message):
        send_request(teacher, **arguments)  # type: ignore[arg-type]
    assert table_counts(teacher) == before


def test_a_device_with_no_staff_member_cannot_call(tmp_path, wall: ManualWall) -> None:  # type: ignore[no-untyped-def]
    store = DeviceStore.open(tmp_path / "bare", wall=wall)
    try:
        with pytest.raises(Exception, match="no staff member"):
            send_request(store)
    finally:
        store.close()


def test_only_the_teacher_who_called_can_cancel_and_only_while_live(
    teacher: DeviceStore,
) -> None:
    request = send_request(teacher)
    teacher.set_config(staff_id="t-2")
    before = table_counts(teacher)
    with pytest.raises(SupportError, match="only the teacher who sent"):
        cancel_request(teacher, request.id)
    assert table_counts(teacher) == before
    teacher.set_config(staff_id="t-1")
    cancelled = cancel_request(teacher, request.id)
    assert cancelled.state == "cancelled"
    assert cancelled.resolved_at is not None
    with pytest.raises(SupportError, match="cancelled already"):
        cancel_request(teacher, request.id)
    with pytest.raises(SupportError, match="no support request"):
        cancel_request(teacher, "req-unknown")


def test_a_classroom_device_cannot_accept(teacher: DeviceStore) -> None:
    request = send_request(teacher)
    before = table_counts(teacher)
    with pytest.raises(SupportError, match="only a mobile response device"):
        accept_request(teacher, request.id)
    assert table_counts(teacher) == before


def _arrive(teacher: DeviceStore, responder: DeviceStore, cursor: int = 1) -> str:
    """The teacher calls; the server confirms; the request reaches the responder's device."""
    request = send_request(teacher, student_ids=["s-2"], urgency="soon", note="in the hall")
    [fields] = acknowledge(teacher)
    deliver(responder, request.id, fields, cursor)
    return request.id


def test_a_request_that_arrives_is_listed_for_the_responder(
    teacher: DeviceStore, responder: DeviceStore
) -> None:
    request_id = _arrive(teacher, responder)
    [arrived] = list_requests(responder, open_only=True)
    assert arrived.id == request_id
    assert (arrived.room, arrived.requested_by_name, arrived.student_ids) == (
        "Math 7",
        "Rosa Alvarez",
        ("s-2",),
    )
    assert arrived.confirmed
    assert not arrived.pending_accept
    assert arrived.lost_to is None


def test_an_accept_waits_for_the_server_and_then_shows_the_taker(
    teacher: DeviceStore, responder: DeviceStore, wall: ManualWall
) -> None:
    request_id = _arrive(teacher, responder)
    pending = accept_request(responder, request_id)
    assert pending.pending_accept
    assert pending.state == "open"
    assert pending.accepted_by is None
    with pytest.raises(SupportError, match="on its way"):
        accept_request(responder, request_id)
    [sent] = acknowledge(responder)
    assert sent["state"] == "accepted"
    assert sent["accepted_by"] == "m-1"
    assert sent["accepted_by_name"] == "Sam Okafor"
    taken = get_request(responder, request_id)
    assert taken is not None
    assert (taken.state, taken.accepted_by, taken.pending_accept) == ("accepted", "m-1", False)
    teacher_view = get_request(teacher, request_id)
    assert teacher_view is not None
    deliver(teacher, request_id, {**_server_fields(teacher, request_id), **sent}, 2)
    seen = get_request(teacher, request_id)
    assert seen is not None
    at = wall.moment.strftime("%H:%M")
    assert status_words(seen, wall.moment) == f"accepted by Sam Okafor at {at}"


def _server_fields(store: DeviceStore, request_id: str) -> dict[str, object]:
    from schema.fields import row_to_wire

    row = store.connection.execute(
        "SELECT * FROM support_requests WHERE id = ?", (request_id,)
    ).fetchone()
    return row_to_wire("support_request", row)


def test_an_accept_that_lost_names_who_took_the_request(
    teacher: DeviceStore, responder: DeviceStore, wall: ManualWall
) -> None:
    request_id = _arrive(teacher, responder)
    accept_request(responder, request_id)
    acknowledge(responder, OpStatus.SUPERSEDED, reason="already accepted by Kim Diaz")
    still = get_request(responder, request_id)
    assert still is not None
    assert still.pending_accept
    assert still.state == "open"
    server = {
        **_server_fields(teacher, request_id),
        "state": "accepted",
        "accepted_by": "m-2",
        "accepted_by_name": "Kim Diaz",
        "accepted_at": "2026-10-14T15:00:01.000+00:00",
    }
    deliver(responder, request_id, server, 5)
    lost = get_request(responder, request_id)
    assert lost is not None
    assert (lost.lost_to, lost.pending_accept, lost.accepted_by) == ("Kim Diaz", False, "m-2")
    with pytest.raises(SupportError, match="taken by Kim Diaz"):
        accept_request(responder, request_id)
    with pytest.raises(SupportError, match="accepted by Kim Diaz"):
        resolve_request(responder, request_id, "none")


def test_a_request_seen_as_taken_is_not_accepted_again(
    teacher: DeviceStore, responder: DeviceStore
) -> None:
    request_id = _arrive(teacher, responder)
    server = {
        **_server_fields(teacher, request_id),
        "state": "accepted",
        "accepted_by": "m-2",
        "accepted_by_name": "Kim Diaz",
        "accepted_at": "2026-10-14T15:00:01.000+00:00",
    }
    deliver(responder, request_id, server, 2)
    before = table_counts(responder)
    with pytest.raises(SupportError, match="not open any more: accepted by Kim Diaz"):
        accept_request(responder, request_id)
    assert table_counts(responder) == before


def test_the_responder_resolves_with_a_linked_level_2_record_only(
    teacher: DeviceStore, responder: DeviceStore
) -> None:
    request_id = _arrive(teacher, responder)
    with pytest.raises(SupportError, match="accept the request before"):
        resolve_request(responder, request_id, "none")
    accept_request(responder, request_id)
    acknowledge(responder)
    level_1 = responder.log_incident(
        IncidentDraft(student_id="s-2", behavior_code="DIS-CLASS", level=1)
    )
    with pytest.raises(SupportError, match="only a Level 2 record"):
        resolve_request(responder, request_id, "logged", level_1.id)
    with pytest.raises(SupportError, match="outcome must be one of"):
        resolve_request(responder, request_id, "sent-home")  # type: ignore[arg-type]
    level_2 = responder.log_incident(
        IncidentDraft(student_id="s-2", behavior_code="DIS-CLASS", level=2)
    )
    resolved = resolve_request(responder, request_id, "logged", level_2.id)
    assert (resolved.state, resolved.outcome, resolved.incident_id) == (
        "resolved",
        "logged",
        level_2.id,
    )
    assert not resolved.confirmed
    sent = acknowledge(responder)
    assert sent[-1]["incident_id"] == level_2.id
    with pytest.raises(SupportError, match="not open any more: resolved"):
        resolve_request(responder, request_id, "none")


def test_an_unsent_cancel_is_kept_against_an_older_pull(
    teacher: DeviceStore, responder: DeviceStore
) -> None:
    request_id = _arrive(teacher, responder)
    cancel_request(teacher, request_id)
    stale = {**_server_fields(responder, request_id), "state": "open"}
    deliver(teacher, request_id, stale, 3)
    kept = get_request(teacher, request_id)
    assert kept is not None
    assert kept.state == "cancelled"
    assert not kept.confirmed
    acknowledge(teacher, OpStatus.SUPERSEDED, reason="this request is resolved already")
    truth = {**stale, "state": "resolved", "outcome": "none"}
    deliver(teacher, request_id, truth, 4)
    fixed = get_request(teacher, request_id)
    assert fixed is not None
    assert fixed.state == "resolved"
    assert fixed.confirmed


def test_open_requests_come_first_oldest_at_top(teacher: DeviceStore, wall: ManualWall) -> None:
    first = send_request(teacher, note="first")
    wall.advance(60)
    second = send_request(teacher, note="second")
    wall.advance(60)
    third = send_request(teacher, note="third")
    cancel_request(teacher, second.id)
    assert [request.id for request in list_requests(teacher)] == [first.id, third.id, second.id]
    assert [request.id for request in list_requests(teacher, open_only=True)] == [
        first.id,
        third.id,
    ]


def test_expired_and_closed_states_in_the_teachers_words(
    teacher: DeviceStore, responder: DeviceStore, wall: ManualWall
) -> None:
    request_id = _arrive(teacher, responder)
    for state, words in [
        ("expired", "expired: call the office"),
        ("resolved", "resolved"),
        ("cancelled", "cancelled"),
    ]:
        deliver(teacher, request_id, {**_server_fields(teacher, request_id), "state": state}, 9)
        request = get_request(teacher, request_id)
        assert request is not None
        assert status_words(request, wall.moment) == words
        teacher.connection.execute("UPDATE sync_state SET pull_cursor = 0")


def test_a_linked_record_edited_down_to_level_1_is_no_longer_named_by_the_request(
    teacher: DeviceStore, responder: DeviceStore
) -> None:
    from schema.store import IncidentChanges

    request_id = _arrive(teacher, responder)
    accept_request(responder, request_id)
    acknowledge(responder)
    record = responder.log_incident(
        IncidentDraft(student_id="s-2", behavior_code="DIS-CLASS", level=2)
    )
    resolve_request(responder, request_id, "logged", record.id)
    responder.edit_incident(record.id, IncidentChanges(level=1))
    resolved = get_request(responder, request_id)
    assert resolved is not None
    assert (resolved.state, resolved.outcome, resolved.incident_id) == ("resolved", "logged", None)
    queued = responder.connection.execute(
        "SELECT fields FROM outbox WHERE kind = 'support_request'"
    ).fetchall()
    assert queued
    assert all(record.id not in row["fields"] for row in queued)
