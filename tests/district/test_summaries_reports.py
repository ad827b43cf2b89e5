"""Every report against numbers computed here, independently, from the records this test pushed
through the real app (HTTP push from enrolled devices, on SQLite and on PostgreSQL); and the
invariants: Level 1 never counted, a TAB never a removal, ISS or exclusion, a retracted record
gone from every report, a voided record not counted, no suppressed value published."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa
from serverkit import (
    SCHOOL_1,
    SCHOOL_2,
    Fleet,
    follow_up_fields,
    incident_fields,
    tab_fields,
    world_roster,
)
from test_summaries_suppression import Table, check_nothing_derivable

from district import tables
from district.clock import ServerClock
from district.referrals import Decision, decide_referral
from district.roster_import import import_roster
from district.summaries import list_records, run_report
from district.summaries.suppression import Thresholds
from schema.fields import SAFEGUARDS
from schema.summaries import SummaryFilters, SummaryReport

ZONE = ZoneInfo("America/Chicago")
FIRST = date(2026, 9, 1)
LAST = date(2026, 11, 30)
BEHAVIORS = ("DIS-CLASS", "LANG-STUDENT", "PHYS-CONTACT", "DIS-HALL")
PLACES = ("Classroom", "Hallway", "Cafeteria")
RACES = (
    ("white", False, "white", 40),
    ("white", True, "hispanic_or_latino", 25),
    ("blackOrAfricanAmerican", False, "black_or_african_american", 12),
    ("asian", False, "asian", 3),
)
EXTRA_STUDENTS = sum(count for *_, count in RACES)


@dataclass
class Pushed:
    """What the test pushed and still expects to count, kept by hand."""

    incidents: dict[str, dict[str, Any]] = field(default_factory=dict)
    tabs: dict[str, dict[str, Any]] = field(default_factory=dict)
    follow_ups: dict[str, dict[str, Any]] = field(default_factory=dict)
    voided: set[str] = field(default_factory=set)
    withdrawn: set[str] = field(default_factory=set)
    groups: dict[str, dict[str, str]] = field(default_factory=dict)
    referrals: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Counted office referrals (the voided one left out), with the office's decision."""
    interventions: dict[str, dict[str, Any]] = field(default_factory=dict)

    def counted(self) -> list[dict[str, Any]]:
        return [
            fields
            for record_id, fields in self.incidents.items()
            if record_id not in self.voided and record_id not in self.withdrawn
        ]


def big_roster(folder: Path) -> tuple[Path, dict[str, dict[str, str]]]:
    """The two-school world plus 80 students of school 1 with varied demographics, grades and
    IEPs, written to a folder; and each school-1 student's groups."""
    roster = world_roster()
    groups: dict[str, dict[str, str]] = {}
    for number in range(1, 7):
        groups[f"st{number}"] = {
            "race": "white",
            "sex": "sex-marker-never-on-devices",
            "iep": "yes" if number == 2 else "no",
            "grade": "07",
        }
    number = 0
    for flag, hispanic, category, count in RACES:
        for _ in range(count):
            number += 1
            student = f"x{number:03d}"
            grade = ("06", "07", "08")[number % 3]
            iep = number % 5 == 0
            sex = "female" if number % 2 else "male"
            roster.add(
                "users.csv", sourcedId=student, status="active", enabledUser="true",
                orgSourcedIds=SCHOOL_1, role="student", givenName=f"G{student}",
                familyName=f"F{student}", grades=grade,
                **{"metadata.iep": "true" if iep else "false"},
            )  # fmt: skip
            roster.add(
                "demographics.csv", sourcedId=student, status="active", sex=sex,
                hispanicOrLatinoEthnicity="true" if hispanic else "false", **{flag: "true"},
            )  # fmt: skip
            groups[student] = {
                "race": category,
                "sex": sex,
                "iep": "yes" if iep else "no",
                "grade": grade,
            }
    return roster.write(folder / "big-roster"), groups


def moment(day: date, hour: int, minute: int = 10) -> str:
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)
    return local.astimezone(UTC).isoformat(timespec="milliseconds")


