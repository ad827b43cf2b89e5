"""Support requests (R9): a teacher's call for mobile response staff, and a responder's answer.

Every write here is one ``BEGIN IMMEDIATE`` transaction through the device store's write path:
the request row, its audit row, its outbox row and the clock advance. A request holds no Level 1
content: no behavior, no level, and a link only to a Level 2 record (R1).

The server decides a request's state: an accept is applied only while the request is open (the
first commit wins), and stale requests expire there. So this device shows what the server has
acknowledged and says plainly what it has not: ``confirmed`` is true when no change of this
device's to the request is still waiting in the outbox; ``pending_accept`` is true from this
device's accept until the server's answer arrives, and ``lost_to`` names who took the request
when that answer was that someone else got there first.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from schema.contract import (
    MAX_REQUEST_NOTE_CHARS,
    MAX_REQUEST_STUDENTS,
    OUTCOMES,
    URGENCIES,
    Outcome,
    RequestState,
    Urgency,
)
from schema.errors import UserError
from schema.ids import new_id
from schema.rows import DeviceReader, from_text, required_time, to_text
from schema.store import DeviceStore, StoreError, _Write

__all__ = [
    "UNCONFIRMED_SECONDS",
    "Outcome",
    "RequestState",
    "SupportError",
    "SupportRequest",
    "Urgency",
    "accept_request",
    "cancel_request",
    "get_request",
    "list_requests",
    "resolve_request",
    "send_request",
    "status_words",
]

UNCONFIRMED_SECONDS = 5
"""After this long without the server's acknowledgement the teacher is told to call the office."""
RECENT_HOURS = 12
"""``list_requests`` shows closed requests of the last this many hours (open ones always)."""
LIVE_STATES: tuple[RequestState, ...] = ("open", "accepted")


class SupportError(StoreError, UserError):
    """A support request change that is not allowed: one clear line, nothing changed."""


@dataclass(frozen=True, slots=True)
class SupportRequest:
    id: str
    school_id: str
    requested_by: str
    requested_by_name: str
    device_id: str
    room: str | None
    section_id: str | None
    student_ids: tuple[str, ...]
    urgency: Urgency
    note: str
    state: RequestState
    accepted_by: str | None
    accepted_by_name: str | None
    accepted_at: datetime | None
    resolved_at: datetime | None
    outcome: Outcome | None
    incident_id: str | None
    created_at: datetime
    confirmed: bool
    pending_accept: bool
    lost_to: str | None
    updated_at: datetime | None = None
    """When this request last changed (on this device or, once pulled, on the server)."""
    refused: str | None = None
    """Why the server refused this device's latest change to the request, when it did: that
    change will not be sent again."""

    @property
    def is_live(self) -> bool:
        """Open or accepted: someone may still have to go."""
        return self.state in LIVE_STATES


_SELECT = (
    "SELECT r.*, EXISTS (SELECT 1 FROM outbox o WHERE o.entity_id = r.id "
    "AND o.kind = 'support_request') AS unsent, "
    "(SELECT d.reason FROM dead_letters d WHERE d.entity_id = r.id "
    "AND d.kind = 'support_request' AND d.at >= r.updated_at ORDER BY d.at DESC LIMIT 1) "
    "AS refused "
    "FROM support_requests r"
)


def _from_row(row: sqlite3.Row) -> SupportRequest:
    return SupportRequest(
        id=row["id"],
        school_id=row["school_id"],
        requested_by=row["requested_by"],
        requested_by_name=row["requested_by_name"],
        device_id=row["device_id"],
        room=row["room"],
        section_id=row["section_id"],
        student_ids=tuple(json.loads(row["student_ids"] or "[]")),
        urgency=row["urgency"],
        note=row["note"],
        state=row["state"],
        accepted_by=row["accepted_by"],
        accepted_by_name=row["accepted_by_name"],
        accepted_at=from_text(row["accepted_at"]),
        resolved_at=from_text(row["resolved_at"]),
        outcome=row["outcome"],
        incident_id=row["incident_id"],
        created_at=required_time(row["created_at"]),
        confirmed=not row["unsent"] and row["refused"] is None,
        pending_accept=bool(row["accept_pending"]),
        lost_to=row["lost_to"],
        updated_at=from_text(row["updated_at"]),
        refused=row["refused"] if row["unsent"] == 0 else None,
    )


