"""Attack: every field of every syncable kind fuzzed with Hypothesis against a real server
(uvicorn on loopback). Whatever is pushed, the server never fails and never stores what a
device could not hold: every record it applied passes the record contract a device holds it
by, and a real device then pulls all of them without skipping one."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from serverkit import (
    SCHOOL_1,
    SECTION_1A,
    ServerProcess,
    follow_up_fields,
    incident_fields,
    make_code,
    tab_fields,
    world_roster,
)

from classlog.device_commands import import_roster as import_device_roster
from district.db import create_engine
from district.push import grid_behavior_codes
from schema.clock import Timestamp
from schema.contract import ContractError, check_fields
from schema.roster import read_roster
from schema.store import DeviceStore
from schema.sync_store import SyncStore
from schema.wire import FIELDS_BY_KIND
from syncd.client import SyncClient
from syncd.engine import SyncEngine

MAX_EXAMPLES = 150
HOSTILE_TEXT = (
    "NOPE<script>",
    "../../../../etc/passwd",
    "/usr/share/zoneinfo/UTC",
    "9999-12-31T23:59:59+00:00",
    "0001-01-01T00:00:00+00:00",
    "2026-13-45T25:61:00+00:00",
    "2026-09-14T10:00:00",
    "",
    " padded ",
    "\u202etxt.exe",
    '=HYPERLINK("x")',
    "x" * 5000,
    "dis-class",
)
PLAUSIBLE_TEXT = ("America/Chicago", "UTC", "DIS-CLASS", "redirect", "out", "student")


def _moments() -> st.SearchStrategy[str]:
    return st.datetimes(timezones=st.just(UTC)).map(lambda moment: moment.isoformat())


def _values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.just(1e308),
        st.sampled_from(HOSTILE_TEXT + PLAUSIBLE_TEXT),
        st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=20),
        _moments(),
    )
    return st.one_of(
        scalars,
        st.lists(st.sampled_from(("redirect", "iss", "removal", "nope", "")), max_size=4),
        st.dictionaries(st.sampled_from(("school_work", "x")), st.booleans(), max_size=2),
        st.lists(scalars, max_size=2),
    )


def _overrides(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(sorted(FIELDS_BY_KIND[kind])), _values(), max_size=4)


class Fuzz:
    """State shared by the examples: one server, one enrolled classroom device, and the ids of
    what it has pushed."""

    def __init__(self, client: httpx.Client, device_id: str, token: str, admin: str) -> None:
        self.client = client
        self.device_id = device_id
        self.headers = {"Authorization": f"Bearer {token}"}
        self.admin = {"Authorization": f"Bearer {admin}"}
        self.numbers = itertools.count(1)
        self.incidents: list[str] = []
        self.pushed: dict[str, str] = {}
        self.last = Timestamp(0, 0, device_id)

    def stamp(self) -> str:
        wall = int(datetime.now(UTC).timestamp() * 1000)
        self.last = (
            Timestamp(wall, 0, self.device_id)
            if wall > self.last.wall_ms
            else Timestamp(self.last.wall_ms, self.last.counter + 1, self.device_id)
        )
        return self.last.encode()

    def base(self, kind: str, student: str) -> dict[str, Any]:
        if kind == "incident":
            return incident_fields(student, self.device_id)
        if kind == "tab":
            return tab_fields(student, self.device_id)
        parent = self.incidents[-1] if self.incidents else "no-such-incident"
        return follow_up_fields(parent)


def _ops(fuzz: Fuzz, draws: list[tuple[str, str, bool, dict[str, Any]]]) -> list[dict[str, Any]]:
    ops = []
    for kind, student, update, overrides in draws:
        number = next(fuzz.numbers)
        existing = [record for record, of_kind in fuzz.pushed.items() if of_kind == kind]
        if update and existing:
            record_id, fields = existing[number % len(existing)], overrides
        else:
            record_id = f"fuzz-{kind}-{number}"
            fields = {**fuzz.base(kind, student), **overrides}
        ops.append(
            {
                "op_id": f"op-{number}",
                "seq": number,
                "kind": kind,
                "id": record_id,
                "op": "upsert",
                "fields": fields,
                "hlc": fuzz.stamp(),
            }
        )
    return ops


def _check_stored(fuzz: Fuzz, codes: frozenset[str], record_id: str, kind: str) -> None:
    response = fuzz.client.get(f"/v1/admin/records/{record_id}", headers=fuzz.admin)
    assert response.status_code == 200, response.text
    stored = response.json()["fields"]
    try:
        check_fields(kind, stored, create=True, behavior_codes=codes)
    except ContractError as error:
        pytest.fail(f"the server stored a {kind} no device can hold ({error}): {stored}")


async def _device_pull(url: str, token: str, home: Path, roster: Path) -> tuple[set[str], int]:
    """A real mobile device of school 1 pulls everything: the ids of the synced records it
    then holds, and how many changes it skipped."""
    store = DeviceStore.open(home)
    import_device_roster(store, read_roster(roster))
    store.set_config(staff_id="m1")
    store.close()
    sync = SyncEngine(SyncStore.open(home), SyncClient(url, token))
    try:
        report = await sync.pull()
        held = {
            row[0]
            for table in ("incidents", "tab_events", "follow_ups")
            for row in sync.store.connection.execute(f"SELECT id FROM {table}")
        }
    finally:
        await sync.client.aclose()
        sync.close()
        sync.store.close()
    return held, report.skipped


@pytest.mark.slow
def test_fuzzed_fields_never_store_what_a_device_cannot_hold(
    sqlite_url: str, tmp_path: Path
) -> None:
    engine = create_engine(sqlite_url)
    try:
        codes = {
            role: make_code(engine, role, SCHOOL_1, sections, staff)
            for role, sections, staff in (
                ("classroom", (SECTION_1A,), "t1"),
                ("mobile", (), "m1"),
                ("admin", (), None),
            )
        }
        with engine.connect() as connection:
            grid_codes = grid_behavior_codes(connection)
    finally:
        engine.dispose()
    with ServerProcess(sqlite_url) as server, httpx.Client(base_url=server.url) as client:
        tokens = {}
        for role, code in codes.items():
            enrolled = client.post(
                "/v1/devices/enroll", json={"code": code, "device_id": f"fuzz-{role}"}
            )
            assert enrolled.status_code == 200, enrolled.text
            tokens[role] = enrolled.json()["token"]
        fuzz = Fuzz(client, "fuzz-classroom", tokens["classroom"], tokens["admin"])
        draw = st.tuples(
            st.sampled_from(("incident", "tab", "follow_up")),
            st.sampled_from(("st1", "st2", "st4", "st7", "nobody")),
            st.booleans(),
        ).flatmap(lambda t: st.tuples(*map(st.just, t), _overrides(t[0])))

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(draws=st.lists(draw, min_size=1, max_size=3))
        def one_push(draws: list[tuple[str, str, bool, dict[str, Any]]]) -> None:
            ops = _ops(fuzz, draws)
            response = client.post(
                "/v1/sync/push",
                json={"device_id": fuzz.device_id, "ops": ops},
                headers=fuzz.headers,
            )
            assert response.status_code < 500, response.text
            if response.status_code != 200:
                return
            for op, result in zip(ops, response.json()["results"], strict=True):
                if result["status"] != "applied":
                    continue
                fuzz.pushed[op["id"]] = op["kind"]
                if op["kind"] == "incident":
                    fuzz.incidents.append(op["id"])
                _check_stored(fuzz, grid_codes, op["id"], op["kind"])

        one_push()
        kinds = set(fuzz.pushed.values())
        assert kinds == {"incident", "tab", "follow_up"}, f"only {kinds} were ever applied"
        held, skipped = asyncio.run(
            _device_pull(
                server.url,
                tokens["mobile"],
                tmp_path / "mobile",
                world_roster().write(tmp_path / "roster"),
            )
        )
    assert skipped == 0
    assert set(fuzz.pushed) <= held, "the device could not hold what the server applied"
