"""The push's bulk look-ups pass a whole list of ids as one bound value (``district.db.among``:
a JSON array read by ``json_each`` on SQLite, an array with ``= ANY`` on PostgreSQL). Ids are
device-chosen text, so the list must match exactly whatever characters an id holds, on both
databases, however long the list."""

from __future__ import annotations

import sqlalchemy as sa
from serverkit import Fleet, follow_up_fields, incident_fields
from serverstate import read_state

from district import tables
from district.db import among

AWKWARD_IDS = [
    'inc-"quoted"',
    "inc-back\\slash",
    "inc-it's",
    "inc-é-ß-漢字-𝄞",
    "inc-[1,2]",
    "inc-%-_-*",
    "inc-spaced out",
    'INC-"QUOTED"',
]


def test_among_matches_exactly_the_listed_values(engine: sa.Engine) -> None:
    sections = tables.sections
    with engine.connect() as connection:
        stored = sorted(connection.execute(sa.select(sections.c.sourced_id)).scalars())
    assert stored, "the seeded roster has sections"
    wanted = stored[::2]
    missing = [*AWKWARD_IDS, *(f"nobody-{number}" for number in range(3000))]
    with engine.connect() as connection:
        found = connection.execute(
            sa.select(sections.c.sourced_id).where(
                among(connection, sections.c.sourced_id, [*missing, *wanted, *wanted])
            )
        ).scalars()
        assert sorted(found) == wanted
        assert not connection.execute(
            sa.select(sections.c.sourced_id).where(among(connection, sections.c.sourced_id, []))
        ).all()


async def test_records_with_awkward_ids_are_found_deduplicated_and_merged(fleet: Fleet) -> None:
    """Ids with quotes, backslashes, wildcards and any script: a resent op is a duplicate, an
    edit merges into its record, a follow-up finds its incident, all in one push each."""
    device = fleet.classroom_1a
    creates = [
        device.op(
            "incident", record_id, incident_fields("st1", device.device_id), op_id=f"op-{record_id}"
        )
        for record_id in AWKWARD_IDS
    ]
    follow_ups = [
        device.op("follow_up", f"fu-{record_id}", follow_up_fields(record_id))
        for record_id in AWKWARD_IDS
    ]
    assert await device.statuses(*creates, *follow_ups) == ["applied"] * (2 * len(AWKWARD_IDS))
    edits = [
        device.op("incident", record_id, {"note": f"edited {record_id}"})
        for record_id in AWKWARD_IDS
    ]
    assert await device.statuses(*creates, *edits) == ["duplicate"] * len(AWKWARD_IDS) + [
        "applied"
    ] * len(AWKWARD_IDS)
    state = await read_state(fleet.district_admin.http, fleet.district_admin.token)
    for record_id in AWKWARD_IDS:
        assert state.fields(record_id)["note"] == f"edited {record_id}"
        assert state.fields(f"fu-{record_id}")["incident_id"] == record_id
