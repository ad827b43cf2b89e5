"""Read a OneRoster 1.1 or 1.2 CSV roster (a folder or a zip) into classlog's roster models.

The reader is all-or-nothing: it checks every file, column, reference and value it uses, and
the first problem raises a `RosterError` naming the file, line and column, so an administrator
can fix the export and try again. Nothing is returned until the whole roster has been read.

Demographics are read only when asked (R8: they live on the district server, never on devices).
Rows marked `tobedeleted` are skipped, and so are the rows that depend on them (an enrollment in
a deleted class, a role of a deleted user).
"""

from __future__ import annotations

import csv
import io
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import Literal

from schema.errors import UserError
from schema.models import Org, Section, Staff, Student

RosterVersion = Literal["1.1", "1.2"]
ProgressCallback = Callable[[str, int], None]

PROGRESS_EVERY_ROWS = 1000
MAX_FILE_BYTES = 2 * 1024**3
MAX_MEMBER_BYTES = 1024**3
"""The most one zip member may inflate to, counted while inflating (headers can lie)."""
MAX_COMPRESSION_RATIO = 100
"""Inflated bytes per stored byte beyond which a zip member is a bomb, not a roster file (real
CSV deflates about 5 to 20 times); members under ``RATIO_FREE_BYTES`` are not held to it."""
RATIO_FREE_BYTES = 1024**2
ZIP_READ_CHUNK = 1024**2
_SHOWN_VALUE_MAX_CHARS = 60

MANIFEST = "manifest.csv"
ORGS = "orgs.csv"
SESSIONS = "academicSessions.csv"
COURSES = "courses.csv"
CLASSES = "classes.csv"
USERS = "users.csv"
ENROLLMENTS = "enrollments.csv"
ROLES = "roles.csv"
DEMOGRAPHICS = "demographics.csv"

RACE_FLAGS = (
    "americanIndianOrAlaskaNative",
    "asian",
    "blackOrAfricanAmerican",
    "nativeHawaiianOrOtherPacificIslander",
    "white",
    "demographicRaceTwoOrMoreRaces",
)

_STUDENT = "student"
_STAFF_ROLES = {
    # The role staff get in classlog, by OneRoster role; 1.2's administrator kinds become one.
    "teacher": "teacher",
    "aide": "aide",
    "administrator": "administrator",
    "proctor": "proctor",
    "counselor": "counselor",
    "principal": "administrator",
    "siteadministrator": "administrator",
    "districtadministrator": "administrator",
    "systemadministrator": "administrator",
}
_ROLES = {
    role.lower(): role
    for role in (
        "student",
        "teacher",
        "aide",
        "administrator",
        "proctor",
        "counselor",
        "principal",
        "siteAdministrator",
        "districtAdministrator",
        "systemAdministrator",
        "parent",
        "guardian",
        "relative",
    )
}
"""Every role OneRoster 1.1 (users.csv, enrollments.csv) or 1.2 (roles.csv, enrollments.csv)
names, by its lower-cased spelling; extension roles start with `ext:`."""
_ORG_TYPES = frozenset({"school", "district", "local", "state", "national", "department"})
_SESSION_TYPES = {
    "schoolyear": "schoolYear",
    "semester": "semester",
    "term": "term",
    "gradingperiod": "gradingPeriod",
}
_ROLE_TYPES = frozenset({"primary", "secondary"})
_CLASS_TYPES = frozenset({"homeroom", "scheduled"})
_STATUSES = frozenset({"", "active", "tobedeleted"})
_TRUE = frozenset({"true"})
_FALSE = frozenset({"false"})
_IEP_TRUE = frozenset({"true", "yes", "1"})
_IEP_FALSE = frozenset({"false", "no", "0"})
_NULL_REFERENCES = frozenset({"", "null"})


class RosterError(UserError, ValueError):
    """A problem in a roster a person exported: names the file, line and column to fix."""

    def __init__(self, file: str, line: int | None, column: str | None, message: str) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.message = message.replace("\r", " ").replace("\n", " ")
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [self.file]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"


@dataclass
class AcademicSession:
    """A school year, semester, term or grading period."""

    sourced_id: str
    title: str
    type: str
    start_date: date
    end_date: date
    parent_id: str | None
    school_year: str


@dataclass(slots=True)
class Enrollment:
    """A user's place in a section: a student in it, or the staff who teach it."""

    section_id: str
    user_id: str
    role: str
    primary: bool
    school_id: str


