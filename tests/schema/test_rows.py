"""The light rows mirror the models: a field added to ``Student``, ``Staff`` or ``Section`` must be
added to its row (the first screen reads rows, the roster import validates models)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from pydantic import BaseModel

from schema.models import Section, Staff, Student, TabEvent
from schema.rows import DeviceReader, RunningTab, SectionRow, StaffRow, StudentRow
from schema.store import DeviceStore


def row_fields(row_type: type[Any]) -> dict[str, Any]:
    return {field.name: field.default for field in dataclasses.fields(row_type)}


def model_fields(model: type[BaseModel]) -> dict[str, Any]:
    return {
        name: (dataclasses.MISSING if info.is_required() else info.default)
        for name, info in model.model_fields.items()
    }


@pytest.mark.parametrize(
    ("row_type", "model"),
    [(StudentRow, Student), (StaffRow, Staff), (SectionRow, Section)],
)
def test_a_roster_row_has_the_fields_and_defaults_of_its_model(
    row_type: type[Any], model: type[BaseModel]
) -> None:
    assert row_fields(row_type) == model_fields(model)


def test_a_running_tab_row_is_part_of_the_take_a_break_model() -> None:
    tab_fields = model_fields(TabEvent)
    assert set(row_fields(RunningTab)) <= set(tab_fields)


def test_the_reader_and_the_store_read_the_same_rows(store: DeviceStore, roster: Any) -> None:
    tab = store.start_tab(roster.student_id, note="in the hall")
    reader = DeviceReader(store.connection, wall=store.wall)
    assert reader.students() == store.students()
    assert reader.students()[roster.student_id].display_name == "Ana Abbott"
    [running] = reader.running_tabs()
    assert dataclasses.asdict(running) == {
        name: value for name, value in tab.model_dump().items() if name in row_fields(RunningTab)
    }
    assert reader.sections_for(roster.teacher_id)[0].title == "Math 7"
    assert reader.timezone == store.timezone
    assert reader.now() == store.now()
