"""`classlog server` and `classlog district ...`: the server and administrators' commands.

Imported by `classlog` at start-up, so only the standard library is imported here; FastAPI,
SQLAlchemy and uvicorn load inside the handlers that need them.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from district import referrals_commands, summary_commands

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
PROGRESS_MIN_ROWS = 10_000
BAR_WIDTH = 30


def _fail(message: str) -> NoReturn:
    from schema.errors import UserError

    raise UserError(message)


def _db_help() -> str:
    return (
        "database URL: sqlite:///FILE or postgresql://... "
        "(default: $CLASSLOG_DISTRICT_DB, else ./district.db)"
    )


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="URL", default=None, help=_db_help())


def _database_url(args: argparse.Namespace) -> str:
    from district.settings import default_database_url

    url: str | None = args.db
    return url or default_database_url()


def _open(args: argparse.Namespace, *, create: bool = False) -> Engine:
    """An engine on the command's database, migrated to the current schema. Only a command
    that creates the district's database (``create``) may start from none: for the others a
    URL naming no district database is the user's mistake, said in one line, and nothing is
    created."""
    import sqlalchemy as sa

    from district.db import DatabaseError, create_engine, migrate

    url = _database_url(args)
    if not create:
        _require_sqlite_file(url)
    try:
        engine = create_engine(url)
        if not create:
            try:
                with engine.connect() as connection:
                    known = sa.inspect(connection).has_table("alembic_version")
            except sa.exc.SQLAlchemyError as error:
                engine.dispose()
                first_line = str(error.orig) if hasattr(error, "orig") else str(error)
                _fail(f"cannot open the database: {first_line.strip().splitlines()[0]}")
            if not known:
                engine.dispose()
                _fail(_no_database(url))
        migrate(engine)
    except DatabaseError as error:
        _fail(str(error))
    return engine


def _no_database(where: str) -> str:
    return (
        f"no district database at {where}; create one with "
        "`classlog district import-roster PATH --db URL`"
    )


def _require_sqlite_file(url: str) -> None:
    """A SQLite URL naming a file that does not exist is refused before SQLite creates it."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return
    if parsed.get_backend_name() != "sqlite":
        return
    database = parsed.database or ""
    if database and database != ":memory:" and not Path(database).exists():
        _fail(_no_database(database))


def _require_school(engine: Engine, school_id: str | None) -> None:
    """``--school`` must name a school (an org) of the district's roster."""
    if school_id is None:
        return
    import sqlalchemy as sa

    from district import tables

    with engine.connect() as connection:
        found = connection.execute(
            sa.select(tables.orgs.c.sourced_id).where(tables.orgs.c.sourced_id == school_id)
        ).first()
    if found is None:
        engine.dispose()
        _fail(f"no school {school_id!r} in the district's roster (see the roster's orgs.csv)")


