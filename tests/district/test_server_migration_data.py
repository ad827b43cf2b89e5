"""A populated database keeps what the API shows of it across migrations, on SQLite and
PostgreSQL. Records go in through the push API (see ``migration_data``) and come out through
the pull, record and export APIs, compared with values written out by hand.

- Today's server: what it writes reads back as written, and running the migrations again over
  it changes nothing.
- Each ``data/populated_<revision>.json`` (rows an older server wrote through the same API) is
  loaded into a database built at that revision and migrated to the head: the API must show the
  same records, fields, clocks, superseded values, tombstone and export. A new revision adds
  its own file by running ``python tests/district/migration_data.py`` before it changes the
  schema, so the migration after it is tested on real rows. The summaries' counts kept on write
  must come out of the migrations equal to counts computed again from the records.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from migration_data import (
    DATA,
    INCIDENT_FULL_0002,
    INCIDENT_PLAIN_0002,
    build_at,
    downgrade_to,
    expected,
    load_rows,
    populate,
    snapshot,
)
from serverkit import Fleet, Wall, enroll, server_settings
from test_summaries_rollup import kept, rebuilt

from district.app import create_app
from district.db import create_engine, migrate
from district.pgcluster import Cluster

_numbers = itertools.count(1)
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]
DUMPS = sorted(DATA.glob("populated_*.json"))


async def test_what_the_server_is_sent_reads_back_as_written(fleet: Fleet) -> None:
    await populate(fleet)
    admin = fleet.district_admin
    assert await snapshot(admin.http, admin.token) == expected(fleet.classroom_1a.device_id)


async def test_migrating_a_populated_database_again_changes_nothing_the_api_shows(
    fleet: Fleet, engine: sa.Engine, database_url: str, wall: Wall
) -> None:
    await populate(fleet)
    admin = fleet.district_admin
    before = await snapshot(admin.http, admin.token)
    migrate(engine)
    app = create_app(server_settings(database_url), engine=engine, wall=wall)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://district.test") as http:
        after = await snapshot(http, admin.token)
    assert after == before == expected(fleet.classroom_1a.device_id)


def test_there_is_populated_data_from_a_known_revision() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from district.db import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    assert DUMPS, "no data/populated_<revision>.json: run python tests/district/migration_data.py"
    for path in DUMPS:
        assert json.loads(path.read_text(encoding="utf-8"))["revision"] in known, path.name


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no schema), on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    name = f"empty_{next(_numbers)}"
    admin = sa.create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
        yield cluster.url(name)
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        admin.dispose()


@pytest.mark.parametrize(
    "dump",
    [json.loads(path.read_text(encoding="utf-8")) for path in DUMPS],
    ids=[path.stem for path in DUMPS],
)
async def test_a_database_an_earlier_server_filled_migrates_with_everything_it_held(
    empty_url: str, dump: dict[str, Any]
) -> None:
    engine = create_engine(empty_url)
    try:
        build_at(engine, dump["revision"])
        load_rows(engine, dump)
        migrate(engine)
        migrated_counts = kept(engine)
        assert migrated_counts == rebuilt(engine)
        assert migrated_counts["rollup_tabs"], "the dump's Take a Break is counted"
        app = create_app(server_settings(empty_url), engine=engine)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://district.test") as http:
            admin = await enroll(http, engine, "admin", None)
            seen = await snapshot(http, admin.token)
    finally:
        engine.dispose()
    era = dump["revision"] == "0002"
    assert seen == expected(
        dump["owner_device"],
        INCIDENT_FULL_0002 if era else None,
        INCIDENT_PLAIN_0002 if era else None,
    )


def _tab_rows(engine: sa.Engine) -> set[tuple[Any, ...]]:
    """The rows of ``rollup_tabs`` as the database holds them, whatever its revision."""
    table = sa.Table("rollup_tabs", sa.MetaData(), autoload_with=engine)
    with engine.connect() as connection:
        return {tuple(row) for row in connection.execute(sa.select(table))}


async def test_the_take_a_break_counts_go_down_to_months_and_up_to_periods_again(
    empty_url: str,
) -> None:
    """0009 keeps the Take a Break counts per period; taken back down to 0008 they are the
    month rows 0008 held, and up again they equal counts computed again from the records."""
    dump = json.loads((DATA / "populated_0008.json").read_text(encoding="utf-8"))
    engine = create_engine(empty_url)
    try:
        build_at(engine, "0008")
        load_rows(engine, dump)
        months = _tab_rows(engine)
        assert months, "the 0008 dump holds Take a Break counts"
        migrate(engine)
        periods = _tab_rows(engine)
        assert periods != months
        downgrade_to(engine, "0008")
        assert _tab_rows(engine) == months
        migrate(engine)
        assert _tab_rows(engine) == periods
        assert kept(engine) == rebuilt(engine)
    finally:
        engine.dispose()
