"""The device database file: pragmas on every connection, private file modes, forward-only
migrations from every earlier version, refusal of newer files, and atomic transactions."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from schema.db import (
    MIGRATIONS,
    SCHEMA_VERSION,
    NewerDatabaseError,
    apply_migrations,
    connect,
    db_path,
    schema_version,
    transaction,
)
from schema.store import DeviceStore

STUDENT_ID = "stu-old"
TEACHER_ID = "staff-old"
INCIDENT_ID = "0190a4c2-7c1e-7000-8000-000000000001"
OLD_HLC = "1791986400000-000003-0190a4c2-7c1e-7000-8000-00000000d001"


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return db_path(tmp_path / "home")


@pytest.fixture
def opened(database: Path) -> Iterator[Callable[..., sqlite3.Connection]]:
    """``connect`` that closes every connection it handed out at the end of the test."""
    connections: list[sqlite3.Connection] = []

    def open_connection(path: Path = database, **options: bool) -> sqlite3.Connection:
        connection = connect(path, **options)
        connections.append(connection)
        return connection

    yield open_connection
    for connection in connections:
        connection.close()


def pragma(connection: sqlite3.Connection, name: str) -> object:
    return connection.execute(f"PRAGMA {name}").fetchone()[0]


def schema_sql(connection: sqlite3.Connection) -> set[tuple[str, str, str]]:
    rows = connection.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL"
    ).fetchall()
    return {(row[0], row[1], " ".join(row[2].split())) for row in rows}


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("migrate", [True, False])
def test_every_connection_has_wal_full_sync_busy_timeout_and_foreign_keys(
    opened: Callable[..., sqlite3.Connection], migrate: bool
) -> None:
    first = opened()
    second = opened(migrate=migrate)
    for connection in (first, second):
        assert pragma(connection, "journal_mode") == "wal"
        assert pragma(connection, "synchronous") == 2
        busy_timeout = pragma(connection, "busy_timeout")
        assert isinstance(busy_timeout, int)
        assert busy_timeout >= 5000
        assert pragma(connection, "foreign_keys") == 1


def test_foreign_keys_are_enforced_on_a_fresh_connection(
    opened: Callable[..., sqlite3.Connection],
) -> None:
    connection = opened()
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        connection.execute(
            "INSERT INTO follow_ups (id, incident_id, kind, created_at, hlc) "
            "VALUES ('f1', 'no-such-incident', 'family_contact', '2026-10-14', 'x')"
        )


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0)
    yield
    os.umask(previous)


@pytest.mark.usefixtures("permissive_umask")
def test_database_file_is_created_private_even_with_a_permissive_umask(
    opened: Callable[..., sqlite3.Connection], database: Path
) -> None:
    opened()
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


@pytest.mark.usefixtures("permissive_umask")
def test_wal_and_shm_files_are_no_wider_than_the_database(
    opened: Callable[..., sqlite3.Connection], database: Path
) -> None:
    connection = opened()
    with transaction(connection):
        connection.execute("INSERT INTO meta (key, value) VALUES ('probe', 'x')")
    companions = [database.with_name(database.name + suffix) for suffix in ("-wal", "-shm")]
    assert all(path.exists() for path in companions)
    for path in companions:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path.name


def test_connect_creates_the_home_directory_and_migrates_to_the_latest_version(
    opened: Callable[..., sqlite3.Connection], database: Path
) -> None:
    assert not database.parent.exists()
    connection = opened()
    assert schema_version(connection) == SCHEMA_VERSION == len(MIGRATIONS)
    assert connection.execute("SELECT count(*) FROM sync_state").fetchone()[0] == 1


def test_connect_without_migrate_leaves_a_new_file_at_version_zero(
    opened: Callable[..., sqlite3.Connection],
) -> None:
    connection = opened(migrate=False)
    assert schema_version(connection) == 0
    assert schema_sql(connection) == set()


def _insert_version_1_data(connection: sqlite3.Connection) -> None:
    connection.execute("INSERT INTO meta (key, value) VALUES ('staff_id', ?)", (TEACHER_ID,))
    connection.execute(
        "INSERT INTO students (sourced_id, given_name, family_name, grade, iep) "
        "VALUES (?, 'Ana', 'Abbott', '07', 1)",
        (STUDENT_ID,),
    )
    connection.execute(
        "INSERT INTO incidents (id, student_id, staff_id, device_id, behavior_code, level,"
        " actions, occurred_at, tz, note, created_at, updated_at, hlc) VALUES"
        " (?, ?, ?, 'old-device', 'DIS-CLASS', 1, '[\"redirect\"]',"
        " '2026-10-13T15:00:00.000+00:00', 'America/Chicago', 'written at version 1',"
        " '2026-10-13T15:00:00.000+00:00', '2026-10-13T15:00:00.000+00:00', ?)",
        (INCIDENT_ID, STUDENT_ID, TEACHER_ID, OLD_HLC),
    )
    connection.execute(
        "INSERT INTO outbox (op_id, kind, entity_id, op, fields, hlc, created_at) "
        "VALUES ('op-1', 'incident', ?, 'retract', '{}', ?, '2026-10-13T15:00:00.000+00:00')",
        (INCIDENT_ID, OLD_HLC),
    )


def _insert_version_2_data(connection: sqlite3.Connection) -> None:
    connection.execute(
        "INSERT INTO remote_copies (kind, entity_id) VALUES ('incident', ?)", (INCIDENT_ID,)
    )
    connection.execute(
        "INSERT INTO dead_letters (op_id, kind, entity_id, op, reason, at) "
        "VALUES ('op-0', 'incident', ?, 'upsert', 'refused', '2026-10-13T15:00:00.000+00:00')",
        (INCIDENT_ID,),
    )
    connection.execute("UPDATE sync_state SET pull_cursor = 41 WHERE id = 1")


def _insert_version_3_data(connection: sqlite3.Connection) -> None:
    connection.execute("UPDATE incidents SET removal_minutes = 25 WHERE id = ?", (INCIDENT_ID,))
    connection.execute(
        "INSERT INTO interventions (id, student_id, behavior_code, kind, starts_on, review_on,"
        " staff_id, device_id, created_at, updated_at, hlc) VALUES ('iv-1', ?, 'DIS-CLASS',"
        " 'reteaching', '2026-10-14', '2026-10-28', ?, 'old-device',"
        " '2026-10-14T15:00:00.000+00:00', '2026-10-14T15:00:00.000+00:00', ?)",
        (STUDENT_ID, TEACHER_ID, OLD_HLC),
    )
    connection.execute(
        "INSERT INTO office_referrals (id, student_id, behavior_code, occurred_at, tz, staff_id,"
        " device_id, created_at, updated_at, hlc) VALUES ('ref-1', ?, 'WPN-FIREARM',"
        " '2026-10-14T15:00:00.000+00:00', 'America/Chicago', ?, 'old-device',"
        " '2026-10-14T15:00:00.000+00:00', '2026-10-14T15:00:00.000+00:00', ?)",
        (STUDENT_ID, TEACHER_ID, OLD_HLC),
    )


def _insert_version_4_data(connection: sqlite3.Connection) -> None:
    connection.execute(
        "INSERT INTO support_requests (id, school_id, requested_by, device_id, urgency, state,"
        " created_at, updated_at, hlc) VALUES ('req-1', 'sch-1', ?, 'old-device', 'now',"
        " 'open', '2026-10-14T15:00:00.000+00:00', '2026-10-14T15:00:00.000+00:00', ?)",
        (TEACHER_ID, OLD_HLC),
    )
    connection.execute(
        "INSERT INTO outbox (op_id, kind, entity_id, op, fields, hlc, created_at) VALUES"
        " ('op-2', 'support_request', 'req-1', 'upsert', '{}', ?,"
        " '2026-10-14T15:00:00.000+00:00')",
        (OLD_HLC,),
    )


def _insert_version_5_data(connection: sqlite3.Connection) -> None:
    connection.execute(
        "INSERT INTO incidents (id, student_id, staff_id, device_id, behavior_code, level,"
        " actions, occurred_at, tz, note, created_at, updated_at, hlc) VALUES"
        " ('inc-5', ?, ?, 'old-device', 'DIS-CLASS', 2, '[\"redirect\"]',"
        " '2026-10-15T15:00:00.000+00:00', 'America/Chicago', 'written at version 5',"
        " '2026-10-15T15:00:00.000+00:00', '2026-10-15T15:00:00.000+00:00', ?)",
        (STUDENT_ID, TEACHER_ID, OLD_HLC),
    )


DATA_BY_VERSION: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _insert_version_1_data,
    2: _insert_version_2_data,
    3: _insert_version_3_data,
    4: _insert_version_4_data,
    5: _insert_version_5_data,
}


def test_every_schema_version_has_data_to_carry_through_migrations() -> None:
    assert set(DATA_BY_VERSION) == set(range(1, SCHEMA_VERSION + 1))


def _check_data_of_version(connection: sqlite3.Connection, version: int) -> None:
    if version >= 1:
        incident = connection.execute(
            "SELECT note, level, hlc, device_id FROM incidents WHERE id = ?", (INCIDENT_ID,)
        ).fetchone()
        assert tuple(incident) == ("written at version 1", 1, OLD_HLC, "old-device")
        student = connection.execute(
            "SELECT grade, iep FROM students WHERE sourced_id = ?", (STUDENT_ID,)
        ).fetchone()
        assert tuple(student) == ("07", 1)
        assert connection.execute("SELECT value FROM meta WHERE key = 'staff_id'").fetchone()[
            0
        ] == (TEACHER_ID)
        assert connection.execute("SELECT op_id FROM outbox").fetchall()[0][0] == "op-1"
    if version >= 2:
        assert connection.execute("SELECT count(*) FROM remote_copies").fetchone()[0] == 1
        assert connection.execute("SELECT count(*) FROM dead_letters").fetchone()[0] == 1
        assert connection.execute("SELECT pull_cursor FROM sync_state").fetchone()[0] == 41
    if version >= 3:
        assert connection.execute("SELECT removal_minutes FROM incidents").fetchone()[0] == 25
        assert connection.execute("SELECT kind FROM interventions").fetchone()[0] == "reteaching"
        assert connection.execute("SELECT id FROM office_referrals").fetchone()[0] == "ref-1"
    if version >= 4:
        assert connection.execute("SELECT state FROM support_requests").fetchone()[0] == "open"
        assert [tuple(row) for row in connection.execute("SELECT seq, op_id FROM outbox")] == [
            (1, "op-1"),
            (2, "op-2"),
        ]
    if version >= 5:
        assert (
            connection.execute(
                "SELECT count(*) FROM incidents INDEXED BY incidents_progression "
                "WHERE student_id = ? AND behavior_code = 'DIS-CLASS'",
                (STUDENT_ID,),
            ).fetchone()[0]
            == 2
        )


@pytest.mark.parametrize("start_version", range(SCHEMA_VERSION))
def test_migrating_from_every_earlier_version_keeps_its_data_and_matches_a_fresh_schema(
    tmp_path: Path, opened: Callable[..., sqlite3.Connection], start_version: int
) -> None:
    old = db_path(tmp_path / "old")
    connection = opened(old, migrate=False)
    assert apply_migrations(connection, target=start_version) == start_version
    for version in range(1, start_version + 1):
        with transaction(connection):
            DATA_BY_VERSION[version](connection)
    connection.close()

    migrated = opened(old)
    assert schema_version(migrated) == SCHEMA_VERSION
    _check_data_of_version(migrated, start_version)
    fresh = opened(db_path(tmp_path / "fresh"))
    assert schema_sql(migrated) == schema_sql(fresh)
    assert migrated.execute("SELECT count(*) FROM sync_state").fetchone()[0] == 1


@pytest.mark.parametrize("start_version", range(SCHEMA_VERSION))
def test_a_store_opens_and_writes_on_a_database_migrated_from_every_earlier_version(
    tmp_path: Path, start_version: int, wall: Callable[[], int]
) -> None:
    home = tmp_path / "home"
    connection = connect(db_path(home), migrate=False)
    apply_migrations(connection, target=start_version)
    connection.close()
    store = DeviceStore.open(home, wall=wall)
    try:
        assert schema_version(store.connection) == SCHEMA_VERSION
        assert store.sync_status().pending_count == 0
        store.set_config(staff_id="staff-new")
        assert store.meta("staff_id") == "staff-new"
    finally:
        store.close()


def test_migrating_twice_is_a_no_op(opened: Callable[..., sqlite3.Connection]) -> None:
    connection = opened()
    before = schema_sql(connection)
    assert apply_migrations(connection) == SCHEMA_VERSION
    assert schema_sql(connection) == before


def test_a_failing_migration_step_rolls_back_whole_and_keeps_the_earlier_version(
    opened: Callable[..., sqlite3.Connection],
) -> None:
    connection = opened(migrate=False)
    step = max(index for index, script in enumerate(MIGRATIONS) if "CREATE TABLE" in script)
    apply_migrations(connection, target=step)
    before = schema_sql(connection)
    last_table = MIGRATIONS[step].split("CREATE TABLE")[-1].split("(")[0].strip()
    with transaction(connection):
        connection.execute(f"CREATE TABLE {last_table} (squatter TEXT)")
    with pytest.raises(sqlite3.OperationalError, match="already exists"):
        apply_migrations(connection)
    assert schema_version(connection) == step
    assert schema_sql(connection) - before == {
        ("table", last_table, f"CREATE TABLE {last_table} (squatter TEXT)")
    }
    assert not connection.in_transaction


def test_a_database_from_a_newer_version_is_refused_and_left_untouched(
    database: Path, opened: Callable[..., sqlite3.Connection]
) -> None:
    connection = connect(database)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.execute("CREATE TABLE from_the_future (x TEXT)")
    connection.close()
    digest = file_digest(database)

    with pytest.raises(NewerDatabaseError, match="update classlog"):
        connect(database)

    assert file_digest(database) == digest
    check = opened(migrate=False)
    assert schema_version(check) == SCHEMA_VERSION + 1
    assert "sync_state" in {row[1] for row in schema_sql(check)}
    assert "from_the_future" in {row[1] for row in schema_sql(check)}


def test_apply_migrations_refuses_a_newer_database_without_writing(
    opened: Callable[..., sqlite3.Connection],
) -> None:
    connection = opened()
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 3}")
    before = schema_sql(connection)
    with pytest.raises(NewerDatabaseError):
        apply_migrations(connection)
    assert schema_version(connection) == SCHEMA_VERSION + 3
    assert schema_sql(connection) == before


def test_transaction_commits_on_success(
    opened: Callable[..., sqlite3.Connection], database: Path
) -> None:
    connection = opened()
    with transaction(connection):
        connection.execute("INSERT INTO meta (key, value) VALUES ('kept', 'yes')")
    other = opened(database)
    assert other.execute("SELECT value FROM meta WHERE key = 'kept'").fetchone()[0] == "yes"


def test_transaction_rolls_back_everything_on_error(
    opened: Callable[..., sqlite3.Connection],
) -> None:
    connection = opened()

    class Interrupted(Exception):
        pass

    def write_two_rows_then_fail() -> None:
        with transaction(connection):
            connection.execute("INSERT INTO meta (key, value) VALUES ('lost', 'a')")
            connection.execute("INSERT INTO meta (key, value) VALUES ('lost-too', 'b')")
            raise Interrupted

    with pytest.raises(Interrupted):
        write_two_rows_then_fail()
    assert not connection.in_transaction
    assert connection.execute("SELECT count(*) FROM meta").fetchone()[0] == 0


def test_transaction_rolls_back_on_a_constraint_violation_mid_way(
    opened: Callable[..., sqlite3.Connection],
) -> None:
    connection = opened()

    def write_a_row_then_violate_a_constraint() -> None:
        with transaction(connection):
            connection.execute("INSERT INTO meta (key, value) VALUES ('first', 'a')")
            connection.execute("INSERT INTO meta (key, value) VALUES ('first', 'duplicate')")

    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        write_a_row_then_violate_a_constraint()
    assert not connection.in_transaction
    assert connection.execute("SELECT count(*) FROM meta").fetchone()[0] == 0


def test_transaction_holds_the_write_lock_from_its_start(
    opened: Callable[..., sqlite3.Connection], database: Path
) -> None:
    connection = opened()
    other = opened(database)
    other.execute("PRAGMA busy_timeout = 50")
    with transaction(connection), pytest.raises(sqlite3.OperationalError, match="locked"):
        other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")


def test_a_full_disk_surfaces_as_disk_full_and_leaves_nothing_behind(
    opened: Callable[..., sqlite3.Connection],
) -> None:
    connection = opened()
    page_count = pragma(connection, "page_count")
    connection.execute(f"PRAGMA max_page_count = {page_count}")
    with pytest.raises(sqlite3.OperationalError, match="full"), transaction(connection):
        connection.execute("INSERT INTO meta (key, value) VALUES ('big', ?)", ("x" * 100_000,))
    assert not connection.in_transaction
    assert connection.execute("SELECT count(*) FROM meta").fetchone()[0] == 0
    with transaction(connection):
        connection.execute("INSERT INTO meta (key, value) VALUES ('small', 'fits')")


def test_rebuilding_the_outbox_for_support_requests_never_reuses_a_sequence_number(
    opened: Callable[..., sqlite3.Connection],
) -> None:
    """Migration 4 rebuilds the outbox (its kind check now admits every synced kind); ops
    already sent and acknowledged must not see their seq handed out again."""
    connection = opened(migrate=False)
    apply_migrations(connection, target=3)
    with transaction(connection):
        for number in range(3):
            connection.execute(
                "INSERT INTO outbox (op_id, kind, entity_id, op, fields, hlc, created_at) "
                "VALUES (?, 'incident', 'e', 'retract', '{}', ?, 't')",
                (f"op-{number}", OLD_HLC),
            )
        connection.execute("DELETE FROM outbox")
    apply_migrations(connection)
    with transaction(connection):
        connection.execute(
            "INSERT INTO outbox (op_id, kind, entity_id, op, fields, hlc, created_at) "
            "VALUES ('op-next', 'support_request', 'r', 'upsert', '{}', ?, 't')",
            (OLD_HLC,),
        )
    assert connection.execute("SELECT seq FROM outbox").fetchone()[0] == 4
