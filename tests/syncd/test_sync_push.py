"""Push: batches, per-op results, dead letters, faults on the wire, backoff inputs."""

from __future__ import annotations

import asyncio

import pytest
from synckit import Fault, Network

from schema.wire import PushOp
from syncd.client import NotEnrolledError, OfflineError, ServerBusyError, ServerError


async def test_push_sends_level_2_and_empties_outbox(network: Network) -> None:
    device = network.device()
    incident_id = device.log(level=2, note="pushed")
    assert device.pending() > 0
    report = await device.engine.push()
    assert device.pending() == 0
    assert report.acknowledged == report.sent
    assert network.district.records[incident_id].fields["note"] == "pushed"


async def test_lost_reply_after_server_commit_is_retried_as_duplicate(network: Network) -> None:
    device = network.device()
    incident_id = device.log(level=2)
    device.transport.faults.append(Fault("drop", path="push"))
    with pytest.raises(OfflineError):
        await device.engine.push()
    assert device.pending() > 0
    assert incident_id in network.district.records
    await device.engine.push()
    assert device.pending() == 0
    assert len(network.district.live("incident")) == 1
    assert set(network.district.applied.values()) == {"applied"}


async def test_reset_before_request_keeps_everything_queued(network: Network) -> None:
    device = network.device()
    device.log(level=2)
    pending = device.pending()
    device.transport.faults.append(Fault("reset"))
    with pytest.raises(OfflineError):
        await device.engine.push()
    assert device.pending() == pending
    assert not network.district.records


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_keeps_ops_queued(network: Network, status: int) -> None:
    device = network.device()
    device.log(level=2)
    device.transport.faults.append(Fault("status", status=status))
    with pytest.raises((ServerError, ServerBusyError)):
        await device.engine.push()
    assert device.pending() > 0
    await device.engine.push()
    assert device.pending() == 0


async def test_429_with_retry_after_is_reported(network: Network) -> None:
    device = network.device()
    device.log(level=2)
    device.transport.faults.append(Fault("status", status=429, headers={"Retry-After": "42"}))
    with pytest.raises(ServerBusyError) as caught:
        await device.engine.push()
    assert caught.value.retry_after == 42
    assert device.pending() > 0


async def test_401_says_not_enrolled_or_revoked(network: Network) -> None:
    device = network.device()
    device.log(level=2)
    network.district.revoke(device.sync_store.device_id)
    with pytest.raises(NotEnrolledError) as caught:
        await device.engine.push()
    assert caught.value.message == "device not enrolled or revoked"
    assert device.pending() > 0


async def test_permanent_rejection_goes_to_dead_letters_without_blocking(
    network: Network,
) -> None:
    device = network.device()
    first = device.log(level=2, note="first")
    second = device.log(level=2, note="second", student="stu-2")
    device.sync_store.connection.execute(
        "UPDATE outbox SET fields = json_remove(fields, '$.behavior_code') WHERE entity_id = ? "
        "AND kind = 'incident'",
        (first,),
    )
    await device.engine.push()
    assert device.pending() == 0
    dead = device.sync_store.connection.execute("SELECT * FROM dead_letters").fetchall()
    assert [row["entity_id"] for row in dead if row["kind"] == "incident"] == [first]
    assert second in network.district.live("incident")


async def test_batches_are_bounded_by_op_count(network: Network) -> None:
    device = network.device()
    device.engine.max_ops = 7
    for _ in range(10):
        device.log(level=2, student="stu-3")
    before = device.pending()
    report = await device.engine.push()
    assert report.requests == -(-before // 7)
    assert device.pending() == 0


async def test_batches_are_bounded_by_bytes(network: Network) -> None:
    device = network.device()
    device.engine.max_bytes = 4000
    for _ in range(6):
        device.log(level=2, note="x" * 1500, student="stu-3")
    report = await device.engine.push()
    assert report.requests >= 3
    assert device.pending() == 0


async def test_ops_are_marked_as_remote_copies_before_sending(network: Network) -> None:
    device = network.device()
    incident_id = device.log(level=2)
    device.transport.faults.append(Fault("reset"))
    with pytest.raises(OfflineError):
        await device.engine.push()
    marked = device.sync_store.connection.execute(
        "SELECT 1 FROM remote_copies WHERE kind = 'incident' AND entity_id = ?", (incident_id,)
    ).fetchone()
    assert marked is not None


async def test_op_refused_by_refusal_is_never_sent(network: Network) -> None:
    device = network.device()
    incident_id = device.log(level=2, note="sneaky-L1-marker")
    device.sync_store.connection.execute(
        "UPDATE outbox SET fields = json_set(fields, '$.level', 1) WHERE entity_id = ? AND "
        "kind = 'incident'",
        (incident_id,),
    )
    await device.engine.push()
    assert b"sneaky-L1-marker" not in device.transport.sent_bytes()
    reason = device.sync_store.connection.execute(
        "SELECT reason FROM dead_letters WHERE entity_id = ?", (incident_id,)
    ).fetchone()[0]
    assert "Level 1" in reason


async def test_downgrade_while_batch_in_flight_queues_retraction(network: Network) -> None:
    device = network.device()
    incident_id = device.log(level=2, note="in flight")
    real_push = device.engine.client.push

    async def push_then_downgrade(request):  # type: ignore[no-untyped-def]
        from schema.store import IncidentChanges

        device.store.edit_incident(incident_id, IncidentChanges(level=1, note="now private"))
        return await real_push(request)

    device.engine.client.push = push_then_downgrade  # type: ignore[method-assign]
    await device.engine.push()
    device.engine.client.push = real_push  # type: ignore[method-assign]
    assert b'"op":"retract"' in device.transport.sent_bytes()
    assert device.pending() == 0
    assert network.district.records[incident_id].tombstone
    assert b"now private" not in device.transport.sent_bytes()


def test_push_op_refusal_is_the_wire_rule() -> None:
    op = PushOp(
        op_id="a",
        seq=1,
        kind="incident",
        id="x",
        op="upsert",
        fields={"level": 1},
        hlc="0000000000001-000000-n",
    )
    assert op.refusal() is not None


async def test_pipelined_batches_never_share_a_record_in_flight(network: Network) -> None:
    device = network.device()
    device.engine.pipeline_depth = 2
    device.engine.max_ops = 4
    for index in range(8):
        device.log(level=2, student=("stu-1", "stu-2", "stu-3")[index % 3])
    real_push = device.engine.client.push
    in_flight: list[set[str]] = []
    overlaps: list[int] = []

    async def tracking_push(request):  # type: ignore[no-untyped-def]
        keys = {op.id for op in request.ops} | {
            str(op.fields["incident_id"]) for op in request.ops if op.fields.get("incident_id")
        }
        for other in in_flight:
            assert not keys & other
        in_flight.append(keys)
        overlaps.append(len(in_flight))
        try:
            await asyncio.sleep(0.01)
            return await real_push(request)
        finally:
            in_flight.remove(keys)

    device.engine.client.push = tracking_push  # type: ignore[method-assign]
    report = await device.engine.push()
    assert device.pending() == 0
    assert report.dead_lettered == 0
    assert max(overlaps) == 2
    assert len(network.district.live("follow_up")) == 16
