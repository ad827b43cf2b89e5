"""Level 2 exports for the district's official system: JSON lines, CSV and Ed-Fi-shaped JSON.

Only live, non-voided Level 2 incidents are exported. Level 1 never reaches the server (R1) and
Take a Break is support, not discipline (R3): TAB events are never exported, and nothing here
turns one into an ISS or a removal (invariant 4). An ISS recorded as a removal (R7) is exported
as a removal.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from district import tables
from district.records import Record
from schema import counting
from schema.contract import IncidentRecord, field_names
from schema.spreadsheet import spreadsheet_cell

ExportFormat = Literal["jsonl", "csv", "edfi"]
FORMATS: tuple[ExportFormat, ...] = ("jsonl", "csv", "edfi")

EDFI_NAMESPACE = "uri://ed-fi.org"
LOCAL_NAMESPACE = "uri://classlog.local"
IN_SCHOOL_SUSPENSION = "In School Suspension"
REMOVAL_FROM_CLASSROOM = "Removal from Classroom"
PERPETRATOR = "Perpetrator"
EDFI_LOCATIONS = {
    "Classroom": "Classroom",
    "Hallway": "Hallway or stairs",
    "Cafeteria": "Cafeteria area",
    "Gym": "Locker room or gym areas",
    "Playground": "Athletic field or playground",
    "Library": "Library/media center",
    "Office": "Administrative offices area",
    "Bus loading zone": "Bus stop",
    "Special event/Assembly": "Auditorium",
}
"""Our locations with an Ed-Fi IncidentLocationDescriptor of the same meaning; others are
left out of the descriptor and named in the description."""

NOT_EXPORTED = frozenset({"voided_at", "void_reason"})
"""Fields of the incident contract an export leaves out: only live, non-voided records are
exported. Every other field of ``IncidentRecord`` is a column."""
EXPORTED_FIELDS = tuple(name for name in field_names(IncidentRecord) if name not in NOT_EXPORTED)
DERIVED_COLUMNS = ("student_grade", "local_date", "iss", "removal")
"""What the server adds to each exported incident: the grade when logged, the school-local
date, and the counting rules' verdicts (``schema.counting``)."""
CSV_COLUMNS = ("id", "school_id", *EXPORTED_FIELDS, *DERIVED_COLUMNS)


@dataclass(frozen=True)
class ExportFilter:
    school_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class Incident:
    """A Level 2 incident ready to export."""

    record: Record
    follow_ups: list[dict[str, Any]]

    @property
    def fields(self) -> dict[str, Any]:
        return self.record.fields

    @property
    def occurred_at(self) -> datetime:
        return datetime.fromisoformat(str(self.fields["occurred_at"]))

    @property
    def local_moment(self) -> datetime:
        try:
            zone = ZoneInfo(str(self.fields.get("tz") or "UTC"))
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        return self.occurred_at.astimezone(zone)

    @property
    def actions(self) -> list[str]:
        return [str(action) for action in self.fields.get("actions") or []]

    @property
    def is_iss(self) -> bool:
        """An ISS that counts as one: not one recorded as a removal (R7)."""
        return counting.is_iss("incident", self.fields)

    @property
    def is_removal(self) -> bool:
        return counting.is_removal("incident", self.fields)


def level2_incidents(connection: Connection, selection: ExportFilter) -> Iterator[Incident]:
    """Live, non-voided Level 2 incidents in the selection, oldest first."""
    table = tables.incidents
    where = sa.and_(table.c.tombstone.is_(False), table.c.level == 2, table.c.voided_at.is_(None))
    if selection.school_id is not None:
        where = sa.and_(where, table.c.school_id == selection.school_id)
    if selection.date_from is not None:
        where = sa.and_(where, table.c.local_date >= selection.date_from)
    if selection.date_to is not None:
        where = sa.and_(where, table.c.local_date <= selection.date_to)
    rows = connection.execute(
        sa.select(table).where(where).order_by(table.c.occurred_at, table.c.id)
    ).mappings()
    incidents = [Incident(Record.from_row("incident", row), []) for row in rows]
    children = _follow_ups(connection, [incident.record.id for incident in incidents])
    for incident in incidents:
        incident.follow_ups.extend(children.get(incident.record.id, []))
        yield incident


