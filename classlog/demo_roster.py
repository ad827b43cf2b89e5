"""Write a realistic, deterministic OneRoster CSV roster for demos and tests.

One district with one middle school, Lincoln Middle School (grades 06-08), in the 2026-2027
school year (two semesters). Every 160 students share a pair of teachers who each teach six
sections, periods 1 to 6; the first pair is staff-teacher-1 (sections section-p1..section-p6)
and staff-teacher-2. The school also has a mobile response aide (staff-mobile-1), an
administrator (staff-admin-1) and a few guardians. About 12% of students have an IEP
(metadata.iep), and demographics.csv holds sex, birth date, race and ethnicity.

Usage: python scripts/make_demo_roster.py OUT_DIR [--version 1.1|1.2] [--students N]
       [--seed S] [--zip]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

DISTRICT_ID = "district-riverside"
DISTRICT_NAME = "Riverside Unified School District"
SCHOOL_ID = "school-lincoln"
SCHOOL_NAME = "Lincoln Middle School"
YEAR_ID = "session-2026-2027"
FALL_ID = "session-2026-fall"
SPRING_ID = "session-2027-spring"
YEAR_START = date(2026, 9, 1)
YEAR_END = date(2027, 6, 11)
LAST_MODIFIED = "2026-08-20T12:00:00Z"
ZIP_TIMESTAMP = (2026, 8, 20, 12, 0, 0)
STUDENTS_PER_TEAM = 160
PERIODS = 6
GRADES = ("06", "07", "08")
IEP_SHARE = 0.12
GUARDIAN_COUNT = 3

SUBJECTS = (("sci", "Science"), ("ela", "English Language Arts"))

STAFF_NAMES = (
    ("Marisol", "Alvarez"),
    ("Daniel", "Okafor"),
    ("Priya", "Raman"),
    ("Thomas", "O'Connell"),
    ("Hannah", "Lindqvist"),
    ("Kwame", "Mensah"),
    ("Sofía", "Castañeda"),
    ("Robert", "Yazzie"),
    ("Emily", "Nakamura-Reid"),
    ("Andre", "Baptiste"),
)
MOBILE_NAME = ("Jordan", "Whitfield")
ADMIN_NAME = ("Denise", "Harper-Lowe")


def _listed(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


GIVEN_NAMES = _listed("""
    Aaliyah, Aarav, Abigail, Adrián, Ahmed, Aiyana, Alejandro, Amara, Ana Sofía, André, Anh, Ava,
    Benjamín, Bilal, Björn, Brianna, Caleb, Camila, Chidi, Chloé, D'Andre, Daniela, Darius, Deja,
    Diego, Elijah, Emma, Ethan, Fatima, Gabriel, Grace, Hana, Harper, Hiroshi, Imani, Isabella,
    Jackson, Jamal, Jasmine, Javier, Jayden, Jean-Luc, Jiwoo, José, Kai, Kayla, Keanu, Liam,
    Lucía, Malik, Mariam, Mary-Kate, Mateo, Maya, Mei, Mohammed, Nadia, Naomi, Ngozi, Noah, Noé,
    Nguyệt, Olivia, Omar, Priya, Rafael, Renée, Rohan, Ruby, Samuel, Santiago, Sara, Siobhán,
    Sofia, Ta'Nasia, Takoda, Tariq, Thandiwe, Valentina, Wei, Xavier, Yusuf, Zion, Zoë
""")
FAMILY_NAMES = _listed("""
    Abernathy, Adeyemi, Al-Sayed, Alvarado, Anderson, Begay, Ben-David, Bennett, Brooks, Castillo,
    Chen, Cruz, D'Amico, Dang, Davis, De La Cruz, Delgado, Diallo, Dubois, Estrada, Fernández,
    Fitzgerald, García, Goldberg, Gonzalez, Gutiérrez, Haddad, Hernández, Ibrahim, Jackson,
    Jensen, Johnson, Kapoor, Kim, Kowalski, Le, Lee, López, MacDonald, Martin, Martínez,
    McAllister, Mendoza, Moreno, Müller, Nguyễn, Novak, O'Brien, O'Neill, Okonkwo, Ortiz, Patel,
    Pérez, Ramírez, Reyes, Robinson, Rodríguez, Romero, Sánchez, Schmidt, Shah, Silva,
    Smith-Jones, Søndergaard, St. Pierre, Suárez, Tanaka, Taylor, Thompson, Torres, Tran,
    Van der Berg, Vásquez, Walker, Washington, White Eagle, Williams, Wilson, Wright, Yamamoto,
    Young, Zhang
