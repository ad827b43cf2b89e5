"""Invariant 8 on the server: a push or an administrator's correction that breaks one of the plan's
rules is refused by the rule's name (a rejected op, or a 422), and nothing of it is stored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from serverkit import Fleet, incident_fields

from district import tables

ALL_SAFEGUARDS = {
    "school_work": True,
    "special_education_services": True,
    "peer_without_disability": True,
}

BROKEN: list[tuple[str, str, dict[str, Any]]] = [
    ("office-managed", "st1", {"behavior_code": "ADT-DRUG", "actions": ["redirect"]}),
    ("grid-level", "st1", {"behavior_code": "NOT-IN-GRID"}),
    ("iss-length", "st1", {"actions": ["iss"], "iss_days": 3}),
    ("iep-safeguards", "st2", {"actions": ["iss"], "iss_days": 1}),
    ("removal-duration", "st1", {"actions": ["removal"]}),
    ("title-ix-sanction", "st1", {"behavior_code": "SEX-PANTS", "actions": ["iss"], "iss_days": 1}),
    (
        "title-ix-sanction",
        "st1",
        {"behavior_code": "SEX-CONTACT", "actions": ["removal"], "removal_minutes": 30},
    ),
]


def stored_incidents(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        count: int = connection.execute(
            sa.select(sa.func.count()).select_from(tables.incidents)
        ).scalar_one()
    return count


@pytest.mark.parametrize(("rule", "student", "fields"), BROKEN, ids=[b[0] for b in BROKEN])
async def test_a_push_breaking_a_rule_is_rejected_by_its_name(
    fleet: Fleet, engine: sa.Engine, rule: str, student: str, fields: dict[str, Any]
) -> None:
    device = fleet.classroom_1a
    op = device.op("incident", f"inc-{rule}", incident_fields(student, device.device_id, **fields))
    [result] = (await device.push(op))["results"]
    assert result["status"] == "rejected"
    contract_words = {
        "grid-level": "not a behavior code of the grid",
        "iss-length": "iss_days should be less than or equal to 1",
    }
    assert rule in result["reason"] or contract_words.get(rule, rule) in result["reason"]
    assert result["retry"] is False
    assert stored_incidents(engine) == 0


async def test_records_within_the_rules_are_applied(fleet: Fleet, engine: sa.Engine) -> None:
    device = fleet.classroom_1a
    ok = [
        incident_fields("st2", device.device_id, actions=["iss"], iss_safeguards=ALL_SAFEGUARDS),
        incident_fields(
            "st2",
            device.device_id,
            actions=["removal"],
            iss_days=1,
            iss_recorded_as_removal=True,
        ),
        incident_fields("st1", device.device_id, actions=["removal"], removal_minutes=20),
        incident_fields("st1", device.device_id, behavior_code="SEX-PANTS", actions=["redirect"]),
    ]
    ops = [device.op("incident", f"inc-ok-{n}", fields) for n, fields in enumerate(ok)]
    statuses = [result["status"] for result in (await device.push(*ops))["results"]]
    assert statuses == ["applied"] * len(ok)
    assert stored_incidents(engine) == len(ok)


async def test_an_update_that_would_break_a_rule_is_rejected_and_the_record_kept(
    fleet: Fleet, engine: sa.Engine
) -> None:
    device = fleet.classroom_1a
    create = device.op("incident", "inc-upd", incident_fields("st1", device.device_id))
    assert await device.statuses(create) == ["applied"]
    bad = device.op(
        "incident", "inc-upd", {"behavior_code": "SEX-PANTS", "actions": ["iss"], "iss_days": 1}
    )
    [result] = (await device.push(bad))["results"]
    assert result["status"] == "rejected"
    assert "title-ix-sanction" in result["reason"]
    with engine.connect() as connection:
        code = connection.execute(
            sa.select(tables.incidents.c.behavior_code).where(tables.incidents.c.id == "inc-upd")
        ).scalar_one()
    assert code == "DIS-CLASS"


@pytest.mark.parametrize(
    ("rule", "fields"),
    [
        ("title-ix-sanction", {"behavior_code": "SEX-PANTS", "actions": ["iss"], "iss_days": 1}),
        ("office-managed", {"behavior_code": "WPN-FIREARM"}),
        ("removal-duration", {"actions": ["removal"]}),
        ("iep-safeguards", {"student_id": "st2", "actions": ["iss"], "iss_days": 1}),
    ],
)
async def test_a_correction_breaking_a_rule_gets_a_422_naming_it(
    fleet: Fleet, http: httpx.AsyncClient, rule: str, fields: dict[str, Any]
) -> None:
    owner, admin = fleet.classroom_1a, fleet.admin_1
    await owner.push(owner.op("incident", "inc-corr", incident_fields("st1", owner.device_id)))
    response = await http.patch(
        "/v1/admin/records/inc-corr",
        json={"fields": fields, "reason": "office review"},
        headers=admin.headers,
    )
    assert response.status_code == 422, response.text
    assert rule in response.text
    detail = await http.get("/v1/admin/records/inc-corr", headers=admin.headers)
    assert detail.json()["fields"]["behavior_code"] == "DIS-CLASS"
    allowed = await http.patch(
        "/v1/admin/records/inc-corr",
        json={"fields": {"actions": ["removal"], "removal_minutes": 15}, "reason": "ok"},
        headers=admin.headers,
    )
    assert allowed.status_code == 200, allowed.text