def add_commands(subparsers: Any) -> None:
    """Add `server` and `district` to the `classlog` sub-command parser."""
    server = subparsers.add_parser(
        "server",
        help="run the district server",
        description="Run the district server (migrates the database first).",
    )
    _add_db(server)
    server.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})"
    )
    server.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
    )
    server.add_argument("--certfile", type=Path, help="TLS certificate (PEM); needs --keyfile")
    server.add_argument("--keyfile", type=Path, help="TLS private key (PEM); needs --certfile")
    server.add_argument(
        "--log-level", default="info", choices=("critical", "error", "warning", "info", "debug")
    )
    server.set_defaults(handler=run_server)

    district = subparsers.add_parser(
        "district",
        help="administrator commands on the district server's database",
        description="Administrator commands that work directly on the server's database.",
    )
    commands = district.add_subparsers(dest="district_command", metavar="COMMAND", required=True)

    roster = commands.add_parser(
        "import-roster",
        help="import a OneRoster 1.1/1.2 CSV folder or zip (all or nothing)",
        description="Import a OneRoster CSV roster. Nothing changes unless the whole roster is "
        "valid; rows are matched by sourcedId.",
    )
    roster.add_argument("path", type=Path, help="roster folder or zip file")
    _add_db(roster)
    roster.set_defaults(handler=import_roster_command)

    code = commands.add_parser(
        "enroll-code",
        help="make a single-use, expiring enrollment code",
        description="Print a single-use enrollment code for one device. An admin code without "
        "--school (or for the district org) is district-wide.",
    )
    code.add_argument("--school", metavar="SOURCEDID", help="the school (org sourcedId)")
    code.add_argument("--role", required=True, choices=("classroom", "mobile", "admin"))
    code.add_argument("--staff", metavar="SOURCEDID", help="the staff member using the device")
    code.add_argument(
        "--sections",
        metavar="ID,...",
        help="a classroom device's sections (default: the sections --staff teaches)",
    )
    code.add_argument(
        "--ttl-hours", type=float, default=None, help="hours until the code expires (default 72)"
    )
    _add_db(code)
    code.set_defaults(handler=enroll_code_command)

    revoke = commands.add_parser("revoke", help="revoke a device's token at once")
    revoke.add_argument("device", help="the device id")
    _add_db(revoke)
    revoke.set_defaults(handler=revoke_command)

    devices = commands.add_parser("devices", help="list enrolled devices")
    _add_db(devices)
    devices.set_defaults(handler=devices_command)

    report = commands.add_parser(
        "report",
        help="write the monthly data-review report: one self-contained HTML file",
        description="Every summary report (Big 5, levels, Take a Break, follow-ups, "
        "progression, equity) as SVG charts and tables in one HTML file that opens with no "
        "network and prints on A4 or Letter. Same numbers as `district summary` and the API.",
    )
    _add_db(report)
    report.add_argument("--out", type=Path, required=True, metavar="FILE.html")
    report.add_argument("--school", metavar="SOURCEDID", help="one school (default: the district)")
    report.add_argument(
        "--from", dest="date_from", metavar="YYYY-MM-DD", help="first day (default: school year)"
    )
    report.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day (inclusive)")
    report.set_defaults(handler=report_command)

    grid = commands.add_parser(
        "grid",
        help="the behavior response grid: export it to a file, edit it, import it back",
        description="The grid is data: school year x grade band x behavior -> allowed levels, "
        'flags and a verified mark. Export it, edit the JSON (set "verified": true on the '
        "rows the district has checked), and import it; devices receive it by sync.",
    )
    grid_commands = grid.add_subparsers(dest="grid_command", metavar="COMMAND", required=True)
    grid_export = grid_commands.add_parser("export", help="write the grid in force as JSON")
    grid_export.add_argument("--out", type=Path, help="write to FILE instead of standard output")
    _add_db(grid_export)
    grid_export.set_defaults(handler=grid_export_command)
    grid_import = grid_commands.add_parser(
        "import", help="replace the grid with a JSON file (all or nothing)"
    )
    grid_import.add_argument("path", type=Path, help="a grid JSON file (as `grid export` writes)")
    grid_import.add_argument(
        "--mark-verified",
        action="store_true",
        help="mark every row of the file verified by the district",
    )
    _add_db(grid_import)
    grid_import.set_defaults(handler=grid_import_command)

    export = commands.add_parser(
        "export",
        help="export Level 2 records (jsonl, csv or Ed-Fi JSON)",
        description="Export Level 2 records for the official system. Never Level 1, never Take "
        "a Break.",
    )
    export.add_argument("--format", required=True, choices=("jsonl", "csv", "edfi"))
    export.add_argument("--school", metavar="SOURCEDID", help="one school only")
    export.add_argument(
        "--from", dest="date_from", metavar="YYYY-MM-DD", help="first day (local date)"
    )
    export.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day (inclusive)")
    export.add_argument("--out", type=Path, help="write to FILE instead of standard output")
    _add_db(export)
    export.set_defaults(handler=export_command)

    summary_commands.add_commands(commands)
    referrals_commands.add_commands(commands)


def run_server(args: argparse.Namespace) -> int:
    """Migrate, then serve with uvicorn until interrupted."""
    if (args.certfile is None) != (args.keyfile is None):
        _fail("--certfile and --keyfile go together")
    for path in (args.certfile, args.keyfile):
        if path is not None and not path.is_file():
            _fail(f"no such file: {path}")
    if not 0 < args.port < 65536:
        _fail(f"--port must be 1-65535, not {args.port}")
    import uvicorn

    from district.app import create_app
    from district.db import DatabaseError
    from district.settings import Settings

    try:
        app = create_app(Settings.from_env(database_url=_database_url(args)))
    except DatabaseError as error:
        _fail(str(error))
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        ssl_certfile=str(args.certfile) if args.certfile else None,
        ssl_keyfile=str(args.keyfile) if args.keyfile else None,
        log_level=args.log_level,
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    return 0


