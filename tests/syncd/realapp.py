"""The real district app (``district.app.create_app``) in-process, through an httpx ASGI
transport wrapped in the fault transport, with injectable clocks on both sides; devices are
real device stores and sync engines on copies of the demo device home.

What the server holds is read through its API (an administrator's pull and record view, see
``tests/serverstate.py``), never through its tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from realworld import MOBILE_STAFF, SCHOOL, Templates, copy_database
from serverstate import ServerState, read_state, record_detail
from synckit import FaultTransport, ManualClock

from schema.store import DeviceStore
from schema.sync_store import SyncStore
from schema.wire import EnrollRequest
from syncd.client import SyncClient
from syncd.engine import SyncEngine


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
        self.admin_http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://district.test"
        )
        self.admin_token = self._enroll("admin", f"admin-{id(self)}", None)

    def _enroll(self, role: str, device_id: str, staff_id: str | None) -> str:
        from district.devices import enroll, issue_code

        issued = issue_code(
            self.engine, role=role, school_id=SCHOOL, staff_id=staff_id, ttl=timedelta(hours=1)
        )
        reply = enroll(
            self.engine,
            EnrollRequest(code=issued.code, device_id=device_id),
            datetime.now(UTC),
        )
        return reply.token

    async def device(
        self, name: str, wall: ManualClock, *, timezone: str | None = None
    ) -> tuple[DeviceStore, SyncEngine]:
        home = self.folder / name
        home.mkdir()
        copy_database(self.templates.device_home / "device.db", home / "device.db")
        store = DeviceStore.open(home, wall=wall)
        with store.connection:
            store.connection.execute("DELETE FROM meta WHERE key IN ('device_id', 'hlc')")
        store.close()
        store = DeviceStore.open(home, wall=wall)
        store.set_config(staff_id=MOBILE_STAFF)
        if timezone is not None:
            store.set_config(timezone=timezone)
        token = self._enroll("mobile", store.device_id, MOBILE_STAFF)
        transport = FaultTransport(httpx.ASGITransport(app=self.app))
        http = httpx.AsyncClient(transport=transport, base_url="http://district.test")
        client = SyncClient("http://district.test", token, http=http, wall=wall)
        engine = SyncEngine(SyncStore.open(home, wall=wall), client)
        self.engines.append(engine)
        return store, engine

    async def state(self) -> ServerState:
        """Every incident, TAB and follow-up of the school, as an administrator pulls them."""
        return await read_state(self.admin_http, self.admin_token)

    async def detail(self, record_id: str) -> dict[str, Any] | None:
        return await record_detail(self.admin_http, self.admin_token, record_id)

    async def held(self, record_id: str) -> dict[str, Any] | None:
        """A live record's fields and per-field clocks, or None."""
        detail = await self.detail(record_id)
        if detail is None:
            return None
        return {"fields": detail["fields"], "field_hlc": detail["field_hlc"]}

    async def close(self) -> None:
        for engine in self.engines:
            await engine.client._http.aclose()
            engine.close()
            engine.store.close()
        await self.admin_http.aclose()
        self.engine.dispose()
