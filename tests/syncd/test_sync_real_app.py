"""In-process against the real district app (``district.app.create_app``) through an httpx
ASGI transport, with injectable clocks on both sides: the clock scenarios and an
administrator's correction, on the server's real rules rather than the fake's."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from realworld import MOBILE_STAFF, SCHOOL, Templates, copy_database
from synckit import FaultTransport, ManualClock

from schema.store import DeviceStore, IncidentChanges
from schema.sync_store import SyncStore
from schema.wire import MAX_CLOCK_AHEAD_MS, EnrollRequest
from syncd.client import SyncClient
from syncd.engine import SyncEngine

YEAR_MS = 365 * 24 * 3600 * 1000
DAY_MS = 24 * 3600 * 1000


class RealDistrict:
    def __init__(self, folder: Path, templates: Templates, clock: ManualClock) -> None:
        from district.app import create_app
        from district.db import create_engine
        from district.settings import Settings

        database = folder / "district.db"
        copy_database(templates.district_db, database)
        self.url = f"sqlite:///{database}"
        self.engine = create_engine(self.url)
        self.clock = clock
        self.app = create_app(
            Settings(database_url=self.url, rate_limit_per_minute=100_000, rate_limit_burst=10_000),
            engine=self.engine,
            wall=clock,
        )
        self.templates = templates
        self.folder = folder
        self.engines: list[SyncEngine] = []

    async def device(self, name: str, wall: ManualClock) -> tuple[DeviceStore, SyncEngine]:
        from district.devices import enroll, issue_code

        home = self.folder / name
        home.mkdir()
        copy_database(self.templates.device_home / "device.db", home / "device.db")
        store = DeviceStore.open(home, wall=wall)
        with store.connection:
            store.connection.execute("DELETE FROM meta WHERE key IN ('device_id', 'hlc')")
        store.close()
        store = DeviceStore.open(home, wall=wall)
        store.set_config(staff_id=MOBILE_STAFF)
        issued = issue_code(
            self.engine,
            role="mobile",
            school_id=SCHOOL,
            staff_id=MOBILE_STAFF,
            ttl=timedelta(hours=1),
        )
        reply = enroll(
            self.engine,
            EnrollRequest(code=issued.code, device_id=store.device_id),
            datetime.now(UTC),
        )
        transport = FaultTransport(httpx.ASGITransport(app=self.app))
        http = httpx.AsyncClient(transport=transport, base_url="http://district.test")
        client = SyncClient("http://district.test", reply.token, http=http, wall=wall)
        engine = SyncEngine(SyncStore.open(home, wall=wall), client)
        self.engines.append(engine)
        return store, engine

    def held(self, record_id: str) -> dict[str, object] | None:
        import sqlalchemy as sa

        from district import tables

        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(tables.records.c.fields, tables.records.c.field_hlc).where(
                    tables.records.c.id == record_id
                )
            ).first()
        if row is None or row[0] is None:
            return None
        fields = row[0] if isinstance(row[0], dict) else json.loads(row[0])
        return {"fields": fields, "field_hlc": row[1]}

    async def close(self) -> None:
        for engine in self.engines:
            await engine.client._http.aclose()
            engine.close()
            engine.store.close()
        self.engine.dispose()


@pytest.fixture
async def real(tmp_path: Path, templates: Templates) -> AsyncIterator[RealDistrict]:
    clock = ManualClock(int(datetime.now(UTC).timestamp() * 1000))
    district = RealDistrict(tmp_path, templates, clock)
    yield district
    await district.close()


def _log(store: DeviceStore, student: str, note: str) -> str:
    from schema.models import IncidentDraft

    draft = IncidentDraft(student_id=student, behavior_code="DIS-CLASS", level=2, note=note)
    return store.log_incident(draft).id


async def test_real_server_clock_a_year_ahead_is_restamped_and_accepted(
    real: RealDistrict, templates: Templates
) -> None:
    ahead = ManualClock(real.clock.ms + YEAR_MS)
    store, engine = await real.device("ahead", ahead)
    first = _log(store, templates.student_ids[0], "a year ahead")
    store.edit_incident(first, IncidentChanges(note="edited a year ahead"))
    report = await engine.push()
    assert report.restamped > 0
    assert engine.store.pending_count() == 0
    held = real.held(first)
    assert held is not None
    assert held["fields"]["note"] == "edited a year ahead"  # type: ignore[index]
    limit = real.clock.ms + MAX_CLOCK_AHEAD_MS
    assert all(int(stamp[:13]) <= limit for stamp in held["field_hlc"].values())  # type: ignore[union-attr]
    later = _log(store, templates.student_ids[1], "after the correction")
    await engine.push()
    assert real.held(later) is not None
    store.close()


async def test_real_server_clock_a_day_behind_and_jumping_back(
    real: RealDistrict, templates: Templates
) -> None:
    behind = ManualClock(real.clock.ms - DAY_MS)
    store, engine = await real.device("behind", behind)
    record = _log(store, templates.student_ids[0], "a day behind")
    await engine.push()
    assert abs(engine.store.clock_offset_ms() - DAY_MS) < 2000
    behind.ms -= 3600 * 1000
    real.clock.advance(1)
    store.edit_incident(record, IncidentChanges(note="after a jump back"))
    await engine.push()
    held = real.held(record)
    assert held is not None
    assert held["fields"]["note"] == "after a jump back"  # type: ignore[index]
    store.close()


async def test_real_server_admin_correction_reaches_the_owner(
    real: RealDistrict, templates: Templates
) -> None:
    from district.clock import ServerClock
    from district.corrections import correct_record
    from district.devices import enroll, issue_code
    from district.scope import Device

    store, engine = await real.device("owner", ManualClock(real.clock.ms))
    record = _log(store, templates.student_ids[0], "original")
    await engine.push()
    issued = issue_code(
        real.engine, role="admin", school_id=SCHOOL, staff_id=None, ttl=timedelta(hours=1)
    )
    reply = enroll(
        real.engine, EnrollRequest(code=issued.code, device_id="admin-1"), datetime.now(UTC)
    )
    from district.devices import device_for_token

    with real.engine.connect() as connection:
        admin = device_for_token(connection, reply.token)
    assert isinstance(admin, Device)
    real.clock.advance(5)
    correct_record(
        real.engine,
        admin,
        record,
        {"location": "Hallway"},
        "wrong room",
        ServerClock("server", wall=real.clock),
    )
    await engine.pull()
    assert store.incident(record).location == "Hallway"
    store.close()
