"""`classlog demo --admin`: the demo district with a few months of history, and the
administrator's dashboard open on it.

The history reaches the server the way real records do: through the push API, from enrolled
mobile-response devices, so the summaries count exactly what a district would have received.
It is deterministic for a given seed and the day it is made: a few students with many Level 2
incidents, class-period hours, weekdays only, removals and In-School Suspensions now and then,
Take a Break events, follow-ups (most done, some open, some overdue), and a few office referrals,
most with the office's decision recorded.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from uuid6 import uuid7

from classlog.demo import DEMO_SCHOOL
from schema.clock import Timestamp
from schema.errors import ClasslogError, UserError
from schema.schoolyear import DEFAULT_START, school_year_for

TIME_ZONE = ZoneInfo("America/Chicago")
LOCATIONS = (
    ("Classroom", 60),
    ("Hallway", 14),
    ("Cafeteria", 10),
    ("Playground", 6),
    ("Gym", 5),
    ("Bus", 3),
    ("Restroom", 2),
)
HOUR_WEIGHTS = ((7, 3), (8, 10), (9, 12), (10, 14), (11, 16), (12, 18), (13, 15), (14, 9))
BEHAVIOR_WEIGHT_DECAY = 0.72
COMMON_BEHAVIORS = (
    "DIS-CLASS", "LANG-STUDENT", "DIS-HALL", "PHYS-CONTACT", "DEVICE", "DIS-TAUNT", "TECH",
    "LANG-STAFF", "DIS-LEAVE", "PROP", "LANG-PUTDOWN", "DRESS",
)  # fmt: skip
PUSH_BATCH = 400


@dataclass(frozen=True, slots=True)
class DemoStudent:
    sourced_id: str
    grade: str
    iep: bool


@dataclass(frozen=True, slots=True)
class History:
    ops: list[dict[str, Any]]
    incidents: int
    tabs: int
    follow_ups: int
    referrals: tuple[str, ...] = ()
    """The office referrals' ids, oldest first."""


def roster_students(roster: Path) -> tuple[list[DemoStudent], list[str]]:
    """The students (id, grade, IEP) and teachers of a OneRoster folder."""
    from schema.roster import read_roster

    data = read_roster(roster)
    students = [
        DemoStudent(student.sourced_id, student.grade or "07", bool(student.iep))
        for student in data.students
    ]
    teachers = [member.sourced_id for member in data.staff if member.role == "teacher"]
    return students, teachers or [member.sourced_id for member in data.staff]


def level2_behaviors(grade: str = "07") -> list[str]:
    """Grid codes a teacher may answer at Level 2 in middle school, most common first; no
    Title IX or mandatory-reporting behavior (those are office business)."""
    from schema.grid import default_grid

    grid = default_grid()
    year = grid.school_years()[-1]
    allowed = [
        entry.code
        for entry in grid.behaviors(year, grade)
        if 2 in entry.staff_levels and not entry.title_ix and not entry.mandatory_reporting
    ]
    common = [code for code in COMMON_BEHAVIORS if code in allowed]
    return common + [code for code in allowed if code not in common]


def office_behaviors(grade: str = "07") -> list[str]:
    """Grid codes the office handles (range starting at Level 3) in middle school, with no
    Title IX flag: what a teacher sends a student to the office for."""
    from schema.grid import default_grid

    grid = default_grid()
    year = grid.school_years()[-1]
    return [
        entry.code
        for entry in grid.behaviors(year, grade)
        if entry.office_managed and not entry.title_ix
    ]


def school_days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        if day.weekday() < 5:
            yield day
        day += timedelta(days=1)


