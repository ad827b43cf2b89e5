"""Pieces for the district server's tests: OneRoster files, a small two-school world, enrolled
device clients and ops with real hybrid-logical-clock stamps."""

from __future__ import annotations

import csv
import itertools
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from district.devices import issue_code
from district.settings import Settings
from schema.clock import Timestamp
from schema.wire import PushOp

USERS_HEADER = (
    "sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role",
    "username", "userIds", "givenName", "familyName", "middleName", "identifier", "email",
    "sms", "phone", "agentSourcedIds", "grades", "password", "metadata.iep",
)  # fmt: skip
FILES: dict[str, tuple[str, ...]] = {
    "manifest.csv": ("propertyName", "value"),
    "orgs.csv": ("sourcedId", "status", "dateLastModified", "name", "type", "identifier",
                 "parentSourcedId"),
    "academicSessions.csv": ("sourcedId", "status", "dateLastModified", "title", "type",
                             "startDate", "endDate", "parentSourcedId", "schoolYear"),
    "courses.csv": ("sourcedId", "status", "dateLastModified", "schoolYearSourcedId", "title",
                    "courseCode", "grades", "orgSourcedId", "subjects", "subjectCodes"),
    "classes.csv": ("sourcedId", "status", "dateLastModified", "title", "grades",
                    "courseSourcedId", "classCode", "classType", "location", "schoolSourcedId",
                    "termSourcedIds", "subjects", "subjectCodes", "periods"),
    "users.csv": USERS_HEADER,
    "enrollments.csv": ("sourcedId", "status", "dateLastModified", "classSourcedId",
                        "schoolSourcedId", "userSourcedId", "role", "primary", "beginDate",
                        "endDate"),
    "demographics.csv": ("sourcedId", "status", "dateLastModified", "birthDate", "sex",
                         "americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican",
                         "nativeHawaiianOrOtherPacificIslander", "white",
                         "demographicRaceTwoOrMoreRaces", "hispanicOrLatinoEthnicity"),
}  # fmt: skip

DISTRICT = "district-1"
SCHOOL_1 = "school-1"
SCHOOL_2 = "school-2"
SECTION_1A = "sec-1a"
SECTION_1B = "sec-1b"
SECTION_2A = "sec-2a"
SECRET_DEMOGRAPHIC = "Sex-Marker-Never-On-Devices"