@dataclass
class Demographics:
    """One student's demographics, for disaggregated summaries on the district server only."""

    student_id: str
    birth_date: date | None
    sex: str | None
    race: list[str] = field(default_factory=list)
    hispanic_or_latino: bool | None = None


@dataclass
class RosterData:
    """A whole roster, checked: every reference in it names a record in it."""

    version: RosterVersion
    orgs: list[Org]
    sessions: list[AcademicSession]
    sections: list[Section]
    staff: list[Staff]
    students: list[Student]
    enrollments: list[Enrollment]
    demographics: list[Demographics]

    def school_year_start(self, today: date | None = None) -> date | None:
        """The start of the schoolYear session holding `today` (default: today in UTC), else of
        the latest schoolYear session; None when the roster has none."""
        years = [session for session in self.sessions if session.type == "schoolYear"]
        if not years:
            return None
        on = today if today is not None else datetime.now(UTC).date()
        current = [year for year in years if year.start_date <= on <= year.end_date]
        chosen = max(current or years, key=lambda session: session.start_date)
        return chosen.start_date


def read_roster(
    path: Path,
    *,
    include_demographics: bool = False,
    progress: ProgressCallback | None = None,
) -> RosterData:
    """Read and check a whole OneRoster CSV roster, from a folder or a zip file.

    Raises RosterError for the first problem found; returns nothing partial.
    """
    source = _open_source(path)
    try:
        return _Reader(source, progress).read(include_demographics=include_demographics)
    finally:
        source.close()


def _shown(value: str) -> str:
    if len(value) > _SHOWN_VALUE_MAX_CHARS:
        value = value[: _SHOWN_VALUE_MAX_CHARS - 1] + "…"
    return repr(value)


class _Source(ABC):
    """The CSV files of a roster, by lower-cased file name."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def has(self, name: str) -> bool:
        return name.lower() in self.names

    @abstractmethod
    def read_bytes(self, name: str) -> bytes:
        """The file's bytes, as stored."""

    @abstractmethod
    def close(self) -> None:
        """Release what the source holds open."""


class _FolderSource(_Source):
    def __init__(self, folder: Path) -> None:
        names = {
            child.name.lower(): child.name
            for child in folder.iterdir()
            if child.is_file() and child.suffix.lower() == ".csv"
        }
        super().__init__(names)
        self.folder = folder

    def read_bytes(self, name: str) -> bytes:
        actual = self.names[name.lower()]
        try:
            return (self.folder / actual).read_bytes()
        except OSError as error:
            raise RosterError(
                name, None, None, f"file cannot be read ({error.strerror})"
            ) from error

    def close(self) -> None:
        """A folder holds nothing open."""


