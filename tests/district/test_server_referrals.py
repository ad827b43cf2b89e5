"""Office referrals (R10) and interventions (R5) on the server: what a push may carry (the plan's
rules re-checked, never the office's decision, never a link to a record the server does not hold
at Level 2), the office's decision through the API and the command line (the rule named on a
refusal, nothing written), and scope (another school's administrator sees no such referral)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from migration_data import DATA, build_at, expected, load_rows, snapshot
from serverkit import SCHOOL_1, Fleet, enroll, incident_fields, server_settings

from classlog.cli import main as classlog_main
from district import tables
from district.app import create_app
from district.db import create_engine, migrate


def referral_fields(student: str, device_id: str, **extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    fields: dict[str, Any] = {
        "student_id": student,
        "staff_id": "t1",
        "device_id": device_id,
        "behavior_code": "WPN-OTHER",
        "occurred_at": now,
        "tz": "America/Chicago",
        "location": "Gym",
        "note": "sent down at 10:05",
        "created_at": now,
        "updated_at": now,
    }
    fields.update(extra)
    return fields


def intervention_fields(student: str, device_id: str, **extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    fields: dict[str, Any] = {
        "student_id": student,
        "staff_id": "t1",
        "device_id": device_id,
        "behavior_code": "DIS-CLASS",
        "kind": "reteaching",
        "kind_label": "",
        "starts_on": "2026-10-06",
        "review_on": "2026-10-13",
        "note": "",
        "created_at": now,
        "updated_at": now,
    }
    fields.update(extra)
    return fields


async def _referral(fleet: Fleet, record_id: str = "ref-1", **extra: Any) -> str:
    device = fleet.mobile_1
    op = device.op("office_referral", record_id, referral_fields("st1", device.device_id, **extra))
    [result] = (await device.push(op))["results"]
    assert result["status"] == "applied", result
    return record_id


async def _decide(fleet: Fleet, admin: Any, referral: str, body: dict[str, Any]) -> Any:
    return await admin.http.post(
        f"/v1/admin/referrals/{referral}/decision", json=body, headers=admin.headers
    )


def stored_decision(engine: sa.Engine, referral: str) -> tuple[Any, ...]:
    table = tables.office_referrals
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(table.c.decided_level, table.c.oss_days, table.c.alternatives).where(
                table.c.id == referral
            )
        ).one()
    return tuple(row)


async def test_a_decision_is_recorded_by_the_schools_admin_and_reaches_the_school_only(
    fleet: Fleet, engine: sa.Engine
) -> None:
    referral = await _referral(fleet)
    before_other = await _decide(fleet, fleet.admin_2, referral, {"level": 3, "oss_days": 1})
    assert before_other.status_code == 404
    assert stored_decision(engine, referral) == (None, None, None)

    answer = await _decide(
        fleet, fleet.admin_1, referral, {"level": 3, "oss_days": 0, "alternatives": ["Mediation"]}
    )
    assert answer.status_code == 200, answer.text
    fields = answer.json()["fields"]
    assert (fields["decided_level"], fields["oss_days"], fields["alternatives"]) == (
        3,
        0.0,
        ["Mediation"],
    )
    assert stored_decision(engine, referral) == (3, 0.0, ["Mediation"])

    changes, _ = await fleet.classroom_1a.pull_all()
    pulled = [change for change in changes if change["id"] == referral]
    assert pulled[-1]["fields"]["decided_level"] == 3
    assert pulled[-1]["fields"]["alternatives"] == ["Mediation"]
    other_school, _ = await fleet.mobile_2.pull_all()
    assert referral not in {change["id"] for change in other_school}

    again = await _decide(fleet, fleet.district_admin, referral, {"level": 4, "oss_days": 4})
    assert again.status_code == 200, again.text
    assert stored_decision(engine, referral) == (4, 4.0, None)


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        ({"level": 6, "oss_days": 5}, "referral-level"),
        ({"level": 2, "oss_days": 0}, "referral-level"),
        ({"level": 3, "oss_days": 5}, "oss-days"),
        ({"level": 3, "oss_days": 0}, "oss-days"),
        ({"level": 5, "oss_days": 3}, "oss-days"),
    ],
)
async def test_a_decision_the_plan_does_not_allow_is_refused_by_the_rules_name(
    fleet: Fleet, engine: sa.Engine, body: dict[str, Any], rule: str
) -> None:
    referral = await _referral(fleet)
    answer = await _decide(fleet, fleet.admin_1, referral, body)
    assert answer.status_code == 422
    assert f"plan rule {rule}" in answer.json()["detail"]
    assert stored_decision(engine, referral) == (None, None, None)


async def test_a_level_the_grid_does_not_allow_for_the_behavior_is_refused(
    fleet: Fleet, engine: sa.Engine
) -> None:
    referral = await _referral(fleet, behavior_code="WPN-FIREARM")
    answer = await _decide(fleet, fleet.admin_1, referral, {"level": 3, "oss_days": 2})
    assert answer.status_code == 422
    assert "plan rule referral-level" in answer.json()["detail"]
    assert "WPN-FIREARM" in answer.json()["detail"]
    assert stored_decision(engine, referral) == (None, None, None)


async def test_unknown_voided_and_non_referral_records_are_answered_plainly(
    fleet: Fleet,
) -> None:
    device = fleet.mobile_1
    incident = device.op("incident", "inc-1", incident_fields("st1", device.device_id))
    assert await device.statuses(incident) == ["applied"]
    for record_id in ("no-such-referral", "inc-1"):
        answer = await _decide(fleet, fleet.admin_1, record_id, {"level": 3, "oss_days": 1})
        assert answer.status_code == 404, record_id
    referral = await _referral(fleet)
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    void = device.op(
        "office_referral", referral, {"voided_at": now, "void_reason": "wrong student"}
    )
    assert await device.statuses(void) == ["applied"]
    answer = await _decide(fleet, fleet.admin_1, referral, {"level": 3, "oss_days": 1})
    assert answer.status_code == 409


async def test_a_device_never_writes_the_offices_decision(fleet: Fleet, engine: sa.Engine) -> None:
    device = fleet.mobile_1
    with_decision = device.op(
        "office_referral",
        "ref-self-decided",
        referral_fields("st1", device.device_id, decided_level=3, oss_days=1.0),
    )
    [result] = (await device.push(with_decision))["results"]
    assert result["status"] == "rejected"
    assert "decided_level" in result["reason"]
    referral = await _referral(fleet)
    later = device.op("office_referral", referral, {"oss_days": 0.0})
    [result] = (await device.push(later))["results"]
    assert result["status"] == "rejected"
    assert stored_decision(engine, referral) == (None, None, None)


@pytest.mark.parametrize(
    ("kind", "fields", "words"),
    [
        ("office_referral", {"behavior_code": "ADT-VAPE"}, "plan rule office-referral"),
        ("office_referral", {"behavior_code": "NOT-IN-GRID"}, "not a behavior code of the grid"),
        ("intervention", {"review_on": "2026-10-01"}, "plan rule intervention-dates"),
        ("intervention", {"kind": "district"}, "plan rule intervention-kind"),
        ("intervention", {"kind": "detention"}, "field kind"),
        ("intervention", {"incident_id": "never-pushed"}, "not a Level 2 record"),
    ],
)
async def test_a_push_breaking_a_rule_of_these_kinds_is_rejected_and_stores_nothing(
    fleet: Fleet, engine: sa.Engine, kind: str, fields: dict[str, Any], words: str
) -> None:
    device = fleet.mobile_1
    make = referral_fields if kind == "office_referral" else intervention_fields
    op = device.op(kind, f"{kind}-broken", make("st1", device.device_id, **fields))
    [result] = (await device.push(op))["results"]
    assert result["status"] == "rejected"
    assert words in result["reason"]
    assert result["retry"] is False
    table = tables.RECORD_TABLES[kind]
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 0


async def test_an_intervention_answers_only_its_own_students_level_2_record(
    fleet: Fleet, engine: sa.Engine
) -> None:
    device = fleet.mobile_1
    incident = device.op("incident", "inc-st1", incident_fields("st1", device.device_id))
    assert await device.statuses(incident) == ["applied"]
    wrong_student = device.op(
        "intervention",
        "iv-wrong",
        intervention_fields("st3", device.device_id, incident_id="inc-st1"),
    )
    right = device.op(
        "intervention",
        "iv-right",
        intervention_fields("st1", device.device_id, incident_id="inc-st1"),
    )
    assert await device.statuses(wrong_student, right) == ["rejected", "applied"]
    retract = device.op("incident", "inc-st1", op="retract")
    assert await device.statuses(retract) == ["applied"]
    changes, _ = await fleet.admin_1.pull_all()
    last = {change["id"]: change for change in changes}
    assert last["iv-right"]["op"] == "remove"
    assert last["inc-st1"]["op"] == "remove"


async def test_the_command_line_records_a_decision_and_refuses_a_broken_one_in_one_line(
    fleet: Fleet, engine: sa.Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    referral = await _referral(fleet)
    capsys.readouterr()
    broken = ["district", "referral", "decide", referral, "--level", "4", "--oss-days", "1"]
    assert classlog_main([*broken, "--db", database_url]) == 2
    err = capsys.readouterr().err
    assert err.startswith("classlog: ")
    assert "plan rule oss-days" in err
    assert err.count("\n") == 1
    assert stored_decision(engine, referral) == (None, None, None)

    assert classlog_main(["district", "referral", "decide", "nope", "--level", "3",
                          "--db", database_url]) == 2  # fmt: skip
    assert "no office referral nope" in capsys.readouterr().err

    decide = [
        "district", "referral", "decide", referral, "--level", "3", "--oss-days", "0",
        "--alternative", "Restorative circle", "--alternative", "Family meeting",
    ]  # fmt: skip
    assert classlog_main([*decide, "--db", database_url]) == 0
    out = capsys.readouterr().out
    assert out == (
        f"referral {referral}: Level 3: no OSS; alternatives to suspension offered: "
        "Restorative circle, Family meeting\n"
    )
    assert stored_decision(engine, referral) == (3, 0.0, ["Restorative circle", "Family meeting"])
    changes, _ = await fleet.mobile_1.pull_all()
    pulled = [change for change in changes if change["id"] == referral][-1]
    assert pulled["fields"]["decided_level"] == 3


async def test_a_populated_database_of_the_previous_schema_takes_referrals_after_migrating(
    tmp_path: Path,
) -> None:
    """The server schema before this one (0005), holding an earlier server's records, migrates
    to the head: what it held reads back unchanged, and referrals and interventions are taken,
    decided and pulled."""
    url = f"sqlite:///{tmp_path / 'previous.db'}"
    engine = create_engine(url)
    dump = json.loads((DATA / "populated_0004.json").read_text(encoding="utf-8"))
    try:
        build_at(engine, dump["revision"])
        load_rows(engine, dump)
        migrate(engine, "0005")
        with engine.connect() as connection:
            assert sa.inspect(connection).has_table("support_requests")
            assert not sa.inspect(connection).has_table("office_referrals")
        migrate(engine)
        app = create_app(server_settings(url), engine=engine)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://district.test"
        ) as http:
            admin = await enroll(http, engine, "admin", None)
            assert await snapshot(http, admin.token) == expected(dump["owner_device"])
            mobile = await enroll(http, engine, "mobile", SCHOOL_1, staff="m1")
            statuses = await mobile.statuses(
                mobile.op("office_referral", "ref-new", referral_fields("st1", mobile.device_id)),
                mobile.op("intervention", "iv-new", intervention_fields("st1", mobile.device_id)),
            )
            assert statuses == ["applied", "applied"]
            answer = await http.post(
                "/v1/admin/referrals/ref-new/decision",
                json={"level": 3, "oss_days": 1},
                headers=admin.headers,
            )
            assert answer.status_code == 200, answer.text
            changes, _ = await mobile.pull_all()
            pulled = {change["id"]: change for change in changes}
            assert pulled["ref-new"]["fields"]["decided_level"] == 3
            assert pulled["iv-new"]["fields"]["kind"] == "reteaching"
    finally:
        engine.dispose()
