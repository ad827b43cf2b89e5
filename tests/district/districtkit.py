"""A real district for the dashboard's tests: a `classlog server` process on a SQLite file with
the demo roster, a known history pushed through the push API, and an admin device enrolled with
`classlog enroll` in a home of its own."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from serverkit import ServerProcess

from classlog.cli import main as classlog_main
from classlog.demo_district import (
    History,
    enroll_device,
    make_history,
    push_history,
    roster_students,
)
from classlog.demo_roster import write_demo_roster
from district.db import create_engine, migrate
from district.devices import issue_code

SCHOOL = "school-lincoln"
ZONE = "America/Chicago"


@dataclass
class District:
    server: ServerProcess
    database_url: str
    home: Path
    token: str
    history: History

    @property
    def url(self) -> str:
        return self.server.url

    def api(self, path: str, **params: str) -> dict[str, Any]:
        """What the API answers this admin device, for comparing with the screen."""
        response = httpx.get(
            f"{self.url}{path}",
            params=params,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def incidents_between(self, first: date, last: date) -> list[dict[str, Any]]:
        """The pushed incidents whose school-local day is in ``first``..``last``."""
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(ZONE)
        found = []
        for op in self.history.ops:
            if op["kind"] != "incident":
                continue
            moment = datetime.fromisoformat(op["fields"]["occurred_at"]).astimezone(zone)
            if first <= moment.date() <= last:
                found.append(op["fields"])
        return found


def _code(database_url: str, role: str, school: str | None) -> str:
    engine = create_engine(database_url)
    try:
        return issue_code(
            engine,
            role=role,
            school_id=school,
            staff_id=None,
            section_ids=(),
            ttl=timedelta(hours=1),
        ).code
    finally:
        engine.dispose()


@contextmanager
def running_district(base: Path, *, students: int = 160, days: int = 75) -> Iterator[District]:
    """The district above, stopped on exit."""
    roster = write_demo_roster(base / "roster", students=students)
    database_url = f"sqlite:///{base / 'district.db'}"
    engine = create_engine(database_url)
    migrate(engine)
    engine.dispose()
    assert classlog_main(["district", "import-roster", str(roster), "--db", database_url]) == 0
    with ServerProcess(database_url) as server:
        device_id = "demo-history-device"
        token = enroll_device(server.url, _code(database_url, "mobile", SCHOOL), device_id, "seed")
        students_list, teachers = roster_students(roster)
        today = datetime.now(UTC).date()
        history = make_history(
            students_list,
            teachers,
            device_id,
            first=today - timedelta(days=days),
            last=today,
            per_day=6,
            seed=5,
        )
        push_history(server.url, token, device_id, history.ops)
        home = base / "admin-home"
        code = _code(database_url, "admin", None)
        assert classlog_main(["enroll", server.url, code, "--home", str(home)]) == 0
        admin_token = (home / "sync-token").read_text(encoding="ascii").strip()
        yield District(server, database_url, home, admin_token, history)
