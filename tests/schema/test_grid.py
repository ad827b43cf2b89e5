"""The response grid as data (R4): the shipped grid, its flags, grade bands, and replacement
files from a district, with one clear error line for a bad file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from schema.grid import (
    MANDATORY_REPORTING_NOTICE,
    STAFF_LEVELS,
    TITLE_IX_NOTICE,
    Grid,
    GridEntry,
    GridError,
    default_grid,
    grade_number,
    load_grid,
    parse_grid,
)
from schema.models import IncidentDraft
from schema.store import DeviceStore, LevelNotAllowedError, OfficeManagedError

SHIPPED = default_grid()
MANDATORY_REPORTING_CODES = {"LANG-THREAT", "FIRE-THREAT", "FIRE-BOMB"}
NOT_A_THREAT = {"WPN-TOY"}


def entry(**values: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "school_year": "2027-2028",
        "grade_band": "6-8",
        "code": "DIS-CLASS",
        "category": "Disruption",
        "behavior": "Classroom disruption",
        "levels": [1, 2, 3],
    }
    fields.update(values)
    return fields


def write_grid(path: Path, entries: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"version": 1, "entries": entries}), encoding="utf-8")
    return path


def test_the_shipped_grid_loads_with_54_unverified_entries() -> None:
    assert len(SHIPPED) == 54
    assert all(item.verified is False for item in SHIPPED)
    assert SHIPPED.school_years() == ["2026-2027"]
    assert {item.grade_band for item in SHIPPED} == {"6-8"}
    codes = [item.code for item in SHIPPED]
    assert len(set(codes)) == len(codes)


@pytest.mark.parametrize("item", list(SHIPPED), ids=lambda item: item.code)
def test_office_managed_exactly_when_the_range_starts_at_3_or_higher(item: GridEntry) -> None:
    assert item.office_managed is (item.levels[0] >= 3)
    assert set(item.staff_levels) <= STAFF_LEVELS
    assert item.staff_levels == tuple(level for level in item.levels if level <= 2)
    assert (not item.staff_levels) is item.office_managed


@pytest.mark.parametrize("item", list(SHIPPED), ids=lambda item: item.code)
def test_title_ix_and_mandatory_reporting_flags_sit_on_the_plans_behaviors(
    item: GridEntry,
) -> None:
    assert item.title_ix is item.code.startswith("SEX-")
    expected_reporting = item.code not in NOT_A_THREAT and (
        item.code.startswith("WPN-") or item.code in MANDATORY_REPORTING_CODES
    )
    assert item.mandatory_reporting is expected_reporting
    expected_notices = [TITLE_IX_NOTICE] * item.title_ix + (
        [MANDATORY_REPORTING_NOTICE] * item.mandatory_reporting
    )
    assert item.notices == expected_notices


@pytest.mark.parametrize(
    ("code", "levels"),
    [
        ("DIS-CLASS", (1, 2, 3, 4)),
        ("PHYS-AGGR", (2, 3, 4, 5)),
        ("WPN-FIREARM", (4, 5)),
        ("SEX-ASSAULT", (4, 5)),
        ("TECH", (1, 2, 3, 4, 5)),
    ],
)
def test_shipped_grid_levels_follow_the_published_plan(code: str, levels: tuple[int, ...]) -> None:
    assert SHIPPED.lookup("2026-2027", "07", code).levels == levels


@pytest.mark.parametrize(
    ("grade", "covered"),
    [
        ("06", True),
        ("6", True),
        ("07", True),
        ("08", True),
        ("05", False),
        ("09", False),
        ("KG", False),
        ("PK", False),
        ("", False),
        ("Ungraded", False),
    ],
)
def test_a_6_8_band_covers_grades_6_to_8_only(grade: str, covered: bool) -> None:
    item = SHIPPED.lookup("2026-2027", "06", "DIS-CLASS")
    assert item.covers_grade(grade) is covered
    assert bool(SHIPPED.behaviors("2026-2027", grade)) is covered


@pytest.mark.parametrize(
    ("band", "grade", "covered"),
    [("K-5", "KG", True), ("K-5", "05", True), ("K-5", "06", False), ("9-12", "12", True)],
)
def test_grade_bands_from_kindergarten_and_high_school_match_their_grades(
    band: str, grade: str, covered: bool
) -> None:
    item = GridEntry.model_validate(entry(grade_band=band))
    assert item.covers_grade(grade) is covered


@pytest.mark.parametrize(
    ("text", "number"), [("KG", 0), ("k", 0), ("PK", -1), ("06", 6), ("12", 12), ("x", None)]
)
def test_oneroster_grade_codes_read_as_numbers(text: str, number: int | None) -> None:
    assert grade_number(text) == number


def test_a_later_school_year_uses_the_latest_grid_year_in_force() -> None:
    assert SHIPPED.effective_year("2029-2030") == "2026-2027"
    assert SHIPPED.effective_year("2025-2026") is None
    assert SHIPPED.lookup("2029-2030", "07", "DRESS").code == "DRESS"
    with pytest.raises(GridError, match="not in the grid"):
        SHIPPED.lookup("2025-2026", "07", "DRESS")


def test_a_replacement_grid_file_loads(tmp_path: Path) -> None:
    path = write_grid(
        tmp_path / "district-grid.json",
        [
            entry(),
            entry(code="WPN-TOY", levels=[3, 4], mandatory_reporting=True, verified=True),
            entry(school_year="2028-2029", code="DIS-CLASS", levels=[2, 3]),
        ],
    )
    grid = load_grid(path)
    assert len(grid) == 3
    assert grid.lookup("2027-2028", "07", "WPN-TOY").office_managed
    assert grid.lookup("2027-2028", "07", "WPN-TOY").verified is True
    assert grid.lookup("2028-2029", "07", "DIS-CLASS").staff_levels == (2,)
    assert load_grid(path).to_json() == grid.to_json()
    assert parse_grid(grid.to_json()).to_json() == grid.to_json()


def test_a_bare_list_of_entries_is_a_grid_file_too(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text(json.dumps([entry()]), encoding="utf-8")
    assert len(load_grid(path)) == 1


def test_the_store_follows_a_replacement_grid(
    tmp_path: Path, store: DeviceStore, roster: Any
) -> None:
    path = write_grid(
        tmp_path / "district-grid.json",
        [
            entry(school_year="2026-2027", code="DRESS", levels=[2, 3]),
            entry(school_year="2026-2027", code="DIS-CLASS", levels=[3, 4], title_ix=True),
        ],
    )
    store.replace_grid(load_grid(path))

    with pytest.raises(LevelNotAllowedError):
        store.log_incident(
            IncidentDraft(student_id=roster.student_id, behavior_code="DRESS", level=1)
        )
    with pytest.raises(OfficeManagedError, match="Title IX"):
        store.log_incident(
            IncidentDraft(student_id=roster.student_id, behavior_code="DIS-CLASS", level=1)
        )
    assert [item.code for item in store.behaviors_for(store.student(roster.student_id))] == [
        "DRESS",
        "DIS-CLASS",
    ]
    saved = store.log_incident(
        IncidentDraft(student_id=roster.student_id, behavior_code="DRESS", level=2)
    )
    assert saved.advised_level == 2


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("bad JSON", "{not json", "not a grid file"),
        ("no entries", json.dumps({"version": 1}), "not a grid file"),
        ("non-contiguous levels", [entry(levels=[1, 3])], "contiguous"),
        ("level 6", [entry(levels=[5, 6])], "levels run from 1 to 5"),
        ("no levels", [entry(levels=[])], "levels"),
        ("lower-case code", [entry(code="dis-class")], "code"),
        ("code with a space", [entry(code="DIS CLASS")], "code"),
        ("bad school year", [entry(school_year="2027")], "school_year"),
        ("bad grade band", [entry(grade_band="middle")], "grade band"),
        ("missing behavior", [{k: v for k, v in entry().items() if k != "behavior"}], "behavior"),
        ("duplicate entry", [entry(), entry(levels=[1, 2])], "DIS-CLASS twice"),
    ],
)
def test_a_bad_grid_file_gives_one_clear_line_naming_the_file(
    tmp_path: Path, name: str, content: str | list[dict[str, Any]], expected: str
) -> None:
    path = tmp_path / "district-grid.json"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        write_grid(path, content)
    with pytest.raises(GridError) as refused:
        load_grid(path)
    message = str(refused.value)
    assert expected in message
    assert str(path) in message
    assert "\n" not in message


def test_a_missing_grid_file_gives_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"
    with pytest.raises(GridError) as refused:
        load_grid(path)
    assert str(refused.value) == f"{path}: No such file or directory"


def test_a_grid_with_a_duplicate_key_is_refused_when_built_in_memory() -> None:
    item = GridEntry.model_validate(entry())
    with pytest.raises(GridError, match="twice"):
        Grid([item, item])


def test_a_grid_replaced_through_another_connection_is_seen_by_an_open_store(
    tmp_path: Path, home: Path, store: DeviceStore, wall: Any
) -> None:
    assert store.grid().lookup("2026-2027", "07", "DRESS").levels == (1, 2, 3)
    other = DeviceStore.open(home, wall=wall)
    try:
        other.replace_grid(
            load_grid(
                write_grid(
                    tmp_path / "g.json", [entry(school_year="2026-2027", code="DRESS", levels=[3])]
                )
            )
        )
    finally:
        other.close()
    assert store.grid().lookup("2026-2027", "07", "DRESS").levels == (3,)
    assert len(store.grid()) == 1
