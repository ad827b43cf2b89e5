"""The wire protocol's models: strict validation, and no way for Level 1 content onto the wire."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from schema.clock import Timestamp
from schema.wire import (
    FIELDS_BY_KIND,
    INCIDENT_FIELDS,
    MAX_OPS_PER_PUSH,
    Change,
    EnrollRequest,
    PushOp,
    PushRequest,
    PushResponse,
    wire_fields,
)

HLC = Timestamp(1_791_986_400_000, 3, "0190a4c2-7c1e-7000-8000-00000000d001").encode()
RECORD_ID = "0190a4c2-7c1e-7000-8000-000000000001"


def op(**values: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "op_id": "0190a4c2-7c1e-7000-8000-0000000000aa",
        "seq": 1,
        "kind": "incident",
        "id": RECORD_ID,
        "op": "upsert",
        "fields": {"level": 2, "note": "left the room"},
        "hlc": HLC,
    }
    fields.update(values)
    return fields


def test_a_level_2_incident_upsert_is_valid_and_acceptable() -> None:
    push = PushOp.model_validate(op())
    assert push.refusal() is None
    assert push.timestamp == Timestamp.decode(HLC)


@pytest.mark.parametrize("kind", ["incident", "tab", "follow_up"])
def test_a_retraction_carries_no_fields(kind: str) -> None:
    assert PushOp.model_validate(op(kind=kind, op="retract", fields={})).refusal() is None
    with pytest.raises(ValidationError, match="a retraction carries no fields"):
        PushOp.model_validate(op(kind=kind, op="retract", fields={"note": "content"}))


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("incident", {"demographics": "x"}),
        ("incident", {"level": 2, "hlc": HLC}),
        ("tab", {"level": 2}),
        ("tab", {"actions": ["iss"]}),
        ("follow_up", {"behavior_code": "DIS-CLASS"}),
    ],
)
def test_fields_unknown_for_the_kind_are_refused(kind: str, fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match=f"unknown fields for {kind}"):
        PushOp.model_validate(op(kind=kind, fields=fields))


def test_unknown_top_level_keys_are_refused() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        PushOp.model_validate({**op(), "level": 1})
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        PushRequest.model_validate({"device_id": "d", "ops": [], "debug": True})


@pytest.mark.parametrize("level", [1, 0, 3, "2", None])
def test_an_incident_upsert_with_any_level_but_2_is_refused(level: Any) -> None:
    push = PushOp.model_validate(op(fields={"level": level, "note": "classroom note"}))
    if level is None:
        assert push.refusal() is None
    else:
        refusal = push.refusal()
        assert refusal is not None
        assert "Level 1" in refusal


def test_a_level_1_refusal_is_per_op_not_a_failed_request() -> None:
    request = PushRequest.model_validate(
        {
            "device_id": "device-1",
            "ops": [op(), op(op_id="op-2", seq=2, fields={"level": 1, "note": "private"})],
        }
    )
    assert [push.refusal() is None for push in request.ops] == [True, False]


@pytest.mark.parametrize("kind", ["tab", "follow_up"])
def test_tab_and_follow_up_upserts_are_not_refused_for_lacking_a_level(kind: str) -> None:
    fields = {"note": "calm", "incident_id": None} if kind == "tab" else {"note": "called"}
    assert PushOp.model_validate(op(kind=kind, fields=fields)).refusal() is None


@pytest.mark.parametrize(
    "hlc",
    [
        "not-a-clock-value-at-all",
        "1791986400000-000003-",
        "179198640000-0000003-node-id-here",
        "1791986400000-3-0190a4c2-7c1e-7000-8000",
        "x" * 30,
        HLC + "x" * 120,
        "",
        "+179198640000-000003-0190a4c2-7c1e-7000-8000",
        " 179198640000-000003-0190a4c2-7c1e-7000-8000",
    ],
)
def test_a_bad_hlc_is_refused(hlc: str) -> None:
    with pytest.raises(ValidationError):
        PushOp.model_validate(op(hlc=hlc))


@pytest.mark.parametrize(
    "changes",
    [
        {"seq": 0},
        {"op_id": ""},
        {"op_id": "x" * 65},
        {"id": ""},
        {"kind": "student"},
        {"op": "delete"},
    ],
)
def test_malformed_ops_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        PushOp.model_validate(op(**changes))


def test_a_push_holds_at_most_the_protocols_op_limit() -> None:
    ops = [op(op_id=f"op-{seq}", seq=seq) for seq in range(1, MAX_OPS_PER_PUSH + 2)]
    PushRequest.model_validate({"device_id": "d", "ops": ops[:MAX_OPS_PER_PUSH]})
    with pytest.raises(ValidationError):
        PushRequest.model_validate({"device_id": "d", "ops": ops})


def test_ops_round_trip_through_json() -> None:
    push = PushOp.model_validate(op())
    assert PushOp.model_validate_json(push.model_dump_json()) == push
    assert json.loads(push.model_dump_json())["fields"] == {"level": 2, "note": "left the room"}


def test_wire_fields_keeps_only_what_may_travel() -> None:
    record = {"id": RECORD_ID, "hlc": HLC, "field_hlc": "{}", "origin": "local", "level": 2}
    assert wire_fields("incident", record) == {"level": 2}
    assert set(FIELDS_BY_KIND) == {
        "incident",
        "tab",
        "follow_up",
        "support_request",
        "intervention",
        "office_referral",
    }
    assert "id" not in INCIDENT_FIELDS
    assert not {"hlc", "field_hlc", "origin"} & set().union(*FIELDS_BY_KIND.values())


def test_responses_and_changes_are_strict_too() -> None:
    with pytest.raises(ValidationError):
        PushResponse.model_validate(
            {
                "results": [{"op_id": "a", "status": "maybe"}],
                "server_time": "2026-10-14T15:00Z",
                "server_hlc": HLC,
            }
        )
    with pytest.raises(ValidationError):
        Change.model_validate({"cursor": 1, "kind": "incident", "id": "i", "op": "delete"})
    with pytest.raises(ValidationError):
        EnrollRequest.model_validate({"code": "abc", "device_id": "d"})
