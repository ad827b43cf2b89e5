"""The authorization matrix: every endpoint x every role x another school's data (invariant 6:
a device sees only its scope; a token from one school reads nothing of another)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import sqlalchemy as sa
from serverkit import SCHOOL_2, DeviceClient, Fleet, enroll, incident_fields, make_code

from district.devices import revoke

ROLES = ("anonymous", "revoked", "classroom", "mobile", "admin", "district_admin")
OTHER_SCHOOL_MARKERS = ("st7", "st8", "inc-s2", "sec-2a")


@dataclass
class Caller:
    role: str
    headers: dict[str, str]
    device: DeviceClient | None


Probe = Callable[[httpx.AsyncClient, Caller], Awaitable[httpx.Response]]


def _push(caller: Caller) -> dict[str, object]:
    device_id = caller.device.device_id if caller.device else "anonymous"
    op = (
        caller.device.op("incident", f"inc-authz-{caller.role}", incident_fields("st7", device_id))
        if caller.device
        else {}
    )
    return {"device_id": device_id, "ops": [op] if op else []}


PROBES: dict[str, tuple[Probe, dict[str, int]]] = {
    "GET /v1/devices/me": (
        lambda http, c: http.get("/v1/devices/me", headers=c.headers),
        {"classroom": 200, "mobile": 200, "admin": 200, "district_admin": 200},
    ),
    "POST /v1/sync/push (student of another school)": (
        lambda http, c: http.post("/v1/sync/push", json=_push(c), headers=c.headers),
        {"classroom": 200, "mobile": 200, "admin": 200, "district_admin": 200},
    ),
    "GET /v1/sync/pull": (
        lambda http, c: http.get("/v1/sync/pull", headers=c.headers),
        {"classroom": 200, "mobile": 200, "admin": 200, "district_admin": 200},
    ),
    "GET /v1/admin/devices": (
        lambda http, c: http.get("/v1/admin/devices", headers=c.headers),
        {"classroom": 403, "mobile": 403, "admin": 200, "district_admin": 200},
    ),
    "POST /v1/admin/devices/{other school's}/revoke": (
        lambda http, c: http.post("/v1/admin/devices/victim-2/revoke", headers=c.headers),
        {"classroom": 403, "mobile": 403, "admin": 404, "district_admin": 200},
    ),
    "POST /v1/admin/enrollment-codes (other school)": (
        lambda http, c: http.post(
            "/v1/admin/enrollment-codes",
            json={"role": "mobile", "school_id": SCHOOL_2},
            headers=c.headers,
        ),
        {"classroom": 403, "mobile": 403, "admin": 403, "district_admin": 201},
    ),
    "GET /v1/admin/records/{other school's}": (
        lambda http, c: http.get("/v1/admin/records/inc-s2", headers=c.headers),
        {"classroom": 403, "mobile": 403, "admin": 404, "district_admin": 200},
    ),
    "PATCH /v1/admin/records/{other school's}": (
        lambda http, c: http.patch(
            "/v1/admin/records/inc-s2",
            json={"fields": {"note": f"by {c.role}"}, "reason": "matrix"},
            headers=c.headers,
        ),
        {"classroom": 403, "mobile": 403, "admin": 404, "district_admin": 200},
    ),
    "GET /v1/admin/export (other school)": (
        lambda http, c: http.get(
            "/v1/admin/export", params={"format": "jsonl", "school_id": SCHOOL_2}, headers=c.headers
        ),
        {"classroom": 403, "mobile": 403, "admin": 403, "district_admin": 200},
    ),
    "PUT /v1/admin/grid": (
        lambda http, c: http.put("/v1/admin/grid", json={"entries": []}, headers=c.headers),
        {"classroom": 403, "mobile": 403, "admin": 403, "district_admin": 422},
    ),
    "PUT /v1/admin/config": (
        lambda http, c: http.put(
            "/v1/admin/config", json={"school_year_start": "2026-08-24"}, headers=c.headers
        ),
        {"classroom": 403, "mobile": 403, "admin": 403, "district_admin": 200},
    ),
    "GET /v1/admin/config": (
        lambda http, c: http.get("/v1/admin/config", headers=c.headers),
        {"classroom": 403, "mobile": 403, "admin": 200, "district_admin": 200},
    ),
    "GET /v1/admin/schools": (
        lambda http, c: http.get("/v1/admin/schools", headers=c.headers),
        {"classroom": 403, "mobile": 403, "admin": 200, "district_admin": 200},
    ),
    "POST /v1/admin/referrals/{other school's}/decision": (
        lambda http, c: http.post(
            "/v1/admin/referrals/ref-s2/decision",
            json={"level": 4, "oss_days": 3},
            headers=c.headers,
        ),
        {"classroom": 403, "mobile": 403, "admin": 404, "district_admin": 200},
    ),
    "GET /v1/summaries/big5 (own scope)": (
        lambda http, c: http.get("/v1/summaries/big5", headers=c.headers),
        {"classroom": 403, "mobile": 403, "admin": 200, "district_admin": 200},
    ),
    "GET /v1/summaries/equity (other school)": (
        lambda http, c: http.get(
            "/v1/summaries/equity", params={"school": SCHOOL_2}, headers=c.headers
        ),
        {"classroom": 403, "mobile": 403, "admin": 403, "district_admin": 200},
    ),
    "GET /v1/summaries/records (own scope)": (
        lambda http, c: http.get("/v1/summaries/records", headers=c.headers),
        {"classroom": 403, "mobile": 403, "admin": 200, "district_admin": 200},
    ),
    "GET /v1/summaries/records (other school)": (
        lambda http, c: http.get(
            "/v1/summaries/records", params={"school": SCHOOL_2}, headers=c.headers
        ),
        {"classroom": 403, "mobile": 403, "admin": 403, "district_admin": 200},
    ),
    "GET /v1/summaries/config": (
        lambda http, c: http.get("/v1/summaries/config", headers=c.headers),
        {"classroom": 403, "mobile": 403, "admin": 200, "district_admin": 200},
    ),
    "PUT /v1/summaries/config": (
        lambda http, c: http.put(
            "/v1/summaries/config",
            json={"suppression": {"min_numerator": 10, "min_denominator": 30}},
            headers=c.headers,
        ),
        {"classroom": 403, "mobile": 403, "admin": 403, "district_admin": 200},
    ),
}


def _leaks(role: str, name: str, response: httpx.Response) -> list[str]:
    """Another school's data in a response that a school-1 device may read."""
    if role == "district_admin" or response.status_code >= 400:
        return []
    text = response.text
    if name.startswith("POST /v1/sync/push"):
        return []
    return [
        marker for marker in OTHER_SCHOOL_MARKERS if f'"{marker}' in text or f"|{marker}" in text
    ]


