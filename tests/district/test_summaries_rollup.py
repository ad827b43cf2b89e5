"""The counts kept on write for the summaries stay exact: after voids, corrections, a record
moved to another day, month and student, retractions and Take a Break changes pushed through the
real app (SQLite and PostgreSQL), the kept counts equal counts computed again from the records,
and every report read from them equals the same report read from the records."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from serverkit import SCHOOL_1, SCHOOL_2, Fleet
from test_summaries_reports import FIRST, LAST, push_school_year

from district import tables
from district.db import read_school_year_start, write_transaction
from district.summaries import REPORTS, rolled, rollup, run_report
from district.summaries.context import resolve
from schema.contract import MAX_SHORT_TEXT_CHARS
from schema.schoolyear import school_year_for
from schema.summaries import SummaryFilters


def kept(engine: sa.Engine) -> dict[str, set[tuple[Any, ...]]]:
    """Every kept table's rows, those that count something (a row can fall back to all
    zeros)."""
    found: dict[str, set[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for table, _, _ in rollup.TABLES.values():
            sums = [column for column in table.c if not column.primary_key]
            found[table.name] = {
                tuple(row)
                for row in connection.execute(sa.select(table))
                if any(row._mapping[column.name] for column in sums)
            }
    return found


def rebuilt(engine: sa.Engine) -> dict[str, set[tuple[Any, ...]]]:
    with write_transaction(engine) as tx:
        rollup.rebuild(tx.connection)
    return kept(engine)


def from_records(monkeypatch: pytest.MonkeyPatch, engine: sa.Engine, *args: Any) -> Any:
    with monkeypatch.context() as patch:
        patch.setattr(rolled, "usable", lambda context, **_: False)
        return run_report(engine, *args, now=NOW)


NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
PERIODS = (
    SummaryFilters(date_from=FIRST, date_to=LAST),
    SummaryFilters(date_from=date(2026, 10, 1), date_to=date(2026, 10, 31)),
    SummaryFilters(date_from=date(2026, 7, 1), date_to=date(2027, 6, 30)),
)


def school_year(engine: sa.Engine) -> SummaryFilters:
    """The filters of the school year the records fall in, as the district config sets it."""
    with engine.connect() as connection:
        year = school_year_for(FIRST, read_school_year_start(connection))
    return SummaryFilters(date_from=year.start, date_to=year.end - timedelta(days=1))


def latest_day(engine: sa.Engine) -> date:
    """The day of the latest stored incident or Take a Break."""
    with engine.connect() as connection:
        return max(
            connection.execute(sa.select(sa.func.max(table.c.local_date))).scalar_one()
            for table in (tables.incidents, tables.tab_events)
        )


def so_far(engine: sa.Engine) -> tuple[SummaryFilters, ...]:
    """Periods that end inside a month, as a dashboard's "this month" and "school year so far"
    do: through two days after the latest record (the kept counts answer them, run on to the
    end of the month or of the school year), and through the day before the latest record (they
    do not: the records answer)."""
    year, latest = school_year(engine), latest_day(engine)
    assert latest.day > 1, "the records' last month holds more than its first day"
    periods = []
    for last in (latest + timedelta(days=2), latest - timedelta(days=1)):
        periods += [
            SummaryFilters(date_from=last.replace(day=1), date_to=last),
            SummaryFilters(date_from=year.date_from, date_to=last),
        ]
    return tuple(periods)


def check_reports_agree(monkeypatch: pytest.MonkeyPatch, engine: sa.Engine) -> None:
    year = school_year(engine)
    latest = latest_day(engine)
    with engine.connect() as connection:
        context = resolve(connection, year, None, NOW)
        assert rolled.usable(context, per_behavior=True)
        for filters in so_far(engine):
            context = resolve(connection, filters, None, NOW)
            whole_year = filters.date_from == year.date_from
            quiet = filters.date_to > latest
            assert rolled.usable(context) == quiet, filters
            assert rolled.usable(context, per_behavior=True) == (quiet and whole_year), filters
    for filters in (*PERIODS, year, *so_far(engine)):
        for scope in (None, SCHOOL_1, SCHOOL_2):
            for name in REPORTS:
                chosen = filters.model_copy(update={"school_id": scope})
                fast = run_report(engine, name, chosen, now=NOW)
                slow = from_records(monkeypatch, engine, name, chosen)
                assert fast.rows == slow.rows, (name, scope, filters)
                assert fast.notes == slow.notes


async def test_kept_counts_stay_exact_through_every_kind_of_change(
    fleet: Fleet, engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pushed = await push_school_year(fleet, engine, tmp_path)
    device = fleet.mobile_1
    with engine.connect() as connection:
        assert connection.execute(
            sa.select(sa.func.count()).select_from(tables.rollup_students)
        ).scalar_one()
    assert kept(engine) == rebuilt(engine)
    check_reports_agree(monkeypatch, engine)

    rng = random.Random(3)
    ids = sorted(pushed.incidents)
    rng.shuffle(ids)
    students = sorted(pushed.groups)
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
    changes = [
        *(
            device.op("incident", record_id, {"voided_at": stamp, "void_reason": "wrong"})
            for record_id in ids[:4]
        ),
        device.op("incident", ids[4], {"behavior_code": "DIS-HALL", "location": "Gym"}),
        device.op("incident", ids[5], {"occurred_at": "2026-10-14T15:20:00-05:00"}),
        device.op("incident", ids[6], {"occurred_at": "2026-11-03T08:05:00-06:00"}),
        device.op("incident", ids[7], {"student_id": students[-1]}),
        device.op("incident", ids[8], {"location": None}),
        # as long as the contract allows, two sharing more than the old key's 255 characters
        device.op("incident", ids[13], {"location": "L" * MAX_SHORT_TEXT_CHARS}),
        device.op("incident", ids[14], {"location": "L" * (MAX_SHORT_TEXT_CHARS - 1) + "M"}),
        *(device.op("incident", record_id, op="retract") for record_id in ids[9:12]),
    ]
    tab_ids = sorted(pushed.tabs)
    changes += [
        device.op("tab", tab_ids[0], {"kind": "out"}),
        device.op("tab", tab_ids[3], {"returned_ready": None, "started_by": "teacher"}),
        device.op("tab", tab_ids[4], {"student_id": students[0]}),
        device.op("tab", tab_ids[1], {"voided_at": stamp, "void_reason": "wrong"}),
        device.op("tab", tab_ids[2], op="retract"),
    ]
    statuses = await device.statuses(*changes)
    assert set(statuses) == {"applied"}, statuses
    # a void and a correction of the same record in one push, and a re-void (no change)
    both = [
        device.op("incident", ids[12], {"behavior_code": "PHYS-CONTACT"}),
        device.op("incident", ids[12], {"voided_at": stamp, "void_reason": "wrong"}),
        device.op("incident", ids[0], {"voided_at": stamp, "void_reason": "again"}),
    ]
    assert set(await device.statuses(*both)) <= {"applied", "superseded"}
    assert kept(engine) == rebuilt(engine)
    check_reports_agree(monkeypatch, engine)