def get_request(store: DeviceReader, request_id: str) -> SupportRequest | None:
    row = store.connection.execute(f"{_SELECT} WHERE r.id = ?", (request_id,)).fetchone()
    return None if row is None else _from_row(row)


def list_requests(store: DeviceReader, *, open_only: bool = False) -> list[SupportRequest]:
    """Open and accepted requests first, oldest first; then (unless ``open_only``) the ones
    closed in the last hours, newest first. An indexed read: cheap enough to poll."""
    live = store.connection.execute(
        f"{_SELECT} WHERE r.state IN ('open', 'accepted') ORDER BY r.created_at, r.id"
    ).fetchall()
    requests = [_from_row(row) for row in live]
    if not open_only:
        since = to_text(store.now() - timedelta(hours=RECENT_HOURS))
        closed = store.connection.execute(
            f"{_SELECT} WHERE r.state IN ('resolved', 'cancelled', 'expired') "
            "AND r.created_at >= ? ORDER BY r.created_at DESC, r.id DESC",
            (since,),
        ).fetchall()
        requests += [_from_row(row) for row in closed]
    return requests


def status_words(request: SupportRequest, now: datetime) -> str:
    """The request's state in the teacher's words. Never says more than the server has
    confirmed: an unconfirmed request is "sending…" for a few seconds, then "not sent: call the
    office (still trying)"."""
    if request.refused is not None:
        return f"not sent: call the office (refused: {request.refused})"
    if not request.confirmed:
        if request.state == "cancelled":
            return "cancelled (not yet sent)"
        since = request.updated_at or request.created_at
        if (now - since).total_seconds() >= UNCONFIRMED_SECONDS:
            return "not sent: call the office (still trying)"
        return "sending…"
    if request.state == "open":
        return "sent, waiting for a responder"
    if request.state == "accepted":
        name = request.accepted_by_name or request.accepted_by or "a responder"
        if request.accepted_at is None:
            return f"accepted by {name}"
        local = request.accepted_at.astimezone(now.tzinfo)
        return f"accepted by {name} at {local:%H:%M}"
    if request.state == "expired":
        return "expired: call the office"
    return request.state


def _clean_note(note: str) -> str:
    if any(character < " " and character not in "\t\n\r" for character in note):
        raise SupportError("the note must not contain control characters (nothing was sent)")
    cleaned = " ".join(note.split())
    if len(cleaned) > MAX_REQUEST_NOTE_CHARS:
        raise SupportError(
            f"the note is longer than {MAX_REQUEST_NOTE_CHARS} characters (nothing was sent)"
        )
    return cleaned


def _staff_name(store: DeviceReader, staff_id: str | None) -> str:
    if not staff_id:
        return ""
    member = store.staff_member(staff_id)
    return "" if member is None else member.display_name