GRACEFUL_SHUTDOWN_SECONDS = 5
"""Long-polls still waiting when the server stops are cut after this long."""


class ProgressBar:
    """A one-line progress bar on a terminal (nothing when the stream is not one). Totals are
    the rows of each file, counted up front."""

    def __init__(self, stream: TextIO, totals: dict[str, int]) -> None:
        self.stream = stream
        self.totals = {name.lower(): total for name, total in totals.items()}
        self.enabled = stream.isatty() and sum(totals.values()) >= PROGRESS_MIN_ROWS
        self.drawn = False

    def __call__(self, stage: str, rows: int) -> None:
        if not self.enabled:
            return
        total = self.totals.get(stage.lower())
        if total:
            done = min(rows, total)
            filled = BAR_WIDTH * done // total
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            line = f"{stage:<24} [{bar}] {done:>9,}/{total:,}"
        else:
            line = f"{stage:<24} {rows:>9,} rows"
        self.stream.write("\r" + line[:79].ljust(79))
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r" + " " * 79 + "\r")
            self.stream.flush()


def _row_counts(path: Path) -> dict[str, int]:
    """Lines per CSV file in a roster folder or zip (header excluded), for the progress bar."""
    import zipfile

    counts: dict[str, int] = {}
    try:
        if path.is_dir():
            for child in path.iterdir():
                if child.suffix.lower() == ".csv" and child.is_file():
                    counts[child.name] = max(0, child.read_bytes().count(b"\n") - 1)
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if info.filename.lower().endswith(".csv"):
                        name = Path(info.filename).name
                        counts[name] = max(0, archive.read(info).count(b"\n") - 1)
    except (OSError, zipfile.BadZipFile, RuntimeError):
        return {}
    return counts


def import_roster_command(args: argparse.Namespace) -> int:
    from district.roster_import import import_roster
    from schema.roster import RosterError

    path: Path = args.path
    if not path.exists():
        _fail(f"no such file or folder: {path}")
    engine = _open(args, create=True)
    progress = ProgressBar(sys.stderr, _row_counts(path))
    try:
        summary = import_roster(engine, path, progress=progress)
    except RosterError as error:
        progress.close()
        _fail(f"roster not imported: {error}")
    finally:
        engine.dispose()
    progress.close()
    print(summary.describe())
    return 0


def _parse_date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        _fail(f"{option} must be a date like 2026-09-01, not {text!r}")


def enroll_code_command(args: argparse.Namespace) -> int:
    from district.devices import EnrollmentCodeError, issue_code
    from district.settings import Settings

    sections = tuple(part.strip() for part in (args.sections or "").split(",") if part.strip())
    hours = args.ttl_hours
    if hours is None:
        hours = Settings.from_env().enrollment_code_ttl_hours
    if hours <= 0:
        _fail("--ttl-hours must be positive")
    engine = _open(args)
    _require_school(engine, args.school)
    try:
        issued = issue_code(
            engine,
            role=args.role,
            school_id=args.school,
            staff_id=args.staff,
            section_ids=sections,
            ttl=timedelta(hours=hours),
        )
    except EnrollmentCodeError as error:
        _fail(str(error))
    finally:
        engine.dispose()
    scope = "the whole district" if issued.district_scope else f"school {issued.school_id}"
    if issued.section_ids:
        scope += f", sections {', '.join(issued.section_ids)}"
    print(issued.code)
    expires = f"{issued.expires_at:%Y-%m-%d %H:%M} UTC"
    print(f"{issued.role} device for {scope}; single use; expires {expires}", file=sys.stderr)
    return 0


def revoke_command(args: argparse.Namespace) -> int:
    from district.devices import revoke

    engine = _open(args)
    try:
        device = revoke(engine, args.device)
    finally:
        engine.dispose()
    if device is None:
        _fail(f"no device {args.device!r}")
    print(f"revoked {device.id}")
    return 0


