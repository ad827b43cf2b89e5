"""Attack: taking over another device by enrolling under its id (device ids are not secret:
they travel in every pulled record), then editing records of students outside one's scope."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from serverkit import (
    SCHOOL_1,
    SCHOOL_2,
    SECTION_1A,
    SECTION_2A,
    DeviceClient,
    Fleet,
    ServerProcess,
    enroll,
    incident_fields,
    make_code,
    world_roster,
)

from district.db import create_engine
from district.roster_import import import_roster


async def _enroll(
    http: httpx.AsyncClient, code: str, device_id: str, token: str | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await http.post(
        "/v1/devices/enroll",
        json={"code": code, "device_id": device_id, "device_name": "attacker"},
        headers=headers,
    )


async def _incident_of(device: DeviceClient, record_id: str) -> dict[str, object] | None:
    changes, _ = await device.pull_all()
    found: dict[str, object] | None = None
    for change in changes:
        if change["kind"] == "incident" and change["id"] == record_id:
            found = change["fields"] if change["op"] == "upsert" else None
    return found


async def test_enrolling_under_an_enrolled_device_id_is_refused_and_changes_nothing(
    http: httpx.AsyncClient, engine: sa.Engine
) -> None:
    victim = await enroll(http, engine, "classroom", SCHOOL_1, (SECTION_1A,), "t1")
    incident = victim.op("incident", "inc-victim", incident_fields("st1", victim.device_id))
    assert await victim.statuses(incident) == ["applied"]
    attacker_code = make_code(engine, "classroom", SCHOOL_2, (SECTION_2A,), "t3")
    takeover = await _enroll(http, attacker_code, victim.device_id)
    assert takeover.status_code == 409, takeover.text
    assert "already enrolled" in takeover.json()["detail"]
    assert "token" not in takeover.json()
    me = await http.get("/v1/devices/me", headers=victim.headers)
    assert me.status_code == 200
    assert me.json()["school_id"] == SCHOOL_1
    assert me.json()["section_ids"] == [SECTION_1A]
    fields = await _incident_of(victim, "inc-victim")
    assert fields is not None
    assert fields["student_id"] == "st1"
    unused = await _enroll(http, attacker_code, "a-fresh-device")
    assert unused.status_code == 200, "a refused takeover must not consume the code"


async def test_a_wrong_token_cannot_re_enroll_a_device(
    http: httpx.AsyncClient, engine: sa.Engine, fleet: Fleet
) -> None:
    victim = fleet.classroom_1a
    code = make_code(engine, "mobile", SCHOOL_2)
    stolen = await _enroll(http, code, victim.device_id, token=fleet.mobile_2.token)
    assert stolen.status_code == 409
    assert (await http.get("/v1/devices/me", headers=victim.headers)).status_code == 200


async def test_a_device_re_enrolls_with_its_current_token(
    http: httpx.AsyncClient, engine: sa.Engine
) -> None:
    device = await enroll(http, engine, "mobile", SCHOOL_1)
    code = make_code(engine, "mobile", SCHOOL_1)
    again = await _enroll(http, code, device.device_id, token=device.token)
    assert again.status_code == 200, again.text
    assert (await http.get("/v1/devices/me", headers=device.headers)).status_code == 401
    renewed = {"Authorization": f"Bearer {again.json()['token']}"}
    assert (await http.get("/v1/devices/me", headers=renewed)).status_code == 200


async def test_an_administrators_re_issue_enrolls_that_device_only(
    http: httpx.AsyncClient, engine: sa.Engine, fleet: Fleet
) -> None:
    lost = fleet.classroom_1a
    foreign = await http.post(
        f"/v1/admin/devices/{lost.device_id}/reissue", headers=fleet.admin_2.headers
    )
    assert foreign.status_code == 404
    issued = await http.post(
        f"/v1/admin/devices/{lost.device_id}/reissue", headers=fleet.admin_1.headers
    )
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert body["device_id"] == lost.device_id
    assert body["role"] == "classroom"
    assert body["section_ids"] == [SECTION_1A]
    other = await _enroll(http, body["code"], "someone-else")
    assert other.status_code == 403
    taken = await _enroll(http, body["code"], lost.device_id)
    assert taken.status_code == 200, taken.text
    assert taken.json()["section_ids"] == [SECTION_1A]
    assert (await http.get("/v1/devices/me", headers=lost.headers)).status_code == 401
    assert (await _enroll(http, body["code"], lost.device_id)).status_code == 403


async def test_a_re_issue_does_not_revive_a_revoked_device(
    http: httpx.AsyncClient, fleet: Fleet
) -> None:
    target = fleet.mobile_1
    revoked = await http.post(
        f"/v1/admin/devices/{target.device_id}/revoke", headers=fleet.admin_1.headers
    )
    assert revoked.status_code == 200
    issued = await http.post(
        f"/v1/admin/devices/{target.device_id}/reissue", headers=fleet.admin_1.headers
    )
    assert issued.status_code == 409


async def test_an_update_re_checks_the_students_scope(
    http: httpx.AsyncClient, engine: sa.Engine, fleet: Fleet, tmp_path: Path
) -> None:
    teacher = fleet.classroom_1a
    create = teacher.op("incident", "inc-st4", incident_fields("st4", teacher.device_id))
    assert await teacher.statuses(create) == ["applied"]
    roster = world_roster()
    roster.drop_enrollment(SECTION_1A, "st4")
    roster.enroll("sec-1b", "st4", SCHOOL_1)
    import_roster(engine, roster.write(tmp_path / "moved"))
    edit = teacher.op("incident", "inc-st4", {"note": "rewritten after leaving scope"})
    result = (await teacher.push(edit))["results"][0]
    assert result["status"] == "rejected"
    assert "not in this device's scope" in result["reason"]
    seen = await _incident_of(fleet.classroom_1b, "inc-st4")
    assert seen is not None
    assert seen["note"] == ""
    retract = teacher.op("incident", "inc-st4", op="retract")
    assert await teacher.statuses(retract) == ["applied"]


def _classlog(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "classlog", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.e2e
def test_classlog_enroll_re_enrolls_its_own_device_with_its_token(
    sqlite_url: str, tmp_path: Path
) -> None:
    engine = create_engine(sqlite_url)
    try:
        first, second = (make_code(engine, "mobile", SCHOOL_1) for _ in range(2))
    finally:
        engine.dispose()
    home = str(tmp_path / "device")
    with ServerProcess(sqlite_url) as server:
        enrolled = _classlog("enroll", server.url, first, "--home", home)
        assert enrolled.returncode == 0, enrolled.stderr
        token = (tmp_path / "device" / "sync-token").read_text()
        again = _classlog("enroll", server.url, second, "--home", home)
        assert again.returncode == 0, again.stderr
        renewed = (tmp_path / "device" / "sync-token").read_text()
        assert renewed != token
        with httpx.Client(base_url=server.url) as client:
            old = client.get("/v1/devices/me", headers={"Authorization": f"Bearer {token}"})
            new = client.get("/v1/devices/me", headers={"Authorization": f"Bearer {renewed}"})
        assert old.status_code == 401
        assert new.status_code == 200
