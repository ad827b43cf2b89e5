"""The OneRoster CSV reader: demo rosters of both versions read whole; every kind of bad input
is refused with one line that names the file, line and column to fix."""

from __future__ import annotations

import csv
import subprocess
import sys
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from classlog.demo_roster import write_demo_roster
from schema.roster import RACE_FLAGS, AcademicSession, RosterData, RosterError, read_roster

DEMO_STUDENTS = 160
DEMO_IEP_STUDENTS = round(DEMO_STUDENTS * 0.12)
DEMO_SECTIONS = 12
DEMO_STAFF = 4


def read_rows(folder: Path, name: str) -> list[list[str]]:
    with (folder / name).open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.reader(handle))


def write_rows(folder: Path, name: str, rows: list[list[str]], encoding: str = "utf-8") -> None:
    with (folder / name).open("w", newline="", encoding=encoding) as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)


def set_cell(folder: Path, name: str, sourced_id: str, column: str, value: str) -> int:
    """Set one cell of the row with this sourcedId; the row's line number in the file."""
    rows = read_rows(folder, name)
    at = rows[0].index(column)
    for index, row in enumerate(rows):
        if row[0] == sourced_id:
            row[at] = value
            write_rows(folder, name, rows)
            return index + 1
    raise LookupError(sourced_id)


def line_of(folder: Path, name: str, sourced_id: str) -> int:
    return next(i + 1 for i, row in enumerate(read_rows(folder, name)) if row[0] == sourced_id)


def a_student_enrollment(folder: Path) -> str:
    rows = read_rows(folder, "enrollments.csv")
    role_at = rows[0].index("role")
    return next(row[0] for row in rows[1:] if row[role_at] == "student")


def expect_error(
    folder: Path,
    file: str,
    line: int | None,
    column: str | None,
    *,
    include_demographics: bool = False,
) -> RosterError:
    """Reading fails with a RosterError at exactly this place, told in one line."""
    with pytest.raises(RosterError) as caught:
        read_roster(folder, include_demographics=include_demographics)
    error = caught.value
    assert (error.file, error.line, error.column) == (file, line, column), str(error)
    where = ", ".join(
        [file]
        + ([f"line {line}"] if line is not None else [])
        + ([f"column {column}"] if column is not None else [])
    )
    assert str(error).startswith(f"{where}: ")
    assert "\n" not in str(error)
    return error


@pytest.fixture(params=["1.1", "1.2"])
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def roster(tmp_path: Path, version: str) -> Path:
    """A demo roster folder of the version under test."""
    return write_demo_roster(tmp_path / "roster", version=version)


@pytest.fixture
def roster_11(tmp_path: Path) -> Path:
    return write_demo_roster(tmp_path / "roster", version="1.1")


@pytest.fixture
def roster_12(tmp_path: Path) -> Path:
    return write_demo_roster(tmp_path / "roster", version="1.2")