def _follow_ups(connection: Connection, incident_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    table = tables.follow_ups
    found: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(incident_ids), 1000):
        batch = incident_ids[start : start + 1000]
        rows = connection.execute(
            sa.select(table).where(
                table.c.tombstone.is_(False),
                table.c.voided_at.is_(None),
                table.c.incident_id.in_(batch),
            )
        ).mappings()
        for row in rows:
            record = Record.from_row("follow_up", row)
            if record.parent_id is None:
                continue
            found.setdefault(record.parent_id, []).append(
                {
                    "id": record.id,
                    "kind": record.fields.get("kind"),
                    "done_at": record.fields.get("done_at"),
                    "done_by": record.fields.get("done_by"),
                }
            )
    for items in found.values():
        items.sort(key=lambda item: str(item["id"]))
    return found


def _json_object(incident: Incident) -> dict[str, Any]:
    fields = incident.fields
    exported: dict[str, Any] = {name: fields.get(name) for name in EXPORTED_FIELDS}
    exported.update(
        level=2,
        actions=incident.actions,
        note=fields.get("note") or "",
        iss_days=fields.get("iss_days") if incident.is_iss else None,
        iss_recorded_as_removal=bool(fields.get("iss_recorded_as_removal")),
        progression_bypassed=bool(fields.get("progression_bypassed")),
    )
    return {
        "id": incident.record.id,
        "school_id": incident.record.school_id,
        **exported,
        "student_grade": incident.record.student_grade,
        "local_date": incident.local_moment.date().isoformat(),
        "iss": incident.is_iss,
        "removal": incident.is_removal,
        "follow_ups": incident.follow_ups,
    }


def _descriptor(kind: str, value: str, namespace: str = EDFI_NAMESPACE) -> str:
    return f"{namespace}/{kind}#{value}"


def _school_reference(school_id: str | None) -> dict[str, Any]:
    """Ed-Fi school ids are integers: a numeric sourcedId is sent as one."""
    identifier: Any = school_id or ""
    if isinstance(identifier, str) and identifier.isdigit():
        identifier = int(identifier)
    return {"schoolId": identifier}