@dataclass
class Roster:
    """Rows of a OneRoster 1.1 CSV roster, by file; ``write`` puts them in a folder."""

    rows: dict[str, list[dict[str, str]]] = field(
        default_factory=lambda: {name: [] for name in FILES}
    )

    def add(self, file: str, **values: str) -> None:
        self.rows[file].append(values)

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for name, header in FILES.items():
            with open(folder / name, "w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(header)
                for row in self.rows[name]:
                    writer.writerow([row.get(column, "") for column in header])
        return folder

    def student(self, sourced_id: str, school: str, grade: str = "07", iep: bool = False) -> None:
        self.add(
            "users.csv",
            sourcedId=sourced_id,
            status="active",
            enabledUser="true",
            orgSourcedIds=school,
            role="student",
            givenName=f"Given{sourced_id}",
            familyName=f"Family{sourced_id}",
            grades=grade,
            **{"metadata.iep": "true" if iep else "false"},
        )
        self.add(
            "demographics.csv",
            sourcedId=sourced_id,
            status="active",
            birthDate="2013-04-01",
            sex=SECRET_DEMOGRAPHIC,
            white="true",
            hispanicOrLatinoEthnicity="false",
        )

    def staff(self, sourced_id: str, school: str, role: str = "teacher") -> None:
        self.add(
            "users.csv",
            sourcedId=sourced_id,
            status="active",
            enabledUser="true",
            orgSourcedIds=school,
            role=role,
            givenName=f"Given{sourced_id}",
            familyName=f"Family{sourced_id}",
        )

    def section(self, sourced_id: str, school: str) -> None:
        self.add(
            "classes.csv",
            sourcedId=sourced_id,
            status="active",
            title=f"Class {sourced_id}",
            courseSourcedId=f"course-{school}",
            classType="scheduled",
            schoolSourcedId=school,
            termSourcedIds="year-2026",
            periods="1",
        )

    def enroll(self, section: str, user: str, school: str, role: str = "student") -> None:
        self.add(
            "enrollments.csv",
            sourcedId=f"enr-{section}-{user}",
            status="active",
            classSourcedId=section,
            schoolSourcedId=school,
            userSourcedId=user,
            role=role,
            primary="true" if role == "teacher" else "false",
        )

    def drop_enrollment(self, section: str, user: str) -> None:
        self.rows["enrollments.csv"] = [
            row
            for row in self.rows["enrollments.csv"]
            if not (row["classSourcedId"] == section and row["userSourcedId"] == user)
        ]


def base_roster(schools: Iterable[str]) -> Roster:
    roster = Roster()
    roster.add("manifest.csv", propertyName="oneroster.version", value="1.1")
    roster.add("orgs.csv", sourcedId=DISTRICT, status="active", name="District", type="district")
    roster.add(
        "academicSessions.csv",
        sourcedId="year-2026",
        status="active",
        title="2026-2027",
        type="schoolYear",
        startDate="2026-08-24",
        endDate="2027-06-30",
        schoolYear="2027",
    )
    for school in schools:
        roster.add(
            "orgs.csv",
            sourcedId=school,
            status="active",
            name=f"School {school}",
            type="school",
            parentSourcedId=DISTRICT,
        )
        roster.add(
            "courses.csv",
            sourcedId=f"course-{school}",
            status="active",
            title="Homeroom",
            orgSourcedId=school,
            schoolYearSourcedId="year-2026",
        )
    return roster


def world_roster() -> Roster:
    """Two schools. School 1: section 1a (teacher t1; students st1-st4, st2 with an IEP),
    section 1b (teacher t2; st5, st6); mobile staff m1, admin a1. School 2: section 2a
    (teacher t3; st7, st8)."""
    roster = base_roster([SCHOOL_1, SCHOOL_2])
    for sourced_id, school in (("t1", SCHOOL_1), ("t2", SCHOOL_1), ("t3", SCHOOL_2)):
        roster.staff(sourced_id, school)
    roster.staff("m1", SCHOOL_1, "aide")
    roster.staff("a1", SCHOOL_1, "administrator")
    for section, school in ((SECTION_1A, SCHOOL_1), (SECTION_1B, SCHOOL_1), (SECTION_2A, SCHOOL_2)):
        roster.section(section, school)
    for number in range(1, 9):
        school = SCHOOL_1 if number <= 6 else SCHOOL_2
        roster.student(f"st{number}", school, iep=number == 2)
    roster.enroll(SECTION_1A, "t1", SCHOOL_1, "teacher")
    roster.enroll(SECTION_1B, "t2", SCHOOL_1, "teacher")
    roster.enroll(SECTION_2A, "t3", SCHOOL_2, "teacher")
    for number in range(1, 5):
        roster.enroll(SECTION_1A, f"st{number}", SCHOOL_1)
    for number in (5, 6):
        roster.enroll(SECTION_1B, f"st{number}", SCHOOL_1)
    for number in (7, 8):
        roster.enroll(SECTION_2A, f"st{number}", SCHOOL_2)
    return roster


def large_roster(students: int, *, per_section: int = 25) -> Roster:
    """One school with ``students`` students in sections of ``per_section``."""
    school = "big-school"
    roster = base_roster([school])
    sections = (students + per_section - 1) // per_section
    for number in range(sections):
        section = f"big-sec-{number}"
        roster.section(section, school)
        roster.staff(f"big-t{number}", school)
        roster.enroll(section, f"big-t{number}", school, "teacher")
    for number in range(students):
        student = f"big-st{number}"
        roster.student(student, school, grade=f"{6 + number % 3:02d}", iep=number % 7 == 0)
        roster.enroll(f"big-sec-{number // per_section}", student, school)
    return roster


_device_numbers = itertools.count(1)


def new_device_id(prefix: str) -> str:
    return f"{prefix}-{next(_device_numbers):04d}"


@dataclass
class Wall:
    """A settable wall clock for the server (milliseconds since the epoch)."""

    offset_ms: int = 0

    def __call__(self) -> int:
        return int(datetime.now(UTC).timestamp() * 1000) + self.offset_ms


@dataclass
class DeviceClient:
    """An enrolled device talking to the server through ``http``."""

    http: httpx.AsyncClient
    device_id: str
    token: str
    enrollment: dict[str, Any]
    last: Timestamp = field(default_factory=lambda: Timestamp(0, 0, ""))
    ops: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def stamp(self, offset_ms: int = 0) -> str:
        """A fresh HLC value from this device, ``offset_ms`` from now."""
        wall = int(datetime.now(UTC).timestamp() * 1000) + offset_ms
        if wall > self.last.wall_ms:
            self.last = Timestamp(wall, 0, self.device_id)
        else:
            self.last = Timestamp(self.last.wall_ms, self.last.counter + 1, self.device_id)
        return self.last.encode()

    def hlc_at(self, offset_ms: int) -> str:
        """An HLC value ``offset_ms`` from now, outside this device's monotonic sequence (for
        stale or future-dated ops)."""
        wall = int(datetime.now(UTC).timestamp() * 1000) + offset_ms
        return Timestamp(wall, 0, self.device_id).encode()

    def op(
        self,
        kind: str,
        record_id: str,
        fields: dict[str, Any] | None = None,
        *,
        op: str = "upsert",
        hlc: str | None = None,
        op_id: str | None = None,
    ) -> dict[str, Any]:
        seq = next(self.ops)
        body = {
            "op_id": op_id or f"{self.device_id}-op-{seq}",
            "seq": seq,
            "kind": kind,
            "id": record_id,
            "op": op,
            "fields": fields or {},
            "hlc": hlc or self.stamp(),
        }
        PushOp.model_validate(body)
        return body

    async def push(self, *ops: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(
            "/v1/sync/push",
            json={"device_id": self.device_id, "ops": list(ops)},
            headers=self.headers,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def statuses(self, *ops: dict[str, Any]) -> list[str]:
        body = await self.push(*ops)
        return [result["status"] for result in body["results"]]

    async def pull(self, cursor: int = 0, limit: int = 1000, wait: float = 0) -> dict[str, Any]:
        response = await self.http.get(
            "/v1/sync/pull",
            params={"cursor": cursor, "limit": limit, "wait": wait},
            headers=self.headers,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def pull_all(
        self, cursor: int = 0, limit: int = 1000
    ) -> tuple[list[dict[str, Any]], int]:
        """Every change after ``cursor``, page by page, and the final cursor."""
        changes: list[dict[str, Any]] = []
        while True:
            page = await self.pull(cursor, limit)
            changes.extend(page["changes"])
            assert page["cursor"] >= cursor
            cursor = page["cursor"]
            if not page["has_more"]:
                return changes, cursor


def view(changes: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any] | None]:
    """What a device holds after applying ``changes`` in order: (kind, id) -> fields, or None
    once removed."""
    held: dict[tuple[str, str], dict[str, Any] | None] = {}
    for change in changes:
        key = (change["kind"], change["id"])
        held[key] = dict(change["fields"]) if change["op"] == "upsert" else None
    return held


def held(changes: list[dict[str, Any]], kind: str) -> set[str]:
    return {key[1] for key, value in view(changes).items() if key[0] == kind and value is not None}


def incident_fields(student: str, device_id: str, **extra: Any) -> dict[str, Any]:
    """A whole Level 2 incident as a device would first push it."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    fields: dict[str, Any] = {
        "student_id": student,
        "staff_id": "t1",
        "device_id": device_id,
        "behavior_code": "DIS-CLASS",
        "level": 2,
        "actions": ["redirect", "support_staff"],
        "occurred_at": now,
        "tz": "America/Chicago",
        "location": "Classroom",
        "note": "",
        "created_at": now,
        "updated_at": now,
    }
    fields.update(extra)
    return fields


def tab_fields(student: str, device_id: str, **extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    fields: dict[str, Any] = {
        "student_id": student,
        "staff_id": "t1",
        "device_id": device_id,
        "kind": "out",
        "started_by": "student",
        "started_at": now,
        "tz": "America/Chicago",
    }
    fields.update(extra)
    return fields


def follow_up_fields(incident_id: str, kind: str = "family_contact") -> dict[str, Any]:
    return {
        "incident_id": incident_id,
        "kind": kind,
        "created_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }


def make_code(
    engine: Engine,
    role: str,
    school: str | None = SCHOOL_1,
    sections: tuple[str, ...] = (),
    staff: str | None = None,
    ttl: timedelta = timedelta(hours=1),
) -> str:
    return issue_code(
        engine, role=role, school_id=school, staff_id=staff, section_ids=sections, ttl=ttl
    ).code


async def enroll(
    http: httpx.AsyncClient,
    engine: Engine,
    role: str,
    school: str | None = SCHOOL_1,
    sections: tuple[str, ...] = (),
    staff: str | None = None,
) -> DeviceClient:
    code = make_code(engine, role, school, sections, staff)
    device_id = new_device_id(role)
    response = await http.post(
        "/v1/devices/enroll", json={"code": code, "device_id": device_id, "device_name": role}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return DeviceClient(http, device_id, body["token"], body)


class ServerProcess:
    """A real `classlog server` (uvicorn) process on 127.0.0.1, stopped on exit."""

    def __init__(
        self,
        database_url: str,
        *,
        certfile: Path | None = None,
        keyfile: Path | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.database_url = database_url
        self.tls = certfile is not None
        self.command = [
            sys.executable, "-m", "district", "server", "--db", database_url,
            "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning",
        ]  # fmt: skip
        if certfile is not None and keyfile is not None:
            self.command += ["--certfile", str(certfile), "--keyfile", str(keyfile)]
        self.env = {
            **os.environ,
            "CLASSLOG_DISTRICT_RATE_LIMIT_PER_MINUTE": "1000000",
            "CLASSLOG_DISTRICT_RATE_LIMIT_BURST": "1000000",
            **(extra_env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerProcess:
        self.process = subprocess.Popen(
            self.command, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"server exited: {error[-2000:]}")
            try:
                with socket_connection(self.port):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start in 60 s")

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()


def socket_connection(port: int) -> Any:
    import socket

    return socket.create_connection(("127.0.0.1", port), timeout=1)


def server_settings(url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": url,
        "rate_limit_per_minute": 1_000_000,
        "rate_limit_burst": 1_000_000,
        "long_poll_db_interval_seconds": 0.1,
        "migrate_on_start": False,
    }
    values.update(overrides)
    return Settings.model_validate(values)


@dataclass
class Fleet:
    """One enrolled device of each kind, in both schools."""

    classroom_1a: DeviceClient
    classroom_1b: DeviceClient
    mobile_1: DeviceClient
    admin_1: DeviceClient
    classroom_2a: DeviceClient
    mobile_2: DeviceClient
    admin_2: DeviceClient
    district_admin: DeviceClient