async def push_school_year(fleet: Fleet, engine: sa.Engine, tmp_path: Path) -> Pushed:
    folder, made = big_roster(tmp_path)
    import_roster(engine, folder)
    pushed = Pushed(groups=made)
    rng = random.Random(9)
    device = fleet.mobile_1
    students = sorted(made)
    heavy = students[:3]
    ops = []
    days = [FIRST + timedelta(days=offset) for offset in range((LAST - FIRST).days + 1)]
    school_days = [day for day in days if day.weekday() < 5]
    number = 0
    for student in students:
        count = 0 if rng.random() < 0.45 else rng.choice((1, 1, 2, 3, 6))
        if student in heavy:
            count = 9
        for _ in range(count):
            number += 1
            record_id = f"inc-{number:04d}"
            day = rng.choice(school_days)
            roll = rng.random()
            actions = ["redirect", "support_staff"]
            extra: dict[str, Any] = {}
            if roll < 0.15:
                actions = ["support_staff", "removal"]
                extra["removal_minutes"] = 20
            elif roll < 0.22:
                actions = ["support_staff", "iss"]
                extra["iss_days"] = 0.5
                extra["iss_safeguards"] = dict.fromkeys(SAFEGUARDS, True)
            bypassed = rng.random() < 0.1
            if bypassed:
                extra["bypass_reason"] = "seen by the team"
            when = moment(day, rng.choice((8, 9, 11, 12, 14)), rng.randrange(60))
            fields = incident_fields(
                student,
                device.device_id,
                behavior_code=rng.choice(BEHAVIORS),
                location=rng.choice(PLACES),
                actions=actions,
                occurred_at=when,
                created_at=when,
                updated_at=when,
                progression_bypassed=bypassed,
                **extra,
            )
            pushed.incidents[record_id] = fields
            ops.append(device.op("incident", record_id, fields))
            if rng.random() < 0.8:
                follow_id = f"fu-{record_id}"
                follow = follow_up_fields(record_id)
                follow["created_at"] = when
                if rng.random() < 0.6:
                    follow["done_at"] = moment(day, 16)
                    follow["done_by"] = "m1"
                pushed.follow_ups[follow_id] = follow
                ops.append(device.op("follow_up", follow_id, follow))
    for index, student in enumerate(students[::4]):
        tab_id = f"tab-{index:03d}"
        day = school_days[index % len(school_days)]
        started = moment(day, 10)
        fields = tab_fields(
            student,
            device.device_id,
            kind=("spot", "out", "out_and_back")[index % 3],
            started_by=("student", "teacher")[index % 2],
            started_at=started,
            ended_at=moment(day, 10, 10 + index % 7),
            returned_ready=index % 4 != 0,
        )
        pushed.tabs[tab_id] = fields
        ops.append(device.op("tab", tab_id, fields))
    for index, student in enumerate(students[::3]):
        record_id = f"ref-{index:03d}"
        day = school_days[(index * 7) % len(school_days)]
        when = moment(day, (9, 11, 13)[index % 3])
        fields = {
            "student_id": student,
            "staff_id": "t1",
            "device_id": device.device_id,
            "behavior_code": ("WPN-OTHER", "DIS-VOLATILE")[index % 2],
            "occurred_at": when,
            "tz": "America/Chicago",
            "location": PLACES[index % len(PLACES)],
            "note": "",
            "created_at": when,
            "updated_at": when,
        }
        pushed.referrals[record_id] = dict(fields)
        ops.append(device.op("office_referral", record_id, fields))
    for index, student in enumerate(heavy + students[3:9]):
        record_id = f"iv-{index:03d}"
        fields = {
            "student_id": student,
            "staff_id": "t1",
            "device_id": device.device_id,
            "behavior_code": None if index % 3 == 0 else BEHAVIORS[index % len(BEHAVIORS)],
            "kind": "monitored_strategy",
            "kind_label": "",
            "starts_on": school_days[index].isoformat(),
            "review_on": (school_days[index] + timedelta(days=14)).isoformat(),
            "note": "",
            "created_at": moment(school_days[index], 15),
            "updated_at": moment(school_days[index], 15),
        }
        pushed.interventions[record_id] = fields
        ops.append(device.op("intervention", record_id, fields))
    for start in range(0, len(ops), 400):
        statuses = await device.statuses(*ops[start : start + 400])
        assert set(statuses) == {"applied"}, Counter(statuses)
    decisions = (
        Decision(3, 2.0),
        Decision(4, 3.0),
        Decision(3, 0.0, ("Restorative circle",)),
        None,
    )
    clock = ServerClock("summaries-test")
    for index, record_id in enumerate(sorted(pushed.referrals)):
        decision = decisions[index % len(decisions)]
        if decision is not None:
            decide_referral(engine, None, record_id, decision, clock)
        pushed.referrals[record_id]["decision"] = decision
    voided = sorted(pushed.referrals)[-1]
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
    void = device.op("office_referral", voided, {"voided_at": stamp, "void_reason": "wrong"})
    assert await device.statuses(void) == ["applied"]
    del pushed.referrals[voided]
    return pushed


