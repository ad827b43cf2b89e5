"""`classlog district summary`, `calendar` and `suppression`: administrators' summaries and their
config, straight on the server's database.

Imported by `classlog` at start-up: only the standard library here; the server's stack loads
inside the handlers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

REPORT_CHOICES = ("big5", "levels", "tab", "follow-ups", "progression", "equity")
MAX_RANGE_DAYS = 400


def _fail(message: str) -> NoReturn:
    from schema.errors import UserError

    raise UserError(message)


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="database URL: sqlite:///FILE or postgresql://... "
        "(default: $CLASSLOG_DISTRICT_DB, else ./district.db)",
    )


def _open(args: argparse.Namespace) -> Engine:
    from district.db import DatabaseError, create_engine, migrate
    from district.settings import default_database_url

    try:
        engine = create_engine(args.db or default_database_url())
        migrate(engine)
    except DatabaseError as error:
        _fail(str(error))
    return engine


def add_commands(commands: Any) -> None:
    """Add `summary`, `calendar` and `suppression` to `classlog district`."""
    summary = commands.add_parser(
        "summary",
        help="an administrators' summary: " + ", ".join(REPORT_CHOICES),
        description="Print one summary for the district or a school (default: the current "
        "school year). Small cells are suppressed (see `classlog district suppression`).",
    )
    summary.add_argument("report", choices=REPORT_CHOICES, metavar="REPORT",
                         help="one of " + ", ".join(REPORT_CHOICES))  # fmt: skip
    summary.add_argument("--school", metavar="SOURCEDID", help="one school (default: district)")
    summary.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first day")
    summary.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day (inclusive)")
    summary.add_argument("--grade", metavar="GRADE", help="students in this grade when logged")
    summary.add_argument("--level", type=int, metavar="N", help="one level (2 or above)")
    summary.add_argument(
        "--group", metavar="DIM:VALUE", help="a student group: race:..., sex:..., iep:yes, grade:07"
    )
    summary.add_argument("--format", choices=("table", "json", "csv"), default="table")
    summary.add_argument("--out", type=Path, help="write to FILE instead of standard output")
    _add_db(summary)
    summary.set_defaults(handler=summary_command)

    calendar = commands.add_parser(
        "calendar",
        help="show or change the school calendar (non-school dates, time zone)",
        description="School days are weekdays minus the non-school dates. With no option, "
        "print the calendar.",
    )
    calendar.add_argument(
        "--add",
        metavar="DATES",
        help="non-school dates to add: comma-separated days or ranges (2026-12-21..2027-01-01)",
    )
    calendar.add_argument("--remove", metavar="DATES", help="non-school dates to remove")
    calendar.add_argument("--time-zone", metavar="ZONE", help="the district's zone, e.g. "
                          "America/Chicago")  # fmt: skip
    _add_db(calendar)
    calendar.set_defaults(handler=calendar_command)

    suppression = commands.add_parser(
        "suppression",
        help="show or change the small-cell suppression thresholds",
        description="Cells with fewer students with the outcome than --min-numerator (default "
        "10, at least 5) or fewer enrolled than --min-denominator (default 30, at least 10) "
        "are suppressed. With no option, print the thresholds.",
    )
    suppression.add_argument("--min-numerator", type=int, metavar="N")
    suppression.add_argument("--min-denominator", type=int, metavar="N")
    _add_db(suppression)
    suppression.set_defaults(handler=suppression_command)


def _date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        _fail(f"{what} must be a date like 2026-11-26, not {text.strip()!r}")


def parse_dates(text: str, option: str) -> set[date]:
    """``2026-11-26,2026-12-21..2027-01-01`` as a set of days."""
    days: set[date] = set()
    for part in (piece for piece in text.split(",") if piece.strip()):
        if ".." in part:
            first_text, last_text = part.split("..", 1)
            first, last = _date(first_text, option), _date(last_text, option)
            if last < first:
                _fail(f"{option}: {part.strip()} ends before it starts")
            if (last - first).days > MAX_RANGE_DAYS:
                _fail(f"{option}: {part.strip()} is longer than {MAX_RANGE_DAYS} days")
            days.update(first + timedelta(days=offset) for offset in range((last - first).days + 1))
        else:
            days.add(_date(part, option))
    if not days:
        _fail(f"{option} needs at least one date")
    return days


def _one_line(error: Exception) -> str:
    from pydantic import ValidationError

    if isinstance(error, ValidationError):
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem.get("loc", ()))
        message = str(problem.get("msg", "invalid")).removeprefix("Value error, ")
        return f"{where}: {message}" if where else message
    return str(error)


def summary_command(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from district.summaries import FilterError, run_report
    from district.summaries.render import report_csv, report_table
    from schema.summaries import SummaryFilters

    try:
        filters = SummaryFilters(
            school_id=args.school,
            date_from=_date(args.date_from, "--from") if args.date_from else None,
            date_to=_date(args.date_to, "--to") if args.date_to else None,
            grade=args.grade,
            level=args.level,
            group=args.group,
        )
    except ValidationError as error:
        _fail(_option_names(_one_line(error)))
    engine = _open(args)
    try:
        report = run_report(engine, args.report, filters)
    except FilterError as error:
        _fail(str(error))
    finally:
        engine.dispose()
    if args.format == "json":
        text = report.model_dump_json(indent=1) + "\n"
    elif args.format == "csv":
        text = report_csv(report)
    else:
        text = report_table(report)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        with open(args.out, "w", encoding="utf-8", newline="") as output:
            os.chmod(args.out, 0o600)
            output.write(text)
    except OSError as error:
        _fail(f"cannot write {args.out}: {error.strerror}")
    return 0


def _option_names(message: str) -> str:
    """A filter's field name as the option the user typed."""
    for field, option in (
        ("school_id", "--school"),
        ("date_from", "--from"),
        ("date_to", "--to"),
        ("grade", "--grade"),
        ("level", "--level"),
        ("group", "--group"),
    ):
        if message.startswith(field + ":"):
            return option + message.removeprefix(field)
    return message.replace("from (", "--from (").replace("to (", "--to (")