class _ZipSource(_Source):
    """Reads members straight from the archive into memory; nothing is extracted to disk."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        members = [
            info
            for info in archive.infolist()
            if not info.is_dir()
            and not info.filename.startswith("__MACOSX/")
            and not PurePosixPath(info.filename).name.startswith("._")
            and info.filename.lower().endswith(".csv")
        ]
        folder = _roster_folder(PurePosixPath(info.filename) for info in members)
        names: dict[str, str] = {}
        for info in members:
            member = PurePosixPath(info.filename)
            if member.parent == folder:
                names[member.name.lower()] = info.filename
        super().__init__(names)

    def read_bytes(self, name: str) -> bytes:
        """The member inflated a chunk at a time, refused as soon as it grows past the size
        cap or the compression-ratio cap, so a zip bomb never takes more than a cap's worth of
        memory."""
        member = self.archive.getinfo(self.names[name.lower()])
        size_cap = MAX_MEMBER_BYTES
        ratio_cap = max(RATIO_FREE_BYTES, member.compress_size * MAX_COMPRESSION_RATIO)
        if member.file_size > size_cap:
            raise RosterError(name, None, None, _too_large(size_cap))
        chunks: list[bytes] = []
        inflated = 0
        try:
            with self.archive.open(member) as stream:
                while chunk := stream.read(ZIP_READ_CHUNK):
                    inflated += len(chunk)
                    if inflated > size_cap:
                        raise RosterError(name, None, None, _too_large(size_cap))
                    if inflated > ratio_cap:
                        raise RosterError(
                            name,
                            None,
                            None,
                            f"file inflates more than {MAX_COMPRESSION_RATIO} times its"
                            " compressed size (compression ratio): not a roster file",
                        )
                    chunks.append(chunk)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as error:
            raise RosterError(
                name, None, None, f"file cannot be read from the zip ({error})"
            ) from error
        return b"".join(chunks)

    def close(self) -> None:
        self.archive.close()


def _too_large(cap: int) -> str:
    return f"file is larger than {cap // 1024**2} MB: too large to be a roster file"


def _roster_folder(members: Iterable[PurePosixPath]) -> PurePosixPath:
    """The folder inside a zip that holds the roster: the shallowest with users.csv or orgs.csv."""
    candidates = [member.parent for member in members if member.name.lower() in {USERS, ORGS}]
    if not candidates:
        return PurePosixPath(".")
    return min(candidates, key=lambda folder: (len(folder.parts), str(folder)))


def _open_source(path: Path) -> _Source:
    if path.is_dir():
        return _FolderSource(path)
    if not path.exists():
        raise RosterError(path.name or str(path), None, None, "no such file or folder")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise RosterError(
            path.name, None, None, "not a folder or a zip file of OneRoster CSV files"
        ) from error
    return _ZipSource(archive)


class _Table:
    """One CSV file: the position of each header column, and its rows read as they are used,
    each with the line it starts on (a quoted cell may span lines)."""

    def __init__(self, name: str, text: str, progress: ProgressCallback | None) -> None:
        self.name = name
        self.progress = progress
        self.reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        try:
            header = next(self.reader, None)
        except csv.Error as error:
            raise self._malformed(error) from error
        if header is None or not any(cell.strip() for cell in header):
            raise RosterError(name, 1, None, "file is empty: the first line must be the header")
        self.columns: dict[str, int] = {}
        for position, raw in enumerate(header):
            column = raw.strip()
            if column in self.columns:
                raise RosterError(name, 1, column, "column appears twice in the header")
            if column:
                self.columns[column] = position
        self.width = len(header)

    def require(self, columns: Iterable[str]) -> None:
        for column in columns:
            if column not in self.columns:
                raise RosterError(self.name, 1, column, "required column is missing")

    def index(self, column: str) -> int | None:
        return self.columns.get(column)

    def numbered(self) -> Iterator[tuple[int, list[str]]]:
        """Each data row with the line it starts on; blank lines are skipped."""
        name, reader, width, progress = self.name, self.reader, self.width, self.progress
        count = 0
        previous_line = reader.line_num
        try:
            for row in reader:
                line = previous_line + 1
                previous_line = reader.line_num
                if len(row) != width:
                    if not row or (len(row) == 1 and not row[0].strip()):
                        continue
                    if len(row) < width or any(cell.strip() for cell in row[width:]):
                        raise RosterError(
                            name, line, None, f"row has {len(row)} cells but the header has {width}"
                        )
                    row = row[:width]
                count += 1
                if progress is not None and count % PROGRESS_EVERY_ROWS == 0:
                    progress(name, count)
                yield line, row
        except csv.Error as error:
            raise self._malformed(error) from error
        if progress is not None:
            progress(name, count)

    def _malformed(self, error: csv.Error) -> RosterError:
        return RosterError(self.name, self.reader.line_num, None, f"malformed CSV ({error})")


class _Reader:
    def __init__(self, source: _Source, progress: ProgressCallback | None) -> None:
        self.source = source
        self.progress = progress
        self.school_ids: set[str] = set()

    def read(self, *, include_demographics: bool) -> RosterData:
        version = self._version()
        orgs, known_orgs = self._orgs()
        sessions, known_sessions = self._sessions()
        known_courses, course_titles = self._courses(known_orgs, known_sessions)
        sections, known_classes = self._classes(
            known_orgs, known_courses, course_titles, known_sessions
        )
        people = self._users(version, known_orgs)
        if version == "1.2":
            self._roles(people, known_orgs)
        staff, students = people.split()
        enrollments = self._enrollments(known_classes, people.known, known_orgs)
        demographics: list[Demographics] = []
        if include_demographics and self.source.has(DEMOGRAPHICS):
            demographics = self._demographics(people)
        return RosterData(
            version=version,
            orgs=orgs,
            sessions=sessions,
            sections=sections,
            staff=staff,
            students=students,
            enrollments=enrollments,
            demographics=demographics,
        )

    def _version(self) -> RosterVersion:
        if self.source.has(MANIFEST):
            manifest = self._table(MANIFEST, ("propertyName", "value"))
            name_at, value_at = manifest.columns["propertyName"], manifest.columns["value"]
            for line, row in manifest.numbered():
                if row[name_at].strip() != "oneroster.version":
                    continue
                stated = row[value_at].strip()
                if stated == "1.1":
                    return "1.1"
                if stated == "1.2":
                    return "1.2"
                raise RosterError(
                    MANIFEST,
                    line,
                    "value",
                    f"{_shown(stated)} is not a OneRoster version this reads (1.1 or 1.2)",
                )
        if self.source.has(ROLES):
            return "1.2"
        return "1.1" if "role" in self._header(USERS) else "1.2"

    def _orgs(self) -> tuple[list[Org], _Known]:
        table = self._table(ORGS, ("sourcedId", "name", "type"))
        ids = _Ids(table)
        known = _Known(ids.active, ids.deleted, "an org", ORGS)
        parent_at = table.index("parentSourcedId")
        type_at = table.columns["type"]
        parents: list[tuple[int, str]] = []
        orgs: list[Org] = []
        for line, row in table.numbered():
            sourced_id = ids.claim(line, row)
            if sourced_id is None:
                continue
            name = _required(table, line, row, "name")
            org_type = row[type_at].strip()
            if org_type.lower() in _ORG_TYPES:
                org_type = org_type.lower()
            elif not org_type.startswith("ext:"):
                raise RosterError(
                    ORGS, line, "type", f"{_shown(org_type)} is not a OneRoster org type"
                )
            if parent_at is not None:
                parents.append((line, row[parent_at].strip()))
            orgs.append(Org(sourced_id=sourced_id, name=name, type=org_type))
            if org_type == "school":
                self.school_ids.add(sourced_id)
        for line, parent in parents:
            known.keeps(table, line, "parentSourcedId", parent, optional=True)
        return orgs, known

    def _sessions(self) -> tuple[list[AcademicSession], _Known]:
        table = self._table(
            SESSIONS, ("sourcedId", "title", "type", "startDate", "endDate", "schoolYear")
        )
        ids = _Ids(table)
        known = _Known(ids.active, ids.deleted, "an academic session", SESSIONS)
        parent_at = table.index("parentSourcedId")
        sessions: list[tuple[int, AcademicSession]] = []
        for line, row in table.numbered():
            sourced_id = ids.claim(line, row)
            if sourced_id is None:
                continue
            title = _required(table, line, row, "title")
            raw_type = _required(table, line, row, "type")
            session_type = _SESSION_TYPES.get(raw_type.lower())
            if session_type is None:
                if not raw_type.startswith("ext:"):
                    raise RosterError(
                        SESSIONS,
                        line,
                        "type",
                        f"{_shown(raw_type)} is not a OneRoster session type"
                        " (schoolYear, semester, term, gradingPeriod)",
                    )
                session_type = raw_type
            start = _required_date(table, line, row, "startDate")
            end = _required_date(table, line, row, "endDate")
            if end < start:
                raise RosterError(
                    SESSIONS, line, "endDate", f"{end.isoformat()} is before the startDate"
                )
            school_year = _required(table, line, row, "schoolYear")
            if not (len(school_year) == 4 and school_year.isdigit()):
                raise RosterError(
                    SESSIONS, line, "schoolYear", f"{_shown(school_year)} is not a year (YYYY)"
                )
            parent = row[parent_at].strip() if parent_at is not None else ""
            session = AcademicSession(
                sourced_id=sourced_id,
                title=title,
                type=session_type,
                start_date=start,
                end_date=end,
                parent_id=None if parent.lower() in _NULL_REFERENCES else parent,
                school_year=school_year,
            )
            sessions.append((line, session))
        for line, session in sessions:
            if session.parent_id is not None and not known.keeps(
                table, line, "parentSourcedId", session.parent_id
            ):
                session.parent_id = None
        return [session for _, session in sessions], known

    def _courses(self, known_orgs: _Known, known_sessions: _Known) -> tuple[_Known, dict[str, str]]:
        table = self._table(COURSES, ("sourcedId", "title", "orgSourcedId"))
        ids = _Ids(table)
        year_at = table.index("schoolYearSourcedId")
        titles: dict[str, str] = {}
        for line, row in table.numbered():
            sourced_id = ids.claim(line, row)
            if sourced_id is None:
                continue
            title = _required(table, line, row, "title")
            org = _required(table, line, row, "orgSourcedId")
            if year_at is not None:
                year = row[year_at].strip()
                known_sessions.keeps(table, line, "schoolYearSourcedId", year, optional=True)
            if not known_orgs.keeps(table, line, "orgSourcedId", org):
                ids.drop(sourced_id)
                continue
            titles[sourced_id] = title
        return _Known(ids.active, ids.deleted, "a course", COURSES), titles

    def _classes(
        self,
        known_orgs: _Known,
        known_courses: _Known,
        course_titles: dict[str, str],
        known_sessions: _Known,
    ) -> tuple[list[Section], _Known]:
        table = self._table(
            CLASSES,
            ("sourcedId", "title", "courseSourcedId", "schoolSourcedId", "termSourcedIds"),
        )
        ids = _Ids(table)
        periods_at = table.index("periods")
        class_type_at = table.index("classType")
        sections: list[Section] = []
        for line, row in table.numbered():
            sourced_id = ids.claim(line, row)
            if sourced_id is None:
                continue
            title = _required(table, line, row, "title")
            course = _required(table, line, row, "courseSourcedId")
            school = _required(table, line, row, "schoolSourcedId")
            for term in _split_list(_required(table, line, row, "termSourcedIds")):
                known_sessions.keeps(table, line, "termSourcedIds", term)
            if class_type_at is not None:
                class_type = row[class_type_at].strip()
                known_type = class_type.lower() in _CLASS_TYPES or class_type.startswith("ext:")
                if class_type and not known_type:
                    raise RosterError(
                        CLASSES,
                        line,
                        "classType",
                        f"{_shown(class_type)} is not a OneRoster class type (homeroom, scheduled)",
                    )
            course_kept = known_courses.keeps(table, line, "courseSourcedId", course)
            school_kept = known_orgs.keeps(table, line, "schoolSourcedId", school)
            if not (course_kept and school_kept):
                ids.drop(sourced_id)
                continue
            periods = _split_list(row[periods_at]) if periods_at is not None else []
            sections.append(
                Section(
                    sourced_id=sourced_id,
                    title=title,
                    school_id=school,
                    periods=",".join(periods),
                    course_title=course_titles[course],
                )
            )
        return sections, _Known(ids.active, ids.deleted, "a class", CLASSES)

    def _users(self, version: RosterVersion, known_orgs: _Known) -> _People:
        required: tuple[str, ...] = ("sourcedId", "givenName", "familyName")
        if version == "1.1":
            required = (*required, "role", "orgSourcedIds")
        table = self._table(USERS, required)
        ids = _Ids(table)
        people = _People(ids)
        given_at = table.columns["givenName"]
        family_at = table.columns["familyName"]
        role_at = table.index("role")
        orgs_at = table.index("orgSourcedIds")
        primary_org_at = table.index("primaryOrgSourcedId")
        grades_at = table.index("grades")
        iep_at = table.index("metadata.iep")
        enabled_at = table.index("enabledUser")
        for line, row in table.numbered():
            sourced_id = ids.claim(line, row)
            if sourced_id is None:
                continue
            given_name = row[given_at].strip()
            if not given_name:
                raise RosterError(USERS, line, "givenName", "required value is empty")
            family_name = row[family_at].strip()
            if not family_name:
                raise RosterError(USERS, line, "familyName", "required value is empty")
            if enabled_at is not None:
                _optional_flag(table, line, row[enabled_at], "enabledUser", _TRUE, _FALSE)
            iep = False
            if iep_at is not None:
                iep = _flag(table, line, row[iep_at], "metadata.iep", _IEP_TRUE, _IEP_FALSE)
            grade = ""
            if grades_at is not None:
                grades = _split_list(row[grades_at])
                grade = grades[0] if grades else ""
            school_id: str | None = None
            if orgs_at is not None:
                listed = _split_list(row[orgs_at])
                if version == "1.1" and not listed:
                    raise RosterError(USERS, line, "orgSourcedIds", "required value is empty")
                kept = [
                    org for org in listed if known_orgs.keeps(table, line, "orgSourcedIds", org)
                ]
                schools = [org for org in kept if org in self.school_ids]
                if schools or kept:
                    school_id = (schools or kept)[0]
            if primary_org_at is not None:
                primary_org = row[primary_org_at].strip()
                if primary_org.lower() not in _NULL_REFERENCES and known_orgs.keeps(
                    table, line, "primaryOrgSourcedId", primary_org
                ):
                    school_id = primary_org
            role = _role(table, line, row[role_at], "role") if role_at is not None else None
            people.add(
                _Person(
                    sourced_id=sourced_id,
                    line=line,
                    given_name=given_name,
                    family_name=family_name,
                    grade=grade,
                    iep=iep,
                    school_id=school_id,
                    role=role,
                )
            )
        return people

    def _roles(self, people: _People, known_orgs: _Known) -> None:
        """OneRoster 1.2 keeps roles apart from users: give each user its primary role (or, with
        none, its first), and its org as the school when users.csv named no primary org. A user
        whose every role is in a deleted org is dropped like a deleted user."""
        table = self._table(
            ROLES, ("sourcedId", "userSourcedId", "roleType", "role", "orgSourcedId")
        )
        ids = _Ids(table)
        chosen: dict[str, tuple[bool, str, str]] = {}
        in_deleted_org: set[str] = set()
        for line, row in table.numbered():
            if ids.claim(line, row) is None:
                continue
            user = _required(table, line, row, "userSourcedId")
            role_type = _required(table, line, row, "roleType")
            if role_type.lower() not in _ROLE_TYPES:
                raise RosterError(
                    ROLES,
                    line,
                    "roleType",
                    f"{_shown(role_type)} is not a OneRoster role type (primary, secondary)",
                )
            role = _role(table, line, row[table.columns["role"]], "role")
            org = _required(table, line, row, "orgSourcedId")
            user_kept = people.known.keeps(table, line, "userSourcedId", user)
            org_kept = known_orgs.keeps(table, line, "orgSourcedId", org)
            if not org_kept:
                in_deleted_org.add(user)
            if not (user_kept and org_kept):
                continue
            is_primary = role_type.lower() == "primary"
            earlier = chosen.get(user)
            if earlier is None or (is_primary and not earlier[0]):
                chosen[user] = (is_primary, role, org)
        for person in list(people.by_id.values()):
            found = chosen.get(person.sourced_id)
            if found is None and person.sourced_id in in_deleted_org:
                people.drop(person.sourced_id)
                continue
            if found is None:
                raise RosterError(
                    USERS,
                    person.line,
                    "sourcedId",
                    f"{_shown(person.sourced_id)} has no role in {ROLES}",
                )
            _, person.role, org = found
            if person.school_id is None:
                person.school_id = org

    def _enrollments(
        self, known_classes: _Known, known_users: _Known, known_orgs: _Known
    ) -> list[Enrollment]:
        table = self._table(
            ENROLLMENTS,
            ("sourcedId", "classSourcedId", "schoolSourcedId", "userSourcedId", "role"),
        )
        ids = _Ids(table)
        class_at = table.columns["classSourcedId"]
        school_at = table.columns["schoolSourcedId"]
        user_at = table.columns["userSourcedId"]
        role_at = table.columns["role"]
        primary_at = table.index("primary")
        begin_at = table.index("beginDate")
        end_at = table.index("endDate")
        classes, users, orgs = known_classes.active, known_users.active, known_orgs.active
        enrollments: list[Enrollment] = []
        for line, row in table.numbered():
            if ids.claim(line, row) is None:
                continue
            section_id = row[class_at].strip()
            school_id = row[school_at].strip()
            user_id = row[user_at].strip()
            role = _role(table, line, row[role_at], "role")
            primary = False
            if primary_at is not None:
                primary = _flag(table, line, row[primary_at], "primary", _TRUE, _FALSE)
            if begin_at is not None:
                _date(table, line, row, "beginDate")
            if end_at is not None:
                _date(table, line, row, "endDate")
            if not (section_id in classes and user_id in users and school_id in orgs):
                section_id = _required(table, line, row, "classSourcedId")
                user_id = _required(table, line, row, "userSourcedId")
                school_id = _required(table, line, row, "schoolSourcedId")
                class_kept = known_classes.keeps(table, line, "classSourcedId", section_id)
                user_kept = known_users.keeps(table, line, "userSourcedId", user_id)
                school_kept = known_orgs.keeps(table, line, "schoolSourcedId", school_id)
                if not (class_kept and user_kept and school_kept):
                    continue
            enrollments.append(Enrollment(section_id, user_id, role, primary, school_id))
        return enrollments

    def _demographics(self, people: _People) -> list[Demographics]:
        """Demographics of students only: staff rows are checked, then left out."""
        table = self._table(DEMOGRAPHICS, ("sourcedId",))
        ids = _Ids(table)
        birth_at = table.index("birthDate")
        sex_at = table.index("sex")
        hispanic_at = table.index("hispanicOrLatinoEthnicity")
        race_at = [(flag, at) for flag in RACE_FLAGS if (at := table.index(flag)) is not None]
        demographics: list[Demographics] = []
        for line, row in table.numbered():
            student_id = ids.claim(line, row)
            if student_id is None:
                continue
            birth_date = _date(table, line, row, "birthDate") if birth_at is not None else None
            sex = row[sex_at].strip() if sex_at is not None else ""
            race = [
                flag
                for flag, at in race_at
                if _optional_flag(table, line, row[at], flag, _TRUE, _FALSE)
            ]
            hispanic = None
            if hispanic_at is not None:
                hispanic = _optional_flag(
                    table, line, row[hispanic_at], "hispanicOrLatinoEthnicity", _TRUE, _FALSE
                )
            if not people.known.keeps(table, line, "sourcedId", student_id):
                continue
            if people.by_id[student_id].role != _STUDENT:
                continue
            demographics.append(
                Demographics(
                    student_id=student_id,
                    birth_date=birth_date,
                    sex=sex or None,
                    race=race,
                    hispanic_or_latino=hispanic,
                )
            )
        return demographics

    def _text(self, name: str) -> str:
        if not self.source.has(name):
            raise RosterError(name, None, None, "file is missing from the roster")
        data = self.source.read_bytes(name)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line, column = _locate(data.decode("utf-8-sig", errors="surrogateescape"), _bad_byte)
            raise RosterError(
                name, line, column, "text is not UTF-8 (save or export the file as UTF-8)"
            ) from error
        if "\x00" in text:
            line, column = _locate(text, lambda char: char == "\x00")
            raise RosterError(
                name, line, column, "text holds a NUL character (a zero byte): not a CSV file"
            )
        return text

    def _header(self, name: str) -> dict[str, int]:
        return _Table(name, self._text(name), None).columns

    def _table(self, name: str, required_columns: tuple[str, ...]) -> _Table:
        table = _Table(name, self._text(name), self.progress)
        table.require(required_columns)
        return table


@dataclass(slots=True)
class _Person:
    sourced_id: str
    line: int
    given_name: str
    family_name: str
    grade: str
    iep: bool
    school_id: str | None
    role: str | None


class _People:
    """Active users by sourcedId in file order, and what references to users may name."""

    def __init__(self, ids: _Ids) -> None:
        self.by_id: dict[str, _Person] = {}
        self.known = _Known(self.by_id, ids.deleted, "a user", USERS)

    def add(self, person: _Person) -> None:
        self.by_id[person.sourced_id] = person

    def drop(self, sourced_id: str) -> None:
        del self.by_id[sourced_id]
        self.known.deleted.add(sourced_id)

    def split(self) -> tuple[list[Staff], list[Student]]:
        staff: list[Staff] = []
        students: list[Student] = []
        for person in self.by_id.values():
            role = person.role or ""
            if role == _STUDENT:
                students.append(
                    Student(
                        sourced_id=person.sourced_id,
                        given_name=person.given_name,
                        family_name=person.family_name,
                        grade=person.grade,
                        iep=person.iep,
                        school_id=person.school_id,
                    )
                )
            elif role.lower() in _STAFF_ROLES:
                staff.append(
                    Staff(
                        sourced_id=person.sourced_id,
                        given_name=person.given_name,
                        family_name=person.family_name,
                        role=_STAFF_ROLES[role.lower()],
                        school_id=person.school_id,
                    )
                )
        return staff, students


class _Ids:
    """The sourcedIds of one file: each claimed once; active and tobedeleted kept apart."""

    def __init__(self, table: _Table) -> None:
        self.table = table
        self.id_at = table.columns["sourcedId"]
        self.status_at = table.index("status")
        self.first_line: dict[str, int] = {}
        self.active: set[str] = set()
        self.deleted: set[str] = set()

    def claim(self, line: int, row: list[str]) -> str | None:
        """The row's sourcedId, or None when the row is marked tobedeleted."""
        sourced_id = row[self.id_at].strip()
        if not sourced_id:
            raise RosterError(self.table.name, line, "sourcedId", "required value is empty")
        first = self.first_line.get(sourced_id)
        if first is not None:
            raise RosterError(
                self.table.name,
                line,
                "sourcedId",
                f"{_shown(sourced_id)} appears twice (first on line {first})",
            )
        self.first_line[sourced_id] = line
        if self.status_at is not None:
            status = row[self.status_at].strip().lower()
            if status not in _STATUSES:
                raise RosterError(
                    self.table.name,
                    line,
                    "status",
                    f"{_shown(row[self.status_at].strip())} is not a OneRoster status"
                    " (active or tobedeleted)",
                )
            if status == "tobedeleted":
                self.deleted.add(sourced_id)
                return None
        self.active.add(sourced_id)
        return sourced_id

    def drop(self, sourced_id: str) -> None:
        """Treat a row as deleted because a record it depends on is deleted."""
        self.active.discard(sourced_id)
        self.deleted.add(sourced_id)


