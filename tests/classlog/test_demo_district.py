"""The admin demo's history against the district it is pushed to: every incident and office
referral it makes for a given day must pass the server's plan rules once the demo roster is
imported, including in the first weeks of the school year the roster names (the server's year
starts there, not on the device default)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from classlog.cli import main as classlog_main
from classlog.demo_district import TIME_ZONE, history_start, make_history, roster_students
from classlog.demo_roster import YEAR_START, write_demo_roster
from district.db import create_engine, migrate
from district.plan_rules import PlanChecker


@pytest.mark.parametrize(
    "today",
    [date(2026, 9, 20), date(2026, 12, 3), date(2027, 3, 15)],
    ids=["september", "december", "march"],
)
def test_every_demo_incident_passes_the_servers_plan_rules(tmp_path: Path, today: date) -> None:
    roster = write_demo_roster(tmp_path / "roster", students=40)
    url = f"sqlite:///{tmp_path / 'district.db'}"
    engine = create_engine(url)
    migrate(engine)
    assert classlog_main(["district", "import-roster", str(roster), "--db", url]) == 0
    first = history_start(roster, today, 100)
    assert first == max(YEAR_START, date.fromordinal(today.toordinal() - 100))
    students, teachers = roster_students(roster)
    now = datetime.combine(today, time(16), tzinfo=TIME_ZONE).astimezone(UTC)
    history = make_history(
        students, teachers, "dev-demo", first=first, last=today, per_day=14, seed=3, now=now
    )
    incidents = [op["fields"] for op in history.ops if op["kind"] == "incident"]
    referrals = [op["fields"] for op in history.ops if op["kind"] == "office_referral"]
    assert incidents
    assert len(referrals) == len(history.referrals) > 0
    with engine.connect() as connection:
        checker = PlanChecker(connection)
        for fields in incidents:
            checker.check_incident(fields, fields["student_id"])
        for fields in referrals:
            checker.check_referral(fields, fields["student_id"])
    engine.dispose()