def _pick(rng: random.Random, weighted: Sequence[tuple[Any, int]]) -> Any:
    return rng.choices([item for item, _ in weighted], [weight for _, weight in weighted])[0]


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def make_history(
    students: Sequence[DemoStudent],
    staff: Sequence[str],
    device_id: str,
    *,
    first: date,
    last: date,
    per_day: float,
    seed: int = 11,
    now: datetime | None = None,
) -> History:
    """Push ops for Level 2 incidents, their follow-ups and Take a Break events from ``first``
    to ``last`` (school-local days), about ``per_day`` incidents a school day."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    behaviors = level2_behaviors()
    behavior_weights = [
        (code, max(1, round(1000 * BEHAVIOR_WEIGHT_DECAY**rank)))
        for rank, code in enumerate(behaviors)
    ]
    ranked = list(students)
    rng.shuffle(ranked)
    student_weights = [
        (student, max(1, round(1000 / (rank + 1) ** 1.15))) for rank, student in enumerate(ranked)
    ]
    wall_ms = int(now.timestamp() * 1000)
    counter = 0
    ops: list[dict[str, Any]] = []

    def op(kind: str, record_id: str, fields: dict[str, Any]) -> None:
        nonlocal counter
        counter += 1
        ops.append(
            {
                "op_id": f"{device_id}-{counter}",
                "seq": counter,
                "kind": kind,
                "id": record_id,
                "op": "upsert",
                "fields": fields,
                "hlc": Timestamp(wall_ms, counter, device_id).encode(),
            }
        )

    incidents = tabs = follow_ups = 0
    referrals: list[str] = []
    office = office_behaviors()
    office_rng = random.Random(seed + 1)
    for day in school_days(first, last):
        month_factor = 1.0 + 0.25 * (day.month in (10, 11, 2, 3))
        count = max(0, round(rng.gauss(per_day * month_factor, per_day / 4)))
        for _ in range(count):
            student = _pick(rng, student_weights)
            hour = _pick(rng, HOUR_WEIGHTS)
            moment = datetime.combine(day, time(hour, rng.randrange(60)), tzinfo=TIME_ZONE)
            if moment > now:
                continue
            actions = ["support_staff"]
            fields: dict[str, Any] = {
                "student_id": student.sourced_id,
                "staff_id": rng.choice(staff),
                "device_id": device_id,
                "behavior_code": _pick(rng, behavior_weights),
                "level": 2,
                "occurred_at": _stamp(moment),
                "tz": TIME_ZONE.key,
                "location": _pick(rng, LOCATIONS),
                "note": "",
                "created_at": _stamp(moment),
                "updated_at": _stamp(moment),
            }
            roll = rng.random()
            if roll < 0.05:
                actions.append("iss")
                fields["iss_days"] = rng.choice((0.5, 1.0))
                if student.iep:
                    fields["iss_safeguards"] = {
                        "school_work": True,
                        "special_education_services": True,
                        "peer_without_disability": True,
                    }
            elif roll < 0.20:
                actions.append("removal")
                fields["removal_minutes"] = rng.choice((15, 20, 30, 45))
            if rng.random() < 0.4:
                actions.append("family_contact")
            fields["actions"] = actions
            if rng.random() < 0.03:
                fields["progression_bypassed"] = True
                fields["bypass_reason"] = "Safety of other students"
            incident_id = str(uuid7())
            op("incident", incident_id, fields)
            incidents += 1
            due = moment + timedelta(days=1)
            done = rng.random() < (0.9 if due < now - timedelta(days=7) else 0.5)
            follow_up: dict[str, Any] = {
                "incident_id": incident_id,
                "kind": "family_contact",
                "created_at": _stamp(moment),
            }
            if done:
                follow_up["done_at"] = _stamp(
                    min(now, moment + timedelta(hours=rng.randrange(2, 60)))
                )
            op("follow_up", str(uuid7()), follow_up)
            follow_ups += 1
        for _ in range(max(0, round(rng.gauss(per_day * 0.7, per_day / 5)))):
            student = _pick(rng, student_weights)
            start = datetime.combine(
                day, time(_pick(rng, HOUR_WEIGHTS), rng.randrange(60)), tzinfo=TIME_ZONE
            )
            if start > now:
                continue
            kind = _pick(rng, (("spot", 5), ("out", 3), ("out_and_back", 2)))
            tab: dict[str, Any] = {
                "student_id": student.sourced_id,
                "staff_id": rng.choice(staff),
                "device_id": device_id,
                "kind": kind,
                "started_by": rng.choice(("student", "teacher")),
                "started_at": _stamp(start),
                "ended_at": _stamp(start + timedelta(minutes=rng.randrange(3, 25))),
                "returned_ready": rng.random() < 0.85,
                "tz": TIME_ZONE.key,
            }
            if kind == "out_and_back":
                tab["reflection"] = "Talked about what to try next time."
            op("tab", str(uuid7()), tab)
            tabs += 1
        for _ in range(max(0, round(office_rng.gauss(per_day * 0.05, per_day * 0.03)))):
            student = _pick(office_rng, student_weights)
            sent = datetime.combine(
                day, time(_pick(office_rng, HOUR_WEIGHTS), office_rng.randrange(60)),
                tzinfo=TIME_ZONE,
            )  # fmt: skip
            if sent > now:
                continue
            referral_id = str(uuid7())
            op(
                "office_referral",
                referral_id,
                {
                    "student_id": student.sourced_id,
                    "staff_id": office_rng.choice(staff),
                    "device_id": device_id,
                    "behavior_code": office_rng.choice(office),
                    "occurred_at": _stamp(sent),
                    "tz": TIME_ZONE.key,
                    "location": _pick(office_rng, LOCATIONS),
                    "note": "",
                    "created_at": _stamp(sent),
                    "updated_at": _stamp(sent),
                },
            )
            referrals.append(referral_id)
    return History(ops, incidents, tabs, follow_ups, tuple(referrals))


ALTERNATIVES = ("Restorative conference", "Check-in/check-out", "Community service at school")


def decide_referrals(database_url: str, history: History, seed: int = 11) -> int:
    """The office's decision on most of the demo's referrals (the newest few still waiting), as
    an administrator records them: the lowest level the grid allows, the plan's fewest days of
    OSS for it, or an alternative to suspension instead at Level 3 now and then."""
    from district.clock import ServerClock
    from district.db import create_engine
    from district.referrals import Decision, ReferralError, decide_referral
    from schema.grid import default_grid
    from schema.rules import OSS_DAYS_BY_LEVEL

    rng = random.Random(seed + 2)
    levels = {entry.code: entry.levels for entry in default_grid()}
    codes = {
        op["id"]: op["fields"]["behavior_code"]
        for op in history.ops
        if op["kind"] == "office_referral"
    }
    engine = create_engine(database_url)
    clock = ServerClock("demo-office")
    decided = 0
    try:
        for referral_id in history.referrals[:-3]:
            level = min(level for level in levels[codes[referral_id]] if level >= 3)
            if level == 3 and rng.random() < 0.4:
                decision = Decision(3, 0.0, (rng.choice(ALTERNATIVES),))
            else:
                decision = Decision(level, OSS_DAYS_BY_LEVEL[level][0])
            try:
                decide_referral(engine, None, referral_id, decision, clock)
            except ReferralError as error:
                raise SeedError(f"a demo referral's decision was refused: {error}") from None
            decided += 1
    finally:
        engine.dispose()
    return decided


def history_start(roster: Path, today: date, days: int) -> date:
    """The first day of a ``days``-long history ending ``today``, never before the school year
    holding ``today``. The year starts where the roster's schoolYear session says, as the
    server's plan rules count it once the roster is imported (not the device default), so no
    record lands in a year the district's grid does not hold."""
    from schema.roster import read_roster

    year_start = read_roster(roster).school_year_start(today) or DEFAULT_START
    return max(today - timedelta(days=days), school_year_for(today, year_start).start)


