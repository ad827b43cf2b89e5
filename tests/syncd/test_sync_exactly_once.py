"""Invariant 2 on the real district app: a push whose reply is lost after the server committed,
or whose connection is reset, is sent again, and the server counts every op exactly once: it
answers ``applied`` the first time and ``duplicate`` for every resend (the transport records the
server's answers, also the ones it then throws away), holds each record once, and keeps each
value a merge replaced once in the record's audit. With the server's per-(device, op id)
deduplication turned off these fail: a resend is answered ``superseded`` and its losing values
are audited again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from deviceview import level_2_view
from realapp import RealDistrict
from realworld import Templates
from synckit import Fault, ManualClock

from schema.models import IncidentDraft
from schema.store import DeviceStore, IncidentChanges
from syncd.client import SyncError
from syncd.engine import SyncEngine


@pytest.fixture
async def real(tmp_path: Path, templates: Templates) -> AsyncIterator[RealDistrict]:
    district = RealDistrict(
        tmp_path, templates, ManualClock(int(datetime.now(UTC).timestamp() * 1000))
    )
    yield district
    await district.close()


def _log(store: DeviceStore, student: str, note: str) -> str:
    draft = IncidentDraft(student_id=student, behavior_code="DIS-CLASS", level=2, note=note)
    return store.log_incident(draft).id


async def _push_until_empty(engine: SyncEngine, attempts: int = 10) -> None:
    for _ in range(attempts):
        try:
            await engine.push()
        except SyncError:
            continue
        if engine.store.pending_count() == 0:
            return
    raise AssertionError(f"{engine.store.pending_count()} op(s) still pending")


def _assert_each_op_applied_once(statuses: dict[str, list[str]]) -> int:
    """Every op answered ``applied`` at most once, first, and ``duplicate`` on each resend;
    returns how many ops were sent more than once. (An op can lack its ``applied`` answer: the
    engine cancels a pipelined request when another one fails, and the server may have
    committed it; the resend must then be a ``duplicate`` all the same.)"""
    assert statuses
    for op_id, answers in statuses.items():
        resends = answers[1:] if answers[0] == "applied" else answers
        assert all(answer == "duplicate" for answer in resends), (op_id, answers)
    return sum(1 for answers in statuses.values() if len(answers) > 1)


async def test_lost_replies_and_resets_count_every_op_once(
    real: RealDistrict, templates: Templates
) -> None:
    store, engine = await real.device("device", real.clock)
    students = templates.student_ids
    logged = [_log(store, students[number % 4], f"note {number}") for number in range(6)]
    real.clock.advance(1)
    store.edit_incident(logged[0], IncidentChanges(note="edited before the first push"))
    engine.max_ops = 5
    transport = engine.client._http._transport  # type: ignore[attr-defined]
    transport.faults.extend(
        [Fault("drop", path="push"), Fault("reset", path="push"), Fault("drop", path="push")]
    )
    await _push_until_empty(engine)
    resent = _assert_each_op_applied_once(transport.op_statuses())
    assert resent >= 2
    server = await real.state()
    mine = level_2_view(store.connection)
    assert server.flat() == mine
    for record_id in logged:
        detail = await real.detail(record_id)
        assert detail is not None
        replaced = sorted((value["field"], value["value"]) for value in detail["superseded"])
        if record_id == logged[0]:
            assert [name for name, _ in replaced] == ["note", "updated_at"], replaced
            assert replaced[0] == ("note", "note 0")
        else:
            assert replaced == []
    store.close()


async def test_a_resend_after_an_administrators_correction_is_not_applied_again(
    real: RealDistrict, templates: Templates
) -> None:
    """The reply to a push is lost; an administrator corrects the record; the device sends the
    same ops again. The server answers ``duplicate``: the correction stands, and the value it
    replaced is in the audit once (a re-applied create would lose to the correction and be
    audited a second time)."""
    store, engine = await real.device("device", real.clock)
    record = _log(store, templates.student_ids[0], "before the correction")
    transport = engine.client._http._transport  # type: ignore[attr-defined]
    transport.faults.append(Fault("drop", path="push"))
    with pytest.raises(SyncError):
        await engine.push()
    assert engine.store.pending_count() > 0
    real.clock.advance(5)
    response = await real.admin_http.patch(
        f"/v1/admin/records/{record}",
        json={"fields": {"location": "Gym", "note": "corrected"}, "reason": "wrong room"},
        headers={"Authorization": f"Bearer {real.admin_token}"},
    )
    assert response.status_code == 200, response.text
    await _push_until_empty(engine)
    assert _assert_each_op_applied_once(transport.op_statuses()) > 0
    detail = await real.detail(record)
    assert detail is not None
    assert detail["fields"]["location"] == "Gym"
    assert detail["fields"]["note"] == "corrected"
    assert sorted((value["field"], value["value"]) for value in detail["superseded"]) == [
        ("location", None),
        ("note", "before the correction"),
    ]
    await engine.pull()
    assert store.incident(record).location == "Gym"
    assert (await real.state()).flat() == level_2_view(store.connection)
    store.close()
