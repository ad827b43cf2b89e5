"""Benchmark the sync daemon against DESIGN section 9 and print a Markdown section.

* Backlog drain: a device back from two weeks offline with a 50,000-op outbox; the real
  `classlog sync` daemon drains it over HTTP to a real `classlog server` (SQLite, 127.0.0.1).
  Its rate is compared with the server's raw ingest ceiling measured in the same run, as
  ``bench_server.py`` measures it: the backlog's record rows and applied-op rows inserted
  through the server's Core tables, 500 a transaction, with no checks, on a copy of the same
  database. Budget: at least 60 %. Beside it, on copies too: the same rows with the summaries'
  kept counts (what a push must write), and the same ops applied by the server's push code
  (``district.push.apply_push``) in-process, no HTTP.
* Peak memory of the daemon process while draining (``VmHWM``, its peak resident set).
* Online freshness: a record committed on the device until it is visible in the server's
  database, with the daemon running and idle (long-polling). Budget: p95 at most 1 s.
* The peer: PouchDB 9 (pouchdb-node, LevelDB on disk) replicating the same backlog, one
  document per queued op with the op's fields, to pouchdb-server 4 (LevelDB on disk) on
  loopback, 500 documents a batch. Both are installed by this benchmark with npm into a scratch
  folder (never by the product; skipped with a note when node or npm is missing). Budget: the
  daemon's drain at least 5 x PouchDB's.

Usage: python scripts/bench_sync.py [--quick] [--ops N] [--samples N] [--no-peer]
Loopback only; every process it starts is stopped before it exits.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from classlog.demo_roster import write_demo_roster

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from schema.clock import Timestamp  # noqa: E402
from schema.ids import new_id  # noqa: E402
from schema.models import IncidentDraft  # noqa: E402
from schema.store import DeviceStore  # noqa: E402

SCHOOL = "school-lincoln"
STAFF = "staff-mobile-1"
OPS_PER_INCIDENT = 3


def classlog(*args: str) -> list[str]:
    return [sys.executable, "-m", "classlog", *args]


def run(*args: str) -> str:
    done = subprocess.run(
        classlog(*args), capture_output=True, text=True, check=False, cwd=ROOT, timeout=300
    )
    if done.returncode != 0:
        raise SystemExit(f"classlog {' '.join(args)} failed: {done.stdout}{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(predicate: Any, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def seed_backlog(home: Path, student_ids: list[str], ops: int, days: int = 14) -> int:
    """Fill a device's outbox as two weeks of offline logging would: Level 2 incidents, each with
    its two follow-ups, spread over ``days``. One incident goes through the store; the rest are
    copies of its rows (new ids, times and clocks) written in one transaction, because the store
    writes one record per transaction and 50,000 of those would make the set-up the benchmark.
    Returns the number of ops queued."""
    store = DeviceStore.open(home)
    try:
        model = store.log_incident(
            IncidentDraft(student_id=student_ids[0], behavior_code="DIS-CLASS", level=2)
        )
        connection = store.connection
        incident = dict(
            connection.execute("SELECT * FROM incidents WHERE id = ?", (model.id,)).fetchone()
        )
        follow_ups = [
            dict(row)
            for row in connection.execute(
                "SELECT * FROM follow_ups WHERE incident_id = ?", (model.id,)
            )
        ]
        outbox = {
            row["entity_id"]: dict(row)
            for row in connection.execute("SELECT * FROM outbox ORDER BY seq")
        }
        device_id = store.device_id
        start = datetime.now(UTC) - timedelta(days=days)
        wall0 = int(start.timestamp() * 1000)
        count = max(1, ops // OPS_PER_INCIDENT) - 1
        incidents, children, queued = [], [], []
        for index in range(count):
            moment = start + timedelta(seconds=index * days * 86400 / max(count, 1))
            text = moment.isoformat(timespec="milliseconds")
            incident_id = new_id()
            stamp = Timestamp(wall0 + index * 10, 0, device_id).encode()
            row = {
                **incident,
                "id": incident_id,
                "student_id": student_ids[index % len(student_ids)],
                "occurred_at": text,
                "created_at": text,
                "updated_at": text,
                "hlc": stamp,
            }
            incidents.append(row)
            fields = json.loads(outbox[model.id]["fields"])
            fields.update(
                student_id=row["student_id"], occurred_at=text, created_at=text, updated_at=text
            )
            queued.append((new_id(), "incident", incident_id, json.dumps(fields), stamp, text))
            for order, child in enumerate(follow_ups, start=1):
                child_id = new_id()
                child_stamp = Timestamp(wall0 + index * 10 + order, 0, device_id).encode()
                children.append(
                    {
                        **child,
                        "id": child_id,
                        "incident_id": incident_id,
                        "created_at": text,
                        "hlc": child_stamp,
                    }
                )
                child_fields = json.loads(outbox[child["id"]]["fields"])
                child_fields.update(incident_id=incident_id, created_at=text)
                queued.append(
                    (new_id(), "follow_up", child_id, json.dumps(child_fields), child_stamp, text)
                )
        connection.execute("BEGIN IMMEDIATE")
        _insert(connection, "incidents", incidents)
        _insert(connection, "follow_ups", children)
        connection.executemany(
            "INSERT INTO outbox (op_id, kind, entity_id, op, fields, hlc, created_at) "
            "VALUES (?, ?, ?, 'upsert', ?, ?, ?)",
            queued,
        )
        connection.execute("COMMIT")
        total: int = connection.execute("SELECT count(*) FROM outbox").fetchone()[0]
        return total
    finally:
        store.close()


def _insert(connection: sqlite3.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    names = list(rows[0])
    connection.executemany(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
        [tuple(row[name] for name in names) for row in rows],
    )


class Setup:
    """A district database with the demo roster, and a device home enrolled against a server."""

    def __init__(self, folder: Path, students: int) -> None:
        self.folder = folder
        roster = folder / "roster"
        write_demo_roster(roster, students=students)
        self.db = folder / "district.db"
        self.db_url = f"sqlite:///{self.db}"
        run("district", "import-roster", str(roster), "--db", self.db_url)
        self.roster = roster
        self.port = free_port()
        self.server: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_server(self) -> None:
        log = (self.folder / "server.log").open("ab")
        self.server = subprocess.Popen(
            classlog(
                "server",
                "--db",
                self.db_url,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={
                **os.environ,
                "CLASSLOG_DISTRICT_RATE_LIMIT_PER_MINUTE": "100000",
                "CLASSLOG_DISTRICT_RATE_LIMIT_BURST": "10000",
            },
        )
        log.close()
        import httpx

        def healthy() -> bool:
            try:
                return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        if not wait_until(healthy, 30):
            raise SystemExit("the server did not start")

    def stop_server(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(self.server.pid, signal.SIGKILL)
                self.server.wait()
        self.server = None

    def device(self, name: str) -> tuple[Path, list[str]]:
        home = self.folder / name
        run("roster", "import", str(self.roster), "--home", str(home), "--staff", STAFF)
        code = run(
            "district",
            "enroll-code",
            "--school",
            SCHOOL,
            "--role",
            "mobile",
            "--staff",
            STAFF,
            "--db",
            self.db_url,
        ).split()[0]
        run("enroll", self.url, code, "--home", str(home))
        with sqlite3.connect(home / "device.db") as connection:
            students = [r[0] for r in connection.execute("SELECT sourced_id FROM students")]
        return home, students


def pending(home: Path) -> int:
    with sqlite3.connect(home / "device.db", timeout=30) as connection:
        count: int = connection.execute("SELECT count(*) FROM outbox").fetchone()[0]
        return count


def peak_rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure_drain(setup: Setup, home: Path, ops: int) -> dict[str, float]:
    log = (setup.folder / "drain.log").open("ab")
    started = time.monotonic()
    daemon = subprocess.Popen(
        classlog("sync", "--home", str(home)), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
    )
    log.close()
    peak = 0
    try:
        if not wait_until(lambda: _attempted(home), 60, step=0.01):
            raise SystemExit("the daemon never attempted a sync")
        first_attempt = time.monotonic()
        while pending(home) > 0:
            peak = max(peak, peak_rss_kib(daemon.pid))
            if daemon.poll() is not None:
                raise SystemExit(f"the daemon exited early ({daemon.returncode})")
            if time.monotonic() - started > 900:
                raise SystemExit("the drain took more than 15 minutes")
            time.sleep(0.05)
        finished = time.monotonic()
        peak = max(peak, peak_rss_kib(daemon.pid))
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            os.kill(daemon.pid, signal.SIGKILL)
            daemon.wait()
    elapsed = finished - first_attempt
    return {
        "seconds": elapsed,
        "rate": ops / elapsed,
        "with_start_seconds": finished - started,
        "peak_kib": peak,
    }


def _attempted(home: Path) -> bool:
    with sqlite3.connect(home / "device.db", timeout=30) as connection:
        row = connection.execute("SELECT last_attempt_at FROM sync_state").fetchone()
        return row is not None and row[0] is not None


def _push_bodies(home: Path) -> tuple[str, list[str]]:
    from schema.wire import PushOp, PushRequest

    with sqlite3.connect(home / "device.db") as connection:
        device_id = connection.execute("SELECT value FROM meta WHERE key = 'device_id'").fetchone()[
            0
        ]
        rows = connection.execute(
            "SELECT seq, op_id, kind, entity_id, op, fields, hlc FROM outbox ORDER BY seq"
        ).fetchall()
    ops = [
        PushOp(op_id=r[1], seq=r[0], kind=r[2], id=r[3], op=r[4], fields=json.loads(r[5]), hlc=r[6])
        for r in rows
    ]
    bodies = [
        PushRequest(device_id=device_id, ops=ops[start : start + 500]).model_dump_json()
        for start in range(0, len(ops), 500)
    ]
    return device_id, bodies


def measure_plain_client(setup: Setup, home: Path, ops: int) -> dict[str, float]:
    """The same ops, serialized beforehand, posted one request at a time by a bare HTTP client
    to a second server process on a copy of the database: what the server's HTTP path allows
    with no device-side work at all."""
    import httpx

    shadow = Setup.__new__(Setup)
    shadow.folder = setup.folder / "plain"
    shadow.folder.mkdir()
    shadow.db = shadow.folder / "district.db"
    shadow.db_url = f"sqlite:///{shadow.db}"
    shadow.port = free_port()
    shadow.server = None
    with sqlite3.connect(setup.db) as source, sqlite3.connect(shadow.db) as target:
        source.backup(target)
    token = (home / "sync-token").read_text(encoding="ascii").strip()
    _device_id, bodies = _push_bodies(home)
    shadow.start_server()
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with httpx.Client(base_url=shadow.url, timeout=60) as client:
            started = time.monotonic()
            for body in bodies:
                response = client.post("/v1/sync/push", content=body, headers=headers)
                if response.status_code != 200:
                    raise SystemExit(f"plain client: {response.status_code} {response.text}")
            elapsed = time.monotonic() - started
    finally:
        shadow.stop_server()
    return {"seconds": elapsed, "rate": ops / elapsed}


def measure_raw(setup: Setup, home: Path, ops: int, counted: bool) -> dict[str, float]:
    """The server's raw ingest ceiling for the same backlog, as ``bench_server.py`` measures it:
    each op's record row and applied-op row inserted through the server's Core tables, 500 a
    transaction, on a copy of its database, with no checks. ``counted`` also adds each row to
    the summaries' kept counts in the same transaction, as a push must."""
    from bench_server import write_raw

    from district.db import create_engine, write_transaction
    from district.records import Record
    from schema.wire import PushRequest

    copy = setup.folder / f"raw-{'counted' if counted else 'bare'}.db"
    with sqlite3.connect(setup.db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    engine = create_engine(f"sqlite:///{copy}")
    device_id, bodies = _push_bodies(home)
    batches = [PushRequest.model_validate_json(body).ops for body in bodies]
    students: dict[str, str | None] = {}
    now = datetime.now(UTC)
    started = time.monotonic()
    for ops_of_batch in batches:
        with write_transaction(engine) as tx:
            batch: list[tuple[Record, str]] = []
            for op in ops_of_batch:
                parent = op.fields.get("incident_id") if op.kind != "incident" else None
                student = op.fields.get("student_id") or students.get(str(parent))
                students[op.id] = None if student is None else str(student)
                record = Record(
                    id=op.id, kind=op.kind, owner_device_id=device_id, school_id=SCHOOL,
                    student_id=students[op.id], parent_id=None if parent is None else str(parent),
                    level=2 if op.kind == "incident" else None, fields=dict(op.fields),
                    field_hlc=dict.fromkeys(op.fields, op.hlc), tombstone=False,
                    tombstone_hlc=None, cursor=tx.next_cursor(),
                )  # fmt: skip
                batch.append((record, op.op_id))
            write_raw(tx, device_id, batch, now, counted)
    elapsed = time.monotonic() - started
    engine.dispose()
    return {"seconds": elapsed, "rate": ops / elapsed}


def measure_ceiling(setup: Setup, home: Path, ops: int) -> dict[str, float]:
    """The same ops applied by the server's push code directly on a copy of its database."""
    from district.clock import ServerClock
    from district.db import create_engine
    from district.devices import device_for_token
    from district.push import apply_push
    from schema.wire import PushRequest

    copy = setup.folder / "ceiling.db"
    with sqlite3.connect(setup.db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    engine = create_engine(f"sqlite:///{copy}")
    token = (home / "sync-token").read_text(encoding="ascii").strip()
    with engine.connect() as connection:
        device = device_for_token(connection, token)
    assert device is not None
    _device_id, bodies = _push_bodies(home)
    batches = [PushRequest.model_validate_json(body) for body in bodies]
    clock = ServerClock("bench")
    started = time.monotonic()
    applied = 0
    for request in batches:
        response = apply_push(engine, device, request, clock)
        applied += sum(1 for result in response.results if result.status.value == "applied")
    elapsed = time.monotonic() - started
    engine.dispose()
    if applied != ops:
        raise SystemExit(f"ceiling run applied {applied} of {ops} ops")
    return {"seconds": elapsed, "rate": ops / elapsed}


def measure_freshness(setup: Setup, home: Path, samples: int) -> list[float]:
    log = (setup.folder / "fresh.log").open("ab")
    daemon = subprocess.Popen(
        classlog("sync", "--home", str(home)), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
    )
    log.close()
    store = DeviceStore.open(home)
    server = sqlite3.connect(f"file:{setup.db}?mode=ro", uri=True, timeout=30)
    latencies: list[float] = []
    try:
        # A fresh device first pulls its whole scope (the drained backlog: 50,000 records at
        # full size), which takes longer than 30 s on a loaded machine; that is set-up, not the
        # freshness measured below.
        if not wait_until(lambda: store.sync_status().online is True, 600, step=0.2):
            raise SystemExit("the daemon did not come online")
        students = list(store.students())[:20]
        for index in range(samples):
            time.sleep(0.3)
            draft = IncidentDraft(
                student_id=students[index % len(students)], behavior_code="DIS-CLASS", level=2
            )
            committed = time.monotonic()
            record = store.log_incident(draft).id
            if not wait_until(functools.partial(_on_server, server, record), 10, step=0.002):
                raise SystemExit("a record did not reach the server within 10 s")
            latencies.append(time.monotonic() - committed)
    finally:
        server.close()
        store.close()
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            os.kill(daemon.pid, signal.SIGKILL)
            daemon.wait()
    return latencies


def _on_server(server: sqlite3.Connection, record_id: str) -> bool:
    found = server.execute("SELECT 1 FROM incidents WHERE id = ?", (record_id,)).fetchone()
    return found is not None


POUCHDB_PACKAGES = ("pouchdb-node@9", "pouchdb-server@4")
POUCHDB_REPLICATE = """
const fs = require("fs");
const PouchDB = require("pouchdb-node");
const [docsFile, localDir, remoteUrl] = process.argv.slice(2);
(async () => {
  const docs = fs.readFileSync(docsFile, "utf8").split("\\n").filter(Boolean).map(JSON.parse);
  const local = new PouchDB(localDir);
  for (let start = 0; start < docs.length; start += 1000) {
    await local.bulkDocs(docs.slice(start, start + 1000));
  }
  const remote = new PouchDB(remoteUrl);
  await remote.info();
  const started = process.hrtime.bigint();
  const result = await local.replicate.to(remote, { batch_size: 500 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const info = await remote.info();
  console.log(JSON.stringify({ written: result.docs_written, held: info.doc_count, seconds }));
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
"""


def measure_pouchdb(setup: Setup, home: Path) -> dict[str, float] | str:
    """PouchDB replicating the backlog's documents to pouchdb-server; a reason when it cannot
    run here."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return "node and npm are not installed here"
    peer = setup.folder / "pouchdb"
    peer.mkdir()
    installed = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error",
         "--prefix", str(peer), *POUCHDB_PACKAGES],
        capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip
    if installed.returncode != 0:
        return "npm could not install " + " and ".join(POUCHDB_PACKAGES)
    docs = peer / "docs.jsonl"
    with sqlite3.connect(home / "device.db") as connection, docs.open("w") as out:
        for entity_id, kind, fields in connection.execute(
            "SELECT entity_id, kind, fields FROM outbox ORDER BY seq"
        ):
            out.write(json.dumps({"_id": entity_id, "kind": kind, **json.loads(fields)}) + "\n")
    (peer / "replicate.js").write_text(POUCHDB_REPLICATE)
    port = free_port()
    data = peer / "server-data"
    data.mkdir()
    log = (peer / "server.log").open("ab")
    server = subprocess.Popen(
        [node, str(peer / "node_modules" / "pouchdb-server" / "bin" / "pouchdb-server"),
         "--port", str(port), "--host", "127.0.0.1", "--dir", str(data), "--no-stdout-logs"],
        stdout=log, stderr=subprocess.STDOUT, cwd=data,
    )  # fmt: skip
    log.close()
    try:
        import httpx

        def up() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        if not wait_until(up, 60):
            return "pouchdb-server did not start"
        replicated = subprocess.run(
            [node, str(peer / "replicate.js"), str(docs), str(peer / "local"),
             f"http://127.0.0.1:{port}/bench"],
            capture_output=True, text=True, check=False, cwd=peer,
            env={**os.environ, "NODE_PATH": str(peer / "node_modules")}, timeout=3600,
        )  # fmt: skip
        if replicated.returncode != 0:
            return (
                "PouchDB replication failed: "
                + (replicated.stderr.strip().splitlines() or ["?"])[-1]
            )
        figures = json.loads(replicated.stdout.strip().splitlines()[-1])
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            os.kill(server.pid, signal.SIGKILL)
            server.wait()
    return {
        "docs": float(figures["held"]),
        "seconds": float(figures["seconds"]),
        "rate": float(figures["written"]) / float(figures["seconds"]),
    }


def _verdict(within: bool) -> str:
    return "within budget" if within else "OVER BUDGET"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5,000 ops, 10 freshness samples")
    parser.add_argument("--ops", type=int, help="backlog size (default 50,000)")
    parser.add_argument("--samples", type=int, help="freshness samples (default 40)")
    parser.add_argument("--no-peer", action="store_true", help="skip the PouchDB comparison")
    args = parser.parse_args()
    ops_wanted = args.ops or (5_000 if args.quick else 50_000)
    samples = args.samples or (10 if args.quick else 40)
    folder = Path(tempfile.mkdtemp(prefix="classlog-bench-sync-"))
    setup = Setup(folder, students=200)
    try:
        setup.start_server()
        home, students = setup.device("backlog")
        ops = seed_backlog(home, students, ops_wanted)
        peer = "not measured (--no-peer)" if args.no_peer else measure_pouchdb(setup, home)
        raw = measure_raw(setup, home, ops, counted=False)
        counted = measure_raw(setup, home, ops, counted=True)
        ceiling = measure_ceiling(setup, home, ops)
        plain = measure_plain_client(setup, home, ops)
        drain = measure_drain(setup, home, ops)
        fresh_home, _ = setup.device("fresh")
        latencies = measure_freshness(setup, fresh_home, samples)
    finally:
        setup.stop_server()
        shutil.rmtree(folder, ignore_errors=True)
    share = drain["rate"] / raw["rate"]
    p95 = percentile(latencies, 0.95)
    command = "python scripts/bench_sync.py" + (" --quick" if args.quick else "")
    print("## Sync daemon\n")
    print(
        f"Command: `{command}` (real `classlog server` on SQLite and `classlog sync` daemon, "
        "127.0.0.1)\n"
    )
    print("| measure | value | budget |")
    print("|---|---|---|")
    print(
        "| server raw ingest ceiling: the backlog's record and applied-op rows, Core inserts,"
        f" 500 a transaction, no checks | {raw['rate']:,.0f} rows/s | |"
    )
    print(
        "| the same rows with the summaries' kept counts (what a push must write)"
        f" | {counted['rate']:,.0f} rows/s ({counted['rate'] / raw['rate']:.0%} of raw) | |"
    )
    print(
        "| the server's push code applying the same ops in-process, no HTTP"
        f" | {ceiling['rate']:,.0f} ops/s ({ceiling['rate'] / raw['rate']:.0%} of raw) | |"
    )
    print(
        f"| same ops posted by a bare HTTP client, no device work | {plain['rate']:,.0f} ops/s "
        f"({plain['rate'] / ceiling['rate']:.0%} of the push code in-process) | |"
    )
    print(
        f"| backlog drain by the daemon, {ops:,} ops over HTTP | {drain['rate']:,.0f} ops/s "
        f"({drain['seconds']:.1f} s from its first attempt, "
        f"{drain['with_start_seconds']:.1f} s with process start-up) | |"
    )
    print(f"| daemon drain as a share of the bare client | {drain['rate'] / plain['rate']:.0%} | |")
    print(
        f"| drain as a share of the push code in-process | {drain['rate'] / ceiling['rate']:.0%}"
        " | |"
    )
    print(
        f"| drain as a share of the raw ingest ceiling | {share:.0%} | at least 60 %: "
        f"{_verdict(share >= 0.6)} |"
    )
    if isinstance(peer, str):
        print(f"| PouchDB 9 to pouchdb-server 4, same backlog | {peer} | |")
    else:
        times = drain["rate"] / peer["rate"]
        print(
            f"| PouchDB 9 (pouchdb-node) replicating {peer['docs']:,.0f} docs of the same shape"
            f" to pouchdb-server 4, loopback | {peer['rate']:,.0f} docs/s ({peer['seconds']:.1f} s)"
            " | |"
        )
        print(
            f"| daemon drain against PouchDB | {times:.1f} x | at least 5 x: "
            f"{_verdict(times >= 5)} |"
        )
    print(f"| daemon peak memory while draining (VmHWM) | {drain['peak_kib'] / 1024:.1f} MiB | |")
    print(
        f"| online freshness, commit to visible on the server, p50 / p95 "
        f"({len(latencies)} samples) | {percentile(latencies, 0.5) * 1000:.0f} ms / "
        f"{p95 * 1000:.0f} ms | p95 at most 1 s: {_verdict(p95 <= 1.0)} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