def assert_is_demo_roster(data: RosterData, version: str) -> None:
    assert data.version == version
    assert [(org.sourced_id, org.type) for org in data.orgs] == [
        ("district-riverside", "district"),
        ("school-lincoln", "school"),
    ]
    assert len(data.students) == DEMO_STUDENTS
    assert len(data.sections) == DEMO_SECTIONS
    assert sum(student.iep for student in data.students) == DEMO_IEP_STUDENTS
    assert {student.grade for student in data.students} == {"06", "07", "08"}
    assert {student.school_id for student in data.students} == {"school-lincoln"}
    assert data.students[0].sourced_id == "stu-0001"
    assert {(member.sourced_id, member.role) for member in data.staff} == {
        ("staff-teacher-1", "teacher"),
        ("staff-teacher-2", "teacher"),
        ("staff-mobile-1", "aide"),
        ("staff-admin-1", "administrator"),
    }
    assert data.school_year_start(today=date(2026, 10, 1)) == date(2026, 9, 1)
    assert data.school_year_start() == date(2026, 9, 1)
    assert [session.type for session in data.sessions] == ["schoolYear", "semester", "semester"]
    assert data.sessions[1].parent_id == data.sessions[0].sourced_id == "session-2026-2027"

    teacher_sections = sorted(
        enrollment.section_id
        for enrollment in data.enrollments
        if enrollment.user_id == "staff-teacher-1"
    )
    assert teacher_sections == [f"section-p{period}" for period in range(1, 7)]
    by_id = {section.sourced_id: section for section in data.sections}
    assert [by_id[f"section-p{period}"].periods for period in range(1, 7)] == [
        str(period) for period in range(1, 7)
    ]
    assert by_id["section-p1"].course_title == "Science 6"
    assert by_id["section-p1"].school_id == "school-lincoln"
    class_sizes = Counter(
        enrollment.section_id for enrollment in data.enrollments if enrollment.role == "student"
    )
    assert all(24 <= class_sizes[f"section-p{period}"] <= 30 for period in range(1, 7))
    assert sum(class_sizes[f"section-p{period}"] for period in range(1, 7)) == DEMO_STUDENTS
    assert all(
        enrollment.primary for enrollment in data.enrollments if enrollment.role == "teacher"
    )
    assert data.demographics == []


@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
def test_demo_roster_reads_whole_from_folder_and_zip(
    tmp_path: Path, version: str, as_zip: bool
) -> None:
    path = write_demo_roster(tmp_path / "out", version=version, as_zip=as_zip)
    assert path.is_file() is as_zip

    assert_is_demo_roster(read_roster(path), version)


def test_version_is_detected_from_the_files_without_a_manifest(roster: Path, version: str) -> None:
    (roster / "manifest.csv").unlink()

    assert read_roster(roster).version == version


def test_names_with_apostrophes_hyphens_and_accents_survive(roster: Path) -> None:
    users = read_rows(roster, "users.csv")
    given_at, family_at = users[0].index("givenName"), users[0].index("familyName")
    written = {(row[given_at], row[family_at]) for row in users[1:] if row[0].startswith("stu-")}
    assert any("'" in given + family for given, family in written)
    assert any("-" in given + family for given, family in written)
    assert any(not (given + family).isascii() for given, family in written)

    students = read_roster(roster).students

    assert {(student.given_name, student.family_name) for student in students} == written


def test_demographics_are_read_only_when_asked(roster: Path) -> None:
    assert read_roster(roster).demographics == []

    demographics = read_roster(roster, include_demographics=True).demographics

    assert len(demographics) == DEMO_STUDENTS
    assert {row.student_id for row in demographics} == {f"stu-{n:04d}" for n in range(1, 161)}
    assert all(row.birth_date is not None and row.sex in {"female", "male"} for row in demographics)
    assert all(row.race and set(row.race) <= set(RACE_FLAGS) for row in demographics)
    assert any("demographicRaceTwoOrMoreRaces" in row.race for row in demographics)
    assert {row.hispanic_or_latino for row in demographics} == {True, False}
    first = read_rows(roster, "demographics.csv")[1]
    assert demographics[0].birth_date == date.fromisoformat(first[3])


def test_bad_demographics_are_not_checked_unless_asked(roster: Path) -> None:
    line = set_cell(roster, "demographics.csv", "stu-0003", "birthDate", "03/04/2014")

    assert len(read_roster(roster).students) == DEMO_STUDENTS
    expect_error(roster, "demographics.csv", line, "birthDate", include_demographics=True)


def test_staff_demographics_are_left_out(roster: Path) -> None:
    rows = read_rows(roster, "demographics.csv")
    rows.append(["staff-teacher-1", "active", "", "1980-02-03", "female"] + [""] * 11)
    write_rows(roster, "demographics.csv", rows)

    demographics = read_roster(roster, include_demographics=True).demographics

    assert "staff-teacher-1" not in {row.student_id for row in demographics}