class SeedError(ClasslogError):
    """The server refused the demo history; the message says what."""


def push_history(url: str, token: str, device_id: str, ops: Sequence[dict[str, Any]]) -> int:
    """Push ``ops`` in batches; returns how many were applied."""
    applied = 0
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as client:
        for start in range(0, len(ops), PUSH_BATCH):
            batch = list(ops[start : start + PUSH_BATCH])
            response = client.post("/v1/sync/push", json={"device_id": device_id, "ops": batch})
            if response.status_code != 200:
                raise SeedError(f"push refused: HTTP {response.status_code} {response.text[:300]}")
            for result in response.json()["results"]:
                if result["status"] == "rejected":
                    raise SeedError(f"an op was rejected: {result.get('reason')}")
                applied += result["status"] == "applied"
    return applied


def enroll_device(url: str, code: str, device_id: str, name: str) -> str:
    """Trade an enrollment code for a token (for the seeding device)."""
    response = httpx.post(
        f"{url}/v1/devices/enroll",
        json={"code": code, "device_id": device_id, "device_name": name},
        timeout=30,
    )
    if response.status_code != 200:
        raise SeedError(f"enrollment refused: HTTP {response.status_code} {response.text[:300]}")
    token: str = response.json()["token"]
    return token


def seed_history(
    url: str,
    code: str,
    roster: Path,
    *,
    days: int = 100,
    per_day: float = 14.0,
    seed: int = 11,
) -> History:
    """Enroll a mobile-response device with ``code`` and push the demo history through it."""
    students, teachers = roster_students(roster)
    device_id = f"demo-history-{uuid7().hex[:12]}"
    token = enroll_device(url, code, device_id, "demo history")
    today = datetime.now(UTC).astimezone(TIME_ZONE).date()
    history = make_history(
        students,
        teachers,
        device_id,
        first=history_start(roster, today, days),
        last=today,
        per_day=per_day,
        seed=seed,
    )
    push_history(url, token, device_id, history.ops)
    return history


DEMO_STUDENTS = 480


def run_admin_demo(base: Path, env: dict[str, str]) -> int:
    """A local district server on SQLite with the demo roster (480 students) and about 100
    days of history, an admin device enrolled district-wide in ``base/admin``, and the
    dashboard open on it. Everything stops when the dashboard closes."""
    from classlog.demo import _background, _classlog, _free_port, _run, _wait_for_health
    from classlog.demo_roster import write_demo_roster

    roster = write_demo_roster(base / "district-roster", students=DEMO_STUDENTS)
    database = f"sqlite:///{base / 'district.db'}"
    fresh = not (base / "district.db").exists()
    if fresh:
        _run(_classlog("district", "import-roster", str(roster), "--db", database), env)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    home = base / "admin"
    admin_env = {**env, "CLASSLOG_HOME": str(home)}
    server = _classlog("server", "--db", database, "--host", "127.0.0.1", "--port", str(port))
    with _background(server, env, base / "server.log") as server_process:
        _wait_for_health(url, server_process)

        def code(*options: str) -> str:
            made = _run(_classlog("district", "enroll-code", *options, "--db", database), env)
            return made.split()[-1]

        if fresh:
            print("seeding about 100 days of history for the demo district...", flush=True)
            try:
                history = seed_history(
                    url, code("--school", DEMO_SCHOOL, "--role", "mobile"), roster
                )
                decide_referrals(database, history)
            except SeedError as error:
                raise UserError(f"demo set-up failed: {error}") from None
        _run(_classlog("enroll", url, code("--role", "admin"), "--name", "demo admin"), admin_env)
        from tui.admin.app import run

        return run(home)