def _section_row(store: DeviceReader, section_id: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = store.connection.execute(
        "SELECT sourced_id, title, school_id FROM sections WHERE sourced_id = ?", (section_id,)
    ).fetchone()
    return row


def _default_section(store: DeviceReader, staff_id: str, student_ids: Sequence[str]) -> str | None:
    """The section the request comes from when the caller named none: the one this staff
    member teaches now (by the period schedule), else the one they share with the student,
    else their first section."""
    taught = store.connection.execute(
        "SELECT s.sourced_id FROM sections s JOIN enrollments e ON e.section_id = s.sourced_id "
        "WHERE e.user_id = ? AND e.role != 'student' ORDER BY s.periods, s.title",
        (staff_id,),
    ).fetchall()
    if not taught:
        return None
    current = store.section_now(store.sections_for(staff_id))
    if current is not None:
        return current.sourced_id
    taught_ids = [row[0] for row in taught]
    for student_id in student_ids:
        shared = store.connection.execute(
            "SELECT section_id FROM enrollments WHERE user_id = ? AND role = 'student'",
            (student_id,),
        ).fetchall()
        for row in shared:
            if row[0] in taught_ids:
                return str(row[0])
    return str(taught_ids[0])


def _school_of(
    store: DeviceReader, staff_id: str, section: sqlite3.Row | None, student_ids: Sequence[str]
) -> str:
    candidates: list[Any] = [store.meta("school_id")]
    if section is not None:
        candidates.append(section["school_id"])
    for student_id in student_ids:
        row = store.connection.execute(
            "SELECT school_id FROM students WHERE sourced_id = ?", (student_id,)
        ).fetchone()
        candidates.append(None if row is None else row[0])
    member = store.connection.execute(
        "SELECT school_id FROM staff WHERE sourced_id = ?", (staff_id,)
    ).fetchone()
    candidates.append(None if member is None else member[0])
    for candidate in candidates:
        if candidate:
            return str(candidate)
    raise SupportError(
        "this device does not know its school (enroll it first): call the office instead"
    )


def _wire(row: sqlite3.Row) -> dict[str, Any]:
    from schema.fields import row_to_wire

    return row_to_wire("support_request", row)


def _row(write: _Write, request_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = write.connection.execute(
        "SELECT * FROM support_requests WHERE id = ?", (request_id,)
    ).fetchone()
    if row is None:
        raise SupportError(f"no support request {request_id!r} on this device")
    return row


def _require(request: SupportRequest | None) -> SupportRequest:
    assert request is not None, "a support request written in this transaction disappeared"
    return request


def send_request(
    store: DeviceStore,
    *,
    student_ids: Sequence[str] = (),
    urgency: Urgency = "now",
    note: str = "",
    section_id: str | None = None,
    room: str | None = None,
) -> SupportRequest:
    """Call for support from this device, for the room or for some of its students. Stored
    and queued in one transaction; the daemon sends it at once."""
    if urgency not in URGENCIES:
        raise SupportError(f"urgency must be one of {', '.join(URGENCIES)}, not {urgency!r}")
    cleaned_note = _clean_note(note)
    wanted = list(dict.fromkeys(student_ids))
    if len(wanted) > MAX_REQUEST_STUDENTS:
        raise SupportError(f"a request names at most {MAX_REQUEST_STUDENTS} students")
    if room is not None:
        room = " ".join(room.split())[:200] or None
    request_id = new_id()
    with store._write() as write:
        staff_id = store._require_staff()
        known = store.students(wanted)
        unknown = [student_id for student_id in wanted if student_id not in known]
        if unknown:
            raise SupportError(f"unknown student {unknown[0]!r} (nothing was sent)")
        if section_id is None and room is None:
            section_id = _default_section(store, staff_id, wanted)
        section = None
        if section_id is not None:
            section = _section_row(store, section_id)
            if section is None:
                raise SupportError(f"unknown section {section_id!r}")
            if room is None:
                room = section["title"]
        school_id = _school_of(store, staff_id, section, wanted)
        now_text = to_text(write.now)
        write.connection.execute(
            "INSERT INTO support_requests (id, school_id, requested_by, requested_by_name,"
            " device_id, room, section_id, student_ids, urgency, note, state, created_at,"
            " updated_at, hlc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)",
            (
                request_id,
                school_id,
                staff_id,
                _staff_name(store, staff_id),
                store.device_id,
                room,
                section_id,
                json.dumps(wanted),
                urgency,
                cleaned_note,
                now_text,
                now_text,
                write.stamp(),
            ),
        )
        store._audit(
            write, "support_request", request_id, "send", {"urgency": urgency, "room": room}
        )
        store._enqueue(
            write, "support_request", request_id, "upsert", _wire(_row(write, request_id))
        )
    return _require(get_request(store, request_id))


def _change(
    store: DeviceStore,
    write: _Write,
    request_id: str,
    action: str,
    values: dict[str, Any],
    *,
    local: dict[str, Any] | None = None,
) -> None:
    """Queue ``values`` for the server; store ``local`` (default: the same values) here."""
    stored = values if local is None else local
    if stored:
        assignments = ", ".join(f"{name} = ?" for name in stored)
        write.connection.execute(
            f"UPDATE support_requests SET {assignments}, hlc = ? WHERE id = ?",
            (*stored.values(), write.stamp(), request_id),
        )
    store._audit(write, "support_request", request_id, action, values)
    store._enqueue(write, "support_request", request_id, "upsert", values)


def cancel_request(store: DeviceStore, request_id: str) -> SupportRequest:
    """The teacher calls off their own request while it is open or accepted."""
    with store._write() as write:
        staff_id = store._require_staff()
        row = _row(write, request_id)
        if row["requested_by"] != staff_id:
            raise SupportError("only the teacher who sent a request can cancel it")
        if row["state"] not in LIVE_STATES:
            raise SupportError(f"this request is {row['state']} already: nothing to cancel")
        now_text = to_text(write.now)
        _change(
            store,
            write,
            request_id,
            "cancel",
            {"state": "cancelled", "resolved_at": now_text, "updated_at": now_text},
        )
    return _require(get_request(store, request_id))


def accept_request(store: DeviceStore, request_id: str) -> SupportRequest:
    """A responder on a mobile device takes the request ("on my way"). Only the server can say
    whether they were first: until it answers the request shows ``pending_accept``."""
    with store._write() as write:
        staff_id = store._require_staff()
        role = store.meta("enrolled_role")
        if role != "mobile":
            raise SupportError(
                "only a mobile response device can accept a support request"
                + (f" (this device is enrolled as {role})" if role else "")
            )
        row = _row(write, request_id)
        if row["lost_to"] is not None:
            raise SupportError(f"this request was taken by {row['lost_to']}")
        if row["state"] == "accepted" and row["accepted_by"] == staff_id:
            raise SupportError("you have accepted this request already")
        if row["state"] != "open":
            who = row["accepted_by_name"] or row["accepted_by"]
            taken = f" by {who}" if row["state"] == "accepted" and who else ""
            raise SupportError(f"this request is not open any more: {row['state']}{taken}")
        if row["accept_pending"]:
            raise SupportError("your accept is on its way to the server already")
        now_text = to_text(write.now)
        _change(
            store,
            write,
            request_id,
            "accept",
            {
                "state": "accepted",
                "accepted_by": staff_id,
                "accepted_by_name": _staff_name(store, staff_id),
                "accepted_at": now_text,
                "updated_at": now_text,
            },
            local={"accept_pending": 1, "lost_to": None},
        )
    return _require(get_request(store, request_id))


def resolve_request(
    store: DeviceStore, request_id: str, outcome: Outcome, incident_id: str | None = None
) -> SupportRequest:
    """The responder who took the request closes it: with no record (``none``), with the Level 2
    record they logged (``logged``, linked by ``incident_id``), or with a TAB Out to their room
    (``tab-out``)."""
    if outcome not in OUTCOMES:
        raise SupportError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    if incident_id is not None and outcome != "logged":
        raise SupportError("only a request resolved as logged links a record")
    with store._write() as write:
        staff_id = store._require_staff()
        row = _row(write, request_id)
        mine = row["state"] == "accepted" and row["accepted_by"] == staff_id
        if not (mine or (row["state"] == "open" and row["accept_pending"])):
            if row["state"] == "accepted":
                who = row["accepted_by_name"] or row["accepted_by"]
                raise SupportError(f"this request was accepted by {who}: only they resolve it")
            if row["state"] == "open":
                raise SupportError("accept the request before resolving it")
            raise SupportError(f"this request is not open any more: {row['state']}")
        if incident_id is not None:
            incident = write.connection.execute(
                "SELECT level, voided_at FROM incidents WHERE id = ?", (incident_id,)
            ).fetchone()
            if incident is None:
                raise SupportError(f"no record {incident_id!r} on this device")
            if incident["level"] != 2:
                raise SupportError("a support request links only a Level 2 record")
        now_text = to_text(write.now)
        _change(
            store,
            write,
            request_id,
            "resolve",
            {
                "state": "resolved",
                "outcome": outcome,
                "incident_id": incident_id,
                "resolved_at": now_text,
                "updated_at": now_text,
            },
        )
    return _require(get_request(store, request_id))
