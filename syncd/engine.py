"""One round of sync: push the outbox, then pull pages, applying each reply locally.

Push. Batches leave in outbox order (at most 500 ops and about 1 MB). Taking a batch marks its
records in ``remote_copies`` in the same local transaction, before a byte is sent, so a record
downgraded to Level 1 while the batch is in flight gets its retraction queued by the store. The
reply's per-op results are applied in one local transaction: applied, duplicate and superseded
ops leave the outbox; a permanent rejection becomes a dead letter and leaves the outbox, so it
never blocks the queue; a rejection marked ``retry`` stays. A round walks the outbox once (by
seq), so ops waiting for a retry never starve the ones behind them.

Throughput. Two requests may be in flight, but only batches that share no record and no incident
a follow-up or TAB points at (the server may apply concurrent requests in either order, and a
follow-up must never overtake its incident); batches end before a record family that straddles
the cut, so consecutive batches of a backlog rarely conflict. Replies are applied locally in the
order sent, while the next batch is on the wire, and the next batch is read from the outbox while
the current ones travel. With one request at a time the daemon's own work sat on the critical
path and a 50,000-op drain reached about 50 % of the server's raw ingest ceiling; with two it
reaches 68-76 % (``scripts/bench_sync.py``).

Clock. Every reply's ``server_time`` gives the offset between the server's clock and ours; it is
persisted (``meta.clock_offset_ms``) and the store's clock uses it for new stamps. A device whose
clock ran ahead (a year, say) has minted stamps the server refuses (more than 5 minutes ahead,
answered ``rejected`` with ``retry``; a permanent rejection of an op whose stamp is beyond the
server's limit is treated the same way). After measuring the offset the engine asks the store to
re-stamp (``SyncStore.correct_clock``): pending ops with bad stamps get fresh stamps from the
corrected clock, in seq order and in one transaction, and the persisted HLC restarts from the
highest stamp that was ever accepted or is still good. That reset is safe because nothing beyond
the server's limit can have been accepted; the round then starts over so the re-stamped ops go
out at once. A clock behind (a day, say) needs no re-stamping: its stamps are merely old, and the
HLC never goes backwards when the clock jumps back (it keeps counting on its last wall time).

Pull. Pages are applied with their cursor in one local transaction each (short, so the TUI's
writes interleave); the first request of a round may long-poll (``wait``) and gives way at once
when a local change needs pushing.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import functools
import os
import signal
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from schema.sync_store import Batch, PullOutcome, SyncStore, UnappliableChangeError
from schema.wire import (
    MAX_CLOCK_AHEAD_MS,
    MAX_OPS_PER_PUSH,
    MAX_PULL_LIMIT,
    MAX_PUSH_BYTES,
    OpResult,
    OpStatus,
    PushOp,
    PushRequest,
    PushResponse,
)
from syncd.client import RequestRejectedError, SyncClient, SyncError, Timed

Result = TypeVar("Result")
LOCKED_ATTEMPTS = 5
"""How many times one store call is tried while the database stays locked (each try waits out
the busy timeout first)."""

PUSH_BYTES_BUDGET = int(MAX_PUSH_BYTES * 0.9)
PIPELINE_DEPTH = 2
CRASH_ENV = "CLASSLOG_SYNC_CRASH_AT"
CRASH_POINTS = frozenset({"before_send", "after_reply", "mid_ack"})


def crash_points() -> frozenset[str]:
    """Fault injection for the kill -9 tests: ``CLASSLOG_SYNC_CRASH_AT=before_send`` (a batch
    is taken and marked, nothing sent), ``after_reply`` (the server committed, nothing acked
    locally) or ``mid_ack`` (inside the ack transaction, before its commit) makes the daemon
    SIGKILL itself there: the same death as ``kill -9``, at a step a timer could never hit."""
    wanted = {part.strip() for part in os.environ.get(CRASH_ENV, "").split(",")}
    return frozenset(wanted & CRASH_POINTS)


class PullStoppedError(SyncError):
    """The server sent a change this device cannot apply: the pull stops at it (the cursor
    stays) and the sync status says so, rather than skipping it and diverging for good."""

    online = True


class RetryPendingError(SyncError):
    """The server asked for some ops to be sent again later (e.g. a clock ahead)."""

    online = True


@dataclass(slots=True)
class PushReport:
    sent: int = 0
    acknowledged: int = 0
    dead_lettered: int = 0
    refused_locally: int = 0
    retry: int = 0
    restamped: int = 0
    requests: int = 0
    retry_reasons: list[str] = field(default_factory=list)


@dataclass(slots=True)
class PullReport:
    pages: int = 0
    applied: int = 0
    removed: int = 0
    skipped: int = 0
    interrupted: bool = False


class SyncEngine:
    """Push and pull for one device. Database work runs on one dedicated thread, so the event
    loop stays free for the watcher and the long-poll, and the store's connection is only ever
    used by one thread at a time."""

    def __init__(
        self,
        store: SyncStore,
        client: SyncClient,
        *,
        max_ops: int = MAX_OPS_PER_PUSH,
        max_bytes: int = PUSH_BYTES_BUDGET,
        pull_limit: int = MAX_PULL_LIMIT,
        pipeline_depth: int = PIPELINE_DEPTH,
    ) -> None:
        self.store = store
        self.client = client
        self.max_ops = max_ops
        self.max_bytes = max_bytes
        self.pull_limit = pull_limit
        self.pipeline_depth = max(1, pipeline_depth)
        self.crash_at = crash_points()
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="syncd-db"
        )

    def _maybe_crash(self, point: str) -> None:
        if point in self.crash_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def _crash_hook(self, point: str) -> Callable[[], None] | None:
        return (lambda: self._maybe_crash(point)) if point in self.crash_at else None

    async def db(self, function: Callable[..., Result], *args: Any) -> Result:
        """Run one store call on the database thread. If the caller is cancelled, the call
        still finishes (a transaction is never cut in half).

        The teacher's writes come first: when the TUI keeps the database busy past the busy
        timeout, the call (whose transaction rolled back whole) is tried again after a pause
        rather than failing the sync round."""
        loop = asyncio.get_running_loop()
        for attempt in range(LOCKED_ATTEMPTS):
            future = loop.run_in_executor(self._executor, function, *args)
            try:
                return await asyncio.shield(future)
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or attempt == LOCKED_ATTEMPTS - 1:
                    raise
            await asyncio.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        self._executor.shutdown(wait=True)

    async def _observe_time(self, timed: Timed) -> int:
        """Persist the measured offset and re-stamp a clock that ran ahead. Returns the number
        of ops re-stamped."""
        await self.db(self.store.record_offset, timed.offset_ms)
        return await self.db(self.store.correct_clock, timed.server_ms)

    async def push(self) -> PushReport:
        """Walk the outbox once (twice when the first walk had to correct the clock, so that
        re-stamped ops leave at once). Raises ``SyncError`` when the server cannot be used, and
        ``RetryPendingError`` at the end when ops the server asked to retry remain."""
        report = PushReport()
        await self.db(self.store.update_draining)
        for _walk in range(2):
            report.retry = 0
            report.retry_reasons.clear()
            if not await self._walk(report):
                break
        if report.retry:
            reasons = "; ".join(report.retry_reasons[:3]) or "server asked to retry"
            raise RetryPendingError(f"{report.retry} op(s) to retry: {reasons}")
        return report

    async def _walk(self, report: PushReport) -> bool:
        """Send the outbox in seq order. Returns True when the clock was corrected on the way
        (the walk stops there: what it would still send carries bad stamps).

        Up to ``pipeline_depth`` requests are in flight, but only batches that share no record
        (nor an incident a follow-up or TAB points at): the server may apply concurrent requests
        in either order, and a follow-up must never overtake its incident. Replies are applied
        locally in the order the batches were sent, each while the next batch is on the wire,
        and the next batch is taken from the outbox while the current ones travel: the daemon's
        own work stays off the critical path."""
        after_seq = 0
        max_ops = self.max_ops
        upcoming: asyncio.Future[Batch] | None = None
        in_flight: collections.deque[_InFlight] = collections.deque()
        settling: asyncio.Future[int] | None = None
        exhausted = False
        try:
            while True:
                while not exhausted and len(in_flight) < self.pipeline_depth:
                    if upcoming is None:
                        upcoming = asyncio.ensure_future(self._take(max_ops, after_seq))
                    batch = await upcoming
                    if not batch.ops:
                        report.refused_locally += batch.refused
                        exhausted = True
                        upcoming = None
                        break
                    keys = _batch_keys(batch.ops)
                    if any(keys & earlier.keys for earlier in in_flight):
                        break
                    upcoming = None
                    report.refused_locally += batch.refused
                    self._maybe_crash("before_send")
                    request = PushRequest(device_id=self.store.device_id, ops=batch.ops)
                    in_flight.append(
                        _InFlight(batch.ops, keys, asyncio.ensure_future(self.client.push(request)))
                    )
                    after_seq = batch.ops[-1].seq
                    upcoming = asyncio.ensure_future(self._take(max_ops, after_seq))
                if not in_flight:
                    restamped = await settling if settling is not None else 0
                    settling = None
                    return restamped > 0
                oldest = in_flight.popleft()
                try:
                    reply, timed = await oldest.reply
                except RequestRejectedError as error:
                    await _abandon(in_flight, upcoming)
                    in_flight.clear()
                    upcoming = None
                    if error.status not in (400, 413, 422):
                        raise
                    if len(oldest.ops) > 1:
                        max_ops = max(1, len(oldest.ops) // 2)
                    else:
                        await self.db(self.store.dead_letter_op, oldest.ops[0].op_id, error.message)
                        report.dead_lettered += 1
                    after_seq = oldest.ops[0].seq - 1
                    exhausted = False
                    continue
                report.requests += 1
                report.sent += len(oldest.ops)
                max_ops = min(self.max_ops, max_ops * 2)
                restamped = await settling if settling is not None else 0
                settling = asyncio.ensure_future(self._settle(oldest.ops, reply, timed, report))
                if restamped:
                    return True
        finally:
            if settling is not None:
                await settling
            await _abandon(in_flight, upcoming)

    async def _take(self, max_ops: int, after_seq: int) -> Batch:
        return await self.db(self.store.take_batch, max_ops, self.max_bytes, after_seq)

    async def _settle(
        self, ops: list[PushOp], reply: PushResponse, timed: Timed, report: PushReport
    ) -> int:
        """Apply one reply locally; returns how many ops the clock correction re-stamped."""
        self._maybe_crash("after_reply")
        results = _clock_rejections_retry(ops, reply.results, timed.server_ms)
        outcome = await self.db(
            functools.partial(
                self.store.apply_push_results, before_commit=self._crash_hook("mid_ack")
            ),
            ops,
            results,
            reply.server_hlc,
        )
        restamped = await self._observe_time(timed)
        await self.db(self.store.update_draining)
        report.acknowledged += outcome.acknowledged
        report.dead_lettered += outcome.dead_lettered
        report.retry += outcome.retry
        for reason in outcome.retry_reasons:
            if reason not in report.retry_reasons:
                report.retry_reasons.append(reason)
        report.restamped += restamped
        return restamped

    async def pull(self, wait: float = 0, interrupt: asyncio.Event | None = None) -> PullReport:
        """Fetch and apply pages until the server has no more. Only the first request waits
        (long-poll); ``interrupt`` ends that wait early without applying anything."""
        report = PullReport()
        cursor = await self.db(self.store.pull_cursor)
        while True:
            request = self.client.pull(cursor, self.pull_limit, wait)
            if wait > 0 and interrupt is not None:
                fetched = await _unless(request, interrupt)
                if fetched is None:
                    report.interrupted = True
                    return report
                reply, timed = fetched
            else:
                reply, timed = await request
            try:
                outcome: PullOutcome = await self.db(
                    self.store.apply_pull_page, reply.changes, reply.cursor
                )
            except UnappliableChangeError as error:
                raise PullStoppedError(str(error)) from error
            await self._observe_time(timed)
            report.pages += 1
            report.applied += outcome.applied
            report.removed += outcome.removed
            report.skipped += outcome.skipped
            cursor = reply.cursor
            wait = 0
            if not reply.has_more:
                return report


@dataclass(slots=True)
class _InFlight:
    ops: list[PushOp]
    keys: frozenset[str]
    reply: asyncio.Future[tuple[PushResponse, Timed]]


def _batch_keys(ops: list[PushOp]) -> frozenset[str]:
    """Every record a batch touches or depends on."""
    keys = {op.id for op in ops}
    keys.update(linked for op in ops if isinstance(linked := op.fields.get("incident_id"), str))
    return frozenset(keys)


async def _abandon(
    in_flight: collections.deque[_InFlight], upcoming: asyncio.Future[Batch] | None
) -> None:
    """Cancel requests whose replies will not be applied (their ops stay queued and are sent
    again; the server answers ``duplicate`` for any it had applied) and let a prefetched batch
    finish (its marks in ``remote_copies`` are harmless)."""
    for waiting in in_flight:
        waiting.reply.cancel()
    for waiting in in_flight:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await waiting.reply
    if upcoming is not None:
        with contextlib.suppress(Exception):
            await upcoming


async def _unless(request: Any, interrupt: asyncio.Event) -> Any:
    """Await ``request`` unless ``interrupt`` is set first (then cancel it and return None)."""
    task = asyncio.ensure_future(request)
    waiter = asyncio.ensure_future(interrupt.wait())
    try:
        done, _ = await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    if task in done:
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, SyncError):
        await task
    return None


def _clock_rejections_retry(
    ops: list[PushOp], results: list[OpResult], server_ms: int
) -> list[OpResult]:
    """A rejection of an op stamped beyond the server's clock limit is the clock's fault, not
    the op's: keep it for re-stamping instead of dead-lettering it."""
    stamps = {op.op_id: op.timestamp.wall_ms for op in ops}
    limit = server_ms + MAX_CLOCK_AHEAD_MS
    fixed = []
    for result in results:
        if (
            result.status is OpStatus.REJECTED
            and not result.retry
            and stamps.get(result.op_id, 0) > limit
        ):
            result = result.model_copy(update={"retry": True})
        fixed.append(result)
    return fixed
