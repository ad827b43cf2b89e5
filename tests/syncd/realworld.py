"""Real processes for the integration tests: the `classlog server` (uvicorn on a SQLite file,
127.0.0.1 only), the `classlog sync` daemon, and the fault proxy between them.

A district database with the demo roster and a device home with the same roster are made once
per session and copied for each test. The test itself plays the TUI: it writes through
``DeviceStore`` on the device's database while the daemon runs.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from classlog.demo_roster import write_demo_roster

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from deviceview import level_2_view  # noqa: E402
from fault_proxy import ProxyThread  # noqa: E402
from serverstate import ServerState, read_state_sync, record_detail_sync  # noqa: E402

from schema.models import IncidentDraft  # noqa: E402
from schema.store import DeviceStore  # noqa: E402
from syncd.credentials import read_token  # noqa: E402

SCHOOL = "school-lincoln"
MOBILE_STAFF = "staff-mobile-1"
TEACHER_STAFF = "staff-teacher-1"
ADMIN_STAFF = "staff-admin-1"
STUDENTS = 40


def classlog(*args: str) -> list[str]:
    return [sys.executable, "-m", "classlog", *args]


def run(*args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        classlog(*args),
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        timeout=120,
    )
    if done.returncode != 0:
        raise AssertionError(f"classlog {' '.join(args)} failed: {done.stdout}{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def copy_database(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as origin, sqlite3.connect(target) as copy:
        origin.backup(copy)
    os.chmod(target, 0o600)


@dataclass
class Templates:
    roster: Path
    district_db: Path
    device_home: Path
    student_ids: list[str]


def make_templates(folder: Path) -> Templates:
    roster = folder / "roster"
    write_demo_roster(roster, students=STUDENTS)
    district_db = folder / "district.db"
    run("district", "import-roster", str(roster), "--db", f"sqlite:///{district_db}")
    home = folder / "device"
    run("roster", "import", str(roster), "--home", str(home), "--staff", MOBILE_STAFF)
    with sqlite3.connect(home / "device.db") as connection:
        students = [
            row[0]
            for row in connection.execute("SELECT sourced_id FROM students ORDER BY sourced_id")
        ]
    return Templates(roster, district_db, home, students)


@dataclass
class Server:
    db: Path
    port: int
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    admin_token: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.db}"

    def start(self) -> None:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
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
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env},
            cwd=ROOT,
        )
        handle.close()

        def healthy() -> bool:
            try:
                return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        if not wait_until(healthy, 30):
            raise AssertionError(f"server did not start: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        """SIGTERM; uvicorn waits for open long-polls, so give it two seconds, then SIGKILL
        (SQLite keeps every committed transaction either way)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(2)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def code(self, role: str = "mobile", staff: str | None = MOBILE_STAFF) -> str:
        args = ["district", "enroll-code", "--school", SCHOOL, "--role", role, "--db", self.db_url]
        if staff:
            args += ["--staff", staff]
        return run(*args).split()[0]

    def enroll_admin(self) -> None:
        """An administrator's device for reading the server's state through its API."""
        code = run(
            "district", "enroll-code", "--school", SCHOOL, "--role", "admin", "--db", self.db_url
        ).split()[0]
        response = httpx.post(
            f"{self.url}/v1/devices/enroll",
            json={"code": code, "device_id": f"test-admin-{self.port}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        self.admin_token = response.json()["token"]

    def state(self) -> ServerState:
        """Every incident, TAB and follow-up of the school, as an administrator pulls them."""
        return read_state_sync(self.url, self.admin_token)

    def live_records(self) -> dict[str, dict[str, Any]]:
        return self.state().flat()

    def tombstones(self) -> set[str]:
        """Records the server shows only as removed (retracted)."""
        return set(self.state().removed)

    def detail(self, record_id: str) -> dict[str, Any] | None:
        return record_detail_sync(self.url, self.admin_token, record_id)

    def correct(self, record_id: str, fields: dict[str, Any], reason: str) -> dict[str, Any]:
        """An administrator's correction through the API."""
        response = httpx.patch(
            f"{self.url}/v1/admin/records/{record_id}",
            json={"fields": fields, "reason": reason},
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def file_bytes(self) -> bytes:
        data = b""
        for suffix in ("", "-wal", "-journal"):
            path = Path(f"{self.db}{suffix}")
            if path.exists():
                data += path.read_bytes()
        return data + (self.log.read_bytes() if self.log.exists() else b"")


@dataclass
class DeviceHome:
    home: Path
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    _store: DeviceStore | None = None

    @property
    def store(self) -> DeviceStore:
        if self._store is None:
            self._store = DeviceStore.open(self.home)
        return self._store

    def enroll(self, url: str, code: str) -> str:
        return run("enroll", url, code, "--home", str(self.home))

    def start_daemon(self, **env: str) -> subprocess.Popen[bytes]:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            classlog("sync", "--home", str(self.home), "--fresh-connections"),
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env, **env},
            cwd=ROOT,
        )
        handle.close()
        return self.process

    def kill_daemon(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def stop_daemon(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill_daemon()
                return None
        code = self.process.returncode
        self.process = None
        return code

    def sync_once(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            classlog("sync", "--once", "--home", str(self.home), "--fresh-connections"),
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, **self.env},
            cwd=ROOT,
            timeout=300,
        )

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        connection = sqlite3.connect(self.home / "device.db", timeout=30)
        try:
            return list(connection.execute(sql, params))
        finally:
            connection.close()

    def pending(self) -> int:
        return int(self.query("SELECT count(*) FROM outbox")[0][0])

    def queued_ops(self) -> list[dict[str, Any]]:
        """The outbox as push ops, oldest first (a snapshot to send again later)."""
        return [
            {
                "op_id": op_id,
                "seq": seq,
                "kind": kind,
                "id": entity_id,
                "op": op,
                "fields": json.loads(fields),
                "hlc": hlc,
            }
            for seq, op_id, kind, entity_id, op, fields, hlc in self.query(
                "SELECT seq, op_id, kind, entity_id, op, fields, hlc FROM outbox ORDER BY seq"
            )
        ]

    def send_again(self, server_url: str, ops: list[dict[str, Any]]) -> list[str]:
        """Push ``ops`` again as this device, straight to the server; the server's answers."""
        token = read_token(self.home)
        assert token is not None
        statuses: list[str] = []
        with httpx.Client(
            base_url=server_url, headers={"Authorization": f"Bearer {token}"}, timeout=120
        ) as client:
            for start in range(0, len(ops), 500):
                response = client.post(
                    "/v1/sync/push",
                    json={"device_id": self.store.device_id, "ops": ops[start : start + 500]},
                )
                assert response.status_code == 200, response.text
                statuses += [result["status"] for result in response.json()["results"]]
        return statuses

    def state(self) -> dict[str, Any]:
        connection = sqlite3.connect(self.home / "device.db", timeout=30)
        connection.row_factory = sqlite3.Row
        try:
            return dict(connection.execute("SELECT * FROM sync_state").fetchone())
        finally:
            connection.close()

    def log_incident(self, student: str, level: int = 2, note: str = "") -> str:
        draft = IncidentDraft(student_id=student, behavior_code="DIS-CLASS", level=level, note=note)
        return self.store.log_incident(draft).id

    def level_2_view(self) -> dict[str, dict[str, Any]]:
        """This device's incidents, TABs and follow-ups that may sync, as the server should hold
        them."""
        return level_2_view(self.store.connection)

    def close(self) -> None:
        self.kill_daemon()
        if self._store is not None:
            self._store.close()
            self._store = None


class World:
    """One test's district server, fault proxy and devices."""

    def __init__(self, folder: Path, templates: Templates, **server_env: str) -> None:
        self.folder = folder
        self.templates = templates
        db = folder / "district.db"
        copy_database(templates.district_db, db)
        self.server = Server(db, free_port(), folder / "server.log", dict(server_env))
        self.capture = folder / "upstream.bin"
        self.proxy = ProxyThread(self.server.port, capture=self.capture)
        self.devices: list[DeviceHome] = []

    def __enter__(self) -> World:
        self.server.start()
        self.server.enroll_admin()
        self.proxy.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for device in self.devices:
            device.close()
        self.proxy.stop()
        self.server.stop()

    def device(
        self, name: str, role: str = "mobile", staff: str | None = MOBILE_STAFF
    ) -> DeviceHome:
        home = self.folder / name
        home.mkdir(mode=0o700)
        copy_database(self.templates.device_home / "device.db", home / "device.db")
        with sqlite3.connect(home / "device.db") as connection:
            connection.execute("DELETE FROM meta WHERE key IN ('device_id', 'hlc')")
        device = DeviceHome(home, self.folder / f"{name}.log")
        store = device.store
        if staff:
            store.set_config(staff_id=staff)
        device.enroll(self.proxy.url, self.server.code(role, staff))
        self.devices.append(device)
        return device

    def converged(self, device: DeviceHome) -> bool:
        if device.pending():
            return False
        server = self.server.live_records()
        mine = device.level_2_view()
        return all(server.get(record_id) == fields for record_id, fields in mine.items())


def diff(device: DeviceHome, server: Server) -> list[str]:
    held = server.live_records()
    problems = []
    for record_id, fields in device.level_2_view().items():
        if held.get(record_id) != fields:
            problems.append(f"{record_id}: device {fields} server {held.get(record_id)}")
    return problems


def iterate_bytes(path: Path) -> Iterator[bytes]:
    if path.exists():
        yield path.read_bytes()
