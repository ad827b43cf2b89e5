"""Every place a synced record's shape appears agrees with the record contract
(``schema.contract``): the light field lists the device starts with, the wire, the device's
tables and models, the server's typed tables, the pull's roster payloads and every export's
columns. A field added to a model reaches all of them (each derives from the model) or one of
these tests fails; and a typed server row and the record model round-trip (Hypothesis)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import Field, Strict

from district import tables
from district.export import CSV_COLUMNS, NOT_EXPORTED
from district.pull import roster_fields
from district.records import Record, stored_columns
from schema import contract, fields, models, wire
from schema.contract import (
    PULL_KINDS,
    SYNC_KINDS,
    ContractError,
    IncidentRecord,
    Stored,
    check_fields,
    field_names,
    field_shapes,
    nullable_fields,
)
from schema.db import connect
from schema.support import SupportRequest
from schema.sync_store import ROSTER_COLUMNS, TABLE_BY_KIND

DEVICE_FIELDS: dict[str, set[str]] = {
    "incident": set(models.Incident.model_fields),
    "tab": set(models.TabEvent.model_fields),
    "follow_up": set(models.FollowUp.model_fields),
    "support_request": {item.name for item in dataclasses.fields(SupportRequest)},
    "intervention": set(models.Intervention.model_fields),
    "office_referral": set(models.OfficeReferral.model_fields),
}
DEVICE_TABLES = {**TABLE_BY_KIND, "support_request": "support_requests"}
STUDENT_SCOPED = sorted(tables.RECORD_TABLES)
"""The kinds the server keeps as ``Record`` rows (a support request is scoped by school)."""


@pytest.mark.parametrize("kind", sorted(SYNC_KINDS))
def test_the_light_field_lists_mirror_the_models(kind: str) -> None:
    model = SYNC_KINDS[kind]
    assert tuple(fields.SHAPES_BY_KIND[kind]) == field_names(model)
    assert fields.SHAPES_BY_KIND[kind] == field_shapes(model)
    assert fields.REQUIRED_ON_CREATE[kind] == model.required_on_create
    assert fields.NOT_NULL[kind] == set(field_names(model)) - nullable_fields(model)
    assert model.required_on_create <= fields.NOT_NULL[kind]


@pytest.mark.parametrize("kind", sorted(SYNC_KINDS))
def test_the_wire_carries_exactly_the_models_fields(kind: str) -> None:
    assert wire.FIELDS_BY_KIND[kind] == set(field_names(SYNC_KINDS[kind]))


@pytest.mark.parametrize("kind", sorted(SYNC_KINDS))
def test_the_device_holds_every_field_and_refuses_null_only_where_the_model_does(
    kind: str, tmp_path: Path
) -> None:
    connection = connect(tmp_path / "device.db")
    try:
        info = connection.execute(f"PRAGMA table_info({DEVICE_TABLES[kind]})").fetchall()
    finally:
        connection.close()
    columns = {row[1]: row for row in info}
    names = set(field_names(SYNC_KINDS[kind]))
    assert names <= set(columns)
    not_null = {name for name in names if columns[name][3]}
    assert not_null <= fields.NOT_NULL[kind]
    without_default = {name for name in not_null if columns[name][4] is None}
    assert without_default <= fields.REQUIRED_ON_CREATE[kind]
    assert names <= DEVICE_FIELDS[kind]


@pytest.mark.parametrize("kind", sorted(SYNC_KINDS))
def test_the_server_table_has_a_column_for_every_field(kind: str) -> None:
    table = tables.CONTRACT_TABLES[kind]
    expected = {column.name for column in tables.content_columns(SYNC_KINDS[kind])}
    assert expected <= set(table.c.keys())
    for name, shape in field_shapes(SYNC_KINDS[kind]).items():
        if shape == "safeguards":
            assert {f"{name}_{part}" for part in fields.SAFEGUARDS} <= set(table.c.keys())
        else:
            assert name in table.c


def test_every_export_names_every_field() -> None:
    exported = set(field_names(IncidentRecord)) - NOT_EXPORTED
    assert exported <= set(CSV_COLUMNS)
    assert fields.NOT_NULL["incident"] | nullable_fields(IncidentRecord) >= NOT_EXPORTED
    device_export = set(fields.DEVICE_EXPORT_COLUMNS)
    assert set(field_names(SYNC_KINDS["incident"])) <= device_export
    assert set(field_names(SYNC_KINDS["tab"])) <= device_export


@pytest.mark.parametrize("kind", ["student", "staff", "section", "enrollment"])
def test_roster_payloads_and_the_device_follow_the_models(kind: str) -> None:
    model = PULL_KINDS[kind]
    columns = {name: f"value-{name}" for name in field_names(model)}
    fake = _Row({**columns, "is_primary": True})
    payload = roster_fields(model, fake, {"primary": "is_primary"} if kind == "enrollment" else {})
    assert set(payload) == set(field_names(model))
    if kind in ROSTER_COLUMNS:
        assert set(ROSTER_COLUMNS[kind][1]) <= set(field_names(model))


class _Row:
    def __init__(self, values: dict[str, Any]) -> None:
        self._mapping = values


def test_a_field_added_to_a_model_reaches_the_server_table_and_the_wire_checks() -> None:
    """The derivations are driven by the model: a model with one more field gets one more
    column, one more field name and one more checked value, with no other edit."""

    class Extended(IncidentRecord):
        kind: ClassVar[str] = "incident"
        witness_count: Annotated[int, Strict(), Field(ge=0, le=100), Stored("int")] = None

    assert "witness_count" in field_names(Extended)
    assert field_shapes(Extended)["witness_count"] == "int"
    assert "witness_count" in {column.name for column in tables.content_columns(Extended)}
    assert "witness_count" not in field_names(IncidentRecord)


def test_field_checks_refuse_what_no_device_can_hold() -> None:
    hostile: list[tuple[str, dict[str, Any]]] = [
        ("incident", {"behavior_code": "NOPE<script>"}),
        ("incident", {"tz": "../../../etc/passwd"}),
        ("incident", {"tz": "/usr/share/zoneinfo/UTC"}),
        ("incident", {"tz": "Not/AZone"}),
        ("incident", {"occurred_at": "9999-12-31T23:59:59+00:00"}),
        ("incident", {"occurred_at": "2026-09-01T10:00:00"}),
        ("incident", {"iss_days": 1e308}),
        ("incident", {"iss_days": 0}),
        ("incident", {"iss_days": float("nan")}),
        ("incident", {"level": 3}),
        ("incident", {"level": True}),
        ("incident", {"note": "x" * (contract.MAX_NOTE_CHARS + 1)}),
        ("incident", {"note": "NUL\x00byte"}),
        ("incident", {"student_id": None}),
        ("incident", {"student_id": " padded"}),
        ("incident", {"actions": ["not-an-action"]}),
        ("incident", {"unknown": 1}),
        ("tab", {"kind": "detention"}),
        ("tab", {"returned_ready": "yes"}),
        ("follow_up", {"kind": "anything"}),
    ]
    for kind, given_fields in hostile:
        with pytest.raises(ContractError):
            check_fields(kind, given_fields)
    with pytest.raises(ContractError, match="not a behavior code of the grid"):
        check_fields("incident", {"behavior_code": "NOPE"}, behavior_codes=frozenset({"DIS"}))
    with pytest.raises(ContractError, match="needs"):
        check_fields(
            "incident",
            {
                "student_id": "st1",
                "behavior_code": "DIS",
                "level": 2,
                "occurred_at": "2026-09-01T10:00:00+00:00",
            },
            create=True,
        )


identifiers = st.text(
    st.characters(min_codepoint=33, max_codepoint=0x2FFF, exclude_characters="\x00"),
    min_size=1,
    max_size=40,
).filter(lambda text: text.strip() == text)
texts = st.text(
    st.characters(min_codepoint=1, max_codepoint=0x2FFF, exclude_categories=("Cs",)), max_size=60
)
one_line_texts = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x2FFF, exclude_categories=("Cs", "Cc")),
    max_size=140,
)
moments = st.datetimes(
    min_value=datetime(2000, 1, 2),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2099, 12, 30),  # noqa: DTZ001
    timezones=st.just(UTC),
).map(lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000))
zones = st.sampled_from(["UTC", "America/Chicago", "Europe/Paris", "Pacific/Auckland"])
SHAPE_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "id": identifiers,
    "code": st.from_regex(r"\A[A-Z][A-Z0-9-]{0,20}\Z"),
    "text": texts,
    "int": st.integers(1, 2),
    "float": st.floats(min_value=0.01, max_value=1.0, allow_nan=False),
    "bool": st.booleans(),
    "moment": moments.map(contract.canonical_moment),
    "zone": zones,
    "actions": st.lists(st.sampled_from([action.value for action in models.Action]), unique=True),
    "safeguards": st.fixed_dictionaries({name: st.booleans() for name in fields.SAFEGUARDS}),
    "ids": st.lists(identifiers, unique=True, max_size=5),
    "date": st.dates(date(2000, 1, 2), date(2099, 12, 30)).map(date.isoformat),
    "texts": st.lists(texts.filter(bool), max_size=4),
}
CHOICES = {
    ("tab", "kind"): [kind.value for kind in models.TabKind],
    ("tab", "started_by"): [who.value for who in models.StartedBy],
    ("follow_up", "kind"): [kind.value for kind in models.FollowUpKind],
    ("support_request", "urgency"): list(contract.URGENCIES),
    ("support_request", "state"): list(contract.REQUEST_STATES),
    ("support_request", "outcome"): list(contract.OUTCOMES),
    ("intervention", "kind"): [kind.value for kind in models.InterventionKind],
}


@st.composite
def records(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    model = SYNC_KINDS[kind]
    nullable = nullable_fields(model)
    drawn: dict[str, Any] = {}
    for name, shape in field_shapes(model).items():
        strategy = (
            st.sampled_from(CHOICES[(kind, name)]) if shape == "choice" else SHAPE_VALUES[shape]
        )
        if kind == "incident" and name == "level":
            strategy = st.just(2)
        if kind == "support_request" and name == "note":
            strategy = one_line_texts
        if kind == "office_referral" and name == "decided_level":
            strategy = st.integers(3, 5)
        if name in nullable:
            strategy = st.none() | strategy
        if name in model.required_on_create or draw(st.booleans()):
            drawn[name] = draw(strategy)
    if kind == "tab" and drawn.get("ended_at") is not None:
        started = datetime.fromisoformat(drawn["started_at"])
        drawn["ended_at"] = contract.canonical_moment(
            started + timedelta(minutes=draw(st.integers(0, 600)))
        )
    return drawn


@pytest.fixture(scope="module")
def typed_engine() -> sa.Engine:
    engine = sa.create_engine("sqlite://")
    tables.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            sa.insert(tables.devices).values(
                id="owner", name="owner", role="classroom", school_id="s", district_scope=False,
                staff_id="t", section_ids=[], token_hash="0" * 64, created_at=datetime.now(UTC),
            )
        )  # fmt: skip
    return engine


@pytest.mark.parametrize("kind", STUDENT_SCOPED)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_typed_row_and_the_record_model_round_trip(
    typed_engine: sa.Engine, kind: str, data: st.DataObject
) -> None:
    given_fields = data.draw(records(kind))
    canonical = check_fields(kind, given_fields, create=True)
    assert check_fields(kind, canonical, create=True) == canonical
    record = Record(
        id=f"{kind}-round-trip", kind=kind,  # type: ignore[arg-type]
        owner_device_id="owner", school_id="s",
        student_id=str(canonical.get("student_id", "st")), parent_id=None,
        level=2 if kind == "incident" else None, fields=dict(canonical),
        field_hlc=dict.fromkeys(canonical, "0001788888888888:0000:owner"), tombstone=False,
        tombstone_hlc=None, cursor=1, student_grade="07",
    )  # fmt: skip
    table = tables.RECORD_TABLES[kind]
    now = datetime.now(UTC)
    with typed_engine.begin() as connection:
        connection.execute(sa.delete(table))
        connection.execute(
            sa.insert(table).values(
                id=record.id, **stored_columns(record), stored_at=now, changed_at=now
            )
        )
        row = connection.execute(sa.select(table)).mappings().one()
    back = Record.from_row(kind, row)
    assert back.fields == canonical
    assert back.field_hlc == record.field_hlc
    assert check_fields(kind, back.fields, create=True) == canonical
