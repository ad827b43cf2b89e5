"""Exports for the official system: Level 2 only, never TAB, ISS as "In School Suspension", an
ISS recorded as a removal (R7) as a removal, Ed-Fi-shaped resources."""

from __future__ import annotations

import csv
import io
import json

import sqlalchemy as sa
from serverkit import Fleet, incident_fields, tab_fields

from district.export import ExportFilter, export_text


async def _log_mix(fleet: Fleet) -> None:
    device = fleet.classroom_1a
    await device.push(
        device.op("incident", "inc-iss", incident_fields(
            "st1", device.device_id, actions=["iss"], iss_days=0.5,
            occurred_at="2026-09-14T15:30:00+00:00", tz="America/Chicago",
        )),
        device.op("incident", "inc-removal", incident_fields(
            "st2", device.device_id, actions=["removal"], location="Hallway", removal_minutes=45,
            occurred_at="2026-09-15T14:00:00+00:00",
        )),
        device.op("incident", "inc-iss-iep", incident_fields(
            "st2", device.device_id, actions=["iss"], iss_days=1, iss_recorded_as_removal=True,
            occurred_at="2026-09-16T14:00:00+00:00",
        )),
        device.op("incident", "inc-plain", incident_fields(
            "st3", device.device_id, actions=["redirect"], note="=HYPERLINK(\"x\")",
            occurred_at="2026-10-01T04:30:00+00:00", tz="America/Chicago",
        )),
        device.op("incident", "inc-voided", incident_fields(
            "st3", device.device_id, voided_at="2026-10-02T00:00:00+00:00",
        )),
        device.op("tab", "tab-out", tab_fields("st1", device.device_id)),
    )  # fmt: skip
    other = fleet.classroom_2a
    await other.push(other.op("incident", "inc-school-2", incident_fields("st7", other.device_id)))


async def test_jsonl_has_one_object_per_level_2_record_and_nothing_else(
    fleet: Fleet, engine: sa.Engine
) -> None:
    await _log_mix(fleet)
    with engine.connect() as connection:
        text = export_text(connection, "jsonl", ExportFilter(school_id="school-1"))
    lines = [json.loads(line) for line in text.splitlines()]
    by_id = {line["id"]: line for line in lines}
    assert set(by_id) == {"inc-iss", "inc-removal", "inc-iss-iep", "inc-plain"}
    assert all(line["level"] == 2 for line in lines)
    assert by_id["inc-iss"]["iss"] is True
    assert by_id["inc-iss"]["iss_days"] == 0.5
    assert by_id["inc-iss-iep"]["iss"] is False
    assert by_id["inc-iss-iep"]["removal"] is True
    assert by_id["inc-plain"]["local_date"] == "2026-09-30"
    assert "tab-out" not in text


async def test_dates_filter_by_the_local_day(fleet: Fleet, engine: sa.Engine) -> None:
    await _log_mix(fleet)
    from datetime import date

    with engine.connect() as connection:
        text = export_text(
            connection,
            "jsonl",
            ExportFilter(date_from=date(2026, 9, 15), date_to=date(2026, 9, 30)),
        )
    assert {json.loads(line)["id"] for line in text.splitlines()} == {
        "inc-removal",
        "inc-iss-iep",
        "inc-plain",
    }


async def test_csv_cells_cannot_run_as_spreadsheet_formulas(
    fleet: Fleet, engine: sa.Engine
) -> None:
    await _log_mix(fleet)
    with engine.connect() as connection:
        text = export_text(connection, "csv", ExportFilter(school_id="school-1"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 4
    plain = next(row for row in rows if row["id"] == "inc-plain")
    assert plain["note"] == '\'=HYPERLINK("x")'
    assert plain["actions"] == "redirect"


async def test_edfi_resources_have_the_standard_shapes_and_descriptors(
    fleet: Fleet, engine: sa.Engine
) -> None:
    await _log_mix(fleet)
    with engine.connect() as connection:
        document = json.loads(export_text(connection, "edfi", ExportFilter(school_id="school-1")))
    incidents = {item["incidentIdentifier"]: item for item in document["disciplineIncidents"]}
    assert set(incidents) == {"inc-iss", "inc-removal", "inc-iss-iep", "inc-plain"}
    iss = incidents["inc-iss"]
    assert iss["schoolReference"] == {"schoolId": "school-1"}
    assert iss["incidentDate"] == "2026-09-14"
    assert iss["incidentTime"] == "10:30:00"
    assert (
        iss["incidentLocationDescriptor"] == "uri://ed-fi.org/IncidentLocationDescriptor#Classroom"
    )
    assert incidents["inc-removal"]["incidentLocationDescriptor"].endswith("#Hallway or stairs")
    associations = document["studentDisciplineIncidentBehaviorAssociations"]
    assert len(associations) == 4
    first = next(
        a
        for a in associations
        if a["disciplineIncidentReference"]["incidentIdentifier"] == "inc-iss"
    )
    assert first["studentReference"] == {"studentUniqueId": "st1"}
    assert first["behaviorDescriptor"] == "uri://classlog.local/BehaviorDescriptor#DIS-CLASS"
    assert first["disciplineIncidentParticipationCodes"][0][
        "disciplineIncidentParticipationCodeDescriptor"
    ].endswith("#Perpetrator")
    actions = {item["disciplineActionIdentifier"]: item for item in document["disciplineActions"]}
    assert set(actions) == {"inc-iss-iss", "inc-removal-removal", "inc-iss-iep-removal"}
    iss_action = actions["inc-iss-iss"]
    assert iss_action["disciplines"] == [
        {"disciplineDescriptor": "uri://ed-fi.org/DisciplineDescriptor#In School Suspension"}
    ]
    assert iss_action["disciplineActionLength"] == 0.5
    assert iss_action["responsibilitySchoolReference"] == {"schoolId": "school-1"}
    assert (
        iss_action["studentDisciplineIncidentBehaviorAssociations"][0][
            "studentDisciplineIncidentBehaviorAssociationReference"
        ]["incidentIdentifier"]
        == "inc-iss"
    )
    assert actions["inc-iss-iep-removal"]["disciplines"] == [
        {"disciplineDescriptor": "uri://ed-fi.org/DisciplineDescriptor#Removal from Classroom"}
    ]
    assert "tab-out" not in json.dumps(document)
    assert "inc-voided" not in json.dumps(document)
