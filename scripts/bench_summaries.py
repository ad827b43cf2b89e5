"""Benchmark the administrators' summaries and print a Markdown section (DESIGN section 9: every
summary over 1,000,000 incidents, school and district scope, SQLite and PostgreSQL, p95 at most
150 ms).

A synthetic district (scripts/make_district.py: a school year of Level 2 incidents with TABs
and follow-ups beside them) is written into a SQLite file and copied row for row into a
throwaway PostgreSQL cluster on 127.0.0.1 (the same data on both), then each report is run
through ``district.summaries.run_report`` (the code path behind the API, the CLI and the
dashboard) for the whole district and for one school, ``--runs`` times after one warm-up run,
on an idle database.

    python scripts/bench_summaries.py                      # 1,000,000 incidents
    python scripts/bench_summaries.py --quick              # 20,000 incidents, a smoke test
    python scripts/bench_summaries.py --sqlite sqlite:///district.db   # reuse a generated file
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_district import Params, make_district

from district.db import create_engine, migrate
from district.pgcluster import ClusterUnavailable, start_cluster
from district.summaries import REPORTS, run_report
from schema.summaries import SummaryFilters

BUDGET_MS = 150.0
SLOW_SECONDS = 3.0
SLOW_RUNS = 3
"""A report whose warm-up run takes longer than SLOW_SECONDS is timed SLOW_RUNS times only (it
is far outside the budget either way)."""
YEAR = 2025
SCHOOL = "school-001"


def _generate(url: str, params: Params) -> tuple[dict[str, int], float]:
    engine = create_engine(url)
    try:
        migrate(engine)
        started = time.perf_counter()
        counts = make_district(engine, params)
        return counts, time.perf_counter() - started
    finally:
        engine.dispose()


COPIED_TABLES = (
    "orgs", "students", "demographics", "staff", "devices", "incidents", "tab_events",
    "follow_ups", "district_config", "rollup_incidents", "rollup_students", "rollup_tabs",
    "rollup_follow_ups",
)  # fmt: skip


def copy_district(sqlite_url: str, postgres_url: str) -> float:
    """Copy a generated district from SQLite into a fresh PostgreSQL database, row for row
    (COPY, indexes built after), so both databases are measured on the same data."""
    import sqlite3

    import sqlalchemy as sa

    from district import tables

    started = time.perf_counter()
    target = create_engine(postgres_url)
    migrate(target)
    source = sqlite3.connect(sa.make_url(sqlite_url).database or "")
    try:
        with target.begin() as connection:
            connection.exec_driver_sql("SET TIME ZONE 'UTC'")
            connection.execute(sa.delete(tables.district_config))
            chosen = [tables.metadata.tables[name] for name in COPIED_TABLES]
            for table in chosen:
                for index in table.indexes:
                    index.drop(connection)
            raw: Any = connection.connection.driver_connection
            for table in chosen:
                names = [column.name for column in table.columns]
                quoted = ", ".join(f'"{name}"' for name in names)
                rows = source.execute(f"SELECT {quoted} FROM {table.name}")
                with (
                    raw.cursor() as cursor,
                    cursor.copy(f"COPY {table.name} ({quoted}) FROM STDIN") as copy,
                ):
                    for row in rows:
                        copy.write_row(row)
            for table in chosen:
                for index in table.indexes:
                    index.create(connection)
            counter = source.execute("SELECT id, value FROM change_counter").fetchall()
            for row_id, value in counter:
                connection.execute(
                    sa.update(tables.change_counter)
                    .where(tables.change_counter.c.id == row_id)
                    .values(value=value)
                )
        with target.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    finally:
        source.close()
        target.dispose()
    return time.perf_counter() - started


def _measure(url: str, runs: int, reports: list[str]) -> list[tuple[str, str, float, float]]:
    """p50 and p95 in ms per report and scope."""
    engine = create_engine(url)
    filters = SummaryFilters(date_from=date(YEAR, 7, 1), date_to=date(YEAR + 1, 6, 30))
    results = []
    try:
        for report in reports:
            for scope_name, scope in (("district", None), ("school", SCHOOL)):
                started = time.perf_counter()
                run_report(engine, report, filters, scope)
                warm_up = time.perf_counter() - started
                timings = []
                for _ in range(runs if warm_up < SLOW_SECONDS else SLOW_RUNS):
                    started = time.perf_counter()
                    run_report(engine, report, filters, scope)
                    timings.append((time.perf_counter() - started) * 1000)
                timings.sort()
                p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
                results.append((report, scope_name, statistics.median(timings), p95))
    finally:
        engine.dispose()
    return results


def cpu_reference() -> float:
    """Milliseconds a fixed pure-Python loop takes: how fast the (shared) machine runs now, to
    read the figures against (the same loop takes longer when the machine is busy or slowed)."""
    started = time.perf_counter()
    total = 0
    for number in range(3_000_000):
        total += number
    return (time.perf_counter() - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 incidents, 5 runs")
    parser.add_argument("--incidents", type=int, default=None)
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--sqlite", metavar="URL", help="an already generated SQLite district")
    parser.add_argument("--postgres", metavar="URL", help="an already generated PostgreSQL one")
    parser.add_argument(
        "--reports",
        metavar="NAMES",
        help=f"comma-separated, of {', '.join(REPORTS)} (default: all)",
    )
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument(
        "--skip-sqlite",
        action="store_true",
        help="measure PostgreSQL only (still copied from SQLite)",
    )
    args = parser.parse_args()
    reports = args.reports.split(",") if args.reports else list(REPORTS)
    unknown = sorted(set(reports) - set(REPORTS))
    if unknown:
        parser.error(f"unknown report(s): {', '.join(unknown)}")
    incidents = args.incidents or (20_000 if args.quick else 1_000_000)
    runs = args.runs or (5 if args.quick else 20)
    params = Params(incidents=incidents, year_start=YEAR)
    if args.quick:
        params = Params(incidents=incidents, schools=6, students_per_school=400, year_start=YEAR)
    load = os.getloadavg()[0]
    speed_before = cpu_reference()
    rows: list[tuple[str, str, str, float, float]] = []
    made: list[str] = []
    with tempfile.TemporaryDirectory(prefix="classlog-bench-summaries-") as folder:
        sqlite_url = args.sqlite
        if sqlite_url is not None:
            engine = create_engine(sqlite_url)
            migrate(engine)
            engine.dispose()
        else:
            sqlite_url = f"sqlite:///{Path(folder) / 'district.db'}"
            counts, seconds = _generate(sqlite_url, params)
            made.append(f"SQLite: {_describe(counts)} written in {seconds:.0f} s")
        if not args.skip_sqlite:
            rows += [("SQLite", *result) for result in _measure(sqlite_url, runs, reports)]
        if not args.skip_postgres:
            cluster = None
            postgres_url = args.postgres
            try:
                if postgres_url is None:
                    cluster = start_cluster(durable=True)
                    postgres_url = cluster.url()
                    seconds = copy_district(sqlite_url, postgres_url)
                    made.append(
                        f"PostgreSQL: the same rows copied from the SQLite file in {seconds:.0f} s"
                    )
                measured = _measure(postgres_url, runs, reports)
                rows += [("PostgreSQL", *result) for result in measured]
            except ClusterUnavailable as error:
                made.append(f"PostgreSQL not measured: {error}")
            finally:
                if cluster is not None:
                    cluster.stop()
    speed_after = cpu_reference()
    command = " ".join(["python scripts/bench_summaries.py", *sys.argv[1:]])
    print("## Summaries (issue 9)\n")
    print(f"Command: `{command}`. Each report {runs} times after a warm-up (reports whose")
    print(f"warm-up took over {SLOW_SECONDS:.0f} s: {SLOW_RUNS} times), through")
    print("`district.summaries.run_report`, filters = the whole generated school year")
    print(f"({YEAR}-07-01 to {YEAR + 1}-06-30); school scope = {SCHOOL}.")
    print(f"Load average when measuring began: {load:.1f} on {os.cpu_count()} cores")
    print("(the machine was shared with other work: figures may be inflated).")
    print(
        f"A fixed pure-Python loop (`cpu_reference`) took {speed_before:.0f} ms before the "
        f"runs and {speed_after:.0f} ms after: the same loop's time on this machine says how "
        "fast it ran.\n"
    )
    for line in made:
        print(f"- {line}")
    print()
    print("| database | report | scope | p50 ms | p95 ms | budget p95 | within |")
    print("|---|---|---|---:|---:|---:|---|")
    for backend, report, scope, p50, p95 in rows:
        within = "yes" if p95 <= BUDGET_MS else "NO"
        figures = f"{p50:.0f} | {p95:.0f} | {BUDGET_MS:.0f}"
        print(f"| {backend} | {report} | {scope} | {figures} | {within} |")
    return 0


def _describe(counts: dict[str, int]) -> str:
    return (
        f"{counts['incident']:,} incidents ({counts['voided']:,} voided, "
        f"{counts['withdrawn']:,} withdrawn), {counts['tab']:,} TAB events, "
        f"{counts['follow_up']:,} follow-ups, {counts['students']:,} students in "
        f"{counts['schools']} schools"
    )


if __name__ == "__main__":
    raise SystemExit(main())
