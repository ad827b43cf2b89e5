"""Engines, transactions and migrations, one code path for SQLite and PostgreSQL.

The change cursor: row 1 of ``change_counter`` holds the last cursor given out. Every write
transaction starts by updating that row (``UPDATE ... RETURNING``), which takes its row lock on
PostgreSQL and the database's write lock on SQLite (``BEGIN IMMEDIATE``), so writers run one at a
time and commit in cursor order. Each changed row gets the next cursor value, and the counter is
set to the last one before commit. A reader that reads the counter first and then the rows at or
below it therefore sees every row it will ever see at those cursors: none is skipped.

Row 2 holds the last cursor at which anything but a record changed (roster, scope events, grid,
config). Read with row 1 in one statement, it lets a pull skip every roster source when only
records changed since the device's cursor, which is nearly always.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine, make_url

from district import tables
from schema.errors import ClasslogError
from schema.schoolyear import DEFAULT_START

WRITE_OPTION = "district_write"
CURSOR_ROW = 1
ROSTER_ROW = 2
MIGRATION_LOCK_KEY = 0x636C_6173_736C_6F67
SQLITE_BUSY_TIMEOUT_MS = 30_000
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class DatabaseError(ClasslogError):
    """The database could not be opened or migrated: a one-line message for an operator."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A time read back from either database as an aware UTC datetime (SQLite drops the zone)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def is_sqlite(engine_or_connection: Engine | Connection) -> bool:
    return engine_or_connection.dialect.name == "sqlite"


def among(
    connection: Connection, column: sa.ColumnElement[Any], values: Iterable[str]
) -> sa.ColumnElement[bool]:
    """``column IN (values)`` with the whole list as one bound value (a JSON array read by
    ``json_each`` on SQLite, an array with ``= ANY`` on PostgreSQL): one statement the
    compiled cache keeps, however long the list, instead of one placeholder per value."""
    listed = list(values)
    if is_sqlite(connection):
        each = sa.func.json_each(sa.bindparam(None, json.dumps(listed), type_=sa.String))
        return column.in_(sa.select(each.table_valued("value").c.value))
    return column == sa.any_(sa.bindparam(None, listed, type_=postgresql.ARRAY(sa.String)))