def report(engine: sa.Engine, name: str, scope: str | None = None, **filters: Any) -> SummaryReport:
    selection = SummaryFilters(date_from=FIRST, date_to=LAST, **filters)
    return run_report(engine, name, selection, scope)


def section(result: SummaryReport, name: str, column: str) -> dict[str, Any]:
    return {row["key"]: row[column] for row in result.section(name)}


def local(fields: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(fields["occurred_at"]).astimezone(ZONE)


def check_big5(engine: sa.Engine, pushed: Pushed) -> None:
    counted = pushed.counted()
    result = report(engine, "big5", SCHOOL_1)
    assert section(result, "total", "incidents") == {"all": len(counted)}

    def with_incidents(name: str) -> dict[str, int]:
        """A section's incident counts; a row with none is there for its office referrals."""
        rows = result.section(name)
        assert all(row["incidents"] or row["office_referrals"] for row in rows)
        return {row["key"]: row["incidents"] for row in rows if row["incidents"]}

    assert with_incidents("behavior") == Counter(f["behavior_code"] for f in counted)
    assert with_incidents("location") == Counter(f["location"] for f in counted)
    hours = Counter(f"{local(f).hour:02d}" for f in counted)
    assert with_incidents("hour") == hours
    weekdays = Counter(str(local(f).weekday()) for f in counted)
    assert {k: v for k, v in section(result, "weekday", "incidents").items() if v} == weekdays
    months = Counter(f"{local(f):%Y-%m}" for f in counted)
    assert section(result, "month", "incidents") == months
    school_days = sum(
        1
        for offset in range((LAST - FIRST).days + 1)
        if (FIRST + timedelta(days=offset)).weekday() < 5
    )
    assert section(result, "total", "school_days") == {"all": school_days}
    per_student = Counter(f["student_id"] for f in counted)
    enrolled = 6 + EXTRA_STUDENTS
    tiers = Counter(
        "0-1" if n <= 1 else "2-5" if n <= 5 else "6+"
        for n in (per_student.get(s, 0) for s in pushed.groups)
    )
    assert section(result, "tier", "students") == {t: tiers[t] for t in ("0-1", "2-5", "6+")}
    assert section(result, "total", "students") == {"all": enrolled}
    top = section(result, "student", "incidents")
    ranked = sorted(per_student.items(), key=lambda item: (-item[1], item[0]))
    assert top == dict(ranked[:50])
    referrals = list(pushed.referrals.values())
    assert section(result, "total", "office_referrals") == {"all": len(referrals)}

    def nonzero(name: str) -> dict[str, int]:
        return {k: v for k, v in section(result, name, "office_referrals").items() if v}

    assert nonzero("month") == Counter(f"{local(f):%Y-%m}" for f in referrals)
    assert nonzero("behavior") == Counter(f["behavior_code"] for f in referrals)
    assert nonzero("location") == Counter(f["location"] for f in referrals)
    assert nonzero("hour") == Counter(f"{local(f).hour:02d}" for f in referrals)
    assert nonzero("weekday") == Counter(str(local(f).weekday()) for f in referrals)
    assert any("Office referrals (what SWIS calls major referrals)" in n for n in result.notes)


def check_levels(engine: sa.Engine, pushed: Pushed) -> None:
    counted = pushed.counted()
    result = report(engine, "levels", SCHOOL_1)
    values = {(row["section"], row["key"]): row["value"] for row in result.rows}
    assert values[("level2", "incidents")] == len(counted)
    assert values[("removal", "count")] == sum("removal" in f["actions"] for f in counted)
    assert values[("iss", "count")] == sum("iss" in f["actions"] for f in counted)
    assert values[("iss", "days")] == 0.5 * sum("iss" in f["actions"] for f in counted)
    live_voided = pushed.voided - pushed.withdrawn
    assert values[("voided", "count")] == len(live_voided)
    assert values[("withdrawn", "count")] == len(pushed.withdrawn)
    decisions = [f["decision"] for f in pushed.referrals.values()]
    decided = [d for d in decisions if d is not None]
    assert values[("office_referral", "count")] == len(decisions)
    assert values[("office_referral", "awaiting")] == decisions.count(None)
    for level in (3, 4, 5):
        assert values[("office_decision", f"level{level}")] == sum(
            d.level == level for d in decided
        )
    assert values[("office_decision", "oss")] == sum(d.oss_days > 0 for d in decided)
    assert values[("office_decision", "oss_days")] == sum(d.oss_days for d in decided)
    assert values[("office_decision", "alternatives")] == sum(bool(d.alternatives) for d in decided)
    at_4 = report(engine, "levels", SCHOOL_1, level=4)
    values_4 = {(row["section"], row["key"]): row["value"] for row in at_4.rows}
    assert values_4[("office_referral", "count")] == sum(d.level == 4 for d in decided)
    assert values_4[("level2", "incidents")] == 0


def check_tab(engine: sa.Engine, pushed: Pushed) -> None:
    result = report(engine, "tab", SCHOOL_1)
    tabs = list(pushed.tabs.values())
    assert section(result, "total", "events") == {"all": len(tabs)}
    assert {k: v for k, v in section(result, "kind", "events").items() if v} == Counter(
        t["kind"] for t in tabs
    )
    assert {k: v for k, v in section(result, "started_by", "events").items() if v} == Counter(
        t["started_by"] for t in tabs
    )
    minutes = [
        (
            datetime.fromisoformat(t["ended_at"]) - datetime.fromisoformat(t["started_at"])
        ).total_seconds()
        / 60
        for t in tabs
    ]
    assert section(result, "total", "minutes_total") == {"all": round(sum(minutes), 1)}
    ready = sum(t["returned_ready"] is True for t in tabs)
    assert section(result, "returned_ready", "events")["yes"] == ready
    for row in result.section("group"):
        if not row["suppressed"]:
            assert row["enrolled"] >= 30
            assert row["students"] >= 10
    iep_out = {
        t["student_id"]
        for t in tabs
        if t["kind"] in ("out", "out_and_back") and pushed.groups[t["student_id"]]["iep"] == "yes"
    }
    assert set(section(result, "iep_tab_out", "events")) == iep_out


def check_follow_ups(engine: sa.Engine, pushed: Pushed) -> None:
    counted_ids = {
        record_id
        for record_id in pushed.incidents
        if record_id not in pushed.voided and record_id not in pushed.withdrawn
    }
    mine = [f for f in pushed.follow_ups.values() if f["incident_id"] in counted_ids]
    result = report(engine, "follow-ups", SCHOOL_1)
    total = section(result, "total", "total")["all"]
    done = section(result, "total", "done")["all"]
    assert total == len(mine)
    assert done == sum("done_at" in f for f in mine)
    assert section(result, "total", "open") == {"all": total - done}


def check_progression(engine: sa.Engine, pushed: Pushed) -> None:
    counted = pushed.counted()
    result = report(engine, "progression", SCHOOL_1)
    pairs = Counter((f["student_id"], f["behavior_code"]) for f in counted)
    repeats = {f"{s}/{b}": n for (s, b), n in pairs.items() if n >= 2}
    assert section(result, "repeat", "incidents") == repeats
    recorded = Counter((f["student_id"], f["behavior_code"]) for f in pushed.interventions.values())
    assert section(result, "repeat", "interventions") == {
        key: recorded[tuple(key.split("/"))] + recorded[(key.split("/")[0], None)]
        for key in repeats
    }
    assert any(recorded[pair] for pair in recorded if f"{pair[0]}/{pair[1]}" in repeats)
    bypasses = Counter(f["behavior_code"] for f in counted if f.get("progression_bypassed"))
    assert section(result, "bypass", "bypasses") == {
        f"{SCHOOL_1}/{code}": count for code, count in bypasses.items()
    }


def expected_equity(pushed: Pushed) -> dict[str, set[str]]:
    counted = pushed.counted()
    outcomes: dict[str, set[str]] = {
        "any_level2": {f["student_id"] for f in counted},
        "removal": {f["student_id"] for f in counted if "removal" in f["actions"]},
        "iss": {f["student_id"] for f in counted if "iss" in f["actions"]},
        "tab_out": {t["student_id"] for t in pushed.tabs.values() if t["kind"] != "spot"},
        "office_referral": {f["student_id"] for f in pushed.referrals.values()},
    }
    return outcomes


def check_equity(engine: sa.Engine, pushed: Pushed) -> None:
    result = report(engine, "equity", SCHOOL_1)
    outcomes = expected_equity(pushed)
    thresholds = Thresholds(10, 30)
    shown = {row["outcome"] for row in result.rows}
    assert shown == set(outcomes)
    assert "office_referral" in shown
    for dimension in ("race", "sex", "iep", "grade"):
        members: dict[str, set[str]] = {}
        for student, groups in pushed.groups.items():
            members.setdefault(groups[dimension], set()).add(student)
        enrolled = {group: len(ids) for group, ids in members.items()}
        numerators = {
            outcome: {group: len(ids & students) for group, ids in members.items()}
            for outcome, students in outcomes.items()
        }
        rows = [row for row in result.rows if row["dimension"] == dimension]
        assert {row["group"] for row in rows} == set(members)
        for row in rows:
            group, outcome = row["group"], row["outcome"]
            if row["suppressed"]:
                assert row["enrolled"] is row["with_outcome"] is row["risk"] is None
                assert row["risk_ratio"] is None
                assert row["reason"]
                continue
            assert row["enrolled"] == enrolled[group] >= 30
            assert row["with_outcome"] == numerators[outcome][group] >= 10
            total_with = len(outcomes[outcome])
            risk = numerators[outcome][group] / enrolled[group]
            others = (total_with - numerators[outcome][group]) / (
                len(pushed.groups) - enrolled[group]
            )
            assert row["risk"] == round(risk, 4)
            assert row["risk_ratio"] == (round(risk / others, 2) if others else None)
            assert row["composition_outcome"] == round(numerators[outcome][group] / total_with, 4)
        check_nothing_derivable(Table(enrolled, numerators, thresholds))
        hidden = {(row["outcome"], row["group"]) for row in rows if row["suppressed"]}
        from district.summaries.suppression import suppress_table

        decided = suppress_table(list(enrolled), enrolled, numerators, thresholds)
        assert hidden == {
            (outcome, group) for outcome, cells in decided.hidden.items() for group in cells
        }
    totals = {row["outcome"]: row for row in result.rows if row["dimension"] == "all"}
    for outcome, students in outcomes.items():
        if len(students) >= 10:
            assert totals[outcome]["with_outcome"] == len(students)
            assert totals[outcome]["enrolled"] == len(pushed.groups)
    assert result.suppression.suppressed_cells == sum(row["suppressed"] for row in result.rows)


def check_every_report(engine: sa.Engine, pushed: Pushed) -> None:
    check_big5(engine, pushed)
    check_levels(engine, pushed)
    check_tab(engine, pushed)
    check_follow_ups(engine, pushed)
    check_progression(engine, pushed)
    check_equity(engine, pushed)


def check_a_race_group_hides_single_students_and_small_tiers(
    engine: sa.Engine, pushed: Pushed
) -> None:
    white = {student for student, groups in pushed.groups.items() if groups["race"] == "white"}
    counted = [f for f in pushed.counted() if f["student_id"] in white]
    result = report(engine, "big5", SCHOOL_1, group="race:white")
    assert section(result, "total", "incidents") == {"all": len(counted)}
    assert section(result, "total", "students") == {"all": len(white)}
    assert not result.section("student")
    per_student = Counter(f["student_id"] for f in counted)
    tiers = Counter(
        "0-1" if n <= 1 else "2-5" if n <= 5 else "6+"
        for n in (per_student.get(student, 0) for student in white)
    )
    shown = section(result, "tier", "students")
    if any(tiers[tier] < 10 for tier in ("0-1", "2-5", "6+")):
        assert set(shown.values()) == {None}
    else:
        assert shown == {tier: tiers[tier] for tier in ("0-1", "2-5", "6+")}
    small = report(engine, "equity", SCHOOL_1, group="race:asian")
    assert not small.rows
    assert any("fewer than 30 students" in note for note in small.notes)


async def test_every_report_matches_numbers_computed_from_the_pushed_records(
    fleet: Fleet, engine: sa.Engine, tmp_path: Path
) -> None:
    pushed = await push_school_year(fleet, engine, tmp_path)
    check_every_report(engine, pushed)
    device = fleet.mobile_1
    victims = sorted(pushed.incidents)[:6]
    for record_id in victims[:3]:
        voided_at = datetime.now(UTC).isoformat(timespec="milliseconds")
        assert await device.statuses(
            device.op("incident", record_id, {"voided_at": voided_at, "void_reason": "wrong"})
        ) == ["applied"]
        pushed.voided.add(record_id)
    for record_id in victims[3:]:
        assert await device.statuses(device.op("incident", record_id, op="retract")) == ["applied"]
        pushed.withdrawn.add(record_id)
    check_every_report(engine, pushed)
    for record_id in victims:
        listing = list_records(
            engine, SummaryFilters(date_from=FIRST, date_to=LAST), SCHOOL_1, limit=1000
        )
        assert record_id not in {row["id"] for row in listing.rows}
    check_a_race_group_hides_single_students_and_small_tiers(engine, pushed)
    other = report(engine, "big5", None, school_id=SCHOOL_2)
    assert section(other, "total", "incidents") == {"all": 0}


async def test_level_1_and_take_a_break_are_never_counted_as_discipline(
    fleet: Fleet, engine: sa.Engine
) -> None:
    device = fleet.mobile_1
    when = moment(date(2026, 10, 6), 9)
    refused = await device.statuses(
        device.op(
            "incident",
            "inc-l1",
            incident_fields("st1", device.device_id, level=1, occurred_at=when),
        )
    )
    assert refused == ["rejected"]
    tab = tab_fields("st3", device.device_id, kind="out", started_at=when,
                     ended_at=moment(date(2026, 10, 6), 9, 40), note="removal iss")  # fmt: skip
    assert await device.statuses(device.op("tab", "tab-only", tab)) == ["applied"]
    with engine.begin() as connection:
        row = connection.execute(
            sa.select(tables.incidents).where(tables.incidents.c.id == "inc-l1")
        ).first()
        assert row is None
    for name in ("big5", "levels", "progression"):
        result = report(engine, name, SCHOOL_1)
        assert all(
            not row.get(column)
            for row in result.rows
            for column in ("incidents", "value")
            if row.get("section") not in ("tier",)
        ), name
    equity = report(engine, "equity", SCHOOL_1)
    assert {row["outcome"] for row in equity.rows} >= {"removal", "iss", "tab_out"}
    tab_report = report(engine, "tab", SCHOOL_1)
    assert section(tab_report, "total", "events") == {"all": 1}


async def test_a_level_1_row_that_reached_the_table_anyway_is_not_counted(
    fleet: Fleet, engine: sa.Engine
) -> None:
    device = fleet.mobile_1
    when = moment(date(2026, 10, 6), 9)
    fields = incident_fields(
        "st1", device.device_id, occurred_at=when, actions=["removal"], removal_minutes=15
    )
    assert await device.statuses(device.op("incident", "inc-l2", fields)) == ["applied"]
    with engine.begin() as connection:
        row = dict(
            connection.execute(sa.select(tables.incidents).where(tables.incidents.c.id == "inc-l2"))
            .mappings()
            .one()
        )
        row.update(id="inc-l1-leak", level=1, cursor=row["cursor"] + 1000)
        connection.execute(sa.insert(tables.incidents).values(**row))
    result = report(engine, "levels", SCHOOL_1)
    values = {(row["section"], row["key"]): row["value"] for row in result.rows}
    assert values[("level2", "incidents")] == 1
    assert values[("removal", "count")] == 1
    listing = list_records(engine, SummaryFilters(date_from=FIRST, date_to=LAST), SCHOOL_1)
    assert [row["id"] for row in listing.rows] == ["inc-l2"]


async def test_summary_endpoints_check_scope_and_filters(
    fleet: Fleet, http: httpx.AsyncClient
) -> None:
    admin, district = fleet.admin_1.headers, fleet.district_admin.headers
    ok = await http.get("/v1/summaries/big5", params={"from": "2026-09-01"}, headers=admin)
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert set(body) >= {"report", "filters", "generated_at", "suppression", "rows", "notes"}
    assert body["scope"] == SCHOOL_1
    other = await http.get("/v1/summaries/big5", params={"school": SCHOOL_2}, headers=admin)
    assert other.status_code == 403
    for params, message in (
        ({"school": "no-such-school"}, "unknown school 'no-such-school'"),
        ({"from": "2026-10-02", "to": "2026-10-01"}, "is after to"),
        ({"level": "1"}, "Level 1 never reaches the district server"),
        ({"group": "race:martian"}, "unknown race/ethnicity"),
    ):
        response = await http.get("/v1/summaries/equity", params=params, headers=district)
        assert response.status_code == 422, (params, response.text)
        assert message in response.json()["detail"]
    for day in ("0", "0.0", "1764547200", "2026-9-1"):
        response = await http.get("/v1/summaries/big5", params={"from": day}, headers=district)
        assert response.status_code == 422, (day, response.text)
    unknown = await http.get("/v1/summaries/behaviour", headers=district)
    assert unknown.status_code == 422
    csv_response = await http.get(
        "/v1/summaries/equity", params={"format": "csv"}, headers=district
    )
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert csv_response.text.splitlines()[0].startswith("section,outcome,dimension,group")
    records = await http.get(
        "/v1/summaries/records", params={"group": "race:white"}, headers=district
    )
    assert records.status_code == 422


async def test_summary_command_prints_the_same_numbers_and_refuses_bad_filters(
    fleet: Fleet, engine: sa.Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from district.__main__ import main

    device = fleet.mobile_1
    for number in range(3):
        when = moment(date(2026, 10, 5 + number), 9)
        fields = incident_fields("st1", device.device_id, occurred_at=when, location="Hallway")
        assert await device.statuses(device.op("incident", f"cli-{number}", fields)) == ["applied"]
    base = ["district", "summary", "big5", "--db", database_url, "--school", SCHOOL_1,
            "--from", FIRST.isoformat(), "--to", LAST.isoformat()]  # fmt: skip
    assert main([*base, "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = report(engine, "big5", SCHOOL_1)
    assert printed["rows"] == expected.model_dump(mode="json")["rows"]
    assert section(expected, "location", "incidents") == {"Hallway": 3}
    assert main(base) == 0
    table = capsys.readouterr().out
    assert "[location]" in table
    assert "Hallway" in table
    assert "Note: Office referrals (what SWIS calls major referrals) are counted" in table
    assert main([*base, "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("section,key,label,incidents")
    for argv, message in (
        (["--from", "2026-10-02", "--to", "2026-10-01"], "is after --to (2026-10-01)"),
        (["--school", "nowhere"], "unknown school 'nowhere'"),
        (["--level", "1"], "Level 1 never reaches the district server"),
        (["--group", "iep:perhaps"], "--group: iep group is yes or no"),
        (["--from", "yesterday"], "--from must be a date like"),
    ):
        status = main(["district", "summary", "equity", "--db", database_url, *argv])
        err = capsys.readouterr().err
        assert status == 2, argv
        assert message in err, (argv, err)
        assert len(err.strip().splitlines()) == 1
