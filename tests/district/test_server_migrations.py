"""Migrations bring an empty database to the schema the code declares, on both databases, and
are safe to run again or from several processes at once."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from district.db import create_engine, current_cursor, migrate, read_config
from district.pgcluster import Cluster
from district.tables import metadata
from schema.grid import default_grid


def _check_fresh(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
        grids = connection.execute(sa.text("SELECT grid FROM grid_versions")).all()
        assert len(grids) == 1
        assert read_config(connection)["school_year_start"]
        assert current_cursor(connection) == 2


def test_sqlite_migrates_from_empty_to_the_declared_schema_and_again(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        migrate(engine)
        migrate(engine)
        _check_fresh(engine)
        with engine.connect() as connection:
            pragmas = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "secure_delete", "busy_timeout")
            }
        assert pragmas["journal_mode"] == "wal"
        assert pragmas["foreign_keys"] == 1
        assert pragmas["secure_delete"] == 1
        assert int(pragmas["busy_timeout"] or 0) >= 5000
    finally:
        engine.dispose()
    assert (tmp_path / "fresh.db").stat().st_mode & 0o077 == 0


def test_postgres_migrates_concurrently_from_two_processes_worth_of_engines(
    pg_cluster: Cluster,
) -> None:
    admin = sa.create_engine(pg_cluster.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql("CREATE DATABASE migrate_twice")
    admin.dispose()
    engines = [create_engine(pg_cluster.url("migrate_twice")) for _ in range(2)]
    errors: list[BaseException] = []

    def run(engine: sa.Engine) -> None:
        try:
            migrate(engine)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    _check_fresh(engines[0])
    for engine in engines:
        engine.dispose()


def test_the_seeded_grid_is_the_built_in_one(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'grid.db'}")
    try:
        migrate(engine)
        with engine.connect() as connection:
            stored = connection.execute(sa.text("SELECT grid FROM grid_versions")).scalar_one()
    finally:
        engine.dispose()
    document = json.loads(stored) if isinstance(stored, str) else stored
    assert len(document["entries"]) == len(default_grid())