def _required(table: _Table, line: int, row: list[str], column: str) -> str:
    value = row[table.columns[column]].strip()
    if not value:
        raise RosterError(table.name, line, column, "required value is empty")
    return value


@dataclass
class _Known:
    """The records of one kind that references may name: active ones, and the ids of those
    marked tobedeleted (a row naming one of those is dropped with it)."""

    active: Container[str]
    deleted: set[str]
    kind: str
    file: str

    def keeps(
        self, table: _Table, line: int, column: str, value: str, *, optional: bool = False
    ) -> bool:
        """True when `value` names an active record (or, when `optional`, is blank or NULL),
        False when it names a deleted one; RosterError when it names nothing."""
        if value in self.active or (optional and value.lower() in _NULL_REFERENCES):
            return True
        if value in self.deleted:
            return False
        raise RosterError(
            table.name, line, column, f"{_shown(value)} is not {self.kind} in {self.file}"
        )


def _split_list(cell: str) -> list[str]:
    return [item.strip() for item in cell.split(",") if item.strip()]


def _role(table: _Table, line: int, cell: str, column: str) -> str:
    raw = cell.strip()
    role = _ROLES.get(raw.lower())
    if role is not None:
        return role
    if not raw:
        raise RosterError(table.name, line, column, "required value is empty")
    if raw.startswith("ext:"):
        return raw
    raise RosterError(table.name, line, column, f"{_shown(raw)} is not a OneRoster role")


