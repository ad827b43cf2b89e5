"""Fixtures for the district server's tests, run on SQLite and on a throwaway PostgreSQL.

Each backend gets one seeded database per session (migrated, the two-school roster imported);
each test gets its own copy (a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on
PostgreSQL). Without PostgreSQL binaries the PostgreSQL half is skipped, except under CI where
it fails: CI installs PostgreSQL, so its absence there is a broken set-up, not a reason to skip.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).parent))

from serverkit import (
    SCHOOL_1,
    SCHOOL_2,
    SECTION_1A,
    SECTION_2A,
    Fleet,
    Wall,
    enroll,
    server_settings,
    world_roster,
)

from district.app import create_app
from district.db import create_engine, migrate
from district.pgcluster import Cluster, find_bindir, start_cluster
from district.roster_import import import_roster

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]
_database_numbers = itertools.count(1)


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """A PostgreSQL cluster on 127.0.0.1 for the whole session."""
    if find_bindir() is None:
        if under_ci():
            pytest.fail("CI must test PostgreSQL, but no initdb is in PATH or /usr/lib/postgresql")
        pytest.skip("no PostgreSQL here (initdb not found); CI runs these")
    cluster = start_cluster()
    yield cluster
    cluster.stop()


def _admin_execute(cluster: Cluster, statement: str) -> None:
    engine = sa.create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def _seed(url: str, folder: Path) -> None:
    engine = create_engine(url)
    try:
        migrate(engine)
        import_roster(engine, world_roster().write(folder / "roster"))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def sqlite_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("seed-sqlite")
    path = folder / "seed.db"
    _seed(f"sqlite:///{path}", folder)
    return path


@pytest.fixture(scope="session")
def postgres_seed(pg_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> str:
    _admin_execute(pg_cluster, "CREATE DATABASE seed")
    _seed(pg_cluster.url("seed"), tmp_path_factory.mktemp("seed-postgres"))
    return "seed"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh copy of the seeded database, on each backend."""
    if request.param == "sqlite":
        seed: Path = request.getfixturevalue("sqlite_seed")
        path = tmp_path / "district.db"
        shutil.copyfile(seed, path)
        yield f"sqlite:///{path}"
        return
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    template: str = request.getfixturevalue("postgres_seed")
    name = f"test_{next(_database_numbers)}"
    _admin_execute(cluster, f"CREATE DATABASE {name} TEMPLATE {template}")
    yield cluster.url(name)
    _admin_execute(cluster, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def sqlite_url(sqlite_seed: Path, tmp_path: Path) -> str:
    """A fresh copy of the seeded database on SQLite only."""
    path = tmp_path / "district.db"
    shutil.copyfile(sqlite_seed, path)
    return f"sqlite:///{path}"


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def wall() -> Wall:
    return Wall()


@pytest.fixture
def app(database_url: str, engine: sa.Engine, wall: Wall) -> FastAPI:
    return create_app(server_settings(database_url), engine=engine, wall=wall)


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://district.test") as client:
        yield client


@pytest.fixture
async def fleet(http: httpx.AsyncClient, engine: sa.Engine) -> Fleet:
    return Fleet(
        classroom_1a=await enroll(http, engine, "classroom", SCHOOL_1, (SECTION_1A,), "t1"),
        classroom_1b=await enroll(http, engine, "classroom", SCHOOL_1, staff="t2"),
        mobile_1=await enroll(http, engine, "mobile", SCHOOL_1, staff="m1"),
        admin_1=await enroll(http, engine, "admin", SCHOOL_1, staff="a1"),
        classroom_2a=await enroll(http, engine, "classroom", SCHOOL_2, (SECTION_2A,), "t3"),
        mobile_2=await enroll(http, engine, "mobile", SCHOOL_2),
        admin_2=await enroll(http, engine, "admin", SCHOOL_2),
        district_admin=await enroll(http, engine, "admin", None),
    )
