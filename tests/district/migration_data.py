"""A populated district database for migration tests, and what the API must show of it.

- ``populate(fleet)`` pushes real records through the sync API (Level 2 incidents, a TAB,
  follow-ups from the owner and from another device, an edit whose losing values are kept, a
  void, a retraction that leaves a tombstone) and has an administrator correct one record.
- ``snapshot(http, token)`` reads it all back through the API as a district administrator: the
  pull (live records with their fields and which fields carry a clock; retracted ones), every
  live record's superseded values, and the ids in the Level 2 export.
- ``EXPECTED`` is that snapshot written out by hand.
- ``dump_rows`` / ``load_rows`` keep such a database as rows in a JSON file
  (``data/populated_<revision>.json``, made once by ``python tests/district/migration_data.py``
  at that revision), so a later migration is tested on data that an older server wrote.
- ``build_at(engine, revision)`` creates an empty database at one revision of the migrations.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parents[2]))
for folder in (Path(__file__).parent, Path(__file__).parents[1]):
    if str(folder) not in sys.path:
        sys.path.append(str(folder))

from serverkit import Fleet  # noqa: E402
from serverstate import read_state, record_detail  # noqa: E402

DATA = Path(__file__).with_name("data")

INCIDENT_FULL_0002: dict[str, Any] = {
    "student_id": "st2",
    "staff_id": "t1",
    "behavior_code": "DIS-CLASS",
    "level": 2,
    "actions": ["iss", "redirect"],
    "occurred_at": "2026-09-14T15:30:00.000+00:00",
    "tz": "America/Chicago",
    "location": "Cafeteria",
    "motivation": "Avoid peer(s)",
    "others_involved": "Substitute",
    "note": "migration: every field set",
    "iss_days": 0.5,
    "removal_minutes": None,
    "iss_safeguards": {
        "school_work": True,
        "special_education_services": True,
        "peer_without_disability": True,
    },
    "iss_recorded_as_removal": False,
    "advised_level": 1,
    "progression_bypassed": True,
    "bypass_reason": "asked for by Student Services",
    "group_id": "group-mig-1",
    "created_at": "2026-09-14T15:31:00.000+00:00",
    "updated_at": "2026-09-14T15:31:00.000+00:00",
    "voided_at": None,
    "void_reason": None,
}
INCIDENT_PLAIN_0002: dict[str, Any] = {
    "student_id": "st3",
    "staff_id": "t1",
    "behavior_code": "DIS-CLASS",
    "level": 2,
    "actions": ["removal"],
    "occurred_at": "2026-09-15T14:00:00.000+00:00",
    "tz": "America/Chicago",
    "location": "Hallway",
    "note": "first",
    "removal_minutes": 25,
    "created_at": "2026-09-15T14:01:00.000+00:00",
    "updated_at": "2026-09-15T14:01:00.000+00:00",
}
INCIDENT_FULL: dict[str, Any] = {
    **INCIDENT_FULL_0002,
    "iss_safeguards": {
        "school_work": True,
        "special_education_services": True,
        "peer_without_disability": True,
    },
}
"""What a device sends today: an ISS for a student with an IEP carries all three safeguards
(the server refuses one without them, R7). The 0002 dump was written before that check."""
INCIDENT_PLAIN: dict[str, Any] = {**INCIDENT_PLAIN_0002, "removal_minutes": 25}
"""Every removal has a length today (R7); the 0002 dump was written before that check."""
TAB_FULL: dict[str, Any] = {
    "student_id": "st2",
    "staff_id": "t1",
    "kind": "out_and_back",
    "started_by": "student",
    "started_at": "2026-09-14T15:40:00.000+00:00",
    "ended_at": "2026-09-14T15:52:00.000+00:00",
    "returned_ready": True,
    "reflection": "wrote it down",
    "incident_id": "mig-inc-full",
    "note": "buddy room",
    "tz": "America/Chicago",
    "voided_at": None,
    "void_reason": None,
}


def _with_device(fields: dict[str, Any], device_id: str) -> dict[str, Any]:
    return {**fields, "device_id": device_id}


async def populate(fleet: Fleet) -> None:
    """Real records through the push API, and one administrator's correction."""
    owner, helper = fleet.classroom_1a, fleet.mobile_1
    device = owner.device_id
    first = await owner.push(
        owner.op("incident", "mig-inc-full", _with_device(INCIDENT_FULL, device)),
        owner.op(
            "follow_up",
            "mig-fu-family",
            {
                "incident_id": "mig-inc-full",
                "kind": "family_contact",
                "created_at": "2026-09-14T15:31:00.000+00:00",
                "due_at": "2026-09-15T23:00:00.000+00:00",
                "done_at": None,
                "done_by": None,
                "note": "",
                "voided_at": None,
            },
        ),
        owner.op("tab", "mig-tab", _with_device(TAB_FULL, device)),
        owner.op("incident", "mig-inc-edited", _with_device(INCIDENT_PLAIN, device)),
        owner.op(
            "incident",
            "mig-inc-void",
            _with_device({**INCIDENT_PLAIN, "student_id": "st4", "note": "to void"}, device),
        ),
        owner.op(
            "incident",
            "mig-inc-gone",
            _with_device({**INCIDENT_PLAIN, "note": "MIGRATION-RETRACTED"}, device),
        ),
    )
    statuses = [result["status"] for result in first["results"]]
    assert statuses == ["applied"] * 6, first["results"]
    statuses = await owner.statuses(
        owner.op(
            "follow_up",
            "mig-fu-family",
            {
                "done_at": "2026-09-15T08:00:00.000+00:00",
                "done_by": "t1",
                "note": "called home",
            },
        ),
        owner.op(
            "incident",
            "mig-inc-edited",
            {"note": "second", "location": "Gym", "updated_at": "2026-09-15T14:05:00.000+00:00"},
        ),
        owner.op(
            "incident",
            "mig-inc-void",
            {
                "voided_at": "2026-09-15T14:10:00.000+00:00",
                "void_reason": "wrong student",
                "updated_at": "2026-09-15T14:10:00.000+00:00",
            },
        ),
        owner.op("incident", "mig-inc-gone", op="retract"),
    )
    assert statuses == ["applied"] * 4, statuses
    statuses = await helper.statuses(
        helper.op(
            "follow_up",
            "mig-fu-helper",
            {
                "incident_id": "mig-inc-full",
                "kind": "corrective_feedback",
                "created_at": "2026-09-14T16:00:00.000+00:00",
                "due_at": None,
                "done_at": None,
                "done_by": None,
                "note": "from the mobile responder",
                "voided_at": None,
            },
        )
    )
    assert statuses == ["applied"], statuses
    corrected = await fleet.admin_1.http.patch(
        "/v1/admin/records/mig-inc-full",
        json={"fields": {"location": "Office"}, "reason": "seen from the office"},
        headers=fleet.admin_1.headers,
    )
    assert corrected.status_code == 200, corrected.text


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value))


