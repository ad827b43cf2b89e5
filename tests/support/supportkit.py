"""Pieces for the support request tests: a device with a small school's roster, a hand-moved
wall clock, and helpers that play the server's part on a device database (acknowledging a push,
delivering a pull page) through the daemon's own store functions."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from schema.models import Section, Staff, Student
from schema.store import DeviceStore
from schema.sync_store import SyncStore
from schema.wire import Change, OpResult, OpStatus

SCHOOL = "sch-1"
OTHER_SCHOOL = "sch-2"
START_MS = int(datetime(2026, 10, 14, 15, 0, tzinfo=UTC).timestamp() * 1000)


class ManualWall:
    def __init__(self, start_ms: int = START_MS) -> None:
        self.ms = start_ms

    def __call__(self) -> int:
        return self.ms

    def advance(self, seconds: float) -> None:
        self.ms += int(seconds * 1000)

    @property
    def moment(self) -> datetime:
        return datetime.fromtimestamp(self.ms / 1000, tz=UTC)


def seed_school(store: DeviceStore) -> None:
    store.replace_roster(
        orgs=[(SCHOOL, "Lincoln Middle School", "school")],
        staff=[
            Staff(
                sourced_id="t-1",
                given_name="Rosa",
                family_name="Alvarez",
                role="teacher",
                school_id=SCHOOL,
            ),
            Staff(
                sourced_id="t-2",
                given_name="Lee",
                family_name="Park",
                role="teacher",
                school_id=SCHOOL,
            ),
            Staff(
                sourced_id="m-1",
                given_name="Sam",
                family_name="Okafor",
                role="aide",
                school_id=SCHOOL,
            ),
            Staff(
                sourced_id="m-2",
                given_name="Kim",
                family_name="Diaz",
                role="aide",
                school_id=SCHOOL,
            ),
        ],
        students=[
            Student(
                sourced_id="s-1",
                given_name="Ana",
                family_name="Lopez",
                grade="07",
                school_id=SCHOOL,
            ),
            Student(
                sourced_id="s-2",
                given_name="Ben",
                family_name="Nakamura",
                grade="07",
                school_id=SCHOOL,
            ),
        ],
        sections=[
            Section(sourced_id="sec-1", title="Math 7", school_id=SCHOOL, periods="1"),
            Section(sourced_id="sec-2", title="Art 7", school_id=SCHOOL, periods="2"),
        ],
        enrollments=[
            ("sec-1", "t-1", "teacher"),
            ("sec-2", "t-2", "teacher"),
            ("sec-1", "s-1", "student"),
            ("sec-1", "s-2", "student"),
        ],
        school_year_start=date(2026, 8, 17),
    )


def open_device(home: Path, wall: ManualWall, *, staff_id: str, role: str) -> DeviceStore:
    store = DeviceStore.open(home, wall=wall)
    seed_school(store)
    store.set_config(staff_id=staff_id, enrolled_role=role, school_id=SCHOOL, timezone="UTC")
    return store


def table_counts(store: DeviceStore) -> dict[str, int]:
    return {
        table: store.connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("support_requests", "audit", "outbox", "dead_letters")
    }


def acknowledge(
    store: DeviceStore, status: OpStatus = OpStatus.APPLIED, reason: str | None = None
) -> list[dict[str, Any]]:
    """Play the server: take the device's whole outbox as one push and answer every op with
    ``status``. Returns the ops' fields as sent."""
    sync = SyncStore(store.connection, wall=store.wall)
    batch = sync.take_batch(500, 1_000_000)
    sync.apply_push_results(
        batch.ops, [OpResult(op_id=op.op_id, status=status, reason=reason) for op in batch.ops]
    )
    store.connection.execute("PRAGMA foreign_keys = ON")
    return [dict(op.fields) for op in batch.ops]


def deliver(store: DeviceStore, request_id: str, fields: dict[str, Any], cursor: int) -> None:
    """Play the server: one pull page carrying a support request as the server holds it."""
    sync = SyncStore(store.connection, wall=store.wall)
    hlc = f"{store.wall():016d}:0000:server"
    sync.apply_pull_page(
        [
            Change(
                cursor=cursor,
                kind="support_request",
                id=request_id,
                op="upsert",
                fields=json.loads(json.dumps(fields)),
                field_hlc=dict.fromkeys(fields, hlc),
            )
        ],
        cursor,
    )
    store.connection.execute("PRAGMA foreign_keys = ON")
