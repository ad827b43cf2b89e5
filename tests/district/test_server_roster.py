"""Roster import: OneRoster CSV into the server, all or nothing, re-import by sourcedId, errors
that name file, line and column, demographics kept on the server only."""

from __future__ import annotations

import hashlib
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from serverkit import SCHOOL_1, large_roster, world_roster

from district import tables
from district.db import is_sqlite
from district.roster_import import import_roster
from schema.roster import RosterError


def fingerprint(engine: sa.Engine) -> str:
    """Everything an import may change, hashed."""
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for table in (
            tables.change_counter,
            tables.orgs,
            tables.students,
            tables.demographics,
            tables.staff,
            tables.sections,
            tables.enrollments,
            tables.scope_events,
            tables.district_config,
        ):
            rows = connection.execute(sa.select(table)).all()
            digest.update(repr(sorted(map(repr, rows))).encode())
    return digest.hexdigest()


def _count(engine: sa.Engine, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    with engine.connect() as connection:
        query = sa.select(sa.func.count()).select_from(table)
        return int(connection.execute(query.where(*where)).scalar_one())


def test_re_import_updates_by_sourced_id_and_marks_missing_rows_deleted(
    engine: sa.Engine, tmp_path: Path
) -> None:
    roster = world_roster()
    for row in roster.rows["users.csv"]:
        if row["sourcedId"] == "st1":
            row["givenName"] = "Renamed"
    roster.rows["users.csv"] = [r for r in roster.rows["users.csv"] if r["sourcedId"] != "st6"]
    roster.rows["demographics.csv"] = [
        r for r in roster.rows["demographics.csv"] if r["sourcedId"] != "st6"
    ]
    roster.drop_enrollment("sec-1b", "st6")
    summary = import_roster(engine, roster.write(tmp_path / "again"))
    assert summary.counts["students"].updated == 1
    assert summary.counts["students"].deleted == 1
    assert summary.counts["enrollments"].deleted == 1
    assert summary.counts["demographics"].deleted == 1
    with engine.connect() as connection:
        renamed = connection.execute(
            sa.select(tables.students.c.given_name).where(tables.students.c.sourced_id == "st1")
        ).scalar_one()
    assert renamed == "Renamed"
    assert _count(engine, tables.students, tables.students.c.deleted.is_(True)) == 1
    assert _count(engine, tables.students) == 8
    again = import_roster(engine, roster.write(tmp_path / "same"))
    assert all(c.added == c.updated == c.deleted == 0 for c in again.counts.values()), (
        again.describe()
    )


def test_a_zip_roster_imports_like_a_folder(engine: sa.Engine, tmp_path: Path) -> None:
    folder = world_roster().write(tmp_path / "folder")
    archive = tmp_path / "roster.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in folder.iterdir():
            bundle.write(path, f"export/{path.name}")
    before = fingerprint(engine)
    import_roster(engine, archive)
    assert fingerprint(engine) == before


def _break(roster_folder: Path, file: str, old: str, new: str) -> None:
    path = roster_folder / file
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("damage", "where"),
    [
        (("users.csv", "givenName", "firstName"), "users.csv, line 1, column givenName"),
        (
            ("users.csv", ",school-2,student", ",school-9,student"),
            "users.csv, line 13, column orgSourcedIds",
        ),
        (("users.csv", "st3,", "st2,"), "users.csv, line 9, column sourcedId"),
        (("users.csv", ",teacher,", ",wizard,"), "users.csv, line 2, column role"),
        (("enrollments.csv", ",student,", ",pupil,"), "enrollments.csv, line 5, column role"),
        (
            ("classes.csv", ",,school-2,", ",,school-x,"),
            "classes.csv, line 4, column schoolSourcedId",
        ),
    ],
)
def test_a_bad_roster_names_file_line_and_column_and_changes_nothing(
    engine: sa.Engine, tmp_path: Path, damage: tuple[str, str, str], where: str
) -> None:
    folder = world_roster().write(tmp_path / "bad")
    roster = world_roster()
    for row in roster.rows["users.csv"]:
        if row["sourcedId"] == "st1":
            row["givenName"] = "Changed"
    roster.write(folder)
    _break(folder, *damage)
    before = fingerprint(engine)
    with pytest.raises(RosterError) as caught:
        import_roster(engine, folder)
    assert str(caught.value).startswith(where), str(caught.value)
    assert "\n" not in str(caught.value)
    assert fingerprint(engine) == before


