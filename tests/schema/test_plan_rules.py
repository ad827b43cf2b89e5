"""The plan's rules on the device (R4-R7): Title IX and threat notices, Title IX sanctions,
removal lengths, follow-up due dates and overdue marks, voids closing follow-ups, IEP totals, and
a property over random edit histories: every stored bypass flag equals the advice recomputed
from scratch."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schema.grid import MANDATORY_REPORTING_NOTICE, TITLE_IX_NOTICE, default_grid
from schema.models import (
    Action,
    FollowUpKind,
    IncidentDraft,
    InterventionDraft,
    InterventionKind,
    IssSafeguards,
    StartedBy,
    TabKind,
)
from schema.progression import PriorOccurrence, advise
from schema.rules import IncidentFacts, RuleViolation, check_incident
from schema.store import (
    BypassReasonNeededError,
    DeviceStore,
    IncidentChanges,
    RuleRefusedError,
    StoreError,
)

ALL_SAFEGUARDS = IssSafeguards(
    school_work=True, special_education_services=True, peer_without_disability=True
)


def draft(student_id: str, code: str = "DIS-CLASS", level: int = 1, **values: Any) -> IncidentDraft:
    return IncidentDraft(student_id=student_id, behavior_code=code, level=level, **values)


def queued(store: DeviceStore) -> list[dict[str, Any]]:
    rows = store.connection.execute("SELECT kind, entity_id, fields FROM outbox ORDER BY seq")
    return [{**dict(row), "fields": json.loads(row["fields"])} for row in rows]


# -- R4: notices and Title IX -------------------------------------------------------------------


def test_the_shipped_grid_flags_title_ix_threats_and_the_row_for_review() -> None:
    grid = {entry.code: entry for entry in default_grid()}
    assert grid["SEX-EXPOSE"].notices == [TITLE_IX_NOTICE]
    assert grid["SEX-PORN"].notices == [TITLE_IX_NOTICE]
    assert grid["FIRE-BOMB"].notices == [MANDATORY_REPORTING_NOTICE]
    assert grid["WPN-TOY-THREAT"].notices == [MANDATORY_REPORTING_NOTICE]
    assert grid["WPN-TOY"].notices == []
    assert "OSS" in grid["PHYS-AGGR"].review
    assert [code for code, entry in grid.items() if entry.review] == ["PHYS-AGGR"]


@pytest.mark.parametrize("code", ["SEX-CONTACT", "SEX-PANTS"])
@pytest.mark.parametrize("action", [Action.ISS, Action.REMOVAL])
def test_a_title_ix_behavior_takes_no_removal_and_no_iss(
    store: DeviceStore, roster: Any, code: str, action: Action
) -> None:
    before = store.connection.execute("SELECT count(*) FROM incidents").fetchone()[0]
    with pytest.raises(RuleRefusedError, match="Title IX") as refused:
        store.log_incident(draft(roster.student_id, code, 2, actions=[action], removal_minutes=30))
    assert refused.value.rule == "title-ix-sanction"
    assert store.connection.execute("SELECT count(*) FROM incidents").fetchone()[0] == before


def test_a_title_ix_iss_for_an_iep_student_is_refused_not_turned_into_a_removal(
    store: DeviceStore, roster: Any
) -> None:
    with pytest.raises(RuleRefusedError, match="Title IX"):
        store.log_incident(draft(roster.iep_student_id, "SEX-PANTS", 2, actions=[Action.ISS]))


@pytest.mark.parametrize(("code", "level"), [("SEX-EXPOSE", 1), ("SEX-PORN", 1), ("SEX-PANTS", 2)])
def test_a_title_ix_behavior_opens_the_title_ix_coordinator_follow_up(
    store: DeviceStore, roster: Any, code: str, level: int
) -> None:
    incident = store.log_incident(draft(roster.student_id, code, level, actions=[Action.REDIRECT]))
    kinds = [follow_up.kind for follow_up in store.follow_ups_for(incident.id)]
    assert FollowUpKind.TITLE_IX_COORDINATOR in kinds
    edited = store.edit_incident(
        incident.id, IncidentChanges(actions=[Action.REDIRECT, Action.PRIVATE_CONFERENCE])
    )
    kinds = [f.kind for f in store.follow_ups_for(edited.id) if f.voided_at is None]
    assert kinds.count(FollowUpKind.TITLE_IX_COORDINATOR) == 1


def test_editing_a_record_into_a_title_ix_behavior_with_an_iss_is_refused(
    store: DeviceStore, roster: Any
) -> None:
    incident = store.log_incident(draft(roster.student_id, "PHYS-CONTACT", 2, actions=[Action.ISS]))
    with pytest.raises(RuleRefusedError, match="Title IX"):
        store.edit_incident(incident.id, IncidentChanges(behavior_code="SEX-PANTS"))
    assert store.incident(incident.id).behavior_code == "PHYS-CONTACT"


# -- R7: removals and students with an IEP ------------------------------------------------------


def test_every_removal_has_a_duration(store: DeviceStore, roster: Any) -> None:
    with pytest.raises(RuleRefusedError, match="length") as refused:
        store.log_incident(draft(roster.student_id, level=2, actions=[Action.REMOVAL]))
    assert refused.value.rule == "removal-duration"
    incident = store.log_incident(
        draft(roster.student_id, level=2, actions=[Action.REMOVAL], removal_minutes=45)
    )
    assert incident.removal_minutes == 45
    [op] = [op for op in queued(store) if op["kind"] == "incident"]
    assert op["fields"]["removal_minutes"] == 45
    kept = store.edit_incident(incident.id, IncidentChanges(note="left at 10:15"))
    assert kept.removal_minutes == 45
    dropped = store.edit_incident(incident.id, IncidentChanges(actions=[Action.REDIRECT]))
    assert dropped.removal_minutes is None


def test_an_iep_students_iss_as_a_removal_keeps_its_length_and_follow_ups(
    store: DeviceStore, roster: Any
) -> None:
    incident = store.log_incident(
        draft(roster.iep_student_id, level=2, actions=[Action.ISS], iss_days=0.5)
    )
    assert incident.iss_recorded_as_removal
    assert incident.iss_days == 0.5
    kinds = {f.kind for f in store.follow_ups_for(incident.id)}
    assert {FollowUpKind.STUDENT_VERSION, FollowUpKind.REPAIR_PLAN} <= kinds
    assert store.iep_year_totals(roster.iep_student_id).removal_days == 0.5


def test_iep_year_totals_sum_removal_days_and_tab_out_minutes_and_warn_from_8_days(
    store: DeviceStore, roster: Any, wall: Any
) -> None:
    student = roster.iep_student_id
    for _ in range(7):
        store.log_incident(draft(student, level=2, actions=[Action.ISS], iss_days=1.0))
        wall.advance(timedelta(days=1))
    store.log_incident(draft(student, level=2, actions=[Action.REMOVAL], removal_minutes=195))
    spot = store.start_tab(student, TabKind.SPOT, StartedBy.TEACHER)
    wall.advance(timedelta(minutes=5))
    store.stop_tab(spot.id, True)
    out = store.start_tab(student, TabKind.OUT, StartedBy.STUDENT)
    wall.advance(timedelta(minutes=12))
    store.stop_tab(out.id, True)
    totals = store.iep_year_totals(student)
    assert totals.removal_days == 7.5
    assert totals.removal_count == 8
    assert totals.tab_out_minutes == 12.0
    assert totals.warning is None
    extra = store.log_incident(draft(student, level=2, actions=[Action.ISS], iss_days=0.5))
    totals = store.iep_year_totals(student)
    assert totals.removal_days == 8.0
    assert totals.warning is not None
    assert "nearing 10 days" in totals.warning
    store.void_incident(extra.id, "entered twice")
    assert store.iep_year_totals(student).warning is None


def test_a_take_a_break_is_never_counted_as_removal(store: DeviceStore, roster: Any) -> None:
    tab = store.start_tab(roster.iep_student_id, TabKind.OUT_AND_BACK, StartedBy.TEACHER)
    store.stop_tab(tab.id, True, "ready")
    assert store.iep_year_totals(roster.iep_student_id).removal_days == 0


# -- R6: due dates, overdue marks, voids --------------------------------------------------------


def test_family_contact_is_due_by_the_end_of_the_next_school_day(
    store: DeviceStore, roster: Any, wall: Any
) -> None:
    incident = store.log_incident(draft(roster.student_id, actions=[Action.REDIRECT]))
    due = {f.kind: f.due_at for f in store.follow_ups_for(incident.id)}
    family = due[FollowUpKind.FAMILY_CONTACT]
    assert family is not None
    local = family.astimezone(roster.timezone)
    assert (local.date(), local.hour) == ((roster.start + timedelta(days=1)).date(), 23)
    [item] = [i for i in store.open_follow_ups() if i.follow_up.kind is FollowUpKind.FAMILY_CONTACT]
    assert not item.follow_up.is_overdue(store.now())
    wall.advance(timedelta(days=2))
    assert item.follow_up.is_overdue(store.now())


def test_a_friday_record_is_due_on_monday_and_the_district_may_change_the_days(
    store: DeviceStore, roster: Any, wall: Any
) -> None:
    friday = roster.start + timedelta(days=2)
    wall.set(friday)
    incident = store.log_incident(draft(roster.student_id))
    family = {f.kind: f.due_at for f in store.follow_ups_for(incident.id)}[
        FollowUpKind.FAMILY_CONTACT
    ]
    assert family is not None
    assert family.astimezone(roster.timezone).date() == (friday + timedelta(days=3)).date()
    store.set_config(follow_up_due_days=json.dumps({"family_contact": 0}))
    same_day = store.log_incident(draft(roster.iep_student_id))
    family = {f.kind: f.due_at for f in store.follow_ups_for(same_day.id)}[
        FollowUpKind.FAMILY_CONTACT
    ]
    assert family is not None
    assert family.astimezone(roster.timezone).date() == friday.date()


def test_voiding_a_record_closes_its_open_follow_ups(store: DeviceStore, roster: Any) -> None:
    incident = store.log_incident(draft(roster.student_id, level=2, actions=[Action.ISS]))
    done = store.follow_ups_for(incident.id)[0]
    store.complete_follow_up(done.id, "called")
    store.void_incident(incident.id, "wrong student")
    follow_ups = {f.id: f for f in store.follow_ups_for(incident.id)}
    assert follow_ups[done.id].voided_at is None
    assert follow_ups[done.id].done_at is not None
    closed = [f for f in follow_ups.values() if f.id != done.id]
    assert closed
    assert all(f.voided_at is not None for f in closed)
    assert store.open_follow_up_count() == 0
    voids = [
        op for op in queued(store) if op["kind"] == "follow_up" and op["fields"].get("voided_at")
    ]
    assert sorted(op["entity_id"] for op in voids) == sorted(f.id for f in closed)


# -- R5: interventions --------------------------------------------------------------------------


def test_an_intervention_needs_a_known_behavior_and_a_name_for_the_districts_own(
    store: DeviceStore, roster: Any
) -> None:
    with pytest.raises(StoreError, match="not in the grid"):
        store.add_intervention(
            InterventionDraft(
                student_id=roster.student_id, behavior_code="NOPE", kind=InterventionKind.RETEACHING
            )
        )
    with pytest.raises(StoreError, match="needs its name"):
        store.add_intervention(
            InterventionDraft(student_id=roster.student_id, kind=InterventionKind.DISTRICT)
        )
    own = store.add_intervention(
        InterventionDraft(
            student_id=roster.student_id, kind=InterventionKind.DISTRICT, kind_label="Check-in"
        )
    )
    assert own.label == "Check-in"
    assert own.behavior_code is None


def test_an_intervention_answering_a_level_1_record_stays_on_the_device(
    store: DeviceStore, roster: Any
) -> None:
    first = store.log_incident(draft(roster.student_id, note="level 1 words"))
    store.add_intervention(
        InterventionDraft(
            student_id=roster.student_id,
            behavior_code="DIS-CLASS",
            kind=InterventionKind.RETEACHING,
            incident_id=first.id,
            note="reteach the routine",
        )
    )
    assert not [op for op in queued(store) if op["kind"] not in {"tab"}]


# -- the shared rule checks (device and server) -------------------------------------------------


def facts(**values: Any) -> IncidentFacts:
    given: dict[str, Any] = {
        "level": 2,
        "actions": (),
        "iss_days": None,
        "removal_minutes": None,
        "iss_recorded_as_removal": False,
        "iss_safeguards": None,
        "student_has_iep": False,
    }
    given.update(values)
    return IncidentFacts(**given)


GRID = {entry.code: entry for entry in default_grid()}


@pytest.mark.parametrize(
    ("code", "values", "rule"),
    [
        ("ADT-DRUG", {}, "office-managed"),
        ("WPN-TOY-THREAT", {"level": 1}, "grid-level"),
        (
            "DIS-CLASS",
            {"level": 1, "actions": (Action.ISS,), "iss_days": 1.0},
            "level-2-only-action",
        ),
        ("DIS-CLASS", {"actions": (Action.ISS,), "iss_days": 2.0}, "iss-length"),
        (
            "DIS-CLASS",
            {"actions": (Action.ISS,), "iss_days": 1.0, "student_has_iep": True},
            "iep-safeguards",
        ),
        ("DIS-CLASS", {"actions": (Action.REMOVAL,)}, "removal-duration"),
        ("SEX-CONTACT", {"actions": (Action.ISS,), "iss_days": 1.0}, "title-ix-sanction"),
    ],
)
def test_each_rule_refuses_by_its_name(code: str, values: dict[str, Any], rule: str) -> None:
    with pytest.raises(RuleViolation) as broken:
        check_incident(GRID[code], facts(**values))
    assert broken.value.rule == rule


def test_a_record_within_the_rules_passes() -> None:
    check_incident(
        GRID["DIS-CLASS"],
        facts(
            actions=(Action.ISS,),
            iss_days=1.0,
            student_has_iep=True,
            iss_safeguards=ALL_SAFEGUARDS,
        ),
    )


# -- R5 property: the stored bypass flag is always the advice recomputed from scratch ----------

STUDENTS = ("stu-ana", "stu-ben")
CODES = ("DIS-CLASS", "DRESS")
edit_steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("log"),
            st.sampled_from(STUDENTS),
            st.sampled_from(CODES),
            st.sampled_from([1, 2]),
            st.integers(0, 600),
        ),
        st.tuples(
            st.just("edit"),
            st.integers(0, 20),
            st.sampled_from(["level", "behavior", "student", "time"]),
            st.integers(0, 600),
        ),
        st.tuples(st.just("void"), st.integers(0, 20)),
        st.tuples(st.just("intervene"), st.sampled_from(STUDENTS), st.sampled_from(CODES)),
    ),
    max_size=12,
)


def _recomputed_from_scratch(store: DeviceStore, incident_id: str) -> tuple[int, bool]:
    """R5 worked out here from every row of the history, in Python, independently of the
    store's indexed reads: the earlier live occurrences of the behavior by the student in the
    same school year, each answered or not by an intervention, then ``advise`` over the list.
    Also checks that the store's own advice agrees."""
    incident = store.incident(incident_id)
    entry, stored_advice = store.advice(
        incident.student_id, incident.behavior_code, incident.occurred_at, exclude=incident.id
    )
    zone = store.timezone
    before = incident.occurred_at
    year = store.school_year(before.astimezone(zone).date())
    start = datetime.combine(year.start, time.min, tzinfo=zone)
    before_day = before.astimezone(zone).date().isoformat()
    interventions = [
        row
        for row in store.connection.execute(
            "SELECT incident_id, behavior_code, starts_on, review_on FROM interventions "
            "WHERE student_id = ? AND voided_at IS NULL",
            (incident.student_id,),
        )
        if row["behavior_code"] in (None, incident.behavior_code) and row["starts_on"] <= before_day
    ]
    prior = []
    for row in store.connection.execute(
        "SELECT id, level, occurred_at, voided_at FROM incidents "
        "WHERE student_id = ? AND behavior_code = ?",
        (incident.student_id, incident.behavior_code),
    ):
        occurred_at = datetime.fromisoformat(row["occurred_at"])
        if row["id"] == incident.id or row["voided_at"] is not None:
            continue
        if not start <= occurred_at < before:
            continue
        day = occurred_at.astimezone(zone).date().isoformat()
        answered = any(
            item["incident_id"] == row["id"]
            or item["starts_on"] >= day
            or item["starts_on"] <= day <= item["review_on"]
            for item in interventions
        )
        prior.append(PriorOccurrence(row["id"], row["level"], occurred_at, answered))
    advice = advise(entry.staff_levels, prior)
    assert stored_advice == advice
    return advice.advised_level, advice.is_bypass(incident.level)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=edit_steps)
