"""The migration to typed record tables carries a populated database over: every record's
fields and clocks come out as they went in, with the values reports group on computed (local
date, hour and weekday in the record's own zone, the student's grade, ISS and removal, TAB
minutes), tombstones stay content-free, and the old ``records`` table is gone. On SQLite and
PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from serverkit import SCHOOL_1, world_roster

from district import tables
from district.db import create_engine, migrate
from district.pgcluster import Cluster
from district.pull import read_page
from district.records import Record, load
from district.roster_import import import_roster
from district.scope import Device

_numbers = itertools.count(1)
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]
NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
HLC = "0001788888888888:0000:dev-old"

INCIDENT = {
    "student_id": "st2",
    "staff_id": "t1",
    "device_id": "dev-old",
    "behavior_code": "DIS-CLASS",
    "level": 2,
    "actions": ["redirect", "iss"],
    "occurred_at": "2026-09-01T14:30:00.000+00:00",
    "tz": "America/Chicago",
    "location": "Hallway",
    "motivation": "Avoid task or activity",
    "others_involved": "Peers",
    "note": "kept literally",
    "iss_days": 0.5,
    "iss_safeguards": {
        "school_work": True,
        "special_education_services": False,
        "peer_without_disability": True,
    },
    "iss_recorded_as_removal": True,
    "advised_level": 2,
    "progression_bypassed": True,
    "bypass_reason": "first time this year",
    "group_id": "grp-1",
    "created_at": "2026-09-01T14:31:00.000+00:00",
    "updated_at": "2026-09-01T14:32:00.000+00:00",
    "voided_at": None,
    "void_reason": None,
}
TAB = {
    "student_id": "st2",
    "staff_id": "t1",
    "device_id": "dev-old",
    "kind": "out_and_back",
    "started_by": "teacher",
    "started_at": "2026-09-02T03:50:00.000+00:00",
    "ended_at": "2026-09-02T04:05:30.000+00:00",
    "returned_ready": True,
    "reflection": "calmer",
    "incident_id": "inc-old",
    "note": "",
    "tz": "America/Chicago",
}
FOLLOW_UP = {
    "incident_id": "inc-old",
    "kind": "family_contact",
    "created_at": "2026-09-01T14:31:00.000+00:00",
    "done_at": None,
    "note": "",
}


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    name = f"migrate_typed_{next(_numbers)}"
    admin = sa.create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    yield cluster.url(name)


def _old_row(
    record_id: str, kind: str, fields: dict[str, Any] | None, cursor: int
) -> dict[str, Any]:
    tombstone = fields is None
    return {
        "id": record_id,
        "kind": kind,
        "owner_device_id": "dev-old",
        "school_id": SCHOOL_1,
        "student_id": None if tombstone else "st2",
        "parent_id": None if tombstone or kind == "incident" else "inc-old",
        "level": 2 if kind == "incident" and not tombstone else None,
        "fields": fields,
        "field_hlc": None if tombstone else dict.fromkeys(fields, HLC),
        "tombstone": tombstone,
        "tombstone_hlc": HLC if tombstone else None,
        "cursor": cursor,
        "created_at": NOW,
        "updated_at": NOW,
    }


def _populate_old_schema(engine: sa.Engine, tmp_path: Path) -> None:
    migrate(engine, "0001")
    import_roster(engine, world_roster().write(tmp_path / "roster"))
    old = sa.MetaData()
    with engine.begin() as connection:
        records = sa.Table("records", old, autoload_with=connection)
        devices = sa.Table("devices", old, autoload_with=connection)
        connection.execute(
            sa.insert(devices).values(
                id="dev-old", name="old laptop", role="classroom", school_id=SCHOOL_1,
                district_scope=False, staff_id="t1", section_ids=["sec-1a"],
                token_hash="0" * 64, created_at=NOW,
            )
        )  # fmt: skip
        base = connection.execute(sa.text("SELECT value FROM change_counter WHERE id = 1"))
        cursor = int(base.scalar_one())
        rows = [
            _old_row("inc-old", "incident", INCIDENT, cursor + 1),
            _old_row("tab-old", "tab", TAB, cursor + 2),
            _old_row("fu-old", "follow_up", FOLLOW_UP, cursor + 3),
            _old_row("inc-gone", "incident", None, cursor + 4),
        ]
        connection.execute(sa.insert(records), rows)
        connection.execute(
            sa.text("UPDATE change_counter SET value = :value WHERE id = 1"),
            {"value": cursor + 4},
        )


def test_a_populated_database_migrates_to_typed_tables_with_every_value_kept(
    empty_url: str, tmp_path: Path
) -> None:
    engine = create_engine(empty_url)
    try:
        _populate_old_schema(engine, tmp_path)
        migrate(engine)
        with engine.connect() as connection:
            assert "records" not in sa.inspect(connection).get_table_names()
            incident = load(connection, "inc-old")
            tab = load(connection, "tab-old")
            follow_up = load(connection, "fu-old")
            gone = load(connection, "inc-gone")
            typed_incident = connection.execute(
                sa.select(tables.incidents).where(tables.incidents.c.id == "inc-old")
            ).one()
            typed_tab = connection.execute(
                sa.select(tables.tab_events).where(tables.tab_events.c.id == "tab-old")
            ).one()
            typed_follow_up = connection.execute(
                sa.select(tables.follow_ups).where(tables.follow_ups.c.id == "fu-old")
            ).one()
            tombstone = connection.execute(
                sa.select(tables.incidents).where(tables.incidents.c.id == "inc-gone")
            ).one()
        assert incident is not None
        assert tab is not None
        assert follow_up is not None
        assert incident.fields == INCIDENT
        assert tab.fields == TAB
        assert follow_up.fields == FOLLOW_UP
        assert incident.field_hlc == dict.fromkeys(INCIDENT, HLC)
        assert (tab.parent_id, follow_up.parent_id) == ("inc-old", "inc-old")

        assert typed_incident.local_date == date(2026, 9, 1)
        assert (typed_incident.local_hour, typed_incident.local_weekday) == (9, 1)
        assert typed_incident.student_grade == "07"
        assert (typed_incident.is_iss, typed_incident.is_removal) == (False, True)
        assert typed_incident.school_id == SCHOOL_1
        assert typed_tab.local_date == date(2026, 9, 1)
        assert (typed_tab.local_hour, typed_tab.local_weekday) == (22, 1)
        assert typed_tab.minutes == pytest.approx(15.5)
        assert typed_tab.student_grade == "07"
        assert (typed_follow_up.student_id, typed_follow_up.school_id) == ("st2", SCHOOL_1)

        assert gone is not None
        assert gone.tombstone
        assert gone.fields == {}
        content = {
            name: value
            for name, value in tombstone._mapping.items()
            if name not in {"id", "owner_device_id", "school_id", "tombstone", "tombstone_hlc",
                            "cursor", "stored_at", "changed_at"}
        }  # fmt: skip
        assert set(content.values()) == {None}

        admin = Device(
            id="admin-reader", name="reader", role="admin", school_id=SCHOOL_1, district_scope=True,
            staff_id=None, section_ids=(),
        )  # fmt: skip
        page = read_page(engine, admin, 0, 1000)
        pulled = {
            change.id: change for change in page.changes if change.kind in tables.RECORD_TABLES
        }
        assert pulled["inc-old"].fields == INCIDENT
        assert pulled["tab-old"].fields == TAB
        assert pulled["inc-gone"].op == "remove"
        assert isinstance(Record.from_row("incident", typed_incident._mapping), Record)
    finally:
        engine.dispose()