async def snapshot(http: httpx.AsyncClient, token: str) -> dict[str, Any]:
    """What a district administrator sees of the records, through the API only."""
    state = await read_state(http, token)
    live = {
        record_id: {
            "kind": held.kind,
            "fields": held.fields,
            "clocked": sorted(held.field_hlc),
        }
        for record_id, held in state.live.items()
    }
    superseded: dict[str, list[list[Any]]] = {}
    for record_id in sorted(state.live):
        detail = await record_detail(http, token, record_id)
        assert detail is not None, record_id
        values = sorted(
            [value["field"], _plain(value["value"]), value["reason"]]
            for value in detail["superseded"]
        )
        if values:
            superseded[record_id] = values
    export = await http.get(
        "/v1/admin/export", params={"format": "jsonl"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert export.status_code == 200, export.text
    exported = sorted(json.loads(line)["id"] for line in export.text.splitlines() if line)
    return _plain(
        {
            "live": live,
            "removed": sorted(state.removed),
            "superseded": superseded,
            "exported": exported,
        }
    )


def _all(fields: dict[str, Any]) -> list[str]:
    return sorted(fields)


def expected(
    owner_device: str,
    full_incident: dict[str, Any] | None = None,
    plain_incident: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The snapshot of a database ``populate`` filled, written out by hand; ``owner_device`` is
    the pushing device's id (kept in the incidents' and TAB's ``device_id``)."""
    plain = INCIDENT_PLAIN if plain_incident is None else plain_incident
    full = {**(full_incident or INCIDENT_FULL), "device_id": owner_device, "location": "Office"}
    edited = {
        **plain,
        "device_id": owner_device,
        "note": "second",
        "location": "Gym",
        "updated_at": "2026-09-15T14:05:00.000+00:00",
    }
    voided = {
        **plain,
        "device_id": owner_device,
        "student_id": "st4",
        "note": "to void",
        "voided_at": "2026-09-15T14:10:00.000+00:00",
        "void_reason": "wrong student",
        "updated_at": "2026-09-15T14:10:00.000+00:00",
    }
    family = {
        "incident_id": "mig-inc-full",
        "kind": "family_contact",
        "created_at": "2026-09-14T15:31:00.000+00:00",
        "due_at": "2026-09-15T23:00:00.000+00:00",
        "done_at": "2026-09-15T08:00:00.000+00:00",
        "done_by": "t1",
        "note": "called home",
        "voided_at": None,
    }
    helper = {
        "incident_id": "mig-inc-full",
        "kind": "corrective_feedback",
        "created_at": "2026-09-14T16:00:00.000+00:00",
        "due_at": None,
        "done_at": None,
        "done_by": None,
        "note": "from the mobile responder",
        "voided_at": None,
    }
    tab = {**TAB_FULL, "device_id": owner_device}
    return _plain(
        {
            "live": {
                "mig-inc-full": {"kind": "incident", "fields": full, "clocked": _all(full)},
                "mig-inc-edited": {"kind": "incident", "fields": edited, "clocked": _all(edited)},
                "mig-inc-void": {"kind": "incident", "fields": voided, "clocked": _all(voided)},
                "mig-fu-family": {"kind": "follow_up", "fields": family, "clocked": _all(family)},
                "mig-fu-helper": {"kind": "follow_up", "fields": helper, "clocked": _all(helper)},
                "mig-tab": {"kind": "tab", "fields": tab, "clocked": _all(tab)},
            },
            "removed": ["mig-inc-gone"],
            "superseded": {
                "mig-fu-family": [
                    ["done_at", None, None],
                    ["done_by", None, None],
                    ["note", "", None],
                ],
                "mig-inc-edited": [
                    ["location", "Hallway", None],
                    ["note", "first", None],
                    ["updated_at", "2026-09-15T14:01:00.000+00:00", None],
                ],
                "mig-inc-full": [["location", "Cafeteria", "seen from the office"]],
                "mig-inc-void": [["updated_at", "2026-09-15T14:01:00.000+00:00", None]],
            },
            "exported": ["mig-inc-edited", "mig-inc-full"],
        }
    )


def build_at(engine: Engine, revision: str) -> None:
    """An empty database at ``revision`` of the server's migrations (no seed rows)."""
    _alembic(engine, "upgrade", revision)


def downgrade_to(engine: Engine, revision: str) -> None:
    """Take the database back down to ``revision`` of the server's migrations."""
    _alembic(engine, "downgrade", revision)


def _alembic(engine: Engine, step: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from district.db import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, step)(config, revision)


def current_revision(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar())


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return {"$datetime": moment.astimezone(UTC).isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"$datetime"}:
        return datetime.fromisoformat(value["$datetime"])
    if isinstance(value, dict) and set(value) == {"$date"}:
        return date.fromisoformat(value["$date"])
    return value


def _reflect(engine: Engine) -> sa.MetaData:
    metadata = sa.MetaData()
    metadata.reflect(engine)
    for table in metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, JSONB):
                column.type = JSONB(none_as_null=True)
            elif isinstance(column.type, sa.JSON):
                column.type = sa.JSON(none_as_null=True)
    return metadata


def dump_rows(engine: Engine) -> dict[str, Any]:
    """Every row of every table but Alembic's, as JSON (times tagged)."""
    metadata = _reflect(engine)
    tables: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            rows = connection.execute(sa.select(table).order_by(*order)).mappings()
            tables[table.name] = [
                {name: _encode(value) for name, value in row.items()} for row in rows
            ]
    return {"revision": current_revision(engine), "tables": tables}


def load_rows(engine: Engine, dump: dict[str, Any]) -> None:
    """Insert a dump into a database built at the dump's revision (seed rows replaced)."""
    metadata = _reflect(engine)
    tables: dict[str, list[dict[str, Any]]] = dump["tables"]
    ordered = [table for table in metadata.sorted_tables if table.name in tables]
    with engine.begin() as connection:
        for table in reversed(ordered):
            connection.execute(sa.delete(table))
        for table in ordered:
            rows = [
                {name: _decode(value) for name, value in row.items()} for row in tables[table.name]
            ]
            if rows:
                connection.execute(sa.insert(table), rows)
        if engine.dialect.name == "postgresql":
            for table in ordered:
                for column in table.primary_key.columns:
                    if not isinstance(column.type, sa.Integer):
                        continue
                    sequence = connection.execute(
                        sa.text("SELECT pg_get_serial_sequence(:table, :column)"),
                        {"table": table.name, "column": column.name},
                    ).scalar()
                    if sequence is not None:
                        connection.execute(
                            sa.text(
                                f"SELECT setval(:sequence, COALESCE((SELECT max({column.name})"
                                f" FROM {table.name}), 0) + 1, false)"
                            ),
                            {"sequence": sequence},
                        )


async def _write_dump(folder: Path) -> Path:
    from serverkit import SCHOOL_1, SECTION_1A, enroll, server_settings, world_roster

    from district.app import create_app
    from district.db import create_engine, migrate
    from district.roster_import import import_roster

    url = f"sqlite:///{folder / 'populated.db'}"
    engine = create_engine(url)
    try:
        migrate(engine)
        import_roster(engine, world_roster().write(folder / "roster"))
        app = create_app(server_settings(url), engine=engine)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://district.test") as http:
            fleet = Fleet(
                classroom_1a=await enroll(http, engine, "classroom", SCHOOL_1, (SECTION_1A,), "t1"),
                classroom_1b=await enroll(http, engine, "classroom", SCHOOL_1, staff="t2"),
                mobile_1=await enroll(http, engine, "mobile", SCHOOL_1, staff="m1"),
                admin_1=await enroll(http, engine, "admin", SCHOOL_1, staff="a1"),
                classroom_2a=await enroll(http, engine, "classroom", "school-2", staff="t3"),
                mobile_2=await enroll(http, engine, "mobile", "school-2"),
                admin_2=await enroll(http, engine, "admin", "school-2"),
                district_admin=await enroll(http, engine, "admin", None),
            )
            await populate(fleet)
            owner = fleet.classroom_1a.device_id
            assert await snapshot(http, fleet.district_admin.token) == expected(owner)
        dump = {**dump_rows(engine), "owner_device": owner}
    finally:
        engine.dispose()
    DATA.mkdir(exist_ok=True)
    target = DATA / f"populated_{dump['revision']}.json"
    target.write_text(json.dumps(dump, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return target


if __name__ == "__main__":
    import asyncio
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        print(asyncio.run(_write_dump(Path(scratch))))