def test_the_stored_bypass_flag_always_equals_the_advice_recomputed_from_scratch(
    store: DeviceStore, roster: Any, wall: Any, steps: list[tuple[Any, ...]]
) -> None:
    with store.connection:
        for table in ("follow_ups", "tab_events", "interventions", "incidents", "outbox", "audit"):
            store.connection.execute(f"DELETE FROM {table}")
    base = datetime(2026, 10, 14, 8, 0, tzinfo=roster.timezone)
    wall.set(base + timedelta(days=2))
    ids: list[str] = []
    for step in steps:
        try:
            if step[0] == "log":
                _, student, code, level, minute = step
                ids.append(
                    store.log_incident(
                        draft(
                            student,
                            code,
                            level,
                            occurred_at=base + timedelta(minutes=minute),
                            bypass_reason="asked",
                        )
                    ).id
                )
            elif step[0] == "edit" and ids:
                _, index, what, minute = step
                record = store.incident(ids[index % len(ids)])
                changes = {
                    "level": IncidentChanges(level=3 - record.level, bypass_reason="asked"),
                    "behavior": IncidentChanges(
                        behavior_code=CODES[1 - CODES.index(record.behavior_code)],
                        bypass_reason="asked",
                    ),
                    "student": IncidentChanges(
                        student_id=STUDENTS[1 - STUDENTS.index(record.student_id)],
                        bypass_reason="asked",
                    ),
                    "time": IncidentChanges(
                        occurred_at=base + timedelta(minutes=minute), bypass_reason="asked"
                    ),
                }[what]
                store.edit_incident(record.id, changes)
            elif step[0] == "void" and ids:
                store.void_incident(ids[step[1] % len(ids)], "property")
            elif step[0] == "intervene":
                store.add_intervention(
                    InterventionDraft(
                        student_id=step[1],
                        behavior_code=step[2],
                        kind=InterventionKind.RETEACHING,
                        starts_on=base.date(),
                    )
                )
        except StoreError:
            pass
        for incident_id in ids:
            incident = store.incident(incident_id)
            if incident.voided_at is not None:
                continue
            advised, bypassed = _recomputed_from_scratch(store, incident_id)
            assert incident.advised_level == advised
            assert incident.progression_bypassed is bypassed
            if not bypassed:
                assert incident.bypass_reason is None


def test_a_bypass_created_by_an_edit_of_the_time_needs_a_reason(
    store: DeviceStore, roster: Any, wall: Any
) -> None:
    early = store.log_incident(draft(roster.student_id, level=2, occurred_at=roster.start))
    wall.advance(timedelta(hours=2))
    later = store.log_incident(
        draft(roster.student_id, level=1, occurred_at=roster.start + timedelta(hours=1))
    )
    assert early.progression_bypassed is False
    with pytest.raises(BypassReasonNeededError):
        store.edit_incident(
            early.id, IncidentChanges(occurred_at=roster.start + timedelta(hours=1, minutes=30))
        )
    assert store.incident(later.id).progression_bypassed is False
