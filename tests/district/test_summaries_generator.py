"""The synthetic district generator writes what the server itself would store for the same
records, so benchmarks and demos measure real rows; and a small generated district reports."""

from __future__ import annotations

import random
import sys
from datetime import date
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from make_district import Maker, Params, World, make_district, school_days, write_roster

from district import tables
from district.db import create_engine, migrate
from district.records import stored_columns
from district.summaries import REPORTS, run_report
from schema.summaries import SummaryFilters


def test_generated_rows_equal_the_servers_own_storage_of_the_same_records(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'district.db'}")
    migrate(engine)
    params = Params(incidents=300, schools=2, students_per_school=40, year_start=2025)
    rng = random.Random(3)
    world = World()
    world.days, world.day_weights, world.non_school = school_days(params)
    write_roster(engine, params, rng, world)
    maker = Maker(world, params, rng)
    kinds: set[str] = set()
    tombstones = 0
    for _ in range(400):
        for made in maker.incident():
            kinds.add(made.kind)
            tombstones += made.tombstone
            generated = made.columns(cursor=7)
            expected = stored_columns(made.record(cursor=7))
            generated.pop("id")
            if made.kind == "follow_up":
                assert generated.pop("due_at") is not None
                expected.pop("due_at")
            assert generated == expected, made.kind
    assert kinds == {"incident", "tab", "follow_up"}
    assert tombstones
    engine.dispose()


def test_a_small_generated_district_answers_every_report(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'district.db'}")
    migrate(engine)
    counts = make_district(
        engine, Params(incidents=500, schools=3, students_per_school=60, year_start=2025)
    )
    with engine.connect() as connection:
        incidents = tables.incidents
        live = connection.execute(
            sa.select(sa.func.count()).where(
                incidents.c.tombstone.is_(False), incidents.c.voided_at.is_(None)
            )
        ).scalar_one()
    assert counts["incident"] == 500
    filters = SummaryFilters(date_from=date(2025, 7, 1), date_to=date(2026, 6, 30))
    big5 = run_report(engine, "big5", filters)
    assert big5.section("total")[0]["incidents"] == live
    assert big5.section("total")[0]["students"] == 180
    for report in REPORTS:
        assert run_report(engine, report, filters, "school-002").rows, report
    engine.dispose()