def _sqlite_file(url: sa.URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _prepare_sqlite_file(path: Path) -> None:
    """Create the database file owner-only: it holds demographics and records."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        descriptor = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(descriptor)


def create_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine for a ``sqlite:///FILE`` or ``postgresql+psycopg://`` URL.

    SQLite connections get WAL, a busy timeout, foreign keys, ``synchronous=FULL`` and
    ``secure_delete`` (so a retraction's content is overwritten, not left in free pages), and
    transactions begun explicitly so a write can take the lock up front."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as error:
        raise DatabaseError(f"not a database URL: {url!r}") from error
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = _sqlite_file(parsed)
        if path is not None:
            try:
                _prepare_sqlite_file(path)
            except OSError as error:
                raise DatabaseError(f"cannot create {path}: {error.strerror}") from error
        engine = sa.create_engine(
            parsed,
            pool_size=pool_size,
            max_overflow=pool_size * 2,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return sa.create_engine(
            parsed, pool_size=pool_size, max_overflow=pool_size * 2, pool_recycle=1800
        )
    raise DatabaseError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA secure_delete=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@dataclass
class WriteTx:
    """An open write transaction holding the change-counter lock; hands out cursor values."""

    connection: Connection
    base_cursor: int
    last_cursor: int
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    roster_changed: bool = False
    """Set when the transaction changes anything but records (see the module docstring)."""

    def next_cursor(self) -> int:
        self.last_cursor += 1
        return self.last_cursor


@contextmanager
def write_transaction(engine: Engine) -> Iterator[WriteTx]:
    """One serialised write transaction (see the module docstring). Callbacks in
    ``after_commit`` run once it has committed."""
    counter = tables.change_counter
    with (
        engine.connect().execution_options(**{WRITE_OPTION: True}) as connection,
        connection.begin(),
    ):
        base = connection.execute(
            sa.update(counter)
            .where(counter.c.id == CURSOR_ROW)
            .values(value=counter.c.value)
            .returning(counter.c.value)
        ).scalar_one()
        tx = WriteTx(connection, base, base)
        yield tx
        if tx.last_cursor != base:
            rows = [CURSOR_ROW, ROSTER_ROW] if tx.roster_changed else [CURSOR_ROW]
            connection.execute(
                sa.update(counter).where(counter.c.id.in_(rows)).values(value=tx.last_cursor)
            )
    for callback in tx.after_commit:
        callback()


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection for reads: one snapshot on SQLite (in-process, free); on PostgreSQL each
    statement in autocommit, which saves the BEGIN and COMMIT round trips on the hot pull and
    auth paths and is enough for the cursor rule (counter read first, rows after)."""
    if is_sqlite(engine):
        with engine.connect() as connection, connection.begin():
            yield connection
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            yield connection


@contextmanager
def snapshot_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection whose reads all see one moment, on both databases (a report made of
    several queries must not mix counts from before and after a push): on SQLite as
    ``read_transaction``; on PostgreSQL a repeatable-read transaction."""
    if is_sqlite(engine):
        with read_transaction(engine) as connection:
            yield connection
        return
    with (
        engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection,
        connection.begin(),
    ):
        yield connection


def current_cursor(connection: Connection) -> int:
    return current_cursors(connection)[0]


def current_cursors(connection: Connection) -> tuple[int, int]:
    """The last cursor, and the last cursor at which anything but a record changed."""
    counter = tables.change_counter
    values = dict(connection.execute(sa.select(counter.c.id, counter.c.value)).all())
    return int(values[CURSOR_ROW]), int(values[ROSTER_ROW])


def checkpoint_sqlite(engine: Engine) -> None:
    """Fold the WAL into the main file and truncate it, so deleted content's old page images
    do not linger in the -wal file (best effort: readers may hold old frames)."""
    if not is_sqlite(engine):
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the database to the newest schema (or to ``revision``, for tests of a migration)
    and seed what a fresh server needs (the change counter, the built-in grid, the school-year
    start). Safe to run from several processes at once: PostgreSQL serialises them with an
    advisory lock, SQLite with its write lock."""
    from alembic import command
    from alembic.config import Config
    from alembic.util.exc import CommandError

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        with (
            engine.connect().execution_options(**{WRITE_OPTION: True}) as connection,
            connection.begin(),
        ):
            if not is_sqlite(connection):
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
        _seed(engine)
    except sa.exc.DatabaseError as error:
        raise DatabaseError(f"cannot open the database: {_first_line(error)}") from error
    except CommandError as error:
        raise DatabaseError(
            f"the database's schema is not one this version knows ({error}): upgrade classlog"
        ) from error


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__


def _seed(engine: Engine) -> None:
    from schema.grid import default_grid

    with write_transaction(engine) as tx:
        connection = tx.connection
        has_grid = connection.execute(sa.select(sa.func.count()).select_from(tables.grid_versions))
        if not has_grid.scalar_one():
            store_grid(tx, default_grid().to_json())
        has_config = connection.execute(
            sa.select(tables.district_config.c.key).where(
                tables.district_config.c.key == "district"
            )
        ).first()
        if has_config is None:
            tx.roster_changed = True
            connection.execute(
                sa.insert(tables.district_config).values(
                    key="district",
                    value={"school_year_start": DEFAULT_START.isoformat()},
                    cursor=tx.next_cursor(),
                )
            )


def store_grid(tx: WriteTx, grid_json: str) -> int:
    """Record a new grid version (already validated); devices receive it on their next pull."""
    tx.roster_changed = True
    result = tx.connection.execute(
        sa.insert(tables.grid_versions).values(
            grid=json.loads(grid_json), created_at=utc_now(), cursor=tx.next_cursor()
        )
    )
    primary_key = result.inserted_primary_key
    assert primary_key is not None
    return int(primary_key[0])


def grid_behavior_codes(connection: Connection) -> frozenset[str]:
    """The behavior codes of the newest grid."""
    table = tables.grid_versions
    row = connection.execute(
        sa.select(table.c.grid).order_by(table.c.version.desc()).limit(1)
    ).first()
    if row is None:
        return frozenset()
    return frozenset(str(entry.get("code")) for entry in row[0].get("entries", []))


def read_config(connection: Connection) -> dict[str, Any]:
    row = connection.execute(
        sa.select(tables.district_config.c.value).where(tables.district_config.c.key == "district")
    ).first()
    return dict(row[0]) if row is not None else {}


def read_school_year_start(connection: Connection) -> date:
    """The district's school-year start (the default when none, or none readable, is set)."""
    text = read_config(connection).get("school_year_start")
    try:
        return date.fromisoformat(str(text)) if text else DEFAULT_START
    except ValueError:
        return DEFAULT_START


def store_school_year_start(tx: WriteTx, start: date) -> bool:
    """Set the district's school-year start; False when it was already that date."""
    current = read_config(tx.connection)
    if current.get("school_year_start") == start.isoformat():
        return False
    current["school_year_start"] = start.isoformat()
    tx.roster_changed = True
    tx.connection.execute(
        sa.update(tables.district_config)
        .where(tables.district_config.c.key == "district")
        .values(value=current, cursor=tx.next_cursor())
    )
    # The summaries' per-school-year counts follow the new boundaries (imported here: the
    # counting module reads the config through this one). A database still being migrated has
    # no counts yet: its migration counts everything once it gets there.
    from district.summaries.rollup import rebuild

    if sa.inspect(tx.connection).has_table(tables.rollup_students.name):
        rebuild(tx.connection)
    return True