def devices_command(args: argparse.Namespace) -> int:
    from district.devices import list_devices

    engine = _open(args)
    try:
        with engine.connect() as connection:
            listing = list_devices(connection)
    finally:
        engine.dispose()
    if not listing:
        print("no devices enrolled")
        return 0
    header = ("DEVICE", "ROLE", "SCOPE", "STAFF", "ENROLLED", "LAST SEEN", "STATUS", "NAME")
    rows = [header]
    for item in listing:
        device = item.device
        scope = "district" if device.district_scope else str(device.school_id)
        if device.section_ids:
            scope += ":" + ",".join(device.section_ids)
        rows.append(
            (
                device.id,
                device.role,
                scope,
                device.staff_id or "-",
                f"{item.created_at:%Y-%m-%d %H:%M}",
                f"{item.last_seen_at:%Y-%m-%d %H:%M}" if item.last_seen_at else "-",
                "revoked" if device.revoked_at else "active",
                _printable(device.name) or "-",
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return 0


def _printable(text: str) -> str:
    """A name from a device, safe to print on a terminal (no escapes or control characters)."""
    return "".join(char if char.isprintable() else "?" for char in text)


def export_command(args: argparse.Namespace) -> int:
    from district.export import ExportFilter, write_export

    selection = ExportFilter(
        school_id=args.school,
        date_from=_parse_date(args.date_from, "--from"),
        date_to=_parse_date(args.date_to, "--to"),
    )
    if selection.date_from and selection.date_to and selection.date_from > selection.date_to:
        _fail("--from is after --to")
    engine = _open(args)
    _require_school(engine, selection.school_id)
    try:
        with engine.connect() as connection:
            if args.out is None:
                count = write_export(connection, sys.stdout, args.format, selection)
            else:
                try:
                    with open(args.out, "w", encoding="utf-8", newline="") as output:
                        os.chmod(args.out, 0o600)
                        count = write_export(connection, output, args.format, selection)
                except OSError as error:
                    _fail(f"cannot write {args.out}: {error.strerror}")
    finally:
        engine.dispose()
    print(f"exported {count} Level 2 record(s)", file=sys.stderr)
    return 0


def report_command(args: argparse.Namespace) -> int:
    from district.report.write import ReportError, write_report

    out: Path = args.out
    if out.suffix.lower() not in (".html", ".htm"):
        _fail(f"--out {out}: the report is an HTML file (name it FILE.html)")
    engine = _open(args)
    try:
        written = write_report(
            engine, out, school=args.school, date_from=args.date_from, date_to=args.date_to
        )
    except ReportError as error:
        _fail(str(error))
    finally:
        engine.dispose()
    print(f"wrote {written.path} ({written.scope_name}, {written.period}; {written.size_kb} KB)")
    return 0


def grid_export_command(args: argparse.Namespace) -> int:
    import json

    import sqlalchemy as sa

    from district import tables
    from schema.grid import parse_grid

    engine = _open(args)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                sa.select(tables.grid_versions.c.version, tables.grid_versions.c.grid)
                .order_by(tables.grid_versions.c.version.desc())
                .limit(1)
            ).first()
    finally:
        engine.dispose()
    if row is None:
        _fail("this database has no grid")
    grid = parse_grid(json.dumps(row.grid), f"grid version {row.version}")
    text = grid.to_json() + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        try:
            args.out.write_text(text, encoding="utf-8")
        except OSError as error:
            _fail(f"cannot write {args.out}: {error.strerror}")
    unverified = sum(1 for entry in grid if not entry.verified)
    print(
        f"grid version {row.version}: {len(grid)} rows, {unverified} not yet verified",
        file=sys.stderr,
    )
    return 0


def grid_import_command(args: argparse.Namespace) -> int:
    from district.db import store_grid, write_transaction
    from schema.grid import Grid, load_grid

    grid = load_grid(args.path)
    if not len(grid):
        _fail(f"{args.path}: a grid needs behaviors")
    if args.mark_verified:
        grid = Grid(entry.model_copy(update={"verified": True}) for entry in grid)
    engine = _open(args)
    try:
        with write_transaction(engine) as tx:
            version = store_grid(tx, grid.to_json())
    finally:
        engine.dispose()
    unverified = sum(1 for entry in grid if not entry.verified)
    print(
        f"grid version {version}: {len(grid)} rows, {unverified} not yet verified; devices "
        "receive it on their next sync"
    )
    return 0
