"""The sync daemon's writes to the device database.

DESIGN section 4 says only ``schema/`` writes the device database, so everything the daemon
changes locally lives here, each write one ``BEGIN IMMEDIATE`` transaction:

* taking a push batch marks every record in it in ``remote_copies`` *before* anything is sent, so a
  downgrade to Level 1 that happens while the batch is in flight knows to queue a retraction;
* applying the server's per-op results (acknowledged ops leave the outbox, permanent rejections go
  to ``dead_letters``, retryable ones stay) is one transaction per response;
* a pull page and its cursor are one transaction, merged field by field (see ``_merge``);
* the clock: the measured offset to the server, and the re-stamping of ops minted by a clock that
  ran ahead (see ``SyncStore.correct_clock``).

Merge rule. The server has already merged every write it accepted (per-field last-writer-wins by
HLC, node id breaking ties), so what a pull brings is the truth for every field this device has
no unsent write to. A field with a pending local write (an outbox op not yet acknowledged) keeps
the local value unless the incoming field's clock is strictly greater than that op's stamp: the
same comparison the server will make when the op arrives, so the device shows now what the
server will hold then. An administrator's correction newer than the local edit wins; an older
one loses (the server will answer ``superseded`` for it or apply ours over it). The losing value,
either side's, goes to the audit table. Voids win: a set ``voided_at`` (or its reason) is never
cleared by a pull; a corrected reason or time of a void is taken like any other field.
Clocks remembered from earlier pulls are deliberately not compared: a record retracted and
brought back (Level 2 -> 1 -> 2) restarts its clocks on the server, and an old remembered clock
would otherwise keep a value the server no longer has. ``field_hlc`` records the clock of each
value that came from the server, for audit.

Pull pages come in cursor order, which is the order of the server's last write to each record,
so a follow-up can arrive before its incident (edited later), even pages before it. The daemon's
connection therefore runs with foreign keys off: such a follow-up waits, invisible to the store's
reads (which go through its incident), until the incident arrives; removals cascade by hand.

Removals delete copies that came from elsewhere (``origin = 'remote'`` or another device's record);
a record this device owns is never deleted by a pull (its own retraction comes back as a removal).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from schema.clock import (
    ZERO,
    ClockError,
    HybridClock,
    Timestamp,
    WallClock,
    system_wall_ms,
)
from schema.db import connect, db_path, transaction
from schema.errors import ClasslogError
from schema.fields import row_to_wire, wire_to_column
from schema.grid import GridEntry
from schema.ids import new_id
from schema.wire import MAX_CLOCK_AHEAD_MS, Change, OpResult, OpStatus, PushOp

TABLE_BY_KIND = {
    "incident": "incidents",
    "tab": "tab_events",
    "follow_up": "follow_ups",
    "intervention": "interventions",
    "office_referral": "office_referrals",
}
_VOID_FIELDS = frozenset({"voided_at", "void_reason"})
ROSTER_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "student": ("students", ("given_name", "family_name", "grade", "iep", "school_id")),
    "staff": ("staff", ("given_name", "family_name", "role", "school_id")),
    "section": ("sections", ("title", "school_id", "periods", "course_title")),
}
ROSTER_DEFAULTS: dict[str, Any] = {
    "given_name": "",
    "family_name": "",
    "grade": "",
    "iep": 0,
    "role": "",
    "title": "",
    "periods": "",
    "course_title": "",
}
CONFIG_KEYS = frozenset(
    {
        "school_year_start",
        "period_schedule",
        "pinned_behaviors",
        "follow_up_due_days",
        "school_day_minutes",
    }
)
CLOCK_SAFETY_MS = 60_000
"""Re-stamp when our clock is within this margin of the server's 5-minute limit."""
ESTIMATED_OP_OVERHEAD_BYTES = 160


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _now_text(wall: WallClock, offset_ms: int) -> str:
    moment = datetime.fromtimestamp((wall() + offset_ms) / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds")


def _stamp(text: str | None) -> Timestamp:
    if not text:
        return ZERO
    try:
        return Timestamp.decode(text)
    except ClockError:
        return ZERO


class UnappliableChangeError(ClasslogError):
    """A pulled change this device cannot apply: the page is not applied and the cursor stays,
    so the change is met again, never skipped, until the server or this device is fixed."""

    def __init__(self, kind: str, entity_id: str, cause: BaseException) -> None:
        reason = " ".join(str(cause).split()) or type(cause).__name__
        super().__init__(
            f"the server sent a change ({kind}) this device cannot apply ({entity_id}: {reason});"
            " sync is stopped until it is fixed"
        )
        self.kind = kind
        self.entity_id = entity_id


@dataclass(frozen=True, slots=True)
class Batch:
    """Ops taken from the outbox for one push request, in seq order."""

    ops: list[PushOp]
    refused: int
    approx_bytes: int


@dataclass(slots=True)
class PushOutcome:
    acknowledged: int = 0
    dead_lettered: int = 0
    retry: int = 0
    retry_reasons: list[str] = field(default_factory=list)


@dataclass(slots=True)
class PullOutcome:
    applied: int = 0
    removed: int = 0
    skipped: int = 0
    lost_incoming: int = 0


@dataclass(frozen=True, slots=True)
class PendingOp:
    seq: int
    kind: str
    entity_id: str
    op: str
    created_at: str
    attempts: int


class SyncStore:
    """The daemon's view of the device database: what to push, how to apply what came back."""

    def __init__(self, connection: sqlite3.Connection, *, wall: WallClock = system_wall_ms) -> None:
        self.connection = connection
        self.wall = wall
        connection.execute("PRAGMA foreign_keys = OFF")
        device_id = self.meta("device_id")
        if device_id is None:
            with transaction(connection):
                device_id = self.meta("device_id")
                if device_id is None:
                    device_id = new_id()
                    self._set_meta("device_id", device_id)
                    self._set_meta("hlc", Timestamp(0, 0, device_id).encode())
        self.device_id = device_id

    @classmethod
    def open(cls, home: Path, *, wall: WallClock = system_wall_ms) -> SyncStore:
        return cls(connect(db_path(home)), wall=wall)

    def close(self) -> None:
        self.connection.close()

    # -- reading ------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self.connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def data_version(self) -> int:
        """Changes when another connection commits; never for this connection's own writes."""
        version: int = self.connection.execute("PRAGMA data_version").fetchone()[0]
        return version

    def pending_count(self) -> int:
        count: int = self.connection.execute("SELECT count(*) FROM outbox").fetchone()[0]
        return count

    def pending_ops(self, limit: int = 20) -> list[PendingOp]:
        rows = self.connection.execute(
            "SELECT seq, kind, entity_id, op, created_at, attempts FROM outbox ORDER BY seq "
            "LIMIT ?",
            (limit,),
        ).fetchall()
        return [PendingOp(*tuple(row)) for row in rows]

    def urgent_pending(self) -> bool:
        """Whether a support request change waits in the outbox: worth ending a backoff for."""
        row = self.connection.execute(
            "SELECT 1 FROM outbox WHERE kind = 'support_request' LIMIT 1"
        ).fetchone()
        return row is not None

    def dead_letter_count(self) -> int:
        count: int = self.connection.execute("SELECT count(*) FROM dead_letters").fetchone()[0]
        return count

    def pull_cursor(self) -> int:
        cursor: int = self.connection.execute(
            "SELECT pull_cursor FROM sync_state WHERE id = 1"
        ).fetchone()[0]
        return cursor

    def clock_offset_ms(self) -> int:
        return int(self.meta("clock_offset_ms") or 0)

    def hlc(self) -> Timestamp:
        return _stamp(self.meta("hlc"))

    def state(self) -> dict[str, Any]:
        row = self.connection.execute("SELECT * FROM sync_state WHERE id = 1").fetchone()
        return dict(row)

    def now_text(self) -> str:
        return _now_text(self.wall, self.clock_offset_ms())

    # -- enrollment and daemon state ----------------------------------------------------------

    def _set_meta(self, key: str, value: str) -> None:
        self.connection.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def record_enrollment(
        self,
        *,
        server_url: str,
        school_id: str,
        role: str,
        staff_id: str | None,
        section_ids: Sequence[str],
    ) -> None:
        """Where this device syncs to and as what. A new server starts the pull from zero."""
        with transaction(self.connection):
            previous = self.meta("server_url")
            self._set_meta("server_url", server_url)
            self._set_meta("school_id", school_id)
            self._set_meta("enrolled_role", role)
            self._set_meta("enrolled_sections", _json(list(section_ids)))
            if staff_id:
                self._set_meta("enrolled_staff_id", staff_id)
                if not self.meta("staff_id"):
                    self._set_meta("staff_id", staff_id)
            if previous != server_url:
                self.connection.execute("UPDATE sync_state SET pull_cursor = 0 WHERE id = 1")

    def record_daemon(self, pid: int | None) -> None:
        with transaction(self.connection):
            self.connection.execute(
                "UPDATE sync_state SET daemon_pid = ?, online = CASE WHEN ? IS NULL THEN NULL "
                "ELSE online END, updated_at = ? WHERE id = 1",
                (pid, pid, self.now_text()),
            )

    def record_attempt(self) -> None:
        with transaction(self.connection):
            now = self.now_text()
            self.connection.execute(
                "UPDATE sync_state SET last_attempt_at = ?, updated_at = ? WHERE id = 1",
                (now, now),
            )

    def record_success(self) -> None:
        """Online, and everything asked of the server in this round worked."""
        with transaction(self.connection):
            now = self.now_text()
            self.connection.execute(
                "UPDATE sync_state SET online = 1, last_success_at = ?, last_error = NULL, "
                "last_error_at = NULL, updated_at = ? WHERE id = 1",
                (now, now),
            )

    def record_error(self, message: str, *, online: bool) -> None:
        with transaction(self.connection):
            now = self.now_text()
            self.connection.execute(
                "UPDATE sync_state SET online = ?, last_error = ?, last_error_at = ?, "
                "updated_at = ? WHERE id = 1",
                (int(online), message[:500], now, now),
            )

    def update_draining(self) -> int:
        """Keep ``draining_total`` as the size of the backlog since draining started (for the
        TUI's progress bar): raised when the backlog grows, zero once it is empty."""
        with transaction(self.connection):
            pending = self.pending_count()
            total: int = self.connection.execute(
                "SELECT draining_total FROM sync_state WHERE id = 1"
            ).fetchone()[0]
            wanted = 0 if pending == 0 else max(total, pending)
            if wanted != total:
                self.connection.execute(
                    "UPDATE sync_state SET draining_total = ? WHERE id = 1", (wanted,)
                )
            return wanted

    # -- push ---------------------------------------------------------------------------------

    def take_batch(self, max_ops: int, max_bytes: int, after_seq: int = 0) -> Batch:
        """The next ops after ``after_seq`` to send, oldest first, marked in ``remote_copies``
        in the same transaction. An op that may not leave the device (``PushOp.refusal``) or
        that does not validate is dead-lettered here and never sent.

        A batch that has to stop before the outbox does ends before the record family (an
        incident with its follow-ups and linked TABs) that straddles the cut, so consecutive
        batches rarely touch the same records and can be in flight together."""
        with transaction(self.connection):
            rows = self.connection.execute(
                "SELECT seq, op_id, kind, entity_id, op, fields, hlc FROM outbox WHERE seq > ? "
                "ORDER BY seq LIMIT ?",
                (after_seq, max_ops + 1),
            ).fetchall()
            ops: list[PushOp] = []
            refused = 0
            size = 0
            now = self.now_text()
            cut: sqlite3.Row | None = rows[max_ops] if len(rows) > max_ops else None
            for row in rows[:max_ops]:
                op_size = len(row["fields"]) + len(row["hlc"]) + ESTIMATED_OP_OVERHEAD_BYTES
                if ops and size + op_size > max_bytes:
                    cut = row
                    break
                try:
                    op = PushOp(
                        op_id=row["op_id"],
                        seq=row["seq"],
                        kind=row["kind"],
                        id=row["entity_id"],
                        op=row["op"],
                        fields=json.loads(row["fields"]),
                        hlc=row["hlc"],
                    )
                    refusal = op.refusal()
                except (ValidationError, ValueError) as error:
                    refusal = f"not a valid op: {str(error).splitlines()[0]}"
                if refusal is not None:
                    self._dead_letter(
                        row["op_id"],
                        row["kind"],
                        row["entity_id"],
                        row["op"],
                        f"refused on this device: {refusal}",
                        now,
                    )
                    refused += 1
                    continue
                ops.append(op)
                size += op_size
            if cut is not None:
                next_family = _family(cut["entity_id"], json.loads(cut["fields"]))
                while len(ops) > 1 and _family(ops[-1].id, ops[-1].fields) == next_family:
                    ops.pop()
            self.connection.executemany(
                "INSERT OR IGNORE INTO remote_copies (kind, entity_id) VALUES (?, ?)",
                list(dict.fromkeys((op.kind, op.id) for op in ops)),
            )
            self.connection.executemany(
                "UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ? WHERE seq = ?",
                [(now, op.seq) for op in ops],
            )
            return Batch(ops, refused, size)

    def _dead_letter(
        self, op_id: str, kind: str, entity_id: str, op: str, reason: str, at: str
    ) -> None:
        self.connection.execute(
            "INSERT OR REPLACE INTO dead_letters (op_id, kind, entity_id, op, reason, at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (op_id, kind, entity_id, op, reason[:500], at),
        )
        self.connection.execute("DELETE FROM outbox WHERE op_id = ?", (op_id,))
        if kind == "support_request":
            self.connection.execute(
                "UPDATE support_requests SET accept_pending = 0 WHERE id = ?", (entity_id,)
            )

    def dead_letter_op(self, op_id: str, reason: str) -> None:
        """Move one queued op to the dead letters (the server refused it as a request)."""
        with transaction(self.connection):
            row = self.connection.execute(
                "SELECT kind, entity_id, op FROM outbox WHERE op_id = ?", (op_id,)
            ).fetchone()
            if row is not None:
                self._dead_letter(
                    op_id, row["kind"], row["entity_id"], row["op"], reason, self.now_text()
                )

    def apply_push_results(
        self,
        ops: Sequence[PushOp],
        results: Iterable[OpResult],
        server_hlc: str | None = None,
        *,
        before_commit: Callable[[], None] | None = None,
    ) -> PushOutcome:
        """One transaction for one response. An ack for an op no longer in the outbox (the record
        was downgraded while the batch was in flight) is fine: nothing to delete. Ops the server
        did not answer stay queued."""
        by_id = {op.op_id: op for op in ops}
        outcome = PushOutcome()
        with transaction(self.connection):
            now = self.now_text()
            accepted = _stamp(self.meta("hlc_accepted"))
            done: list[tuple[str]] = []
            for result in results:
                op = by_id.get(result.op_id)
                if op is None:
                    continue
                if result.status in (OpStatus.APPLIED, OpStatus.DUPLICATE, OpStatus.SUPERSEDED):
                    done.append((op.op_id,))
                    accepted = max(accepted, op.timestamp)
                    if op.kind == "support_request":
                        self._settle_support_request(op, result.status)
                elif result.retry:
                    outcome.retry += 1
                    if result.reason and result.reason not in outcome.retry_reasons:
                        outcome.retry_reasons.append(result.reason)
                else:
                    self._dead_letter(
                        op.op_id, op.kind, op.id, op.op, result.reason or "rejected", now
                    )
                    outcome.dead_lettered += 1
            self.connection.executemany("DELETE FROM outbox WHERE op_id = ?", done)
            outcome.acknowledged = len(done)
            if accepted != ZERO:
                self._set_meta("hlc_accepted", accepted.encode())
            if server_hlc:
                self._observe(_stamp(server_hlc))
            if before_commit is not None:
                before_commit()
        return outcome

    def _observe(self, remote: Timestamp) -> None:
        """Advance the persisted HLC past a stamp seen from the server, unless that stamp is
        itself beyond what the server would accept (never import a bad clock)."""
        if remote == ZERO:
            return
        offset = self.clock_offset_ms()
        physical = self.wall() + offset
        if remote.wall_ms > physical + MAX_CLOCK_AHEAD_MS:
            return
        clock = HybridClock(self.device_id, self.hlc(), self.wall, offset)
        clock.receive(remote)
        self._set_meta("hlc", clock.last.encode())

    # -- clock ----------------------------------------------------------------------------------

    def record_offset(self, offset_ms: int, *, threshold_ms: int = 1000) -> bool:
        """Persist the server's time minus ours when it moved by more than ``threshold_ms``."""
        if (
            abs(offset_ms - self.clock_offset_ms()) <= threshold_ms
            and self.meta("clock_offset_ms") is not None
        ):
            return False
        with transaction(self.connection):
            self._set_meta("clock_offset_ms", str(int(offset_ms)))
        return True

    def correct_clock(self, server_now_ms: int) -> int:
        """Re-stamp what a clock running ahead minted, once the server's time is known.

        The server refuses an op stamped more than 5 minutes ahead of its own time, so no stamp
        beyond that limit has ever been accepted from this device: such stamps exist only here
        (outbox, record clocks, the persisted HLC). When the persisted HLC is past the limit,
        in one transaction: pending ops with a bad stamp get fresh stamps from the corrected
        clock in seq order (their relative order is kept), bad record and field clocks are
        lowered to the same fresh stamps, and the persisted HLC restarts from the highest stamp
        that could have been accepted or observed (``hlc_accepted``, good pending ops, the
        server's time) -- so it never goes back behind anything anyone else has seen.
        Returns the number of ops re-stamped; 0 when the clock was fine.
        """
        limit_ms = server_now_ms + MAX_CLOCK_AHEAD_MS - CLOCK_SAFETY_MS
        limit_text = Timestamp(limit_ms + 1, 0, "").encode()
        if self.hlc().wall_ms <= limit_ms:
            return 0
        with transaction(self.connection):
            last = self.hlc()
            if last.wall_ms <= limit_ms:
                return 0
            base = max(_stamp(self.meta("hlc_accepted")), Timestamp(server_now_ms, 0, ""))
            good_max = self.connection.execute(
                "SELECT max(hlc) FROM outbox WHERE hlc < ?", (limit_text,)
            ).fetchone()[0]
            base = max(base, _stamp(good_max))
            clock = HybridClock(
                self.device_id,
                Timestamp(base.wall_ms, base.counter, self.device_id),
                lambda: server_now_ms,
                0,
            )
            bad_ops = self.connection.execute(
                "SELECT seq FROM outbox WHERE hlc >= ? ORDER BY seq", (limit_text,)
            ).fetchall()
            self.connection.executemany(
                "UPDATE outbox SET hlc = ? WHERE seq = ?",
                [(clock.tick().encode(), row["seq"]) for row in bad_ops],
            )
            for table in (*TABLE_BY_KIND.values(), "support_requests"):
                for row in self.connection.execute(
                    f"SELECT id, hlc, field_hlc FROM {table} WHERE hlc >= ? OR field_hlc LIKE "
                    "'%\"%'",
                    (limit_text,),
                ).fetchall():
                    clocks: dict[str, str] = json.loads(row["field_hlc"] or "{}")
                    bad_fields = [name for name, stamp in clocks.items() if stamp >= limit_text]
                    if row["hlc"] < limit_text and not bad_fields:
                        continue
                    fresh = clock.tick().encode()
                    for name in bad_fields:
                        clocks[name] = fresh
                    self.connection.execute(
                        f"UPDATE {table} SET hlc = ?, field_hlc = ? WHERE id = ?",
                        (min(row["hlc"], fresh), _json(clocks), row["id"]),
                    )
            self._set_meta("hlc", clock.tick().encode())
            self._set_meta("clock_restamped_at", self.now_text())
            return len(bad_ops)

    # -- pull ---------------------------------------------------------------------------------

    def apply_pull_page(self, changes: Sequence[Change], cursor: int) -> PullOutcome:
        """A page and its cursor in one transaction. A change this device cannot apply (fields
        outside the record contract, a constraint) rolls the whole page back and raises
        ``UnappliableChangeError``: the cursor stays put, so nothing is skipped for good."""
        outcome = PullOutcome()
        with transaction(self.connection):
            if cursor < self.pull_cursor():
                return outcome
            now = self.now_text()
            grid_changed = False
            highest = ZERO
            for change in changes:
                try:
                    if change.op == "upsert" and change.kind not in TABLE_BY_KIND:
                        from schema.contract import check_fields

                        check_fields(change.kind, change.fields, ignore_unknown=True)
                    if change.kind in TABLE_BY_KIND:
                        highest = max(highest, self._apply_record(change, now, outcome))
                    elif change.kind == "support_request":
                        highest = max(highest, self._apply_support_request(change, outcome))
                    elif change.kind in ROSTER_COLUMNS:
                        self._apply_roster(change)
                        outcome.applied += 1
                    elif change.kind == "enrollment":
                        self._apply_enrollment(change)
                        outcome.applied += 1
                    elif change.kind == "grid":
                        grid_changed |= self._apply_grid(change)
                        outcome.applied += 1
                    elif change.kind == "config":
                        self._apply_config(change)
                        outcome.applied += 1
                except (sqlite3.IntegrityError, ValueError, TypeError, KeyError) as error:
                    raise UnappliableChangeError(change.kind, change.id, error) from error
            if grid_changed:
                self._set_meta("grid_version", new_id())
            if highest != ZERO:
                self._observe(highest)
            self.connection.execute("UPDATE sync_state SET pull_cursor = ? WHERE id = 1", (cursor,))
        return outcome

    def _apply_record(self, change: Change, now: str, outcome: PullOutcome) -> Timestamp:
        kind = change.kind
        table = TABLE_BY_KIND[kind]
        row = self.connection.execute(
            f"SELECT * FROM {table} WHERE id = ?", (change.id,)
        ).fetchone()
        if change.op == "remove":
            if row is not None and self._may_delete(kind, row):
                self._delete_record(kind, change.id)
                outcome.removed += 1
            return ZERO
        from schema.contract import check_fields

        fields = check_fields(kind, change.fields, create=row is None, ignore_unknown=True)
        clocks = {name: stamp for name, stamp in change.field_hlc.items() if name in fields}
        highest = max((_stamp(stamp) for stamp in clocks.values()), default=ZERO)
        if kind == "incident" and fields.get("level", 2) != 2:
            raise ValueError("a Level 1 record never comes from the server")
        if row is None:
            record_hlc = highest.encode() if highest != ZERO else Timestamp(0, 0, "server").encode()
            columns = {name: wire_to_column(kind, name, value) for name, value in fields.items()}
            columns.update(id=change.id, origin="remote", hlc=record_hlc, field_hlc=_json(clocks))
            names = ", ".join(columns)
            marks = ", ".join("?" for _ in columns)
            self.connection.execute(
                f"INSERT INTO {table} ({names}) VALUES ({marks})", tuple(columns.values())
            )
            outcome.applied += 1
            return highest
        if kind == "incident" and row["level"] == 1:
            outcome.skipped += 1
            return highest
        lost_local, lost_incoming, taken, merged_clocks = self._merge(kind, row, fields, clocks)
        if taken:
            assignments = ", ".join(f"{name} = ?" for name in taken)
            self.connection.execute(
                f"UPDATE {table} SET {assignments}, field_hlc = ?, hlc = max(hlc, ?) WHERE id = ?",
                (
                    *(wire_to_column(kind, name, value) for name, value in taken.items()),
                    _json(merged_clocks),
                    highest.encode(),
                    change.id,
                ),
            )
        else:
            self.connection.execute(
                f"UPDATE {table} SET field_hlc = ? WHERE id = ?",
                (_json(merged_clocks), change.id),
            )
        if lost_local or lost_incoming:
            self.connection.execute(
                "INSERT INTO audit (entity, entity_id, action, changes, at, staff_id, hlc) "
                "VALUES (?, ?, 'merge', ?, ?, NULL, ?)",
                (
                    kind,
                    change.id,
                    _json({"lost_local": lost_local, "lost_incoming": lost_incoming}),
                    now,
                    max(highest, _stamp(row["hlc"])).encode(),
                ),
            )
        outcome.lost_incoming += len(lost_incoming)
        outcome.applied += 1
        return highest

    def _apply_support_request(self, change: Change, outcome: PullOutcome) -> Timestamp:
        """The server decides a support request's state (who accepted it first, whether it
        expired), so what a pull brings is taken whole, except the fields of a change this
        device made and has not yet sent (a cancel or a resolve: the server answers it soon,
        and a refusal brings the request back in a later pull). An accept changes nothing
        here until the server answers; the pull that shows the answer ends ``accept_pending``
        and, when someone else was first, names them in ``lost_to``."""
        row = self.connection.execute(
            "SELECT * FROM support_requests WHERE id = ?", (change.id,)
        ).fetchone()
        if change.op == "remove":
            unsent = self._pending_support_fields(change.id, mine_only=False)
            if row is not None and not (row["device_id"] == self.device_id and unsent):
                self.connection.execute("DELETE FROM support_requests WHERE id = ?", (change.id,))
                outcome.removed += 1
            return ZERO
        from schema.contract import check_fields

        fields = check_fields(
            "support_request", change.fields, create=row is None, ignore_unknown=True
        )
        clocks = {name: stamp for name, stamp in change.field_hlc.items() if name in fields}
        highest = max((_stamp(stamp) for stamp in clocks.values()), default=ZERO)
        if row is None:
            record_hlc = highest.encode() if highest != ZERO else Timestamp(0, 0, "server").encode()
            columns = {
                name: wire_to_column("support_request", name, value)
                for name, value in fields.items()
            }
            columns.update(id=change.id, origin="remote", hlc=record_hlc, field_hlc=_json(clocks))
            names = ", ".join(columns)
            marks = ", ".join("?" for _ in columns)
            self.connection.execute(
                f"INSERT INTO support_requests ({names}) VALUES ({marks})",
                tuple(columns.values()),
            )
            outcome.applied += 1
            return highest
        protected = self._pending_support_fields(change.id, mine_only=True)
        local = row_to_wire("support_request", row)
        taken = {
            name: value
            for name, value in fields.items()
            if name not in protected and local.get(name) != value
        }
        merged: dict[str, str] = json.loads(row["field_hlc"] or "{}")
        merged.update({name: stamp for name, stamp in clocks.items() if name not in protected})
        values = {
            name: wire_to_column("support_request", name, value) for name, value in taken.items()
        }
        state = fields.get("state", row["state"]) if "state" not in protected else row["state"]
        if row["accept_pending"] and state != "open":
            accepted_by = taken.get("accepted_by", row["accepted_by"])
            values["accept_pending"] = 0
            values["lost_to"] = None
            if state in ("accepted", "resolved") and accepted_by != self.meta("staff_id"):
                values["lost_to"] = (
                    taken.get("accepted_by_name", row["accepted_by_name"]) or accepted_by
                )
        assignments = "".join(f"{name} = ?, " for name in values)
        self.connection.execute(
            f"UPDATE support_requests SET {assignments}field_hlc = ?, hlc = max(hlc, ?) "
            "WHERE id = ?",
            (*values.values(), _json(merged), highest.encode(), change.id),
        )
        outcome.applied += 1
        return highest

    def _pending_support_fields(self, request_id: str, *, mine_only: bool) -> set[str]:
        """The fields of this device's unsent changes to a support request. With
        ``mine_only``, an accept's fields are left out: an accept is a question to the server,
        not a value this device holds."""
        names: set[str] = set()
        for pending in self.connection.execute(
            "SELECT fields FROM outbox WHERE entity_id = ? AND kind = 'support_request' "
            "AND op = 'upsert'",
            (request_id,),
        ):
            values = json.loads(pending["fields"])
            if mine_only and values.get("state") == "accepted":
                continue
            names.update(values)
        return names

    def _settle_support_request(self, op: PushOp, status: OpStatus) -> None:
        """The server's answer to one of this device's support request changes. Applied: an
        accept took the request (the server committed it first). Superseded: the server sends
        the request as it stands with the next pull, which settles ``accept_pending`` and
        ``lost_to``. (A refusal for good is a dead letter: see ``_dead_letter``.)"""
        accept = op.fields.get("state") == "accepted"
        if status is OpStatus.APPLIED and accept:
            values = {
                name: wire_to_column("support_request", name, value)
                for name, value in op.fields.items()
            }
            values.update(accept_pending=0, lost_to=None)
            assignments = ", ".join(f"{name} = ?" for name in values)
            self.connection.execute(
                f"UPDATE support_requests SET {assignments} WHERE id = ? AND state = 'open'",
                (*values.values(), op.id),
            )

    def _merge(
        self,
        kind: str,
        row: sqlite3.Row,
        fields: dict[str, Any],
        clocks: dict[str, str],
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, str]]:
        """Per-field last-writer-wins against unsent local writes (see the module docstring).
        Returns (local values that lost, incoming values that lost, incoming values taken, the
        merged field clocks)."""
        local = row_to_wire(kind, row)
        merged: dict[str, str] = json.loads(row["field_hlc"] or "{}")
        pending = self._pending_field_clocks(kind, row["id"])
        lost_local: dict[str, Any] = {}
        lost_incoming: dict[str, Any] = {}
        taken: dict[str, Any] = {}
        change_clock = max(clocks.values(), default="")
        for name, value in fields.items():
            incoming_clock = clocks.get(name) or change_clock
            local_clock = pending.get(name, "")
            if name in _VOID_FIELDS and local.get("voided_at") is not None and value is None:
                if value != local.get(name):
                    lost_incoming[name] = value
                continue
            if incoming_clock > local_clock or (
                name in _VOID_FIELDS and value is not None and local.get("voided_at") is None
            ):
                if local.get(name) != value:
                    taken[name] = value
                    if local_clock:
                        lost_local[name] = local.get(name)
                if incoming_clock:
                    merged[name] = incoming_clock
            elif local.get(name) != value:
                lost_incoming[name] = value
        return lost_local, lost_incoming, taken, merged

    def _pending_field_clocks(self, kind: str, entity_id: str) -> dict[str, str]:
        clocks: dict[str, str] = {}
        for pending in self.connection.execute(
            "SELECT fields, hlc FROM outbox WHERE entity_id = ? AND kind = ? AND op = 'upsert'",
            (entity_id, kind),
        ):
            for name in json.loads(pending["fields"]):
                clocks[name] = max(clocks.get(name, ""), pending["hlc"])
        return clocks

    def _may_delete(self, kind: str, row: sqlite3.Row) -> bool:
        """A pull may delete a copy from elsewhere, never this device's own record."""
        if row["origin"] == "remote":
            return True
        if kind == "follow_up":
            return False
        return bool(row["device_id"] != self.device_id)

    def _delete_record(self, kind: str, entity_id: str) -> None:
        if kind == "incident":
            self.connection.execute(
                "DELETE FROM follow_ups WHERE incident_id = ? AND origin = 'remote'", (entity_id,)
            )
            self.connection.execute(
                "UPDATE tab_events SET incident_id = NULL WHERE incident_id = ?", (entity_id,)
            )
        self.connection.execute(f"DELETE FROM {TABLE_BY_KIND[kind]} WHERE id = ?", (entity_id,))

    def _apply_roster(self, change: Change) -> None:
        table, columns = ROSTER_COLUMNS[change.kind]
        if change.op == "remove":
            self.connection.execute(f"DELETE FROM {table} WHERE sourced_id = ?", (change.id,))
            if change.kind == "section":
                self.connection.execute(
                    "DELETE FROM enrollments WHERE section_id = ?", (change.id,)
                )
            elif change.kind in {"student", "staff"}:
                self.connection.execute("DELETE FROM enrollments WHERE user_id = ?", (change.id,))
            return
        given = {name: change.fields[name] for name in columns if name in change.fields}
        if "iep" in given:
            given["iep"] = int(bool(given["iep"]))
        periods = given.get("periods")
        if isinstance(periods, list):
            given["periods"] = ",".join(str(period) for period in periods)
        insert = {name: given.get(name, ROSTER_DEFAULTS.get(name)) for name in columns}
        names = ", ".join(["sourced_id", *insert])
        marks = ", ".join("?" for _ in range(len(insert) + 1))
        updates = (
            ", ".join(f"{name} = excluded.{name}" for name in given) or "sourced_id = sourced_id"
        )
        self.connection.execute(
            f"INSERT INTO {table} ({names}) VALUES ({marks}) "
            f"ON CONFLICT (sourced_id) DO UPDATE SET {updates}",
            (change.id, *insert.values()),
        )

    def _apply_enrollment(self, change: Change) -> None:
        section_id = change.fields.get("section_id")
        user_id = change.fields.get("user_id")
        if not isinstance(section_id, str) or not isinstance(user_id, str):
            for separator in (":", "|", "/"):
                if separator in change.id:
                    section_id, user_id = change.id.split(separator, 1)
                    break
            else:
                raise ValueError(f"enrollment {change.id!r} names no section and user")
        if change.op == "remove":
            self.connection.execute(
                "DELETE FROM enrollments WHERE section_id = ? AND user_id = ?",
                (section_id, user_id),
            )
            return
        role = change.fields.get("role") or "student"
        self.connection.execute(
            "INSERT OR REPLACE INTO enrollments (section_id, user_id, role) VALUES (?, ?, ?)",
            (section_id, user_id, str(role)),
        )

    def _apply_grid(self, change: Change) -> bool:
        """A whole grid (``fields['grid']['entries']`` or ``fields['entries']``) replaces the
        device's; a single entry is upserted or removed by its (school year, grade band, code)."""
        entries = change.fields.get("entries")
        whole = change.fields.get("grid")
        if isinstance(whole, dict):
            entries = whole.get("entries")
        elif isinstance(whole, list):
            entries = whole
        if change.op == "upsert" and isinstance(entries, list):
            parsed = [GridEntry.model_validate(raw) for raw in entries]
            self.connection.execute("DELETE FROM grid_entries")
            self._insert_grid(parsed)
            return True
        if change.op == "remove":
            if change.fields:
                key = (
                    change.fields["school_year"],
                    change.fields["grade_band"],
                    change.fields["code"],
                )
            else:
                key = tuple(change.id.split("|", 2))  # type: ignore[assignment]
            self.connection.execute(
                "DELETE FROM grid_entries WHERE school_year = ? AND grade_band = ? AND code = ?",
                key,
            )
            return True
        self._insert_grid([GridEntry.model_validate(change.fields)])
        return True

    def _insert_grid(self, entries: Sequence[GridEntry]) -> None:
        self.connection.executemany(
            "INSERT OR REPLACE INTO grid_entries (school_year, grade_band, code, body) "
            "VALUES (?, ?, ?, ?)",
            [
                (entry.school_year, entry.grade_band, entry.code, entry.model_dump_json())
                for entry in entries
            ],
        )

    def _apply_config(self, change: Change) -> None:
        values: dict[str, Any] = (
            {change.id: change.fields.get("value")}
            if "value" in change.fields
            else dict(change.fields)
        )
        for key, value in values.items():
            if key not in CONFIG_KEYS:
                continue
            if change.op == "remove" or value is None:
                self.connection.execute("DELETE FROM meta WHERE key = ?", (key,))
                continue
            if key == "school_year_start":
                text = date.fromisoformat(str(value)).isoformat()
            else:
                text = value if isinstance(value, str) else _json(value)
            self._set_meta(key, text)


def _family(entity_id: str, fields: dict[str, Any]) -> str:
    """The record an op belongs with: a follow-up's or linked TAB's incident, else itself."""
    linked = fields.get("incident_id")
    return linked if isinstance(linked, str) else entity_id