async def test_every_endpoint_for_every_role_against_another_schools_data(
    fleet: Fleet, http: httpx.AsyncClient, engine: sa.Engine
) -> None:
    school_2 = fleet.classroom_2a
    await school_2.push(
        school_2.op("incident", "inc-s2", incident_fields("st7", school_2.device_id))
    )
    referral = incident_fields("st7", school_2.device_id, behavior_code="WPN-OTHER")
    for name in ("level", "actions"):
        del referral[name]
    assert await school_2.statuses(school_2.op("office_referral", "ref-s2", referral)) == [
        "applied"
    ]
    victim_response = await http.post(
        "/v1/devices/enroll",
        json={"code": make_code(engine, "mobile", SCHOOL_2), "device_id": "victim-2"},
    )
    assert victim_response.status_code == 200
    revoked = await enroll(http, engine, "admin", None)
    revoke(engine, revoked.device_id)
    callers = {
        "anonymous": Caller("anonymous", {}, None),
        "revoked": Caller("revoked", revoked.headers, revoked),
        "classroom": Caller("classroom", fleet.classroom_1a.headers, fleet.classroom_1a),
        "mobile": Caller("mobile", fleet.mobile_1.headers, fleet.mobile_1),
        "admin": Caller("admin", fleet.admin_1.headers, fleet.admin_1),
        "district_admin": Caller(
            "district_admin", fleet.district_admin.headers, fleet.district_admin
        ),
    }
    mismatches: list[str] = []
    for name, (probe, expected) in PROBES.items():
        for role in ROLES:
            want = expected.get(role, 401)
            response = await probe(http, callers[role])
            if response.status_code != want:
                mismatches.append(
                    f"{name} as {role}: {response.status_code} (want {want}) {response.text[:120]}"
                )
            if response.status_code >= 400 and "detail" not in response.json():
                mismatches.append(f"{name} as {role}: error body without detail")
            leaked = _leaks(role, name, response)
            if leaked:
                mismatches.append(f"{name} as {role}: leaked {leaked}")
            if name.startswith("POST /v1/sync/push") and response.status_code == 200:
                status = response.json()["results"][0]["status"]
                want_status = "applied" if role == "district_admin" else "rejected"
                if status != want_status:
                    mismatches.append(f"{name} as {role}: op {status} (want {want_status})")
    assert mismatches == []
    pulled = await http.get("/v1/sync/pull", headers=fleet.admin_1.headers)
    assert "inc-s2" not in json.dumps(pulled.json())