def edfi_document(incidents: list[Incident], behaviors: dict[str, str]) -> dict[str, Any]:
    """DisciplineIncident, StudentDisciplineIncidentBehaviorAssociation and DisciplineAction
    resources (Ed-Fi Data Standard 4/5 shapes, descriptors as URIs)."""
    discipline_incidents: list[dict[str, Any]] = []
    associations: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    for incident in incidents:
        fields = incident.fields
        record = incident.record
        school = _school_reference(record.school_id)
        moment = incident.local_moment
        code = str(fields.get("behavior_code"))
        behavior = _descriptor("BehaviorDescriptor", code, LOCAL_NAMESPACE)
        location = str(fields.get("location") or "")
        description = "; ".join(
            part
            for part in (
                behaviors.get(code, code),
                location if location and location not in EDFI_LOCATIONS else "",
                str(fields.get("note") or ""),
            )
            if part
        )[:1024]
        resource: dict[str, Any] = {
            "incidentIdentifier": record.id,
            "schoolReference": school,
            "incidentDate": moment.date().isoformat(),
            "incidentTime": moment.time().replace(microsecond=0).isoformat(),
            "incidentDescription": description,
        }
        if location in EDFI_LOCATIONS:
            resource["incidentLocationDescriptor"] = _descriptor(
                "IncidentLocationDescriptor", EDFI_LOCATIONS[location]
            )
        discipline_incidents.append(resource)
        student = {"studentUniqueId": record.student_id}
        association_key = {
            "behaviorDescriptor": behavior,
            "incidentIdentifier": record.id,
            "schoolId": school["schoolId"],
            "studentUniqueId": record.student_id,
        }
        associations.append(
            {
                "behaviorDescriptor": behavior,
                "disciplineIncidentReference": {
                    "incidentIdentifier": record.id,
                    "schoolId": school["schoolId"],
                },
                "studentReference": student,
                "behaviorDetailedDescription": behaviors.get(code, code),
                "disciplineIncidentParticipationCodes": [
                    {
                        "disciplineIncidentParticipationCodeDescriptor": _descriptor(
                            "DisciplineIncidentParticipationCodeDescriptor", PERPETRATOR
                        )
                    }
                ],
            }
        )
        kinds: list[tuple[str, str, Any]] = []
        if incident.is_iss:
            kinds.append(("iss", IN_SCHOOL_SUSPENSION, fields.get("iss_days") or 1))
        if incident.is_removal:
            kinds.append(("removal", REMOVAL_FROM_CLASSROOM, None))
        for suffix, discipline, length in kinds:
            action: dict[str, Any] = {
                "disciplineActionIdentifier": f"{record.id}-{suffix}",
                "disciplineDate": moment.date().isoformat(),
                "disciplines": [
                    {"disciplineDescriptor": _descriptor("DisciplineDescriptor", discipline)}
                ],
                "studentReference": student,
                "responsibilitySchoolReference": school,
                "studentDisciplineIncidentBehaviorAssociations": [
                    {"studentDisciplineIncidentBehaviorAssociationReference": association_key}
                ],
            }
            if length is not None:
                action["disciplineActionLength"] = length
                action["actualDisciplineActionLength"] = length
            staff_id = fields.get("staff_id")
            if staff_id:
                action["staffs"] = [{"staffReference": {"staffUniqueId": staff_id}}]
            actions.append(action)
    return {
        "disciplineIncidents": discipline_incidents,
        "studentDisciplineIncidentBehaviorAssociations": associations,
        "disciplineActions": actions,
    }


def _behavior_names(connection: Connection) -> dict[str, str]:
    """Behavior names by code from the newest grid."""
    table = tables.grid_versions
    row = connection.execute(
        sa.select(table.c.grid).order_by(table.c.version.desc()).limit(1)
    ).first()
    if row is None:
        return {}
    names: dict[str, str] = {}
    for entry in row[0].get("entries", []):
        names.setdefault(str(entry.get("code")), str(entry.get("behavior")))
    return names


def write_export(
    connection: Connection, output: TextIO, export_format: ExportFormat, selection: ExportFilter
) -> int:
    """Write the export to ``output``; returns the number of incidents written."""
    incidents = list(level2_incidents(connection, selection))
    if export_format == "jsonl":
        for incident in incidents:
            output.write(json.dumps(_json_object(incident), ensure_ascii=False, sort_keys=True))
            output.write("\n")
    elif export_format == "csv":
        writer = csv.writer(output)
        writer.writerow(CSV_COLUMNS)
        for incident in incidents:
            row = _json_object(incident)
            row["actions"] = ";".join(incident.actions)
            safeguards = row.get("iss_safeguards")
            if safeguards is not None:
                row["iss_safeguards"] = [name for name, held in safeguards.items() if held]
            writer.writerow([spreadsheet_cell(row.get(column)) for column in CSV_COLUMNS])
    else:
        document = edfi_document(incidents, _behavior_names(connection))
        json.dump(document, output, ensure_ascii=False, indent=1, sort_keys=True)
        output.write("\n")
    return len(incidents)


def export_text(
    connection: Connection, export_format: ExportFormat, selection: ExportFilter
) -> str:
    buffer = io.StringIO()
    write_export(connection, buffer, export_format, selection)
    return buffer.getvalue()
