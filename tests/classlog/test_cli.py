"""The `classlog` command as a user runs it: a real process on a real device database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from classlog import device_commands
from classlog.cli import main
from schema.db import db_path
from schema.errors import ClasslogError, UserError, one_line
from schema.store import DeviceStore


def classlog(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLASSLOG_HOME": str(home), "TZ": "UTC"}
    return subprocess.run(
        [sys.executable, "-m", "classlog", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def table_counts(home: Path) -> dict[str, int]:
    store = DeviceStore.open(home)
    try:
        return {
            table: store.connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("incidents", "tab_events", "follow_ups", "audit", "outbox")
        }
    finally:
        store.close()


def assert_refused(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]
    assert "Traceback" not in result.stderr


def test_log_add_saves_a_level_1_record_that_stays_out_of_the_outbox(device_home: Path) -> None:
    result = classlog(
        device_home,
        "log",
        "add",
        "--student",
        "s-1",
        "--behavior",
        "dis-class",
        "--level",
        "1",
        "--action",
        "redirect",
        "--note",
        "talked over the lesson",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("saved ")
    assert "next time:" in result.stdout
    counts = table_counts(device_home)
    assert counts["incidents"] == 1
    assert counts["outbox"] == 0


def test_log_add_level_2_with_iss_for_an_iep_student_without_safeguards_is_a_removal(
    device_home: Path,
) -> None:
    result = classlog(
        device_home,
        "log",
        "add",
        "--student",
        "s-2",
        "--behavior",
        "DIS-CLASS",
        "--level",
        "2",
        "--action",
        "iss",
    )
    assert result.returncode == 0, result.stderr
    assert "recorded as a removal" in result.stdout
    store = DeviceStore.open(device_home)
    try:
        (incident,) = store.todays_incidents()
        assert incident.iss_recorded_as_removal
        assert [action.value for action in incident.actions] == ["removal"]
    finally:
        store.close()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ("--student", "s-1", "--behavior", "PHYS-AGGR", "--level", "1"),
            "cannot be logged at Level 1",
        ),
        (("--student", "s-1", "--behavior", "WPN-FIREARM", "--level", "2"), "office-managed"),
        (("--student", "s-1", "--behavior", "SEX-ASSAULT", "--level", "2"), "Title IX"),
        (("--student", "nobody", "--behavior", "DIS-CLASS", "--level", "1"), "unknown student"),
        (("--student", "s-1", "--behavior", "NOPE", "--level", "1"), "not in the grid"),
        (("--student", "s-1", "--behavior", "DIS-CLASS", "--level", "3"), "invalid choice"),
        (
            ("--student", "s-1", "--behavior", "DIS-CLASS", "--level", "1", "--action", "iss"),
            "Level 2 actions",
        ),
        (
            ("--student", "s-1", "--behavior", "DIS-CLASS", "--level", "1", "--at", "yesterday"),
            "not an ISO time",
        ),
        (
            (
                "--student",
                "s-1",
                "--behavior",
                "DIS-CLASS",
                "--level",
                "1",
                "--at",
                "2999-01-01T10:00",
            ),
            "future",
        ),
    ],
)
def test_refused_log_add_prints_one_line_and_changes_nothing(
    device_home: Path, args: tuple[str, ...], fragment: str
) -> None:
    before = table_counts(device_home)
    assert_refused(classlog(device_home, "log", "add", *args), fragment)
    assert table_counts(device_home) == before


def test_edit_and_void_are_audited(device_home: Path) -> None:
    added = classlog(
        device_home,
        "log",
        "add",
        "--student",
        "s-1",
        "--behavior",
        "DIS-CLASS",
        "--level",
        "2",
        "--action",
        "redirect",
    )
    record_id = added.stdout.split()[1].rstrip(":")
    edited = classlog(device_home, "log", "edit", record_id, "--level", "1")
    assert edited.returncode == 0, edited.stderr
    assert_refused(classlog(device_home, "log", "void", record_id, "--reason", "  "), "reason")
    voided = classlog(device_home, "log", "void", record_id, "--reason", "wrong student")
    assert voided.returncode == 0, voided.stderr
    store = DeviceStore.open(device_home)
    try:
        actions = [entry["action"] for entry in store.audit_for(record_id)]
        assert actions == ["create", "edit", "void"]
        assert store.incident(record_id).void_reason == "wrong student"
        assert store.incident(record_id).level == 1
    finally:
        store.close()


def test_tab_start_and_stop(device_home: Path) -> None:
    started = classlog(device_home, "tab", "start", "--student", "s-1", "--kind", "out")
    assert started.returncode == 0, started.stderr
    tab_id = started.stdout.split()[1].rstrip(":")
    assert_refused(
        classlog(device_home, "tab", "start", "--student", "s-1"), "already has a Take a Break"
    )
    stopped = classlog(device_home, "tab", "stop", tab_id, "--not-ready")
    assert stopped.returncode == 0, stopped.stderr
    assert "not ready" in stopped.stdout


def test_export_jsonl_holds_the_teachers_records_with_ids_level_1_included(
    device_home: Path, tmp_path: Path
) -> None:
    for level in ("1", "2"):
        classlog(
            device_home,
            "log",
            "add",
            "--student",
            "s-1",
            "--behavior",
            "DIS-CLASS",
            "--level",
            level,
            "--action",
            "redirect",
            "--bypass-reason",
            "the second time went to Level 2 at once",
        )
    out = tmp_path / "mine.jsonl"
    result = classlog(device_home, "export", "--format", "jsonl", "--out", str(out))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(row["level"] for row in rows) == [1, 2]
    assert all(row["id"] for row in rows)
    csv_result = classlog(device_home, "export", "--format", "csv")
    assert csv_result.stdout.splitlines()[0].startswith("record_type,id,")
    assert len(csv_result.stdout.splitlines()) == 3


def test_export_into_a_pipe_whose_reader_stops_ends_quietly(device_home: Path) -> None:
    """`classlog export | head -1`: the reader closes the pipe early; no BrokenPipeError."""
    for _ in range(2):
        added = classlog(
            device_home, "log", "add", "--student", "s-1", "--behavior", "DIS-CLASS", "--level", "1"
        )
        assert added.returncode == 0, added.stderr
    result = subprocess.run(
        f"{sys.executable} -m classlog export --format csv | head -1",
        shell=True,
        env={**os.environ, "CLASSLOG_HOME": str(device_home), "TZ": "UTC"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.startswith("record_type,id,")
    assert result.stderr == ""
    env = {**os.environ, "CLASSLOG_HOME": str(device_home), "TZ": "UTC"}
    process = subprocess.Popen(
        [sys.executable, "-m", "classlog", "export", "--format", "jsonl"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.close()
    errors = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0
    process.stderr.close()
    assert "BrokenPipeError" not in errors
    assert "Traceback" not in errors
    assert errors == ""


def test_commands_without_a_device_database_say_how_to_start(tmp_path: Path) -> None:
    home = tmp_path / "empty"
    assert_refused(
        classlog(home, "log", "add", "--student", "s", "--behavior", "DIS-CLASS", "--level", "1"),
        "import a roster first",
    )
    assert not db_path(home).exists()


def test_unknown_command_and_help(tmp_path: Path) -> None:
    assert_refused(classlog(tmp_path, "frobnicate"), "invalid choice")
    helped = classlog(tmp_path, "log", "add", "--help")
    assert helped.returncode == 0
    assert "--behavior" in helped.stdout


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_roster_import_of_a_oneroster_zip_sets_up_the_device(tmp_path: Path, version: str) -> None:
    from classlog.demo_roster import write_demo_roster

    roster = write_demo_roster(tmp_path / "roster", version=version, as_zip=True)
    home = tmp_path / "home"
    result = classlog(home, "roster", "import", str(roster), "--staff", "staff-teacher-1")
    assert result.returncode == 0, result.stderr
    assert "imported 160 students" in result.stdout
    store = DeviceStore.open(home)
    try:
        assert store.staff_id == "staff-teacher-1"
        sections = store.sections_for(store.staff_id)
        assert [section.sourced_id for section in sections][:2] == ["section-p1", "section-p2"]
        assert any(student.iep for student in store.students().values())
        assert store.school_year_start().isoformat() == "2026-09-01"
    finally:
        store.close()


def test_roster_import_without_staff_and_without_a_terminal_asks_for_staff(
    tmp_path: Path,
) -> None:
    from classlog.demo_roster import write_demo_roster

    roster = write_demo_roster(tmp_path / "roster")
    assert_refused(classlog(tmp_path / "home", "roster", "import", str(roster)), "--staff")


def test_bad_roster_names_file_line_and_column_and_changes_nothing(device_home: Path) -> None:
    from classlog.demo_roster import write_demo_roster

    roster = write_demo_roster(device_home.parent / "roster")
    users = roster / "users.csv"
    lines = users.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3] + ",extra-cell"
    users.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = DeviceStore.open(device_home)
    students_before = before.students()
    before.close()
    result = classlog(device_home, "roster", "import", str(roster), "--staff", "staff-teacher-1")
    assert_refused(result, "users.csv, line 4")
    assert "nothing was imported" in result.stderr
    after = DeviceStore.open(device_home)
    try:
        assert after.students() == students_before
        assert after.staff_id == "t-1"
    finally:
        after.close()


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (UserError("a user's\nmistake"), 2),
        (ClasslogError("the server\nis unreachable"), 1),
    ],
)
def test_an_error_classlog_raises_on_purpose_ends_as_one_line_at_the_command_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    error: ClasslogError,
    status: int,
) -> None:
    def refuse(_args: object) -> int:
        raise error

    monkeypatch.setattr(device_commands, "open_tui", refuse)
    assert main([]) == status
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"classlog: {one_line(error)}\n"


def test_a_bug_is_not_swallowed_by_the_command_line_edge(monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(_args: object) -> int:
        raise KeyError("a bug")

    monkeypatch.setattr(device_commands, "open_tui", crash)
    with pytest.raises(KeyError):
        main([])
