"""Benchmark the district server and print a Markdown section (DESIGN section 9).

Measures, on SQLite and on PostgreSQL (a throwaway durable cluster on 127.0.0.1):

- the raw ingest ceiling: record rows per second written straight into the database through the
  same Core tables and write transactions the server uses, 500 rows a transaction;
- the same rows with the summaries' kept counts (``--only counted``): what a push writes for
  them, with none of its checks, so the ratios split a push's cost into the counts it must keep
  and its own checking;
- push throughput: ops per second a real `classlog server` (uvicorn) process applies from one
  device draining a backlog in 500-op pushes over HTTP on loopback, and its ratio to the raw
  ceiling measured in the same run;
- push applied in-process (``--only apply``): the same requests through ``apply_push`` with no
  HTTP and no server process, which splits the push's cost into its own work and the HTTP path;
- pull latency: p50/p95/p99 with N simulated devices polling every 30 s (arrivals at N/30 per
  second, spread evenly, concurrent), while one device keeps pushing, for a bounded time;
- roster import: seconds to import a OneRoster roster of 50,000 students.

Only 127.0.0.1 is ever contacted. `--quick` runs small sizes for a smoke test.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import dataclasses
import json
import os
import secrets
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from district import tables
from district.clock import ServerClock
from district.db import (
    WriteTx,
    create_engine,
    current_cursor,
    migrate,
    read_transaction,
    write_transaction,
)
from district.devices import enroll, get_device, issue_code, secret_hash
from district.pgcluster import Cluster, ClusterUnavailable, start_cluster
from district.push import apply_push
from district.records import Record, stored_columns
from district.roster_import import import_roster
from district.summaries import rollup
from schema.clock import Timestamp
from schema.wire import EnrollRequest, PushRequest

ROOT = Path(__file__).resolve().parent.parent
PUSH_BATCH = 500
POLL_SECONDS = 30.0
WARMUP_SECONDS = 2.0


@dataclass(frozen=True)
class Sizes:
    ops: int
    students: int
    devices: int
    pull_seconds: float


FULL = Sizes(ops=50_000, students=50_000, devices=5_000, pull_seconds=30.0)
QUICK = Sizes(ops=5_000, students=5_000, devices=500, pull_seconds=5.0)


@dataclass
class Figures:
    raw_rows_per_s: float = 0.0
    counted_rows_per_s: float = 0.0
    push_ops_per_s: float = 0.0
    apply_ops_per_s: float = 0.0
    pull_ms: tuple[float, float, float] = (0.0, 0.0, 0.0)
    pull_rate: float = 0.0
    pull_requests: int = 0
    pull_errors: int = 0
    import_seconds: float = 0.0


def log(message: str) -> None:
    print(f"bench_server: {message}", file=sys.stderr, flush=True)


def write_roster(folder: Path, students: int, per_section: int = 25) -> Path:
    """A OneRoster 1.1 roster of one school with ``students`` students and demographics."""
    folder.mkdir(parents=True, exist_ok=True)
    school = "bench-school"
    sections = (students + per_section - 1) // per_section
    files: dict[str, tuple[list[str], list[list[str]]]] = {
        "manifest.csv": (["propertyName", "value"], [["oneroster.version", "1.1"]]),
        "orgs.csv": (
            ["sourcedId", "status", "name", "type", "parentSourcedId"],
            [["bench-district", "active", "District", "district", ""],
             [school, "active", "Bench School", "school", "bench-district"]],
        ),
        "academicSessions.csv": (
            ["sourcedId", "status", "title", "type", "startDate", "endDate", "schoolYear"],
            [["year", "active", "2026-2027", "schoolYear", "2026-08-24", "2027-06-30", "2027"]],
        ),
        "courses.csv": (
            ["sourcedId", "status", "title", "orgSourcedId"],
            [["course", "active", "Homeroom", school]],
        ),
        "classes.csv": (
            ["sourcedId", "status", "title", "courseSourcedId", "schoolSourcedId",
             "termSourcedIds", "classType", "periods"],
            [[f"sec-{n}", "active", f"Class {n}", "course", school, "year", "scheduled", "1"]
             for n in range(sections)],
        ),
        "users.csv": (
            ["sourcedId", "status", "enabledUser", "orgSourcedIds", "role", "givenName",
             "familyName", "grades", "metadata.iep"],
            [[f"t{n}", "active", "true", school, "teacher", f"T{n}", "Teacher", "", ""]
             for n in range(sections)]
            + [[f"s{n}", "active", "true", school, "student", f"S{n}", "Student",
                f"{6 + n % 3:02d}", "true" if n % 7 == 0 else "false"]
               for n in range(students)],
        ),
        "enrollments.csv": (
            ["sourcedId", "status", "classSourcedId", "schoolSourcedId", "userSourcedId", "role"],
            [[f"e-t{n}", "active", f"sec-{n}", school, f"t{n}", "teacher"]
             for n in range(sections)]
            + [[f"e-s{n}", "active", f"sec-{n // per_section}", school, f"s{n}", "student"]
               for n in range(students)],
        ),
        "demographics.csv": (
            ["sourcedId", "status", "birthDate", "sex", "white", "hispanicOrLatinoEthnicity"],
            [[f"s{n}", "active", "2013-04-01", "female" if n % 2 else "male", "true", "false"]
             for n in range(students)],
        ),
    }  # fmt: skip
    for name, (header, rows) in files.items():
        with open(folder / name, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
    return folder


def incident_fields(student: str, device_id: str) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    return {
        "student_id": student, "staff_id": "t0", "device_id": device_id,
        "behavior_code": "DIS-CLASS", "level": 2, "actions": ["redirect", "support_staff"],
        "occurred_at": now, "tz": "America/Chicago", "location": "Classroom",
        "motivation": "Obtain peer attention", "others_involved": "Peers",
        "note": "Left seat repeatedly during independent work.", "created_at": now,
        "updated_at": now, "advised_level": 2, "progression_bypassed": False,
    }  # fmt: skip


class Databases:
    """Fresh databases on demand: SQLite files in a temporary folder, or PostgreSQL databases
    in one durable throwaway cluster."""

    def __init__(self, backend: str, folder: Path, cluster: Cluster | None) -> None:
        self.backend = backend
        self.folder = folder
        self.cluster = cluster
        self.count = 0

    def fresh(self) -> str:
        self.count += 1
        if self.backend == "sqlite":
            return f"sqlite:///{self.folder / f'bench-{self.count}.db'}"
        assert self.cluster is not None
        name = f"bench_{self.count}"
        admin = sa.create_engine(self.cluster.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
        admin.dispose()
        return self.cluster.url(name)


def prepared(url: str, roster: Path) -> sa.Engine:
    engine = create_engine(url)
    migrate(engine)
    import_roster(engine, roster)
    return engine


def enrolled_device(engine: sa.Engine, role: str, device_id: str) -> str:
    issued = issue_code(engine, role=role, school_id="bench-school", ttl=timedelta(hours=1))
    request = EnrollRequest(code=issued.code, device_id=device_id)
    return enroll(engine, request, datetime.now(UTC)).token


def write_raw(
    tx: WriteTx, device_id: str, batch: list[tuple[Record, str]], now: datetime, counted: bool
) -> None:
    """One transaction of raw ingest: each (record, its op id) as the record's typed row and its
    applied-op row, through the server's Core tables; with ``counted``, the summaries' kept
    counts too (``district.summaries.rollup``), as a push adds them: what a push writes, with
    none of its checks."""
    written = [
        (record.kind, {"id": record.id, **stored_columns(record), "stored_at": now,
                       "changed_at": now})
        for record, _ in batch
    ]  # fmt: skip
    if counted:
        rollup.record_changes(tx.connection, [(kind, None, row) for kind, row in written])
    for kind in dict.fromkeys(kind for kind, _ in written):
        rows = [row for written_kind, row in written if written_kind == kind]
        tx.connection.execute(sa.insert(tables.RECORD_TABLES[kind]), rows)
    applied = [
        {"device_id": device_id, "op_id": op_id, "status": "applied", "applied_at": now}
        for _, op_id in batch
    ]
    tx.connection.execute(sa.insert(tables.applied_ops), applied)


def measure_raw_ingest(url: str, roster: Path, rows: int, counted: bool = False) -> float:
    """Record rows per second inserted through the server's tables and write transactions
    (``write_raw``), with the summaries' kept counts when ``counted``."""
    engine = prepared(url, roster)
    try:
        enrolled_device(engine, "mobile", "raw-device")
        now = datetime.now(UTC)
        wall = int(now.timestamp() * 1000)
        started = time.perf_counter()
        for start in range(0, rows, PUSH_BATCH):
            with write_transaction(engine) as tx:
                batch = []
                for number in range(start, min(rows, start + PUSH_BATCH)):
                    fields = incident_fields(f"s{number % 1000}", "raw-device")
                    hlc = Timestamp(wall, number, "raw-device").encode()
                    record = Record(
                        id=f"raw-{number}", kind="incident", owner_device_id="raw-device",
                        school_id="bench-school", student_id=fields["student_id"],
                        parent_id=None, level=2, fields=fields,
                        field_hlc=dict.fromkeys(fields, hlc), tombstone=False,
                        tombstone_hlc=None, cursor=tx.next_cursor(), student_grade="07",
                    )  # fmt: skip
                    batch.append((record, f"raw-op-{number}"))
                write_raw(tx, "raw-device", batch, now, counted)
        return rows / (time.perf_counter() - started)
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server_process(url: str) -> Iterator[str]:
    """A real `classlog server` on 127.0.0.1; yields its base URL."""
    port = free_port()
    command = [
        sys.executable, "-m", "district", "server", "--db", url, "--host", "127.0.0.1",
        "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError("the server process exited during start-up")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start within 60 s")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def push_bodies(device_id: str, ops: int, students: int) -> list[bytes]:
    wall = int(time.time() * 1000)
    bodies = []
    for start in range(0, ops, PUSH_BATCH):
        batch = [
            {
                "op_id": f"{device_id}-op-{number}",
                "seq": number + 1,
                "kind": "incident",
                "id": f"{device_id}-inc-{number}",
                "op": "upsert",
                "fields": incident_fields(f"s{number % students}", device_id),
                "hlc": Timestamp(wall, number, device_id).encode(),
            }
            for number in range(start, min(ops, start + PUSH_BATCH))
        ]
        bodies.append(json.dumps({"device_id": device_id, "ops": batch}).encode())
    return bodies