def test_a_file_that_is_not_utf8_is_refused_where_the_bytes_are(
    engine: sa.Engine, tmp_path: Path
) -> None:
    folder = world_roster().write(tmp_path / "latin1")
    users = folder / "users.csv"
    users.write_bytes(users.read_bytes().replace(b"Givenst5", "Zoë".encode("latin-1")))
    before = fingerprint(engine)
    with pytest.raises(
        RosterError, match=r"users.csv, line \d+, column givenName: text is not UTF-8"
    ):
        import_roster(engine, folder)
    assert fingerprint(engine) == before


def test_fifty_thousand_students_import_and_a_late_error_in_them_changes_nothing(
    sqlite_url: str, tmp_path: Path
) -> None:
    from district.db import create_engine

    engine = create_engine(sqlite_url)
    try:
        roster = large_roster(50_000)
        roster.rows["users.csv"][-1]["role"] = "headmaster"
        broken = roster.write(tmp_path / "big-bad")
        before = fingerprint(engine)
        with pytest.raises(RosterError, match=r"users\.csv, line 52001, column role"):
            import_roster(engine, broken)
        assert fingerprint(engine) == before
        roster.rows["users.csv"][-1]["role"] = "student"
        seen: list[tuple[str, int]] = []
        summary = import_roster(
            engine, roster.write(tmp_path / "big"), progress=lambda n, r: seen.append((n, r))
        )
        assert summary.counts["students"].added == 50_000
        assert ("users.csv", 52_000) in seen
        assert (
            _count(engine, tables.students, tables.students.c.school_id == "big-school") == 50_000
        )
        assert _count(engine, tables.students, tables.students.c.school_id == SCHOOL_1) == 6
    finally:
        engine.dispose()


ROW_40000 = "big-st39999"
"""The 40,000th student of ``large_roster``: the write refuses it mid-transaction."""

SQLITE_REFUSAL = f"""
CREATE TRIGGER refuse_row_40000 BEFORE INSERT ON students WHEN NEW.sourced_id = '{ROW_40000}'
BEGIN SELECT RAISE(ABORT, 'constraint violated by row 40000'); END
"""
POSTGRES_REFUSAL = (
    f"""
CREATE FUNCTION refuse_row_40000() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.sourced_id = '{ROW_40000}' THEN
    RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = 'violated by row 40000';
  END IF;
  RETURN NEW;
END $$
""",
    """
CREATE TRIGGER refuse_row_40000 BEFORE INSERT ON students
FOR EACH ROW EXECUTE FUNCTION refuse_row_40000()
""",
)


@pytest.mark.slow
def test_a_constraint_violation_on_the_40000th_row_mid_write_changes_nothing(
    engine: sa.Engine, tmp_path: Path
) -> None:
    """The reader finds nothing wrong; the database refuses one row deep inside the write
    transaction, after tens of thousands were written in it. Nothing of it stays."""
    with engine.begin() as connection:
        statements = (SQLITE_REFUSAL,) if is_sqlite(engine) else POSTGRES_REFUSAL
        for statement in statements:
            connection.exec_driver_sql(statement)
    big = large_roster(40_000)
    for row in big.rows["users.csv"]:
        if row["sourcedId"] == "t1":
            row["givenName"] = "Renamed"
    before = fingerprint(engine)
    with pytest.raises(sa.exc.DBAPIError, match="row 40000"):
        import_roster(engine, big.write(tmp_path / "big"))
    assert fingerprint(engine) == before
    assert _count(engine, tables.students, tables.students.c.school_id == "big-school") == 0


def _writer_holds_students(url: str, sqlite_file: Path | None) -> bool:
    """Whether another connection is inside a write that has already written roster rows."""
    if sqlite_file is not None:
        wal = Path(f"{sqlite_file}-wal")
        if not wal.exists() or wal.stat().st_size < 4 * 1024 * 1024:
            return False
        probe = sqlite3.connect(sqlite_file, timeout=0)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            probe.close()
    watcher = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with watcher.connect() as connection:
            held = connection.exec_driver_sql(
                "SELECT count(*) FROM pg_locks WHERE relation = 'students'::regclass"
                " AND mode = 'RowExclusiveLock' AND pid <> pg_backend_pid()"
            ).scalar_one()
    finally:
        watcher.dispose()
    return bool(held)


@pytest.mark.slow
def test_a_roster_import_killed_mid_write_changes_nothing(
    database_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    big = large_roster(40_000).write(tmp_path / "big")
    before = fingerprint(engine)
    sqlite_file = Path(engine.url.database or "") if is_sqlite(engine) else None
    command = [sys.executable, "-m", "classlog", "district", "import-roster", str(big),
               "--db", database_url]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not _writer_holds_students(database_url, sqlite_file):
            assert process.poll() is None, "the import ended before it could be killed mid-write"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    assert fingerprint(engine) == before
    summary = import_roster(engine, big)
    assert summary.counts["students"].added == 40_000