""")

RACE_SHARES = {
    "americanIndianOrAlaskaNative": 0.02,
    "asian": 0.07,
    "blackOrAfricanAmerican": 0.16,
    "nativeHawaiianOrOtherPacificIslander": 0.01,
    "white": 0.68,
    "demographicRaceTwoOrMoreRaces": 0.06,
}
HISPANIC_SHARE = 0.27

ORGS_COLUMNS = _listed("sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId")
SESSIONS_COLUMNS = _listed(
    "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear"
)
COURSES_COLUMNS = _listed(
    "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,"
    "subjects,subjectCodes"
)
CLASSES_COLUMNS = _listed(
    "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,"
    "schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods"
)
USERS_COLUMNS_1_1 = _listed(
    "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,"
    "familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,"
    "metadata.iep"
)
USERS_COLUMNS_1_2 = _listed(
    "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,"
    "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,"
    "preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns,"
    "metadata.iep"
)
ROLES_COLUMNS = _listed(
    "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,"
    "orgSourcedId,userProfileSourcedId"
)
ENROLLMENTS_COLUMNS = _listed(
    "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,"
    "beginDate,endDate"
)
DEMOGRAPHICS_COLUMNS = _listed(
    "sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,"
    "blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,"
    "demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity,countryOfBirthCode,"
    "stateOfBirthAbbreviation,cityOfBirth,publicSchoolResidenceStatus"
)


@dataclass
class _User:
    sourced_id: str
    given_name: str
    family_name: str
    role: str
    grade: str = ""
    iep: bool = False
    agents: str = ""


def _username(given_name: str, family_name: str, sourced_id: str) -> str:
    letters = "".join(char for char in f"{given_name[0]}{family_name}".lower() if char.isalnum())
    return f"{letters.encode('ascii', 'ignore').decode()}.{sourced_id.rsplit('-', 1)[-1]}"


def _yes(flag: bool) -> str:
    return "true" if flag else "false"


def _sections_for_team(team: int) -> list[tuple[str, str, int, str, str]]:
    """(section id, teacher id, period, subject code, grade) for a team's two teachers.

    Periods 1-2 are grade 06, 3-4 grade 07, 5-6 grade 08; the first teacher teaches Science,
    the second English Language Arts."""
    sections: list[tuple[str, str, int, str, str]] = []
    for seat, (subject, _title) in enumerate(SUBJECTS):
        teacher_number = 2 * team + seat + 1
        teacher_id = f"staff-teacher-{teacher_number}"
        for period in range(1, PERIODS + 1):
            grade = GRADES[(period - 1) // 2]
            section_id = (
                f"section-p{period}"
                if teacher_number == 1
                else f"section-t{teacher_number}-p{period}"
            )
            sections.append((section_id, teacher_id, period, subject, grade))
    return sections


def _write_csv(
    files: dict[str, str], name: str, columns: tuple[str, ...], rows: list[list[str]]
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        if len(row) != len(columns):
            raise AssertionError(f"{name}: row of {len(row)} cells for {len(columns)} columns")
        writer.writerow(row)
    files[name] = buffer.getvalue()


def build_demo_roster(version: str = "1.2", students: int = 160, seed: int = 7) -> dict[str, str]:
    """The roster's files, by name, as CSV text."""
    if version not in {"1.1", "1.2"}:
        raise ValueError(f"OneRoster version must be 1.1 or 1.2, not {version!r}")
    if students < 1:
        raise ValueError("a demo roster needs at least one student")
    rng = random.Random(seed)
    files: dict[str, str] = {}
    stamp = LAST_MODIFIED

    _write_csv(
        files,
        "orgs.csv",
        ORGS_COLUMNS,
        [
            [DISTRICT_ID, "active", stamp, DISTRICT_NAME, "district", "RUSD", ""],
            [SCHOOL_ID, "active", stamp, SCHOOL_NAME, "school", "LMS-042", DISTRICT_ID],
        ],
    )
    _write_csv(
        files,
        "academicSessions.csv",
        SESSIONS_COLUMNS,
        [
            [
                YEAR_ID,
                "active",
                stamp,
                "2026-2027",
                "schoolYear",
                YEAR_START.isoformat(),
                YEAR_END.isoformat(),
                "",
                "2027",
            ],
            [
                FALL_ID,
                "active",
                stamp,
                "Fall 2026",
                "semester",
                YEAR_START.isoformat(),
                "2027-01-22",
                YEAR_ID,
                "2027",
            ],
            [
                SPRING_ID,
                "active",
                stamp,
                "Spring 2027",
                "semester",
                "2027-01-25",
                YEAR_END.isoformat(),
                YEAR_ID,
                "2027",
            ],
        ],
    )
    _write_csv(
        files,
        "courses.csv",
        COURSES_COLUMNS,
        [
            [
                f"course-{code}-{grade}",
                "active",
                stamp,
                YEAR_ID,
                f"{title} {int(grade)}",
                f"{code.upper()}{grade}",
                grade,
                SCHOOL_ID,
                title,
                "",
            ]
            for code, title in SUBJECTS
            for grade in GRADES
        ],
    )

    team_count = -(-students // STUDENTS_PER_TEAM)
    staff: list[_User] = []
    class_rows: list[list[str]] = []
    enrollment_rows: list[list[str]] = []
    pupils: list[_User] = []
    subject_titles = dict(SUBJECTS)
    for team in range(team_count):
        first = team * STUDENTS_PER_TEAM
        team_size = min(STUDENTS_PER_TEAM, students - first)
        team_sections = _sections_for_team(team)
        for seat in range(2):
            teacher_number = 2 * team + seat + 1
            given, family = STAFF_NAMES[(teacher_number - 1) % len(STAFF_NAMES)]
            staff.append(_User(f"staff-teacher-{teacher_number}", given, family, "teacher"))
        for section_id, teacher_id, period, subject, grade in team_sections:
            title = f"{subject_titles[subject]} {int(grade)} - Period {period}"
            class_rows.append(
                [
                    section_id,
                    "active",
                    stamp,
                    title,
                    grade,
                    f"course-{subject}-{grade}",
                    f"{subject.upper()}{grade}-{period}",
                    "scheduled",
                    f"Room {100 + period + 10 * team}",
                    SCHOOL_ID,
                    f"{FALL_ID},{SPRING_ID}",
                    subject_titles[subject],
                    "",
                    str(period),
                ]
            )
            enrollment_rows.append(
                [
                    f"enr-{section_id}-{teacher_id}",
                    "active",
                    stamp,
                    section_id,
                    SCHOOL_ID,
                    teacher_id,
                    "teacher",
                    "true",
                    YEAR_START.isoformat(),
                    "",
                ]
            )
        team_ids = [f"stu-{number:04d}" for number in range(first + 1, first + team_size + 1)]
        seating = list(team_ids)
        rng.shuffle(seating)
        period_of = {student: index % PERIODS + 1 for index, student in enumerate(seating)}
        for student_id in team_ids:
            period = period_of[student_id]
            grade = GRADES[(period - 1) // 2]
            pupils.append(
                _User(
                    student_id,
                    rng.choice(GIVEN_NAMES),
                    rng.choice(FAMILY_NAMES),
                    "student",
                    grade=grade,
                )
            )
            partner_period = period + 1 if period % 2 else period - 1
            for section_id, _teacher, section_period, subject, _grade in team_sections:
                wanted = period if subject == SUBJECTS[0][0] else partner_period
                if section_period == wanted:
                    enrollment_rows.append(
                        [
                            f"enr-{section_id}-{student_id}",
                            "active",
                            stamp,
                            section_id,
                            SCHOOL_ID,
                            student_id,
                            "student",
                            "false",
                            YEAR_START.isoformat(),
                            "",
                        ]
                    )
    for index in rng.sample(range(len(pupils)), round(len(pupils) * IEP_SHARE)):
        pupils[index].iep = True

    staff.append(_User("staff-mobile-1", *MOBILE_NAME, "aide"))
    staff.append(_User("staff-admin-1", *ADMIN_NAME, "administrator"))
    guardians = []
    for number, pupil in enumerate(pupils[:GUARDIAN_COUNT], start=1):
        guardian_id = f"guardian-{number:04d}"
        guardians.append(
            _User(
                guardian_id,
                rng.choice(GIVEN_NAMES),
                pupil.family_name,
                "guardian",
                agents=pupil.sourced_id,
            )
        )
        pupil.agents = guardian_id
    users = staff + pupils + guardians
    _write_csv(files, "classes.csv", CLASSES_COLUMNS, class_rows)
    _write_csv(files, "enrollments.csv", ENROLLMENTS_COLUMNS, enrollment_rows)
    _write_users(files, version, users)
    _write_demographics(files, pupils, rng)

    listed = ["academicSessions", "classes", "courses", "demographics", "enrollments", "orgs"]
    if version == "1.2":
        listed.append("roles")
    listed.append("users")
    manifest = [["manifest.version", "1.0"], ["oneroster.version", version]]
    manifest += [[f"file.{name}", "bulk"] for name in listed]
    for absent in (
        "categories",
        "classResources",
        "courseResources",
        "lineItems",
        "results",
        "resources",
    ):
        manifest.append([f"file.{absent}", "absent"])
    manifest += [["source.systemName", "classlog demo roster"], ["source.systemCode", "demo"]]
    _write_csv(files, "manifest.csv", ("propertyName", "value"), manifest)
    return files


def _write_users(files: dict[str, str], version: str, users: list[_User]) -> None:
    stamp = LAST_MODIFIED
    rows: list[list[str]] = []
    role_rows: list[list[str]] = []
    for user in users:
        username = _username(user.given_name, user.family_name, user.sourced_id)
        domain = "students.riverside.example" if user.role == "student" else "riverside.example"
        email = f"{username}@{domain}"
        iep = _yes(user.iep) if user.role == "student" else ""
        if version == "1.1":
            rows.append(
                [
                    user.sourced_id,
                    "active",
                    stamp,
                    "true",
                    SCHOOL_ID,
                    user.role,
                    username,
                    "",
                    user.given_name,
                    user.family_name,
                    "",
                    user.sourced_id.upper(),
                    email,
                    "",
                    "",
                    user.agents,
                    user.grade,
                    "",
                    iep,
                ]
            )
            continue
        rows.append(
            [
                user.sourced_id,
                "active",
                stamp,
                "true",
                username,
                "",
                user.given_name,
                user.family_name,
                "",
                user.sourced_id.upper(),
                email,
                "",
                "",
                user.agents,
                user.grade,
                "",
                user.sourced_id.upper(),
                "",
                "",
                "",
                SCHOOL_ID,
                "",
                iep,
            ]
        )
        role = "siteAdministrator" if user.role == "administrator" else user.role
        role_rows.append(
            [
                f"role-{user.sourced_id}",
                "active",
                stamp,
                user.sourced_id,
                "primary",
                role,
                "",
                "",
                SCHOOL_ID,
                "",
            ]
        )
    if version == "1.1":
        _write_csv(files, "users.csv", USERS_COLUMNS_1_1, rows)
        return
    _write_csv(files, "users.csv", USERS_COLUMNS_1_2, rows)
    _write_csv(files, "roles.csv", ROLES_COLUMNS, role_rows)


def _write_demographics(files: dict[str, str], pupils: list[_User], rng: random.Random) -> None:
    rows: list[list[str]] = []
    races = list(RACE_SHARES)
    single_races = races[:-1]
    weights = list(RACE_SHARES.values())
    for pupil in pupils:
        age_on_first_day = int(pupil.grade) + 5
        earliest = date(YEAR_START.year - age_on_first_day - 1, 9, 2)
        birth_date = earliest + timedelta(days=rng.randrange(365))
        sex = rng.choice(("female", "male"))
        race = rng.choices(races, weights)[0]
        marked = {race}
        if race == "demographicRaceTwoOrMoreRaces":
            marked.update(rng.sample(single_races, 2))
        hispanic = rng.random() < HISPANIC_SHARE
        rows.append(
            [pupil.sourced_id, "active", LAST_MODIFIED, birth_date.isoformat(), sex]
            + [_yes(name in marked) for name in races]
            + [_yes(hispanic), "US", "CA", "Riverside", ""]
        )
    _write_csv(files, "demographics.csv", DEMOGRAPHICS_COLUMNS, rows)


def write_demo_roster(
    out_dir: Path,
    version: str = "1.2",
    students: int = 160,
    seed: int = 7,
    as_zip: bool = False,
) -> Path:
    """Write the roster into `out_dir` (created if needed) as CSV files, or as one zip file in
    it; returns the folder or the zip's path."""
    files = build_demo_roster(version=version, students=students, seed=seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    if as_zip:
        archive_path = out_dir / f"oneroster-{version}-demo.zip"
        with zipfile.ZipFile(archive_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(files):
                info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, files[name].encode("utf-8"))
        return archive_path
    for name, text in files.items():
        (out_dir / name).write_bytes(text.encode("utf-8"))
    return out_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out_dir", type=Path, help="folder to write the roster into")
    parser.add_argument(
        "--version", choices=("1.1", "1.2"), default="1.2", help="OneRoster version (default 1.2)"
    )
    parser.add_argument("--students", type=int, default=160, help="number of students")
    parser.add_argument("--seed", type=int, default=7, help="seed for names and demographics")
    parser.add_argument("--zip", action="store_true", help="write one zip file instead")
    arguments = parser.parse_args(argv)
    if arguments.students < 1:
        parser.error("--students must be at least 1")
    written = write_demo_roster(
        arguments.out_dir,
        version=arguments.version,
        students=arguments.students,
        seed=arguments.seed,
        as_zip=arguments.zip,
    )
    print(
        f"wrote OneRoster {arguments.version} roster with {arguments.students} students: {written}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
