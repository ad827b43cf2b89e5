"""`classlog server` and `classlog district ...`: one line on a user's mistake, no stack
traces, and nothing heavy imported when `classlog` starts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from serverkit import world_roster

from district.__main__ import main

HEAVY = ("fastapi", "sqlalchemy", "uvicorn", "psycopg", "alembic", "starlette", "httpx")


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_importing_the_commands_loads_nothing_heavy() -> None:
    probe = (
        "import argparse, json, sys\n"
        "from district.commands import add_commands\n"
        "add_commands(argparse.ArgumentParser().add_subparsers())\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = {name.split(".")[0] for name in json.loads(result.stdout)}
    assert not loaded & set(HEAVY)


def test_the_administrator_workflow_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'district.db'}"
    roster = world_roster().write(tmp_path / "roster")
    status, out, _ = run(["district", "import-roster", str(roster), "--db", db], capsys)
    assert status == 0
    assert "students: 8 added" in out
    status, out, err = run(
        [
            "district",
            "enroll-code",
            "--school",
            "school-1",
            "--role",
            "classroom",
            "--staff",
            "t1",
            "--db",
            db,
        ],
        capsys,
    )
    assert status == 0
    code = out.strip()
    assert len(code) == 19
    assert code.count("-") == 3
    assert "sections sec-1a" in err
    status, out, _ = run(["district", "devices", "--db", db], capsys)
    assert out.strip() == "no devices enrolled"
    import asyncio

    import httpx

    from district.app import create_app
    from district.settings import Settings

    async def enroll() -> None:
        app = create_app(Settings(database_url=db))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.post(
                "/v1/devices/enroll",
                json={"code": code, "device_id": "laptop-1", "device_name": "Room\x1b[31m 12"},
            )
            assert response.status_code == 200
        app.state.district.engine.dispose()

    asyncio.run(enroll())
    status, out, _ = run(["district", "devices", "--db", db], capsys)
    assert "laptop-1" in out
    assert "classroom" in out
    assert "active" in out
    assert "\x1b" not in out
    status, out, _ = run(["district", "revoke", "laptop-1", "--db", db], capsys)
    assert (status, out.strip()) == (0, "revoked laptop-1")
    status, out, _ = run(["district", "devices", "--db", db], capsys)
    assert "revoked" in out
    target = tmp_path / "export.jsonl"
    status, _, err = run(
        ["district", "export", "--format", "jsonl", "--db", db, "--out", str(target)], capsys
    )
    assert status == 0
    assert "exported 0 Level 2 record(s)" in err
    assert target.read_text() == ""
    status, out, _ = run(["district", "export", "--format", "edfi", "--db", db], capsys)
    assert json.loads(out)["disciplineActions"] == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["district", "import-roster", "/nowhere/roster"], "no such file or folder"),
        (["district", "enroll-code", "--role", "mobile"], "belongs to a school"),
        (
            ["district", "enroll-code", "--role", "classroom", "--school", "school-1"],
            "needs --sections or --staff",
        ),
        (
            ["district", "enroll-code", "--role", "admin", "--ttl-hours", "0"],
            "--ttl-hours must be positive",
        ),
        (["district", "revoke", "ghost"], "no device 'ghost'"),
        (["district", "export", "--format", "csv", "--from", "last week"], "--from must be a date"),
        (
            ["district", "export", "--format", "csv", "--from", "2026-10-01", "--to", "2026-09-01"],
            "--from is after --to",
        ),
        (["server", "--certfile", "cert.pem"], "--certfile and --keyfile go together"),
        (["server", "--port", "70000"], "--port must be 1-65535"),
    ],
)
def test_mistakes_end_with_one_line_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    world = world_roster().write(tmp_path / "roster")
    db = f"sqlite:///{tmp_path / 'district.db'}"
    assert main(["district", "import-roster", str(world), "--db", db]) == 0
    capsys.readouterr()
    status, _, err = run([*argv, "--db", db], capsys)
    assert status == 2
    assert err.startswith("classlog: ")
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_a_bad_roster_is_one_line_naming_the_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = world_roster().write(tmp_path / "roster")
    (folder / "users.csv").write_text("sourcedId,role\n", encoding="utf-8")
    status, _, err = run(
        ["district", "import-roster", str(folder), "--db", f"sqlite:///{tmp_path / 'd.db'}"], capsys
    )
    assert status == 2
    expected = "users.csv, line 1, column givenName: required column is missing"
    assert err == f"classlog: roster not imported: {expected}\n"


def test_a_bad_database_url_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["district", "devices", "--db", "mysql://nope"], capsys)
    assert status == 2
    assert "unsupported database" in err
    status, _, err = run(
        ["district", "devices", "--db", "postgresql://nobody@127.0.0.1:1/none"], capsys
    )
    assert status == 2
    assert err.startswith("classlog: cannot open the database")


@pytest.mark.parametrize(
    ("variable", "value"),
    [("CLASSLOG_DISTRICT_POOL_SIZE", "0"), ("CLASSLOG_DISTRICT_RATE_LIMIT_BURST", "many")],
)
def test_a_bad_server_setting_is_one_line_naming_its_variable(
    variable: str,
    value: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(variable, value)
    db = f"sqlite:///{tmp_path / 'district.db'}"
    status, _, err = run(["server", "--db", db, "--port", "8000"], capsys)
    assert status == 2
    assert err.startswith(f"classlog: {variable}: ")
    assert f"not '{value}'" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "district.db").exists()


def test_the_progress_bar_draws_on_a_terminal_only() -> None:
    import io

    from district.commands import ProgressBar

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    bar = ProgressBar(terminal, {"users.csv": 20_000})
    bar("users.csv", 10_000)
    bar.close()
    assert "[###############---------------]    10,000/20,000" in terminal.getvalue()
    quiet = io.StringIO()
    silent = ProgressBar(quiet, {"users.csv": 20_000})
    silent("users.csv", 10_000)
    assert quiet.getvalue() == ""


def test_a_file_that_is_not_a_database_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    impostor = tmp_path / "notes.db"
    impostor.write_text("these are not the tables you are looking for\n" * 100)
    status, _, err = run(["district", "devices", "--db", f"sqlite:///{impostor}"], capsys)
    assert status == 2
    assert err.startswith("classlog: cannot open the database: file is not a database")


@pytest.mark.parametrize(
    "command",
    [
        ["district", "devices"],
        ["district", "revoke", "dev-1"],
        ["district", "export", "--format", "csv"],
        ["district", "enroll-code", "--school", "school-1", "--role", "mobile"],
    ],
)
def test_a_db_that_names_no_database_is_an_error_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    missing = tmp_path / "typo.db"
    status, out, err = run([*command, "--db", f"sqlite:///{missing}"], capsys)
    assert status == 2
    assert out == ""
    assert err.strip() == (
        f"classlog: no district database at {missing}; create one with "
        "`classlog district import-roster PATH --db URL`"
    )
    assert not missing.exists()


def test_import_roster_creates_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fresh = tmp_path / "fresh.db"
    roster = world_roster().write(tmp_path / "roster")
    status, _, err = run(
        ["district", "import-roster", str(roster), "--db", f"sqlite:///{fresh}"], capsys
    )
    assert status == 0, err
    assert fresh.exists()


@pytest.mark.parametrize(
    "command",
    [
        ["district", "export", "--format", "csv", "--school", "school-nowhere"],
        ["district", "enroll-code", "--school", "school-nowhere", "--role", "mobile"],
    ],
)
def test_a_school_that_is_not_in_the_roster_is_an_error_not_an_empty_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'district.db'}"
    roster = world_roster().write(tmp_path / "roster")
    assert run(["district", "import-roster", str(roster), "--db", db], capsys)[0] == 0
    status, out, err = run([*command, "--db", db], capsys)
    assert status == 2
    assert out == ""
    assert "no school 'school-nowhere' in the district's roster" in err
    assert len(err.strip().splitlines()) == 1
