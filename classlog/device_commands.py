"""Commands that work on this device's own data: the TUI, roster import, scripted logging,
Take a Break, export and the demo. Heavy imports stay inside the handlers."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from schema.commandline import add_home_option, home_dir
from schema.errors import UserError

if TYPE_CHECKING:
    from schema.store import DeviceStore

ACTION_CHOICES = (
    "redirect",
    "reteach",
    "proximity",
    "private_conference",
    "seat_change",
    "take_a_break",
    "family_contact",
    "support_staff",
    "removal",
    "iss",
    "mobile_response",
    "another_adult",
)
TAB_KIND_CHOICES = ("spot", "out", "out_and_back")
INTERVENTION_KIND_CHOICES = (
    "reteaching",
    "monitored_strategy",
    "behavior_analysis",
    "long_term_support",
    "student_services_plan",
    "district",
)


def add_commands(commands: Any) -> None:
    """Register the device commands on the top-level sub-parser collection."""
    tui = commands.add_parser("tui", help="open the teacher's screen (the default command)")
    add_home_option(tui)
    tui.set_defaults(handler=open_tui)

    admin = commands.add_parser(
        "admin",
        help="the administrator's dashboard (on a device enrolled with an admin code)",
        description="Summaries from the district server as charts and tables, with this "
        "device's admin token. `classlog` opens it too on a device enrolled as admin.",
    )
    add_home_option(admin)
    admin.add_argument(
        "--export-dir",
        type=Path,
        metavar="DIR",
        help="where CSV exports are written (default: the current directory)",
    )
    admin.set_defaults(handler=open_admin)

    demo = commands.add_parser(
        "demo", help="try classlog with a demo school, in a throwaway home directory"
    )
    demo.add_argument("--keep", metavar="DIR", help="use (and keep) this directory")
    demo.add_argument(
        "--offline", action="store_true", help="the TUI alone: no local server, no daemon"
    )
    demo.add_argument(
        "--admin",
        action="store_true",
        help="the administrator's dashboard on a demo district with a few months of history",
    )
    demo.add_argument(
        "--mobile",
        action="store_true",
        help="in a second terminal while a demo runs: a mobile response staff member's screen "
        "on that demo (calls from the teacher's screen ring here)",
    )
    demo.add_argument(
        "--staff",
        metavar="ID",
        help="with --mobile: who the responder is (default: the demo school's mobile response "
        "aide, staff-mobile-1)",
    )
    demo.set_defaults(handler=run_demo)

    roster = commands.add_parser("roster", help="the device's roster")
    roster_commands = roster.add_subparsers(dest="roster_command", metavar="COMMAND", required=True)
    roster_import = roster_commands.add_parser(
        "import", help="import a OneRoster 1.1 or 1.2 CSV folder or zip into this device"
    )
    add_home_option(roster_import)
    roster_import.add_argument("path", type=Path, help="folder or .zip of OneRoster CSV files")
    roster_import.add_argument(
        "--staff", metavar="SOURCEDID", help="the staff member who uses this device"
    )
    roster_import.set_defaults(handler=roster_import_command)

    log = commands.add_parser("log", help="log, edit or void an intervention from a script")
    log_commands = log.add_subparsers(dest="log_command", metavar="COMMAND", required=True)
    add = log_commands.add_parser("add", help="log a Level 1 or 2 intervention")
    add_home_option(add)
    add.add_argument("--student", required=True, metavar="ID", help="student sourcedId")
    add.add_argument("--behavior", required=True, metavar="CODE", help="grid code, e.g. DIS-CLASS")
    add.add_argument("--level", required=True, type=int, choices=(1, 2), help="1 or 2")
    add.add_argument(
        "--action",
        action="append",
        default=[],
        choices=ACTION_CHOICES,
        metavar="ACTION",
        help=f"an action taken (repeatable): {', '.join(ACTION_CHOICES)}",
    )
    add.add_argument("--note", default="", help="a short note")
    add.add_argument("--at", metavar="ISO-TIME", help="when it happened (default: now)")
    add.add_argument("--location", help="where it happened")
    add.add_argument("--iss-days", type=float, metavar="DAYS", help="ISS length, 0.5 or 1")
    add.add_argument(
        "--removal-minutes",
        type=int,
        metavar="MINUTES",
        help="how long a removal from class lasted (every removal needs it)",
    )
    add.add_argument(
        "--safeguards",
        action="store_true",
        help="for an ISS of a student with an IEP: school work, special education services and "
        "a peer without a disability are all in place",
    )
    add.add_argument(
        "--bypass-reason",
        help="why you go above the advised level without the earlier record's intervention",
    )
    add.set_defaults(handler=log_add_command)

    edit = log_commands.add_parser("edit", help="edit a record (audited)")
    add_home_option(edit)
    edit.add_argument("id", help="record id")
    edit.add_argument("--level", type=int, choices=(1, 2))
    edit.add_argument("--note")
    edit.add_argument("--action", action="append", choices=ACTION_CHOICES, metavar="ACTION")
    edit.add_argument("--behavior", metavar="CODE", help="the grid code")
    edit.add_argument("--at", metavar="ISO-TIME", help="when it happened")
    edit.add_argument("--removal-minutes", type=int, metavar="MINUTES")
    edit.add_argument("--bypass-reason", help="why the record goes above the advised level")
    edit.set_defaults(handler=log_edit_command)

    referral = commands.add_parser(
        "referral", help="send a student to the office (an office referral, R10)"
    )
    referral_commands = referral.add_subparsers(
        dest="referral_command", metavar="COMMAND", required=True
    )
    add_referral = referral_commands.add_parser(
        "add",
        help="record that you sent a student to the office for an office-managed behavior",
    )
    add_home_option(add_referral)
    add_referral.add_argument("--student", required=True, metavar="ID")
    add_referral.add_argument("--behavior", required=True, metavar="CODE")
    add_referral.add_argument("--location", help="where it happened")
    add_referral.add_argument("--at", metavar="ISO-TIME", help="when it happened (default: now)")
    add_referral.add_argument("--note", default="", help="one line for the office")
    add_referral.set_defaults(handler=referral_add_command)
    show_referral = referral_commands.add_parser(
        "show", help="an office referral and the office's decision, once it has come back"
    )
    add_home_option(show_referral)
    show_referral.add_argument("referral", metavar="ID")
    show_referral.set_defaults(handler=referral_show_command)

    intervention = commands.add_parser(
        "intervention", help="record an intervention (what progression counts, R5)"
    )
    intervention_commands = intervention.add_subparsers(
        dest="intervention_command", metavar="COMMAND", required=True
    )
    add_intervention = intervention_commands.add_parser(
        "add",
        help="record an intervention for a student (and a behavior, or all behaviors)",
        description="Record an intervention: reteaching, a 2-week monitored strategy, a "
        "behavior analysis, a long-term support, a plan with Student Services, or the "
        "district's own. Only these count before a repeat is answered one level higher.",
    )
    add_home_option(add_intervention)
    add_intervention.add_argument("--student", required=True, metavar="ID")
    add_intervention.add_argument(
        "--behavior", metavar="CODE", help="the behavior it addresses (default: all behaviors)"
    )
    add_intervention.add_argument("--kind", required=True, choices=INTERVENTION_KIND_CHOICES)
    add_intervention.add_argument(
        "--name", default="", help="the district's own intervention's name (--kind district)"
    )
    add_intervention.add_argument("--start", metavar="YYYY-MM-DD", help="default: today")
    add_intervention.add_argument(
        "--review", metavar="YYYY-MM-DD", help="review date (default: by kind, 1-4 weeks)"
    )
    add_intervention.add_argument(
        "--record", metavar="ID", help="the earlier record this intervention answers"
    )
    add_intervention.add_argument("--note", default="")
    add_intervention.set_defaults(handler=intervention_add_command)

    void = log_commands.add_parser("void", help="void a record, with a reason")
    add_home_option(void)
    void.add_argument("id", help="record id")
    void.add_argument("--reason", required=True)
    void.set_defaults(handler=log_void_command)

    today = log_commands.add_parser("today", help="list today's records")
    add_home_option(today)
    today.set_defaults(handler=log_today_command)

    tab = commands.add_parser("tab", help="start or stop a Take a Break")
    tab_commands = tab.add_subparsers(dest="tab_command", metavar="COMMAND", required=True)
    start = tab_commands.add_parser("start", help="start a Take a Break")
    add_home_option(start)
    start.add_argument("--student", required=True, metavar="ID")
    start.add_argument("--kind", default="spot", choices=TAB_KIND_CHOICES)
    start.add_argument("--by", default="teacher", choices=("teacher", "student"))
    start.set_defaults(handler=tab_start_command)
    stop = tab_commands.add_parser("stop", help="end a Take a Break")
    add_home_option(stop)
    stop.add_argument("id", help="the Take a Break's id")
    ready = stop.add_mutually_exclusive_group()
    ready.add_argument("--ready", dest="ready", action="store_true", default=True)
    ready.add_argument("--not-ready", dest="ready", action="store_false")
    stop.add_argument("--reflection")
    stop.set_defaults(handler=tab_stop_command)

    export = commands.add_parser(
        "export", help="export your own records (Level 1 included) from this device"
    )
    add_home_option(export)
    export.add_argument("--format", default="jsonl", choices=("jsonl", "csv"))
    export.add_argument("--out", type=Path, help="write to a file instead of standard output")
    export.set_defaults(handler=export_command)


def open_store(args: argparse.Namespace, *, must_exist: bool = True) -> DeviceStore:
    from schema.db import NewerDatabaseError, db_path
    from schema.store import DeviceStore

    home = home_dir(args)
    if must_exist and not db_path(home).exists():
        raise UserError(
            f"no classlog data in {home}: import a roster first (classlog roster import PATH)"
        )
    try:
        return DeviceStore.open(home)
    except NewerDatabaseError as error:
        raise UserError(str(error)) from error
    except OSError as error:
        raise UserError(f"cannot open {home}: {error.strerror}") from error


def open_tui(args: argparse.Namespace) -> int:
    from tui.admin.connection import enrolled_role
    from tui.app import run

    home = home_dir(args)
    if enrolled_role(home) == "admin":
        return open_admin(args)
    return run(home)


def open_admin(args: argparse.Namespace) -> int:
    from tui.admin.app import run
    from tui.admin.connection import NotAnAdminDevice, admin_connection

    home = home_dir(args)
    try:
        admin_connection(home)
    except NotAnAdminDevice as error:
        raise UserError(str(error)) from None
    return run(home, export_dir=getattr(args, "export_dir", None))


def run_demo(args: argparse.Namespace) -> int:
    from classlog.demo import run_demo as demo

    return demo(
        Path(args.keep) if args.keep else None,
        offline=args.offline,
        admin=args.admin,
        mobile=args.mobile,
        staff=args.staff,
    )


def roster_import_command(args: argparse.Namespace) -> int:
    from schema.roster import RosterError, read_roster

    try:
        roster = read_roster(args.path)
    except RosterError as error:
        raise UserError(f"{error} (nothing was imported)") from error
    except OSError as error:
        raise UserError(f"{args.path}: {error.strerror}") from error
    staff_ids = {member.sourced_id for member in roster.staff}
    store = open_store(args, must_exist=False)
    try:
        staff_id = args.staff or store.staff_id
        if staff_id is not None and staff_id not in staff_ids:
            raise UserError(f"--staff {staff_id}: no such staff member in the roster")
        if staff_id is None:
            staff_id = _ask_staff(roster.staff)
        import_roster(store, roster)
        store.set_config(staff_id=staff_id)
        member = next(m for m in roster.staff if m.sourced_id == staff_id)
        print(
            f"imported {len(roster.students)} students, {len(roster.sections)} sections and "
            f"{len(roster.staff)} staff (OneRoster {roster.version}); this device is "
            f"{member.given_name} {member.family_name}'s"
        )
    finally:
        store.close()
    return 0


def import_roster(store: DeviceStore, roster: Any) -> None:
    """Write a read roster into the device, keeping only what a device may hold (R8)."""
    store.replace_roster(
        orgs=[(org.sourced_id, org.name, org.type) for org in roster.orgs],
        staff=roster.staff,
        students=roster.students,
        sections=roster.sections,
        enrollments=[(e.section_id, e.user_id, e.role) for e in roster.enrollments],
        school_year_start=roster.school_year_start(),
    )


def _ask_staff(staff: list[Any]) -> str:
    if not sys.stdin.isatty():
        raise UserError("which staff member uses this device? give --staff SOURCEDID")
    ordered = sorted(staff, key=lambda member: (member.family_name, member.given_name))
    for number, member in enumerate(ordered, start=1):
        print(f"{number:3}  {member.given_name} {member.family_name}  ({member.role})")
    answer = input("Who uses this device? number: ").strip()
    if not answer.isdigit() or not 1 <= int(answer) <= len(ordered):
        raise UserError(f"{answer!r} is not one of the numbers listed")
    return str(ordered[int(answer) - 1].sourced_id)


def _parse_time(text: str, store: DeviceStore) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise UserError(f"--at {text!r} is not an ISO time like 2026-11-20T10:15") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=store.timezone)
    return moment


def log_add_command(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from schema.models import Action, IncidentDraft, IssSafeguards
    from schema.store import OfficeManagedError

    store = open_store(args)
    try:
        try:
            draft = IncidentDraft(
                student_id=args.student,
                behavior_code=args.behavior.upper(),
                level=args.level,
                actions=[Action(action) for action in args.action],
                occurred_at=_parse_time(args.at, store) if args.at else None,
                location=args.location,
                note=args.note,
                iss_days=args.iss_days,
                removal_minutes=args.removal_minutes,
                iss_safeguards=IssSafeguards(
                    school_work=True,
                    special_education_services=True,
                    peer_without_disability=True,
                )
                if args.safeguards
                else None,
                bypass_reason=args.bypass_reason,
            )
        except ValidationError as error:
            raise UserError(_first_error(error)) from error
        _print_notices(store, draft.student_id, draft.behavior_code)
        try:
            incident = store.log_incident(draft)
        except OfficeManagedError as error:
            raise OfficeManagedError(error.entry).with_hint(
                f"Send the student to the office: classlog referral add --student "
                f"{draft.student_id} --behavior {error.entry.code}"
            ) from None
        summary = f"saved {incident.id}: Level {incident.level} {incident.behavior_code}"
        if incident.iss_recorded_as_removal:
            summary += " (ISS recorded as a removal: the three IEP safeguards were not all given)"
        if incident.progression_bypassed:
            summary += f" (progression advice bypassed: {incident.bypass_reason})"
        print(summary)
        totals = store.iep_year_totals(incident.student_id)
        if store.student(incident.student_id).iep and totals.warning:
            print(f"IEP: {totals.warning}")
        _, advice = store.advice(incident.student_id, incident.behavior_code)
        print(f"next time: {advice.reason}")
    finally:
        store.close()
    return 0


def _print_notices(
    store: DeviceStore, student_id: str, code: str, *, office_too: bool = False
) -> None:
    """R4: a flagged behavior's Title IX or mandatory-reporting notice, wherever it is picked,
    printed before anything else (also when the record is then refused)."""
    from schema.store import StoreError

    try:
        entry = store.grid_entry(store.student(student_id), code.upper())
    except StoreError:
        return
    if entry.office_managed and not office_too:
        return
    for notice in entry.notices:
        print(f"NOTICE: {notice}", flush=True)


def referral_add_command(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        _print_notices(store, args.student, args.behavior, office_too=True)
        referral = store.refer_to_office(
            args.student,
            args.behavior,
            occurred_at=_parse_time(args.at, store) if args.at else None,
            location=args.location,
            note=args.note,
        )
        print(
            f"saved office referral {referral.id}: {referral.behavior_code}; it goes to the "
            "district when this device syncs (not sent yet): tell the office in person or by "
            "phone as well"
        )
    finally:
        store.close()
    return 0


def referral_show_command(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        referral = store.office_referral(args.referral)
        when = referral.occurred_at.astimezone(store.timezone).strftime("%Y-%m-%d %H:%M")
        print(
            _printable(
                f"office referral {referral.id}: {referral.student_id}, "
                f"{referral.behavior_code}, {when}"
                + (f", {referral.location}" if referral.location else "")
            )
        )
        if referral.voided_at is not None:
            print(_printable(f"voided: {referral.void_reason or ''}"))
        print(_printable(f"decision: {referral.decision_words}"))
    finally:
        store.close()
    return 0


def intervention_add_command(args: argparse.Namespace) -> int:
    from datetime import date

    from pydantic import ValidationError

    from schema.models import InterventionDraft, InterventionKind

    def day(text: str | None, option: str) -> date | None:
        if text is None:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError as error:
            raise UserError(f"{option} {text!r} is not a date like 2026-11-20") from error

    store = open_store(args)
    try:
        try:
            draft = InterventionDraft(
                student_id=args.student,
                behavior_code=args.behavior.upper() if args.behavior else None,
                kind=InterventionKind(args.kind),
                kind_label=args.name,
                starts_on=day(args.start, "--start"),
                review_on=day(args.review, "--review"),
                incident_id=args.record,
                note=args.note,
            )
        except ValidationError as error:
            raise UserError(_first_error(error)) from error
        intervention = store.add_intervention(draft)
        about = intervention.behavior_code or "all behaviors"
        print(
            f"saved {intervention.id}: {intervention.label} for {about}, "
            f"{intervention.starts_on.isoformat()} to review on "
            f"{intervention.review_on.isoformat()}"
        )
    finally:
        store.close()
    return 0


def _first_error(error: Any) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "input"
    return f"{where}: {first['msg']}"


def log_edit_command(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from schema.models import Action
    from schema.store import IncidentChanges

    store = open_store(args)
    try:
        given: dict[str, Any] = {}
        if args.level is not None:
            given["level"] = args.level
        if args.note is not None:
            given["note"] = args.note
        if args.action is not None:
            given["actions"] = [Action(action) for action in args.action]
        if args.behavior is not None:
            given["behavior_code"] = args.behavior.upper()
        if args.at is not None:
            given["occurred_at"] = _parse_time(args.at, store)
        if args.removal_minutes is not None:
            given["removal_minutes"] = args.removal_minutes
        if args.bypass_reason is not None:
            given["bypass_reason"] = args.bypass_reason
        if not given:
            raise UserError("nothing to change: give --level, --note, --action, --behavior or --at")
        if args.behavior is not None:
            _print_notices(store, store.incident(args.id).student_id, args.behavior)
        try:
            incident = store.edit_incident(args.id, IncidentChanges(**given))
        except ValidationError as error:
            raise UserError(_first_error(error)) from error
        print(f"saved {incident.id}: Level {incident.level} {incident.behavior_code}")
    finally:
        store.close()
    return 0


def log_void_command(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        incident = store.void_incident(args.id, args.reason)
        print(f"voided {incident.id}: {incident.void_reason}")
    finally:
        store.close()
    return 0


def log_today_command(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        students = store.students()
        for incident in store.todays_incidents():
            student = students.get(incident.student_id)
            name = student.display_name if student else incident.student_id
            local = incident.occurred_at.astimezone(store.timezone).strftime("%H:%M")
            state = " VOID" if incident.voided_at else ""
            print(
                f"{local}  L{incident.level}  {incident.behavior_code:<14} "
                f"{_printable(name)}{state}  {incident.id}"
            )
    finally:
        store.close()
    return 0


def _printable(text: str) -> str:
    """People's text with control characters made visible, so a name cannot drive the terminal."""
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


