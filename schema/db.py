"""The device database: one SQLite file, opened the same way everywhere.

Every connection runs in WAL mode with ``synchronous=FULL``, a busy timeout and foreign keys on.
The file is created with mode 0600. Migrations are forward-only and keyed on ``user_version``.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from schema.errors import ClasslogError

DB_FILE_NAME = "device.db"
BUSY_TIMEOUT_MS = 10_000

MIGRATIONS: tuple[str, ...] = (
    # 1: roster, grid, records, audit, outbox
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
    CREATE TABLE orgs (
        sourced_id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL
    ) STRICT;
    CREATE TABLE staff (
        sourced_id TEXT PRIMARY KEY, given_name TEXT NOT NULL, family_name TEXT NOT NULL,
        role TEXT NOT NULL, school_id TEXT
    ) STRICT;
    CREATE TABLE students (
        sourced_id TEXT PRIMARY KEY, given_name TEXT NOT NULL, family_name TEXT NOT NULL,
        grade TEXT NOT NULL DEFAULT '', iep INTEGER NOT NULL DEFAULT 0, school_id TEXT
    ) STRICT;
    CREATE TABLE sections (
        sourced_id TEXT PRIMARY KEY, title TEXT NOT NULL, school_id TEXT,
        periods TEXT NOT NULL DEFAULT '', course_title TEXT NOT NULL DEFAULT ''
    ) STRICT;
    CREATE TABLE enrollments (
        section_id TEXT NOT NULL, user_id TEXT NOT NULL, role TEXT NOT NULL,
        PRIMARY KEY (section_id, user_id)
    ) STRICT;
    CREATE INDEX enrollments_user ON enrollments (user_id);
    CREATE TABLE grid_entries (
        school_year TEXT NOT NULL, grade_band TEXT NOT NULL, code TEXT NOT NULL,
        body TEXT NOT NULL, PRIMARY KEY (school_year, grade_band, code)
    ) STRICT;
    CREATE TABLE incidents (
        id TEXT PRIMARY KEY,
        student_id TEXT NOT NULL,
        staff_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        behavior_code TEXT NOT NULL,
        level INTEGER NOT NULL CHECK (level IN (1, 2)),
        actions TEXT NOT NULL DEFAULT '[]',
        occurred_at TEXT NOT NULL,
        tz TEXT NOT NULL,
        location TEXT,
        motivation TEXT,
        others_involved TEXT,
        note TEXT NOT NULL DEFAULT '',
        iss_days REAL,
        iss_safeguards TEXT,
        iss_recorded_as_removal INTEGER NOT NULL DEFAULT 0,
        advised_level INTEGER,
        progression_bypassed INTEGER NOT NULL DEFAULT 0,
        bypass_reason TEXT,
        group_id TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        voided_at TEXT,
        void_reason TEXT,
        origin TEXT NOT NULL DEFAULT 'local',
        hlc TEXT NOT NULL,
        field_hlc TEXT NOT NULL DEFAULT '{}'
    ) STRICT;
    CREATE INDEX incidents_progression ON incidents (student_id, behavior_code, occurred_at);
    CREATE INDEX incidents_occurred ON incidents (occurred_at);
    CREATE TABLE tab_events (
        id TEXT PRIMARY KEY,
        student_id TEXT NOT NULL,
        staff_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('spot', 'out', 'out_and_back')),
        started_by TEXT NOT NULL CHECK (started_by IN ('student', 'teacher')),
        started_at TEXT NOT NULL,
        ended_at TEXT,
        returned_ready INTEGER,
        reflection TEXT,
        incident_id TEXT REFERENCES incidents (id) ON DELETE SET NULL,
        note TEXT NOT NULL DEFAULT '',
        tz TEXT NOT NULL,
        voided_at TEXT,
        void_reason TEXT,
        origin TEXT NOT NULL DEFAULT 'local',
        hlc TEXT NOT NULL,
        field_hlc TEXT NOT NULL DEFAULT '{}'
    ) STRICT;
    CREATE INDEX tab_events_started ON tab_events (started_at);
    CREATE INDEX tab_events_running ON tab_events (ended_at) WHERE ended_at IS NULL;
    CREATE TABLE follow_ups (
        id TEXT PRIMARY KEY,
        incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        created_at TEXT NOT NULL,
        done_at TEXT,
        done_by TEXT,
        note TEXT NOT NULL DEFAULT '',
        voided_at TEXT,
        origin TEXT NOT NULL DEFAULT 'local',
        hlc TEXT NOT NULL,
        field_hlc TEXT NOT NULL DEFAULT '{}'
    ) STRICT;
    CREATE INDEX follow_ups_incident ON follow_ups (incident_id);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        entity TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        action TEXT NOT NULL,
        changes TEXT NOT NULL DEFAULT '{}',
        at TEXT NOT NULL,
        staff_id TEXT,
        hlc TEXT NOT NULL
    ) STRICT;
    CREATE INDEX audit_entity ON audit (entity_id);
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        op_id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL CHECK (kind IN ('incident', 'tab', 'follow_up')),
        entity_id TEXT NOT NULL,
        op TEXT NOT NULL CHECK (op IN ('upsert', 'retract')),
        fields TEXT NOT NULL DEFAULT '{}',
        hlc TEXT NOT NULL,
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_attempt_at TEXT
    ) STRICT;
    CREATE INDEX outbox_entity ON outbox (entity_id);
    """,
    # 2: what the daemon reports to the TUI, and what may already be on the server
    """
    CREATE TABLE sync_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        online INTEGER,
        last_attempt_at TEXT,
        last_success_at TEXT,
        last_error TEXT,
        last_error_at TEXT,
        pull_cursor INTEGER NOT NULL DEFAULT 0,
        draining_total INTEGER NOT NULL DEFAULT 0,
        daemon_pid INTEGER,
        updated_at TEXT
    ) STRICT;
    INSERT INTO sync_state (id) VALUES (1);
    CREATE TABLE dead_letters (
        op_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        op TEXT NOT NULL,
        reason TEXT NOT NULL,
        at TEXT NOT NULL
    ) STRICT;
    CREATE TABLE remote_copies (
        kind TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        PRIMARY KEY (kind, entity_id)
    ) STRICT;
    """,
    # 3: removal lengths, follow-up due dates, interventions (R5, R6, R7)
    """
    ALTER TABLE incidents ADD COLUMN removal_minutes INTEGER;
    ALTER TABLE follow_ups ADD COLUMN due_at TEXT;
    CREATE TABLE interventions (
        id TEXT PRIMARY KEY,
        student_id TEXT NOT NULL,
        behavior_code TEXT,
        kind TEXT NOT NULL,
        kind_label TEXT NOT NULL DEFAULT '',
        starts_on TEXT NOT NULL,
        review_on TEXT NOT NULL,
        staff_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        incident_id TEXT REFERENCES incidents (id) ON DELETE SET NULL,
        note TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        voided_at TEXT,
        void_reason TEXT,
        origin TEXT NOT NULL DEFAULT 'local',
        hlc TEXT NOT NULL,
        field_hlc TEXT NOT NULL DEFAULT '{}'
    ) STRICT;
    CREATE INDEX interventions_student ON interventions (student_id, starts_on);
    CREATE TABLE office_referrals (
        id TEXT PRIMARY KEY,
        student_id TEXT NOT NULL,
        behavior_code TEXT NOT NULL,
        occurred_at TEXT NOT NULL,
        tz TEXT NOT NULL,
        location TEXT,
        staff_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        decided_level INTEGER,
        oss_days REAL,
        alternatives TEXT,
        decided_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        voided_at TEXT,
        void_reason TEXT,
        origin TEXT NOT NULL DEFAULT 'local',
        hlc TEXT NOT NULL,
        field_hlc TEXT NOT NULL DEFAULT '{}'
    ) STRICT;
    CREATE INDEX office_referrals_student ON office_referrals (student_id, occurred_at);
    """,
    # 4: support requests (R9); the outbox may carry every kind that syncs
    """
    CREATE TABLE support_requests (
        id TEXT PRIMARY KEY,
        school_id TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        requested_by_name TEXT NOT NULL DEFAULT '',
        device_id TEXT NOT NULL,
        room TEXT,
        section_id TEXT,
        student_ids TEXT NOT NULL DEFAULT '[]',
        urgency TEXT NOT NULL CHECK (urgency IN ('now', 'soon')),
        note TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL
            CHECK (state IN ('open', 'accepted', 'resolved', 'cancelled', 'expired')),
        accepted_by TEXT,
        accepted_by_name TEXT,
        accepted_at TEXT,
        resolved_at TEXT,
        outcome TEXT CHECK (outcome IN ('none', 'logged', 'tab-out')),
        incident_id TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        accept_pending INTEGER NOT NULL DEFAULT 0,
        lost_to TEXT,
        origin TEXT NOT NULL DEFAULT 'local',
        hlc TEXT NOT NULL,
        field_hlc TEXT NOT NULL DEFAULT '{}'
    ) STRICT;
    CREATE INDEX support_requests_state ON support_requests (state, created_at);
    CREATE TABLE outbox_next (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        op_id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL CHECK (kind IN (
            'incident', 'tab', 'follow_up', 'support_request', 'intervention', 'office_referral'
        )),
        entity_id TEXT NOT NULL,
        op TEXT NOT NULL CHECK (op IN ('upsert', 'retract')),
        fields TEXT NOT NULL DEFAULT '{}',
        hlc TEXT NOT NULL,
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_attempt_at TEXT
    ) STRICT;
    INSERT INTO outbox_next (seq, op_id, kind, entity_id, op, fields, hlc, created_at,
        attempts, last_attempt_at)
        SELECT seq, op_id, kind, entity_id, op, fields, hlc, created_at, attempts,
        last_attempt_at FROM outbox;
    DELETE FROM sqlite_sequence WHERE name = 'outbox_next';
    INSERT INTO sqlite_sequence (name, seq)
        SELECT 'outbox_next', seq FROM sqlite_sequence WHERE name = 'outbox';
    DROP TABLE outbox;
    ALTER TABLE outbox_next RENAME TO outbox;
    CREATE INDEX outbox_entity ON outbox (entity_id);
    """,
    # 5: the progression index covers what the advice reads (live occurrences counted and the
    # latest found from the index alone, however long a student's history grows)
    """
    DROP INDEX incidents_progression;
    CREATE INDEX incidents_progression
        ON incidents (student_id, behavior_code, occurred_at, voided_at, id, level);
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


class NewerDatabaseError(ClasslogError, RuntimeError):
    """The file was written by a newer classlog; this one must not touch it."""


def db_path(home: Path) -> Path:
    return home / DB_FILE_NAME


def _create_private_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(descriptor)
    os.chmod(path, 0o600)


def connect(path: Path, *, migrate: bool = True) -> sqlite3.Connection:
    """Open the device database with the project's pragmas, creating and migrating it."""
    if not path.exists():
        _create_private_file(path)
    connection = sqlite3.connect(
        path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
    )
    connection.row_factory = sqlite3.Row
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA foreign_keys = ON")
    if migrate:
        try:
            apply_migrations(connection)
        except BaseException:
            connection.close()
            raise
    return connection


def schema_version(connection: sqlite3.Connection) -> int:
    version: int = connection.execute("PRAGMA user_version").fetchone()[0]
    return version


def apply_migrations(connection: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the file forward to ``target``, one transaction per step. Returns the new version."""
    current = schema_version(connection)
    if current > SCHEMA_VERSION:
        raise NewerDatabaseError(
            f"the device database is version {current}; this classlog knows up to "
            f"{SCHEMA_VERSION}: update classlog"
        )
    for version in range(current, target):
        with transaction(connection):
            if schema_version(connection) != version:
                continue
            for statement in _statements(MIGRATIONS[version]):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {version + 1}")
    return schema_version(connection)


def _statements(script: str) -> list[str]:
    return [statement.strip() for statement in script.split(";") if statement.strip()]


@contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One ``BEGIN IMMEDIATE`` transaction: committed on success, rolled back on any error."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
