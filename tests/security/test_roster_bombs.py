"""Attack: hostile roster files. A NUL byte in a cell (a traceback on PostgreSQL, silently
stored on SQLite and synced to devices before), and a zip bomb (a small zip that inflates to
hundreds of megabytes). Each is refused with file, line and column or the member's name, and
changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from serverkit import world_roster

from district import tables
from district.db import create_engine
from district.roster_import import import_roster
from schema import roster as roster_module
from schema.roster import RosterError, read_roster

MEGABYTE = 1024 * 1024
BOMB_MEGABYTES = 600


def _students(engine: sa.Engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(tables.students.c.sourced_id, tables.students.c.given_name)
        ).all()
    return sorted((row[0], row[1]) for row in rows)


def _with_nul(folder: Path) -> Path:
    roster = world_roster()
    for row in roster.rows["users.csv"]:
        if row["sourcedId"] == "st3":
            row["givenName"] = "Ma\x00ria"
    return roster.write(folder)


def test_a_nul_byte_is_refused_with_file_line_and_column(engine: sa.Engine, tmp_path: Path) -> None:
    before = _students(engine)
    with pytest.raises(RosterError) as refused:
        import_roster(engine, _with_nul(tmp_path / "nul"))
    assert refused.value.file == "users.csv"
    assert refused.value.column == "givenName"
    assert refused.value.line is not None
    lines = (tmp_path / "nul" / "users.csv").read_bytes().split(b"\n")
    assert b"\x00" in lines[refused.value.line - 1]
    assert "NUL" in str(refused.value)
    assert _students(engine) == before


def test_the_cli_names_the_nul_and_prints_no_traceback(database_url: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "classlog", "district", "import-roster",
         str(_with_nul(tmp_path / "nul")), "--db", database_url],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    output = (done.stdout + done.stderr).strip()
    assert len(output.splitlines()) == 1, output
    assert "users.csv" in output
    assert "givenName" in output


def _zip_with_users(path: Path, chunks: Iterator[bytes]) -> Path:
    """A roster zip whose users.csv is the real header and rows followed by ``chunks``."""
    folder = world_roster().write(path.parent / f"{path.stem}-parts")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as bundle:
        for member in sorted(folder.iterdir()):
            if member.name != "users.csv":
                bundle.write(member, member.name)
        with bundle.open("users.csv", "w", force_zip64=True) as handle:
            handle.write((folder / "users.csv").read_bytes())
            for chunk in chunks:
                handle.write(chunk)
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 600 KB of zip that inflates to 600 MB (blank lines, which a reader skips)."""
    blank_lines = b"\n" * MEGABYTE
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    return _zip_with_users(path, (blank_lines for _ in range(BOMB_MEGABYTES)))


@pytest.mark.slow
def test_a_zip_bomb_is_refused_without_taking_memory(sqlite_url: str, bomb: Path) -> None:
    assert bomb.stat().st_size < MEGABYTE
    engine = create_engine(sqlite_url)
    try:
        before = _students(engine)
        tracemalloc.start()
        try:
            with pytest.raises(RosterError) as refused:
                import_roster(engine, bomb)
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert _students(engine) == before
    finally:
        engine.dispose()
    assert refused.value.file == "users.csv"
    assert "compression ratio" in str(refused.value)
    assert peak < 100 * MEGABYTE, f"peak {peak / MEGABYTE:.0f} MB"


def test_the_device_refuses_the_same_bomb(bomb: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "classlog", "roster", "import", str(bomb),
         "--home", str(tmp_path / "device")],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "compression ratio" in done.stdout + done.stderr


def test_a_member_over_the_size_cap_is_refused_while_streaming(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cap counts the bytes actually inflated (here barely compressible rows)."""
    monkeypatch.setattr(roster_module, "MAX_MEMBER_BYTES", 4 * MEGABYTE)
    rows = (os.urandom(MEGABYTE // 2).hex().encode() for _ in range(8))
    archive = _zip_with_users(tmp_path / "big.zip", rows)
    with pytest.raises(RosterError) as refused:
        read_roster(archive)
    assert refused.value.file == "users.csv"
    assert "larger than" in str(refused.value)


def test_an_ordinary_zip_roster_still_reads(tmp_path: Path) -> None:
    folder = world_roster().write(tmp_path / "plain")
    archive = tmp_path / "plain.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for member in folder.iterdir():
            bundle.write(member, f"export/{member.name}")
    data = read_roster(archive)
    assert len(data.students) == 8