def _optional_flag(
    table: _Table,
    line: int,
    cell: str,
    column: str,
    true_values: frozenset[str],
    false_values: frozenset[str],
) -> bool | None:
    """A boolean cell; None when blank."""
    value = cell.strip().lower()
    if value in true_values:
        return True
    if value in false_values:
        return False
    if not value:
        return None
    accepted = "true or false" if true_values == _TRUE else "true/false, yes/no or 1/0"
    raise RosterError(table.name, line, column, f"{_shown(cell.strip())} is not {accepted}")


def _flag(
    table: _Table,
    line: int,
    cell: str,
    column: str,
    true_values: frozenset[str],
    false_values: frozenset[str],
) -> bool:
    """A boolean cell; False when blank."""
    return _optional_flag(table, line, cell, column, true_values, false_values) is True


def _required_date(table: _Table, line: int, row: list[str], column: str) -> date:
    parsed = _date(table, line, row, column)
    if parsed is None:
        raise RosterError(table.name, line, column, "required value is empty")
    return parsed


def _date(table: _Table, line: int, row: list[str], column: str) -> date | None:
    """An optional date cell: YYYY-MM-DD, or an ISO date-time whose date part is taken."""
    raw = row[table.columns[column]].strip()
    if not raw:
        return None
    day = raw[:10]
    if len(day) == 10 and day[4] == "-" and day[7] == "-":
        try:
            parsed = date.fromisoformat(day)
            if len(raw) > 10:
                datetime.fromisoformat(raw)
        except ValueError:
            pass
        else:
            return parsed
    raise RosterError(table.name, line, column, f"{_shown(raw)} is not a date (YYYY-MM-DD)")


def _bad_byte(char: str) -> bool:
    """A byte that was not UTF-8, escaped by ``surrogateescape`` as a lone surrogate."""
    return "\udc80" <= char <= "\udcff"


def _locate(text: str, wrong: Callable[[str], bool]) -> tuple[int | None, str | None]:
    """The line and column (by header name) of the first cell holding a ``wrong`` character,
    found by re-reading the file as CSV; the line alone when the file does not parse."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] = []
    previous_line = 0
    try:
        for row in reader:
            line = previous_line + 1
            previous_line = reader.line_num
            if not header:
                header = [cell.strip() for cell in row]
            for index, cell in enumerate(row):
                if any(wrong(char) for char in cell):
                    column = header[index] if line > 1 and index < len(header) else None
                    return line, column
    except csv.Error:
        pass
    position = next((index for index, char in enumerate(text) if wrong(char)), len(text))
    return text.count("\n", 0, position) + 1, None