def tab_start_command(args: argparse.Namespace) -> int:
    from schema.models import StartedBy, TabKind

    store = open_store(args)
    try:
        tab = store.start_tab(args.student, TabKind(args.kind), StartedBy(args.by))
        print(f"started {tab.id}: Take a Break ({tab.kind.value}) for {tab.student_id}")
    finally:
        store.close()
    return 0


def tab_stop_command(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        tab = store.stop_tab(args.id, args.ready, args.reflection)
        minutes = tab.minutes or 0.0
        ready = "returned ready" if tab.returned_ready else "not ready"
        print(f"stopped {tab.id} after {minutes:.1f} min, {ready}")
    finally:
        store.close()
    return 0


def export_command(args: argparse.Namespace) -> int:
    from schema.spreadsheet import spreadsheet_cell

    store = open_store(args)
    try:
        rows = store.export_rows()
    finally:
        store.close()
    out = args.out.open("w", encoding="utf-8", newline="") if args.out else sys.stdout
    try:
        if args.format == "jsonl":
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            from schema.fields import DEVICE_EXPORT_COLUMNS

            writer = csv.writer(out)
            writer.writerow(DEVICE_EXPORT_COLUMNS)
            for row in rows:
                flat = dict(row)
                if isinstance(flat.get("iss_safeguards"), dict):
                    held = flat["iss_safeguards"].items()
                    flat["iss_safeguards"] = [name for name, given in held if given]
                writer.writerow(
                    [spreadsheet_cell(flat.get(column)) for column in DEVICE_EXPORT_COLUMNS]
                )
    finally:
        if args.out:
            out.close()
    if args.out:
        print(f"exported {len(rows)} records to {args.out}", file=sys.stderr)
    return 0