def test_guardians_are_neither_staff_nor_students(roster: Path) -> None:
    assert any(row[0].startswith("guardian-") for row in read_rows(roster, "users.csv"))

    data = read_roster(roster)

    ids = {member.sourced_id for member in data.staff}
    ids |= {student.sourced_id for student in data.students}
    assert not any(sourced_id.startswith("guardian-") for sourced_id in ids)


def test_rows_marked_tobedeleted_are_skipped_with_what_depends_on_them(roster: Path) -> None:
    set_cell(roster, "users.csv", "stu-0005", "status", "tobedeleted")
    set_cell(roster, "classes.csv", "section-p6", "status", "tobedeleted")

    data = read_roster(roster)

    assert len(data.students) == DEMO_STUDENTS - 1
    assert "stu-0005" not in {student.sourced_id for student in data.students}
    assert "stu-0005" not in {enrollment.user_id for enrollment in data.enrollments}
    assert "section-p6" not in {section.sourced_id for section in data.sections}
    assert "section-p6" not in {enrollment.section_id for enrollment in data.enrollments}


def test_users_whose_only_org_is_deleted_are_dropped_in_1_2(roster_12: Path) -> None:
    rows = read_rows(roster_12, "orgs.csv")
    rows.append(["school-closed", "tobedeleted", "", "Closed School", "school", "", ""])
    write_rows(roster_12, "orgs.csv", rows)
    set_cell(roster_12, "users.csv", "stu-0003", "primaryOrgSourcedId", "")
    set_cell(roster_12, "roles.csv", "role-stu-0003", "orgSourcedId", "school-closed")

    data = read_roster(roster_12)

    assert "stu-0003" not in {student.sourced_id for student in data.students}
    assert "stu-0003" not in {enrollment.user_id for enrollment in data.enrollments}


def test_a_user_added_by_a_tobedeleted_row_is_still_a_duplicate(roster: Path) -> None:
    rows = read_rows(roster, "users.csv")
    copy = list(rows[5])
    copy[rows[0].index("status")] = "tobedeleted"
    rows.append(copy)
    write_rows(roster, "users.csv", rows)

    expect_error(roster, "users.csv", len(rows), "sourcedId")


@pytest.mark.parametrize(
    ("cell", "iep"),
    [
        ("true", True),
        ("Yes", True),
        ("1", True),
        ("false", False),
        ("no", False),
        ("0", False),
        ("", False),
    ],
)
def test_iep_flag_accepts_true_false_yes_no_one_zero_and_blank(
    roster_12: Path, cell: str, iep: bool
) -> None:
    set_cell(roster_12, "users.csv", "stu-0002", "metadata.iep", cell)

    students = {student.sourced_id: student for student in read_roster(roster_12).students}

    assert students["stu-0002"].iep is iep


def test_iep_column_is_optional(roster_11: Path) -> None:
    rows = read_rows(roster_11, "users.csv")
    at = rows[0].index("metadata.iep")
    write_rows(roster_11, "users.csv", [row[:at] + row[at + 1 :] for row in rows])

    assert not any(student.iep for student in read_roster(roster_11).students)


def test_byte_order_mark_is_tolerated(roster: Path) -> None:
    for name in ("users.csv", "manifest.csv", "orgs.csv"):
        path = roster / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())

    assert len(read_roster(roster).students) == DEMO_STUDENTS