def measure_push(url: str, roster: Path, ops: int, students: int) -> float:
    """Ops per second applied by a real server process from one device's backlog."""
    engine = prepared(url, roster)
    try:
        token = enrolled_device(engine, "mobile", "push-device")
    finally:
        engine.dispose()
    bodies = push_bodies("push-device", ops, min(students, 1000))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with server_process(url) as base, httpx.Client(base_url=base, timeout=120) as client:
        started = time.perf_counter()
        for body in bodies:
            response = client.post("/v1/sync/push", content=body, headers=headers)
            response.raise_for_status()
            statuses = {result["status"] for result in response.json()["results"]}
            if statuses != {"applied"}:
                raise RuntimeError(f"push answered {statuses}")
        return ops / (time.perf_counter() - started)


def measure_apply(url: str, roster: Path, ops: int, students: int) -> float:
    """Ops per second ``apply_push`` applies in this process from the same requests."""
    engine = prepared(url, roster)
    try:
        enrolled_device(engine, "mobile", "push-device")
        with read_transaction(engine) as connection:
            device = get_device(connection, "push-device")
        assert device is not None
        requests = [
            PushRequest.model_validate_json(body)
            for body in push_bodies("push-device", ops, min(students, 1000))
        ]
        clock = ServerClock("bench")
        started = time.perf_counter()
        for request in requests:
            statuses = {
                result.status.value for result in apply_push(engine, device, request, clock).results
            }
            if statuses != {"applied"}:
                raise RuntimeError(f"push answered {statuses}")
        return ops / (time.perf_counter() - started)
    finally:
        engine.dispose()


