"""The follow-ups summary from the counts kept on write: after follow-ups are done, reopened,
voided, retracted or given another due date, and after their incident is voided, moved to another
month, another student or another school, or retracted (each pushed through the real app, on
SQLite and PostgreSQL), the kept counts equal counts computed again from the records, the report
read from them equals the report read from the records at several moments around today's due
follow-ups, and both equal numbers computed here from what the test pushed."""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from serverkit import SCHOOL_1, SCHOOL_2, DeviceClient, Fleet
from test_summaries_reports import FIRST, LAST, ZONE, push_school_year
from test_summaries_rollup import kept, rebuilt, school_year, so_far

from district.db import write_transaction
from district.summaries import rolled, rollup, run_report
from schema.summaries import SummaryFilters

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
MOMENTS = (NOW, NOW.replace(hour=0), NOW - timedelta(hours=13), NOW + timedelta(hours=11))
"""Now, the start of today (UTC), yesterday evening and late today: which open follow-ups are
overdue differs between them, and today's come from the records."""
KINDS = ("family_contact", "corrective_feedback", "student_version", "repair_plan")
DUE = (
    None,
    NOW - timedelta(days=3),
    NOW.replace(hour=0),
    NOW - timedelta(hours=2),
    NOW - timedelta(hours=12, milliseconds=1),
    NOW + timedelta(hours=2),
    NOW + timedelta(days=2),
)
"""Due moments of the open follow-ups: none, days ago, the very start of today, earlier today,
the last moment of yesterday, later today, days ahead."""


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


@dataclass
class Model:
    """What the test pushed, kept by hand: incidents, follow-ups and students' schools."""

    incidents: dict[str, dict[str, Any]] = field(default_factory=dict)
    follow_ups: dict[str, dict[str, Any]] = field(default_factory=dict)
    schools: dict[str, str] = field(default_factory=dict)

    def counted(
        self, follow_up: dict[str, Any], first: date, last: date, scope: str | None
    ) -> bool:
        incident = self.incidents.get(follow_up["incident_id"])
        if not follow_up["live"] or follow_up.get("voided_at") or incident is None:
            return False
        if not incident["live"] or incident.get("voided_at"):
            return False
        day = datetime.fromisoformat(incident["occurred_at"]).astimezone(ZONE).date()
        school = self.schools[incident["student_id"]]
        return first <= day <= last and scope in (None, school)

    def expected(
        self, first: date, last: date, scope: str | None, now: datetime
    ) -> dict[str, tuple[Any, ...]]:
        """Per kind and ``all``: (total, open, overdue, done, median days to done)."""
        chosen = [f for f in self.follow_ups.values() if self.counted(f, first, last, scope)]
        found: dict[str, tuple[Any, ...]] = {}
        for key in ("all", *KINDS):
            mine = [f for f in chosen if key in ("all", f["kind"])]
            if not mine and key != "all":
                continue
            done = [f for f in mine if f.get("done_at")]
            late = [
                f
                for f in mine
                if not f.get("done_at")
                and f.get("due_at")
                and datetime.fromisoformat(f["due_at"]) < now
            ]
            minutes = [
                max(
                    int(
                        (
                            datetime.fromisoformat(f["done_at"])
                            - datetime.fromisoformat(f["created_at"])
                        ).total_seconds()
                        // 60
                    ),
                    0,
                )
                for f in done
            ]
            median = round(statistics.median(minutes) / 1440, 2) if minutes else None
            found[key] = (len(mine), len(mine) - len(done), len(late), len(done), median)
        return found


def report_numbers(report: Any) -> dict[str, tuple[Any, ...]]:
    return {
        row["key"]: (
            row["total"],
            row["open"],
            row["overdue"],
            row["done"],
            row["median_days_to_done"],
        )
        for row in report.rows
    }