def test_zip_with_the_roster_in_a_subfolder_reads(roster: Path, tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("__MACOSX/export/._users.csv", b"\x00\x05junk")
        for path in sorted(roster.iterdir()):
            out.write(path, f"export/{path.name}")

    assert len(read_roster(archive).students) == DEMO_STUDENTS


def test_reading_a_zip_writes_nothing_to_disk(tmp_path: Path) -> None:
    archive = write_demo_roster(tmp_path / "out", as_zip=True)
    before = sorted(tmp_path.rglob("*"))

    read_roster(archive, include_demographics=True)

    assert sorted(tmp_path.rglob("*")) == before


def test_progress_is_reported_per_file_with_final_row_counts(roster: Path) -> None:
    reports: list[tuple[str, int]] = []

    read_roster(roster, progress=lambda name, rows: reports.append((name, rows)))

    final = dict(reports)
    assert final["users.csv"] == len(read_rows(roster, "users.csv")) - 1
    assert final["enrollments.csv"] == len(read_rows(roster, "enrollments.csv")) - 1
    assert "demographics.csv" not in final


def test_school_year_start_prefers_the_year_holding_today(roster_12: Path) -> None:
    data = read_roster(roster_12)
    data.sessions.append(
        AcademicSession(
            "session-2027-2028",
            "2027-2028",
            "schoolYear",
            date(2027, 8, 30),
            date(2028, 6, 9),
            None,
            "2028",
        )
    )

    assert data.school_year_start(today=date(2027, 3, 1)) == date(2026, 9, 1)
    assert data.school_year_start(today=date(2027, 7, 1)) == date(2027, 8, 30)
    data.sessions.clear()
    assert data.school_year_start() is None


def test_demo_roster_is_deterministic_per_seed(tmp_path: Path) -> None:
    first = write_demo_roster(tmp_path / "a", seed=3, as_zip=True).read_bytes()
    again = write_demo_roster(tmp_path / "b", seed=3, as_zip=True).read_bytes()
    other = write_demo_roster(tmp_path / "c", seed=4, as_zip=True).read_bytes()

    assert first == again
    assert first != other


def test_demo_script_runs_from_the_command_line(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[2] / "scripts" / "make_demo_roster.py"
    arguments = [str(tmp_path / "out"), "--version", "1.1", "--students", "30", "--zip"]

    result = subprocess.run(
        [sys.executable, str(script), *arguments], capture_output=True, text=True, check=False
    )

    data = read_roster(tmp_path / "out" / "oneroster-1.1-demo.zip")
    assert result.returncode == 0, result.stderr
    assert (data.version, len(data.students)) == ("1.1", 30)


# Bad input: each names the file, line and column.


def test_missing_required_file(roster: Path) -> None:
    (roster / "enrollments.csv").unlink()

    error = expect_error(roster, "enrollments.csv", None, None)

    assert "missing" in error.message


def test_roles_file_is_required_for_1_2(roster_12: Path) -> None:
    (roster_12 / "roles.csv").unlink()

    expect_error(roster_12, "roles.csv", None, None)


def test_missing_required_column(roster: Path) -> None:
    rows = read_rows(roster, "users.csv")
    at = rows[0].index("givenName")
    write_rows(roster, "users.csv", [row[:at] + row[at + 1 :] for row in rows])

    error = expect_error(roster, "users.csv", 1, "givenName")

    assert error.message == "required column is missing"


def test_column_named_twice_in_the_header(roster: Path) -> None:
    rows = read_rows(roster, "courses.csv")
    rows[0][rows[0].index("subjectCodes")] = "title"
    write_rows(roster, "courses.csv", rows)

    expect_error(roster, "courses.csv", 1, "title")


def test_blank_lines_are_ignored(roster: Path) -> None:
    path = roster / "orgs.csv"
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\r\n\r\n", 1) + b"\r\n\r\n")

    assert len(read_roster(roster).orgs) == 2


def test_duplicate_sourced_id(roster: Path) -> None:
    rows = read_rows(roster, "classes.csv")
    rows.append(list(rows[2]))
    write_rows(roster, "classes.csv", rows)

    error = expect_error(roster, "classes.csv", len(rows), "sourcedId")

    assert error.message == "'section-p2' appears twice (first on line 3)"


def test_empty_required_cell(roster: Path) -> None:
    line = set_cell(roster, "users.csv", "stu-0007", "givenName", "  ")

    expect_error(roster, "users.csv", line, "givenName")


def test_unknown_org(roster_11: Path) -> None:
    line = set_cell(roster_11, "users.csv", "stu-0009", "orgSourcedIds", "school-nowhere")

    error = expect_error(roster_11, "users.csv", line, "orgSourcedIds")

    assert error.message == "'school-nowhere' is not an org in orgs.csv"


def test_unknown_org_in_roles(roster_12: Path) -> None:
    line = set_cell(roster_12, "roles.csv", "role-stu-0009", "orgSourcedId", "school-nowhere")

    expect_error(roster_12, "roles.csv", line, "orgSourcedId")


def test_unknown_course(roster: Path) -> None:
    line = set_cell(roster, "classes.csv", "section-p3", "courseSourcedId", "course-art-07")

    expect_error(roster, "classes.csv", line, "courseSourcedId")


def test_unknown_session(roster: Path) -> None:
    line = set_cell(
        roster, "classes.csv", "section-p4", "termSourcedIds", "session-2026-fall,session-summer"
    )

    error = expect_error(roster, "classes.csv", line, "termSourcedIds")

    assert "'session-summer'" in error.message


def test_unknown_class(roster: Path) -> None:
    line = set_cell(
        roster, "enrollments.csv", "enr-section-p1-staff-teacher-1", "classSourcedId", "section-p9"
    )

    expect_error(roster, "enrollments.csv", line, "classSourcedId")


def test_unknown_user(roster: Path) -> None:
    line = set_cell(
        roster, "enrollments.csv", "enr-section-p2-staff-teacher-1", "userSourcedId", "stu-9999"
    )

    error = expect_error(roster, "enrollments.csv", line, "userSourcedId")

    assert error.message == "'stu-9999' is not a user in users.csv"


def test_bad_role_is_one_clear_line(roster_11: Path) -> None:
    line = set_cell(roster_11, "users.csv", "stu-0006", "role", "wizard")

    error = expect_error(roster_11, "users.csv", line, "role")

    assert str(error) == f"users.csv, line {line}, column role: 'wizard' is not a OneRoster role"


def test_bad_role_in_roles_and_enrollments(roster_12: Path) -> None:
    line = set_cell(roster_12, "roles.csv", "role-stu-0006", "role", "wizard")
    expect_error(roster_12, "roles.csv", line, "role")
    set_cell(roster_12, "roles.csv", "role-stu-0006", "role", "student")

    enrollment = a_student_enrollment(roster_12)
    line = set_cell(roster_12, "enrollments.csv", enrollment, "role", "janitor")
    expect_error(roster_12, "enrollments.csv", line, "role")


def test_user_without_a_role_in_1_2(roster_12: Path) -> None:
    rows = read_rows(roster_12, "roles.csv")
    write_rows(roster_12, "roles.csv", [row for row in rows if row[0] != "role-stu-0010"])

    expect_error(roster_12, "users.csv", line_of(roster_12, "users.csv", "stu-0010"), "sourcedId")


@pytest.mark.parametrize("value", ["2026-13-01", "09/01/2026", "soon", "20260901"])
def test_bad_date(roster: Path, value: str) -> None:
    line = set_cell(roster, "academicSessions.csv", "session-2026-fall", "startDate", value)

    error = expect_error(roster, "academicSessions.csv", line, "startDate")

    assert error.message == f"{value!r} is not a date (YYYY-MM-DD)"


def test_session_ending_before_it_starts(roster: Path) -> None:
    line = set_cell(roster, "academicSessions.csv", "session-2027-spring", "endDate", "2027-01-01")

    expect_error(roster, "academicSessions.csv", line, "endDate")


def test_bad_boolean(roster: Path) -> None:
    line = set_cell(roster, "enrollments.csv", a_student_enrollment(roster), "primary", "maybe")

    error = expect_error(roster, "enrollments.csv", line, "primary")

    assert error.message == "'maybe' is not true or false"


def test_bad_iep_flag(roster: Path) -> None:
    line = set_cell(roster, "users.csv", "stu-0004", "metadata.iep", "sometimes")

    expect_error(roster, "users.csv", line, "metadata.iep")


def test_bad_race_flag_when_demographics_are_read(roster: Path) -> None:
    line = set_cell(roster, "demographics.csv", "stu-0008", "asian", "Y")

    expect_error(roster, "demographics.csv", line, "asian", include_demographics=True)


def test_text_that_is_not_utf8_names_line_and_column(roster: Path) -> None:
    line = set_cell(roster, "users.csv", "stu-0005", "familyName", "Muñoz")
    path = roster / "users.csv"
    path.write_bytes(path.read_bytes().replace("Muñoz".encode(), "Muñoz".encode("cp1252")))

    error = expect_error(roster, "users.csv", line, "familyName")

    assert "UTF-8" in error.message


def test_malformed_csv(roster: Path) -> None:
    path = roster / "classes.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4].replace("Room", '"Room" 10', 1)
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")

    error = expect_error(roster, "classes.csv", 5, None)

    assert "malformed CSV" in error.message


def test_row_with_more_cells_than_the_header(roster: Path) -> None:
    rows = read_rows(roster, "orgs.csv")
    rows[2].append("surprise")
    write_rows(roster, "orgs.csv", rows)

    error = expect_error(roster, "orgs.csv", 3, None)

    assert error.message == "row has 8 cells but the header has 7"


def test_line_numbers_count_quoted_cells_that_span_lines(roster: Path) -> None:
    rows = read_rows(roster, "users.csv")
    given_at = rows[0].index("givenName")
    rows[1][rows[0].index("middleName")] = "first\nsecond\nthird"
    rows[6][given_at] = ""
    write_rows(roster, "users.csv", rows)

    expect_error(roster, "users.csv", 9, "givenName")

    rows[1][given_at] = ""
    write_rows(roster, "users.csv", rows)

    expect_error(roster, "users.csv", 2, "givenName")


def test_unsupported_manifest_version(roster: Path) -> None:
    line = set_cell(roster, "manifest.csv", "oneroster.version", "value", "1.0")

    expect_error(roster, "manifest.csv", line, "value")


def test_path_that_is_not_a_roster(tmp_path: Path) -> None:
    not_zip = tmp_path / "roster.zip"
    not_zip.write_text("hello", encoding="utf-8")

    expect_error(not_zip, "roster.zip", None, None)
    expect_error(tmp_path / "nowhere", "nowhere", None, None)


def test_empty_file(roster: Path) -> None:
    (roster / "courses.csv").write_bytes(b"")

    expect_error(roster, "courses.csv", 1, None)


def test_values_in_errors_cannot_carry_terminal_escapes(roster_11: Path) -> None:
    line = set_cell(roster_11, "users.csv", "stu-0006", "role", "\x1b[2J\x1b[31mboss")

    error = expect_error(roster_11, "users.csv", line, "role")

    assert "\x1b" not in str(error)


@pytest.mark.slow
def test_fifty_thousand_students_read(tmp_path: Path) -> None:
    path = write_demo_roster(tmp_path / "big", version="1.2", students=50_000, as_zip=True)
    reports: list[tuple[str, int]] = []

    data = read_roster(path, progress=lambda name, rows: reports.append((name, rows)))

    assert len(data.students) == 50_000
    assert data.students[-1].sourced_id == "stu-50000"
    assert sum(student.iep for student in data.students) == 6_000
    assert len([e for e in data.enrollments if e.role == "student"]) == 100_000
    users_reports = [rows for name, rows in reports if name == "users.csv"]
    assert users_reports[:3] == [1000, 2000, 3000]
    assert users_reports[-1] == 50_000 + len(data.staff) + 3