def add_devices(engine: sa.Engine, count: int, sections: int) -> list[tuple[str, str]]:
    """``count`` enrolled devices (90 % classroom, 8 % mobile, 2 % admin), inserted directly:
    enrollment is not what is measured. Returns (device id, token) pairs."""
    now = datetime.now(UTC)
    devices: list[tuple[str, str]] = []
    rows = []
    for number in range(count):
        token = secrets.token_urlsafe(32)
        share = number % 50
        role = "admin" if share == 0 else "mobile" if share <= 4 else "classroom"
        device_id = f"poller-{number}"
        rows.append({
            "id": device_id, "name": device_id, "role": role, "school_id": "bench-school",
            "district_scope": False, "staff_id": None,
            "section_ids": [f"sec-{number % sections}"] if role == "classroom" else [],
            "token_hash": secret_hash(token), "created_at": now, "revoked_at": None,
            "last_seen_at": None,
        })  # fmt: skip
        devices.append((device_id, token))
    with write_transaction(engine) as tx:
        for start in range(0, len(rows), 1000):
            tx.connection.execute(sa.insert(tables.devices), rows[start : start + 1000])
    return devices


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


class LightClient:
    """A minimal keep-alive HTTP/1.1 GET client on asyncio streams. The load generator shares
    two cores with the server, so it must cost far less per request than a general client;
    each request takes an idle connection or opens one, so nothing queues in the client."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def get(self, target: str, token: str) -> tuple[int, bytes]:
        """One request; a kept-alive connection the server has closed meanwhile is replaced
        by a new one, once."""
        if self.idle:
            connection = self.idle.pop()
            try:
                return await self._request(connection, target, token)
            except (OSError, asyncio.IncompleteReadError):
                connection[1].close()
        connection = await asyncio.open_connection("127.0.0.1", self.port)
        return await self._request(connection, target, token)

    async def _request(
        self,
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        target: str,
        token: str,
    ) -> tuple[int, bytes]:
        reader, writer = connection
        writer.write(
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\n\r\n".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await reader.readexactly(length)
        self.idle.append(connection)
        return status, body

    async def close(self) -> None:
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()


async def poll_load(
    base: str,
    devices: list[tuple[str, str]],
    start_cursor: int,
    seconds: float,
    writer: Callable[[httpx.AsyncClient], Any],
) -> tuple[list[float], int, int]:
    """Arrivals at len(devices)/30 per second, each a pull by the next device in turn."""
    rate = len(devices) / POLL_SECONDS
    cursors = dict.fromkeys((device_id for device_id, _ in devices), start_cursor)
    latencies: list[float] = []
    errors = 0
    sent = 0
    light = LightClient(int(base.rsplit(":", 1)[1]))

    async def one(device_id: str, token: str, measured: bool) -> None:
        nonlocal errors
        target = f"/v1/sync/pull?cursor={cursors[device_id]}&limit=500"
        began = time.perf_counter()
        try:
            status, body = await light.get(target, token)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors += 1
            return
        elapsed = time.perf_counter() - began
        if status != 200:
            errors += 1
            return
        cursors[device_id] = json.loads(body)["cursor"]
        if measured:
            latencies.append(elapsed * 1000)

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        writing = asyncio.create_task(writer(client))
        tasks = []
        started = time.perf_counter()
        total = WARMUP_SECONDS + seconds
        while True:
            due = started + sent / rate
            now = time.perf_counter()
            if due - started >= total:
                break
            if due > now:
                await asyncio.sleep(due - now)
            device_id, token = devices[sent % len(devices)]
            measured = (due - started) >= WARMUP_SECONDS
            tasks.append(asyncio.create_task(one(device_id, token, measured)))
            sent += 1
        await asyncio.gather(*tasks)
        writing.cancel()
        with suppress(asyncio.CancelledError):
            await writing
    await light.close()
    return latencies, sent, errors


def measure_pull(url: str, roster: Path, device_count: int, seconds: float) -> Figures:
    engine = prepared(url, roster)
    try:
        with engine.connect() as connection:
            sections = int(
                connection.execute(
                    sa.select(sa.func.count()).select_from(tables.sections)
                ).scalar_one()
            )
            start_cursor = current_cursor(connection)
        devices = add_devices(engine, device_count, sections)
        writer_token = enrolled_device(engine, "mobile", "live-writer")
    finally:
        engine.dispose()

    async def keep_pushing(client: httpx.AsyncClient) -> None:
        """One device logging about two Level 2 records a second during the run."""
        number = 0
        while True:
            body = {
                "device_id": "live-writer",
                "ops": [
                    {
                        "op_id": f"live-{number}",
                        "seq": number + 1,
                        "kind": "incident",
                        "id": f"live-inc-{number}",
                        "op": "upsert",
                        "fields": incident_fields(f"s{(number * 37) % 1000}", "live-writer"),
                        "hlc": Timestamp(int(time.time() * 1000), 0, "live-writer").encode(),
                    }
                ],
            }
            await client.post(
                "/v1/sync/push", json=body, headers={"Authorization": f"Bearer {writer_token}"}
            )
            number += 1
            await asyncio.sleep(0.5)

    with server_process(url) as base:
        latencies, sent, errors = asyncio.run(
            poll_load(base, devices, start_cursor, seconds, keep_pushing)
        )
    figures = Figures()
    figures.pull_ms = (
        statistics.median(latencies) if latencies else 0.0,
        percentile(latencies, 0.95),
        percentile(latencies, 0.99),
    )
    figures.pull_requests = len(latencies)
    figures.pull_rate = sent / (WARMUP_SECONDS + seconds)
    figures.pull_errors = errors
    return figures


def measure_import(url: str, roster: Path) -> float:
    engine = create_engine(url)
    try:
        migrate(engine)
        started = time.perf_counter()
        import_roster(engine, roster)
        return time.perf_counter() - started
    finally:
        engine.dispose()


MEASURES = ("raw", "counted", "push", "apply", "pull", "import")


def run_backend(
    backend: str, databases: Databases, sizes: Sizes, rosters: dict[str, Path], measures: set[str]
) -> Figures:
    figures = Figures()
    if "raw" in measures:
        log(f"{backend}: raw ingest of {sizes.ops:,} rows")
        figures.raw_rows_per_s = measure_raw_ingest(databases.fresh(), rosters["small"], sizes.ops)
    if "counted" in measures:
        log(f"{backend}: raw ingest of {sizes.ops:,} rows with the summaries' counts")
        figures.counted_rows_per_s = measure_raw_ingest(
            databases.fresh(), rosters["small"], sizes.ops, counted=True
        )
    if "push" in measures:
        log(f"{backend}: push of {sizes.ops:,} ops over HTTP")
        figures.push_ops_per_s = measure_push(databases.fresh(), rosters["small"], sizes.ops, 1000)
    if "apply" in measures:
        log(f"{backend}: the same {sizes.ops:,} ops applied in-process")
        figures.apply_ops_per_s = measure_apply(
            databases.fresh(), rosters["small"], sizes.ops, 1000
        )
    if "pull" in measures:
        log(f"{backend}: pull load, {sizes.devices:,} devices for {sizes.pull_seconds:.0f} s")
        pulled = measure_pull(databases.fresh(), rosters["pull"], sizes.devices, sizes.pull_seconds)
        figures.pull_ms = pulled.pull_ms
        figures.pull_rate = pulled.pull_rate
        figures.pull_requests = pulled.pull_requests
        figures.pull_errors = pulled.pull_errors
    if "import" in measures:
        log(f"{backend}: import of {sizes.students:,} students")
        figures.import_seconds = measure_import(databases.fresh(), rosters["large"])
    return figures


def report(
    command: str,
    sizes: Sizes,
    results: dict[str, Figures],
    skipped: str | None,
    measures: set[str],
) -> str:
    names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
    backends = list(results)
    head = "| measure | " + " | ".join(names[b] for b in backends) + " | budget |"
    rule = "|---|" + "---|" * len(backends) + "---|"

    def row(label: str, cell: Callable[[Figures], str], budget: str = "") -> str:
        return f"| {label} | " + " | ".join(cell(results[b]) for b in backends) + f" | {budget} |"

    rate = sizes.devices / POLL_SECONDS
    table: list[tuple[set[str], str, Callable[[Figures], str], str]] = [
        ({"raw"}, "raw ingest ceiling, record rows/s (Core inserts, 500 a transaction)",
         lambda f: f"{f.raw_rows_per_s:,.0f}", ""),
        ({"counted"},
         "the same rows with the summaries' kept counts, rows/s (what a push writes)",
         lambda f: f"{f.counted_rows_per_s:,.0f}", ""),
        ({"raw", "counted"}, "writes with counts / raw ingest (the best a push could do)",
         lambda f: f"{f.counted_rows_per_s / f.raw_rows_per_s:.0%}", ""),
        ({"push"}, f"push over HTTP to uvicorn on loopback, ops/s ({sizes.ops:,} ops, 500 a push)",
         lambda f: f"{f.push_ops_per_s:,.0f}", ""),
        ({"raw", "push"}, "push / raw ingest",
         lambda f: f"{f.push_ops_per_s / f.raw_rows_per_s:.0%}", ">= 60 %"),
        ({"counted", "push"}, "push / writes with counts (the push's checks and HTTP)",
         lambda f: f"{f.push_ops_per_s / f.counted_rows_per_s:.0%}", ""),
        ({"apply"}, "the same ops through `apply_push` in-process (no HTTP), ops/s",
         lambda f: f"{f.apply_ops_per_s:,.0f}", ""),
        ({"raw", "apply"}, "in-process push / raw ingest",
         lambda f: f"{f.apply_ops_per_s / f.raw_rows_per_s:.0%}", ""),
        ({"push", "apply"}, "push over HTTP / in-process push",
         lambda f: f"{f.push_ops_per_s / f.apply_ops_per_s:.0%}", ""),
        ({"pull"}, f"pull latency p50 / p95 / p99, ms ({sizes.devices:,} devices every 30 s"
         f" = {rate:.0f} req/s, {sizes.pull_seconds:.0f} s)",
         lambda f: " / ".join(f"{value:.1f}" for value in f.pull_ms), "p99 <= 100 ms"),
        ({"pull"}, "pull requests measured (achieved req/s, errors)",
         lambda f: f"{f.pull_requests:,} ({f.pull_rate:.0f}/s, {f.pull_errors})", ""),
        ({"import"}, f"roster import, {sizes.students:,} students with demographics, s",
         lambda f: f"{f.import_seconds:.1f}", ""),
    ]  # fmt: skip
    lines = ["## District server", "", f"Command: `{command}`", "", head, rule]
    lines += [row(label, cell, budget) for needs, label, cell, budget in table if needs <= measures]
    if skipped:
        lines += ["", f"PostgreSQL not measured: {skipped}."]
    lines += [
        "",
        "Server and load generator share the machine; PostgreSQL runs with fsync on, SQLite"
        " with `synchronous=FULL`. Pull load: one device logs about two records a second"
        " meanwhile; devices start at the current cursor (steady state).",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument(
        "--ops", type=int, help="ops for raw, push and apply (default 50,000; 5,000 with --quick)"
    )
    parser.add_argument(
        "--backends", default="sqlite,postgres", help="comma-separated: sqlite,postgres"
    )
    parser.add_argument(
        "--only",
        default=",".join(MEASURES),
        help=f"comma-separated measures to run (default all: {','.join(MEASURES)})",
    )
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    if args.ops is not None:
        if args.ops < PUSH_BATCH:
            parser.error(f"--ops must be at least {PUSH_BATCH}")
        sizes = dataclasses.replace(sizes, ops=args.ops)
    wanted = [name.strip() for name in args.backends.split(",") if name.strip()]
    measures = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = measures - set(MEASURES)
    if unknown:
        parser.error(f"unknown measures: {', '.join(sorted(unknown))}")
    command = "python scripts/bench_server.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    results: dict[str, Figures] = {}
    skipped: str | None = None
    with tempfile.TemporaryDirectory(prefix="classlog-bench-") as temporary:
        folder = Path(temporary)
        log("writing rosters")
        rosters = {
            "small": write_roster(folder / "small", 1000),
            "pull": write_roster(folder / "pull", max(1000, sizes.devices)),
            "large": write_roster(folder / "large", sizes.students),
        }
        for backend in wanted:
            cluster: Cluster | None = None
            if backend == "postgres":
                try:
                    cluster = start_cluster(durable=True)
                except ClusterUnavailable as error:
                    skipped = str(error)
                    log(f"postgres skipped: {error}")
                    continue
            try:
                databases = Databases(backend, folder, cluster)
                results[backend] = run_backend(backend, databases, sizes, rosters, measures)
            finally:
                if cluster is not None:
                    cluster.stop()
    if not results:
        log("nothing measured")
        return 1
    sys.stdout.write(report(command.strip(), sizes, results, skipped, measures))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
