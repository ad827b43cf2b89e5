"""`classlog district grid export / import`: a district edits the grid as a file and marks it
verified; a bad file is one line and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from serverkit import world_roster

from district.__main__ import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def new_district(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    db = f"sqlite:///{tmp_path / 'district.db'}"
    roster = world_roster().write(tmp_path / "roster")
    status, _, err = run(["district", "import-roster", str(roster), "--db", db], capsys)
    assert status == 0, err
    return db


def exported(
    db: str, path: Path, capsys: pytest.CaptureFixture[str]
) -> dict[str, dict[str, object]]:
    status, _, err = run(["district", "grid", "export", "--out", str(path), "--db", db], capsys)
    assert status == 0, err
    document = json.loads(path.read_text(encoding="utf-8"))
    return {entry["code"]: entry for entry in document["entries"]}


def test_a_district_exports_edits_and_imports_the_grid_marking_rows_verified(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = new_district(tmp_path, capsys)
    grid_file = tmp_path / "grid.json"
    rows = exported(db, grid_file, capsys)
    assert len(rows) == 54
    assert not any(row["verified"] for row in rows.values())
    assert rows["PHYS-AGGR"]["review"]

    document = json.loads(grid_file.read_text(encoding="utf-8"))
    for entry in document["entries"]:
        if entry["code"] == "PHYS-AGGR":
            entry["levels"] = [3, 4, 5]
            entry["review"] = ""
            entry["verified"] = True
    grid_file.write_text(json.dumps(document), encoding="utf-8")
    status, out, _ = run(["district", "grid", "import", str(grid_file), "--db", db], capsys)
    assert status == 0
    assert "53 not yet verified" in out
    rows = exported(db, tmp_path / "again.json", capsys)
    assert rows["PHYS-AGGR"]["levels"] == [3, 4, 5]
    assert rows["PHYS-AGGR"]["verified"] is True

    status, out, _ = run(
        ["district", "grid", "import", str(grid_file), "--mark-verified", "--db", db], capsys
    )
    assert status == 0
    assert "0 not yet verified" in out
    assert all(row["verified"] for row in exported(db, tmp_path / "all.json", capsys).values())


def test_a_bad_grid_file_is_one_line_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = new_district(tmp_path, capsys)
    before = exported(db, tmp_path / "before.json", capsys)
    bad = tmp_path / "bad.json"
    document = json.loads((tmp_path / "before.json").read_text(encoding="utf-8"))
    document["entries"][0]["levels"] = [1, 3]
    bad.write_text(json.dumps(document), encoding="utf-8")
    status, out, err = run(["district", "grid", "import", str(bad), "--db", db], capsys)
    assert status != 0
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "contiguous" in err
    assert "Traceback" not in err
    assert exported(db, tmp_path / "after.json", capsys) == before