def calendar_command(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from district.db import write_transaction
    from district.summaries.config import read_summary_config, store_summary_config
    from schema.summaries import SchoolCalendar

    added = parse_dates(args.add, "--add") if args.add is not None else set()
    removed = parse_dates(args.remove, "--remove") if args.remove is not None else set()
    engine = _open(args)
    try:
        with engine.connect() as connection:
            config = read_summary_config(connection)
        if added or removed or args.time_zone is not None:
            dates = (set(config.calendar.non_school_dates) | added) - removed
            try:
                calendar = SchoolCalendar(
                    time_zone=args.time_zone or config.calendar.time_zone,
                    non_school_dates=sorted(dates),
                )
            except ValidationError as error:
                _fail(_one_line(error).replace("time_zone", "--time-zone"))
            config = config.model_copy(update={"calendar": calendar})
            with write_transaction(engine) as tx:
                store_summary_config(tx, config)
    finally:
        engine.dispose()
    calendar = config.calendar
    print(f"time zone: {calendar.time_zone}")
    print(f"non-school dates ({len(calendar.non_school_dates)}):")
    for day in calendar.non_school_dates:
        print(f"  {day.isoformat()} {day:%A}")
    return 0


def suppression_command(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from district.db import write_transaction
    from district.summaries.config import read_summary_config, store_summary_config
    from schema.summaries import SuppressionThresholds

    engine = _open(args)
    try:
        with engine.connect() as connection:
            config = read_summary_config(connection)
        if args.min_numerator is not None or args.min_denominator is not None:
            current = config.suppression
            try:
                thresholds = SuppressionThresholds(
                    min_numerator=(
                        current.min_numerator if args.min_numerator is None else args.min_numerator
                    ),
                    min_denominator=(
                        current.min_denominator
                        if args.min_denominator is None
                        else args.min_denominator
                    ),
                )
            except ValidationError as error:
                message = _one_line(error).replace("min_numerator", "--min-numerator")
                _fail(message.replace("min_denominator", "--min-denominator"))
            config = config.model_copy(update={"suppression": thresholds})
            with write_transaction(engine) as tx:
                store_summary_config(tx, config)
    finally:
        engine.dispose()
    print(json.dumps(config.suppression.model_dump()))
    return 0