def check(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch, model: Model) -> None:
    assert kept(engine) == rebuilt(engine)
    year = school_year(engine)
    periods = (
        SummaryFilters(date_from=FIRST, date_to=LAST),
        SummaryFilters(date_from=date(2026, 10, 1), date_to=date(2026, 10, 31)),
        year,
        *so_far(engine),
    )
    for filters in periods:
        for scope in (None, SCHOOL_1, SCHOOL_2):
            chosen = filters.model_copy(update={"school_id": scope})
            for now in MOMENTS:
                fast = run_report(engine, "follow-ups", chosen, now=now)
                with monkeypatch.context() as patch:
                    patch.setattr(rolled, "usable", lambda context, **_: False)
                    slow = run_report(engine, "follow-ups", chosen, now=now)
                assert fast.rows == slow.rows, (scope, filters, now)
                assert fast.notes == slow.notes
                first, last = chosen.date_from, chosen.date_to
                assert first is not None
                assert last is not None
                assert report_numbers(fast) == model.expected(first, last, scope, now), (
                    scope,
                    filters,
                    now,
                )


async def push(device: DeviceClient, *ops: dict[str, Any]) -> None:
    statuses = await device.statuses(*ops)
    assert set(statuses) == {"applied"}, statuses


async def test_follow_up_counts_stay_exact_through_every_kind_of_change(
    fleet: Fleet, engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pushed = await push_school_year(fleet, engine, tmp_path)
    device = fleet.mobile_1
    model = Model(schools=dict.fromkeys(pushed.groups, SCHOOL_1))
    model.schools.update({"st7": SCHOOL_2, "st8": SCHOOL_2})
    for record_id, fields in pushed.incidents.items():
        model.incidents[record_id] = {**fields, "live": True}
    for record_id, fields in pushed.follow_ups.items():
        model.follow_ups[record_id] = {**fields, "live": True}

    rng = random.Random(5)
    ids = sorted(pushed.incidents)
    ops = []
    for number, incident_id in enumerate(rng.sample(ids, 60)):
        created = datetime.fromisoformat(pushed.incidents[incident_id]["occurred_at"])
        created += timedelta(seconds=rng.randrange(0, 600))
        fields: dict[str, Any] = {
            "incident_id": incident_id,
            "kind": KINDS[number % len(KINDS)],
            "created_at": iso(created),
            "note": "",
        }
        if number % 3:
            due = DUE[number % len(DUE)]
            fields["due_at"] = None if due is None else iso(due)
        else:
            # done after whole and part minutes, hours and days, or (a skewed clock) before
            # it was created: counted as 0
            after = timedelta(seconds=rng.choice((59, 60, 61, 3599, 3600, 90_061, -30)))
            fields["done_at"] = iso(created + after * rng.randrange(1, 4))
            fields["done_by"] = "m1"
        record_id = f"fx-{number:03d}"
        model.follow_ups[record_id] = {**fields, "live": True}
        ops.append(device.op("follow_up", record_id, fields))
    await push(device, *ops)
    check(engine, monkeypatch, model)

    def with_follow_ups(*, done: bool | None = None) -> list[str]:
        """Counted incidents that have live follow-ups (done ones, open ones or any)."""
        found = {
            f["incident_id"]
            for f in model.follow_ups.values()
            if f["live"] and (done is None or bool(f.get("done_at")) == done)
        }
        return sorted(
            i
            for i in found
            if model.incidents[i]["live"] and not model.incidents[i].get("voided_at")
        )

    def open_ones() -> list[str]:
        return sorted(k for k, f in model.follow_ups.items() if f["live"] and not f.get("done_at"))

    def done_ones() -> list[str]:
        return sorted(k for k, f in model.follow_ups.items() if f["live"] and f.get("done_at"))

    def change(kind: str, record_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        target = model.incidents if kind == "incident" else model.follow_ups
        target[record_id].update(fields)
        return device.op(kind, record_id, fields)

    def retract(kind: str, record_id: str) -> dict[str, Any]:
        if kind == "incident":
            model.incidents[record_id]["live"] = False
            for follow_up in model.follow_ups.values():
                if follow_up["incident_id"] == record_id:
                    follow_up["live"] = False
        else:
            model.follow_ups[record_id]["live"] = False
        return device.op(kind, record_id, op="retract")

    stamp = iso(datetime.now(UTC))
    opened, finished = open_ones(), done_ones()
    incidents = with_follow_ups()
    rng.shuffle(incidents)
    students = sorted(student for student in pushed.groups if student.startswith("x"))
    done_at = datetime.fromisoformat(model.follow_ups[opened[0]]["created_at"])
    current = model.incidents[incidents[3]]["student_id"]
    other_student = next(student for student in reversed(students) if student != current)
    await push(
        device,
        change(
            "follow_up",
            opened[0],
            {"done_at": iso(done_at + timedelta(minutes=95)), "done_by": "m1"},
        ),
        change("follow_up", finished[0], {"done_at": None, "done_by": None}),
        change("follow_up", opened[1], {"due_at": iso(NOW - timedelta(hours=1))}),
        change("follow_up", opened[2], {"due_at": iso(NOW + timedelta(days=4))}),
        change("follow_up", finished[1], {"voided_at": stamp}),
        retract("follow_up", opened[3]),
        change("incident", incidents[0], {"voided_at": stamp, "void_reason": "wrong"}),
        change("incident", incidents[1], {"occurred_at": "2026-10-14T15:20:00-05:00"}),
        change("incident", incidents[2], {"occurred_at": "2026-12-03T09:20:00-06:00"}),
        change("incident", incidents[3], {"student_id": other_student}),
        retract("incident", incidents[4]),
    )
    check(engine, monkeypatch, model)

    # to another school: the follow-ups move with their incident (a district-wide device, which
    # may change only records it wrote)
    admin = fleet.district_admin
    far = dict(pushed.incidents[incidents[5]])
    far.update(device_id=admin.device_id, occurred_at="2026-10-20T09:00:00-05:00")
    far_follow_ups = {
        "fx-far-1": {"incident_id": "inc-far", "kind": "family_contact", "note": "",
                     "created_at": "2026-10-20T14:03:00+00:00",
                     "done_at": "2026-10-21T14:02:59+00:00", "done_by": "a1"},
        "fx-far-2": {"incident_id": "inc-far", "kind": "corrective_feedback", "note": "",
                     "created_at": "2026-10-20T14:03:00+00:00",
                     "due_at": iso(NOW - timedelta(hours=3))},
    }  # fmt: skip
    model.incidents["inc-far"] = {**far, "live": True}
    for record_id, fields in far_follow_ups.items():
        model.follow_ups[record_id] = {**fields, "live": True}
    await push(
        admin,
        admin.op("incident", "inc-far", far),
        *(admin.op("follow_up", record_id, fields) for record_id, fields in far_follow_ups.items()),
    )
    check(engine, monkeypatch, model)
    model.incidents["inc-far"]["student_id"] = "st7"
    await push(admin, admin.op("incident", "inc-far", {"student_id": "st7"}))
    check(engine, monkeypatch, model)

    # several changes to one incident and its follow-ups in one push, a new incident among them
    fresh = dict(pushed.incidents[incidents[6]])
    fresh["occurred_at"] = fresh["created_at"] = fresh["updated_at"] = "2026-09-22T10:00:00-05:00"
    model.incidents["inc-new"] = {**fresh, "live": True}
    follow = {"incident_id": "inc-new", "kind": "repair_plan", "note": "",
              "created_at": "2026-09-22T15:10:00+00:00",
              "done_at": "2026-09-24T08:00:30+00:00", "done_by": "m1"}  # fmt: skip
    model.follow_ups["fx-new"] = {**follow, "live": True}
    finished = done_ones()
    voided_with = model.follow_ups[finished[2]]["incident_id"]
    await push(
        device,
        device.op("incident", "inc-new", fresh),
        device.op("follow_up", "fx-new", follow),
        change("incident", "inc-new", {"occurred_at": "2026-11-05T10:00:00-06:00"}),
        change("follow_up", finished[2], {"done_at": None, "done_by": None}),
        change("incident", voided_with, {"voided_at": stamp, "void_reason": "wrong"}),
        change("incident", incidents[1], {"occurred_at": "2026-09-30T23:30:00-05:00"}),
        change("follow_up", open_ones()[0], {"done_at": "2026-12-01T11:00:00+00:00"}),
    )
    check(engine, monkeypatch, model)

    # a rebuild that writes its sums every few rows while it still reads the records (as it
    # does every 200,000 over a large district) counts the same
    before = kept(engine)
    with write_transaction(engine) as tx:
        rollup.rebuild(tx.connection, chunk=1)
    assert kept(engine) == before
