"""The six reports of DESIGN section 6b, as plain indexed SQL over the typed tables.

Each function takes a resolved :class:`~district.summaries.context.Context` and returns its rows,
the notes a reader needs, and the suppression it applied. Counting rules come from the typed
columns the server derives on write with ``schema.counting`` (``is_iss``, ``is_removal``): a Take
a Break lives in its own table and is never read as an ISS, a removal or an exclusion (R3).
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache, partial
from itertools import accumulate, compress
from operator import itemgetter
from typing import Any, cast

import sqlalchemy as sa

from district import tables
from district.db import among
from district.summaries import rolled, rollup
from district.summaries.context import (
    Context,
    behavior_names,
    incident_conditions,
    referral_conditions,
    tab_conditions,
)
from district.summaries.dialect import as_int
from district.summaries.population import Population, StudentInfo, enrolled
from district.summaries.suppression import Reason, Thresholds, suppress_table
from schema.summaries import (
    DIMENSIONS,
    OUTCOME_LABELS,
    OUTCOMES,
    RACE_CATEGORIES,
    Dimension,
    Outcome,
    ReportName,
    Row,
    Suppression,
)

TOP_STUDENTS = 50
TOP_REPEATS = 100
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
NOT_RECORDED = "Not recorded"
OFFICE_REFERRALS_NOTE = (
    "Office referrals (what SWIS calls major referrals) are counted apart from Level 2 "
    "incidents, by the day the student was sent to the office; a level filter of 3-5 selects "
    "the level the office decided."
)
INTERVENTIONS_NOTE = (
    "Interventions: those recorded for the student this period, for that behavior or for all "
    "behaviors (R5); an intervention answering a Level 1 record stays on its device and is "
    "not counted."
)
PRIVATE_GROUPS = ("race", "sex")


@dataclass
class Built:
    rows: list[Row]
    notes: list[str] = field(default_factory=list)
    suppression: Suppression | None = None


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 2) if whole else None


def _count(
    context: Context, column: Any, conditions: list[sa.ColumnElement[bool]]
) -> dict[Any, int]:
    table = column.table
    query = (
        sa.select(column, sa.func.count()).select_from(table).where(*conditions).group_by(column)
    )
    return {key: int(count) for key, count in context.connection.execute(query)}


def _grouped(
    context: Context, grouping: str, column: Any, conditions: list[sa.ColumnElement[bool]]
) -> dict[str, int]:
    """Counted incidents per value of ``column`` (``""`` for none), from the counts kept on
    write when the filters allow (``grouping`` names them there), else from the records."""
    if rolled.usable(context):
        return {
            key: sums.incidents
            for key, sums in rolled.incident_sums(context, grouping).items()
            if sums.incidents
        }
    counted: Counter[str] = Counter()
    for key, count in _count(context, column, conditions).items():
        counted["" if key is None else f"{key:02d}" if isinstance(key, int) else str(key)] += count
    return dict(counted)


def _private_group(context: Context) -> bool:
    """Whether the filters select students by a demographic the devices never hold: then no
    report lists single students (their listing would reveal each one's race or sex)."""
    return context.filters.group_dimension in PRIVATE_GROUPS


def _group_filter(context: Context) -> tuple[Dimension, str] | None:
    dimension, value = context.filters.group_dimension, context.filters.group_value
    return (dimension, value) if dimension is not None and value is not None else None


def _population(context: Context, with_records: Iterable[str]) -> Population:
    return enrolled(
        context.connection,
        context.school_id,
        context.filters.grade,
        _group_filter(context),
        with_records,
    )


def _small_group(context: Context, population: Mapping[str, StudentInfo]) -> list[str]:
    """A note when a group filter leaves too few students to show anything (R8)."""
    thresholds = context.config.suppression
    if context.filters.group is not None and len(population) < thresholds.min_denominator:
        return [
            f"The group {context.filters.group} has fewer than {thresholds.min_denominator} "
            "students enrolled in this scope: nothing is shown for it."
        ]
    return []


def _months(first: date, last: date) -> list[tuple[date, date]]:
    spans: list[tuple[date, date]] = []
    start = first
    while start <= last:
        following = rollup.month_after(start)
        end = min(last, following - timedelta(days=1))
        spans.append((start, end))
        start = following
    return spans


@dataclass(frozen=True, slots=True)
class _StudentCounts:
    with_any: int
    two_to_five: int
    six_or_more: int
    top: list[tuple[str, int]]
    """The ``TOP_STUDENTS`` students with the most counted incidents, most first."""


def _students_counted(context: Context) -> tuple[Population, _StudentCounts]:
    """The students the report covers, and how many counted incidents they have."""
    counted: Sequence[tuple[str, int]]
    if rolled.usable(context):
        sums = rolled.student_sums(context, ["incidents"]).subquery()
        rows = context.connection.execute(
            sa.select(sums.c.student_id, sums.c.incidents).where(sums.c.incidents > 0)
        )
        counted = cast(Sequence[tuple[str, int]], rows.all())
    else:
        table = tables.incidents
        counted = list(_count(context, table.c.student_id, incident_conditions(context)).items())
    tally = Counter("2-5" if n <= 5 else "6+" for _, n in counted if n >= 2)
    top = heapq.nsmallest(TOP_STUDENTS, counted, key=lambda item: (-item[1], item[0]))
    counts = _StudentCounts(
        len(counted), tally["2-5"], tally["6+"], [(student, int(n)) for student, n in top]
    )
    return _population(context, (student for student, _ in counted)), counts


def big5(context: Context) -> Built:
    table = tables.incidents
    conditions = incident_conditions(context)
    referrals = tables.office_referrals
    sent = referral_conditions(context)
    referrals_by_day = _count(context, referrals.c.local_date, sent)
    fast = rolled.usable(context)
    if fast:
        by_day = {
            date.fromisoformat(key): sums.incidents
            for key, sums in rolled.incident_sums(context, "day").items()
            if sums.incidents
        }
    else:
        by_day = _count(context, table.c.local_date, conditions)
    population, students = _students_counted(context)
    notes = [OFFICE_REFERRALS_NOTE]
    small = _small_group(context, population)
    if small:
        return Built([], notes + small)
    calendar = context.config.calendar
    total = sum(by_day.values())
    school_days = calendar.school_days(context.first, context.last)
    rows: list[Row] = [
        {
            "section": "total",
            "key": "all",
            "label": "All Level 2 incidents",
            "incidents": total,
            "office_referrals": sum(referrals_by_day.values()),
            "school_days": school_days,
            "per_school_day": _ratio(total, school_days),
            "students": len(population),
        }
    ]
    for start, end in _months(context.first, context.last):
        count = sum(value for day, value in by_day.items() if start <= day <= end)
        days = calendar.school_days(start, end)
        rows.append(
            {
                "section": "month",
                "key": f"{start:%Y-%m}",
                "label": f"{start:%B %Y}",
                "incidents": count,
                "office_referrals": sum(
                    value for day, value in referrals_by_day.items() if start <= day <= end
                ),
                "school_days": days,
                "per_school_day": _ratio(count, days),
            }
        )
    names = behavior_names(context.connection)
    by_behavior = _grouped(context, "behavior", table.c.behavior_code, conditions)
    referred_behavior = _count(context, referrals.c.behavior_code, sent)
    for code in sorted(
        set(by_behavior) | set(referred_behavior),
        key=lambda code: (-by_behavior.get(code, 0), -referred_behavior.get(code, 0), str(code)),
    ):
        count = by_behavior.get(code, 0)
        rows.append(
            {
                "section": "behavior",
                "key": code,
                "label": names.get(code, code),
                "incidents": count,
                "office_referrals": referred_behavior.get(code, 0),
                "share": _share(count, total),
            }
        )
    by_location = _grouped(context, "location", table.c.location, conditions)
    referred_location: Counter[str] = Counter()
    for place, count in _count(context, referrals.c.location, sent).items():
        referred_location[place or ""] += count
    for place in sorted(
        set(by_location) | set(referred_location),
        key=lambda place: (
            -by_location.get(place, 0),
            -referred_location.get(place, 0),
            str(place),
        ),
    ):
        count = by_location.get(place, 0)
        rows.append(
            {
                "section": "location",
                "key": place or "",
                "label": place or NOT_RECORDED,
                "incidents": count,
                "office_referrals": referred_location.get(place, 0),
                "share": _share(count, total),
            }
        )
    by_hour = {
        int(hour): count
        for hour, count in _grouped(context, "hour", table.c.local_hour, conditions).items()
        if hour != ""
    }
    referred_hour = _count(context, referrals.c.local_hour, sent)
    rows.extend(
        {
            "section": "hour",
            "key": f"{hour:02d}",
            "label": f"{hour:02d}:00-{hour:02d}:59",
            "incidents": by_hour.get(hour, 0),
            "office_referrals": referred_hour.get(hour, 0),
            "share": _share(by_hour.get(hour, 0), total),
        }
        for hour in sorted(hour for hour in set(by_hour) | set(referred_hour) if hour is not None)
    )
    per_weekday: Counter[int] = Counter()
    for day, count in by_day.items():
        per_weekday[day.weekday()] += count
    referred_weekday: Counter[int] = Counter()
    for day, count in referrals_by_day.items():
        referred_weekday[day.weekday()] += count
    weekday_days: Counter[int] = Counter()
    day = context.first
    closed = set(calendar.non_school_dates)
    while day <= context.last:
        if day.weekday() < 5 and day not in closed:
            weekday_days[day.weekday()] += 1
        day += timedelta(days=1)
    for weekday in range(7):
        if weekday >= 5 and not per_weekday[weekday] and not referred_weekday[weekday]:
            continue
        rows.append(
            {
                "section": "weekday",
                "key": str(weekday),
                "label": WEEKDAYS[weekday],
                "incidents": per_weekday[weekday],
                "office_referrals": referred_weekday[weekday],
                "school_days": weekday_days[weekday],
                "per_school_day": _ratio(per_weekday[weekday], weekday_days[weekday]),
            }
        )
    tiers = {
        "0-1": len(population) - students.two_to_five - students.six_or_more,
        "2-5": students.two_to_five,
        "6+": students.six_or_more,
    }
    min_numerator = context.config.suppression.min_numerator
    hide_tiers = _private_group(context) and any(
        tiers[tier] < min_numerator for tier in ("0-1", "2-5", "6+")
    )
    rows.extend(
        {
            "section": "tier",
            "key": tier,
            "label": f"Students with {tier} incidents",
            "students": None if hide_tiers else tiers[tier],
            "share": None if hide_tiers else _share(tiers[tier], len(population)),
        }
        for tier in ("0-1", "2-5", "6+")
    )
    if hide_tiers:
        notes.append(
            f"Tiers are not shown for a race or sex group when one has fewer than "
            f"{min_numerator} students (R8)."
        )
    if _private_group(context):
        notes.append("Single students are not listed when the report is filtered by race or sex.")
    else:
        for student_id, count in students.top:
            rows.append(
                {
                    "section": "student",
                    "key": student_id,
                    "label": population[student_id].name,
                    "incidents": count,
                    "share": _share(count, total),
                }
            )
        if students.with_any > TOP_STUDENTS:
            notes.append(
                f"By student: the {TOP_STUDENTS} students with the most incidents of "
                f"{students.with_any} with any."
            )
    return Built(rows, notes)


def _level_totals(context: Context) -> tuple[int, int, int, int, float, int, int]:
    """Counted incidents, removals, removal minutes, ISS, ISS days, timed removals and voided
    records, from the records."""
    table = tables.incidents
    connection = context.connection
    conditions = incident_conditions(context)
    removal = as_int(table.c.is_removal)
    iss = as_int(table.c.is_iss)
    totals = connection.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(removal), 0),
            sa.func.coalesce(
                sa.func.sum(sa.case((table.c.is_removal.is_(True), table.c.removal_minutes))), 0
            ),
            sa.func.coalesce(sa.func.sum(iss), 0),
            sa.func.coalesce(
                sa.func.sum(
                    sa.case((table.c.is_iss.is_(True), sa.func.coalesce(table.c.iss_days, 1.0)))
                ),
                0,
            ),
            sa.func.count(sa.case((table.c.is_removal.is_(True), table.c.removal_minutes))),
        ).where(*conditions)
    ).one()
    count, removals, removal_minutes, iss_count, iss_days, timed_removals = totals
    voided = connection.execute(
        sa.select(sa.func.count())
        .select_from(table)
        .where(*incident_conditions(context, voided=True))
    ).scalar_one()
    return (
        int(count), int(removals or 0), int(removal_minutes or 0), int(iss_count or 0),
        float(iss_days or 0), int(timed_removals), int(voided),
    )  # fmt: skip


def levels(context: Context) -> Built:
    table = tables.incidents
    connection = context.connection
    if rolled.usable(context):
        days = rolled.incident_sums(context, "day").values()
        count = sum(sums.incidents for sums in days)
        removals = sum(sums.removals for sums in days)
        removal_minutes = sum(sums.removal_minutes for sums in days)
        iss_count = sum(sums.iss for sums in days)
        iss_days = sum(sums.iss_days for sums in days)
        timed_removals = sum(sums.timed_removals for sums in days)
        voided = sum(sums.voided for sums in days)
    else:
        count, removals, removal_minutes, iss_count, iss_days, timed_removals, voided = (
            _level_totals(context)
        )
    withdrawn_where: list[sa.ColumnElement[bool]] = [table.c.tombstone.is_(True)]
    if context.school_id is not None:
        withdrawn_where.append(table.c.school_id == context.school_id)
    withdrawn = connection.execute(
        sa.select(sa.func.count()).select_from(table).where(*withdrawn_where)
    ).scalar_one()
    referrals = tables.office_referrals
    decided_levels = _count(context, referrals.c.decided_level, referral_conditions(context))
    referral_totals = connection.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(referrals.c.oss_days), 0),
            sa.func.count(sa.case((referrals.c.oss_days > 0, referrals.c.id))),
        ).where(*referral_conditions(context))
    ).one()
    referred, oss_days, with_oss = referral_totals
    offered = connection.execute(
        sa.select(referrals.c.alternatives).where(
            *referral_conditions(context), referrals.c.alternatives.is_not(None)
        )
    ).scalars()
    with_alternatives = sum(1 for value in offered if value)
    decision_rows: list[Row] = [
        {
            "section": "office_decision",
            "key": f"level{level}",
            "label": f"Decided at Level {level}",
            "value": decided_levels.get(level, 0),
            "unit": "referrals",
        }
        for level in (3, 4, 5)
    ]
    rows: list[Row] = [
        {"section": "level2", "key": "incidents", "label": "Level 2 incidents", "value": count,
         "unit": "incidents"},
        {"section": "removal", "key": "count", "label": "Removals from class",
         "value": int(removals), "unit": "removals"},
        {"section": "removal", "key": "minutes", "label": "Removal time recorded",
         "value": int(removal_minutes or 0), "unit": "minutes"},
        {"section": "removal", "key": "timed", "label": "Removals with a duration recorded",
         "value": int(timed_removals), "unit": "removals"},
        {"section": "iss", "key": "count", "label": "In-School Suspensions",
         "value": int(iss_count), "unit": "suspensions"},
        {"section": "iss", "key": "days", "label": "In-School Suspension days",
         "value": round(float(iss_days or 0), 2), "unit": "days"},
        {"section": "voided", "key": "count", "label": "Level 2 records voided (not counted above)",
         "value": int(voided), "unit": "records"},
        {"section": "withdrawn", "key": "count",
         "label": "Records withdrawn by their teacher (content deleted; all dates)",
         "value": int(withdrawn), "unit": "records"},
        {"section": "office_referral", "key": "count", "label": "Office referrals",
         "value": int(referred), "unit": "referrals"},
        {"section": "office_referral", "key": "awaiting",
         "label": "Office referrals awaiting the office's decision",
         "value": int(decided_levels.get(None, 0)), "unit": "referrals"},
        *decision_rows,
        {"section": "office_decision", "key": "oss", "label": "Referrals ending in an OSS",
         "value": int(with_oss), "unit": "referrals"},
        {"section": "office_decision", "key": "oss_days",
         "label": "Out-of-School Suspension days", "value": round(float(oss_days or 0), 2),
         "unit": "days"},
        {"section": "office_decision", "key": "alternatives",
         "label": "Referrals with alternatives to suspension offered",
         "value": with_alternatives, "unit": "referrals"},
    ]  # fmt: skip
    notes = [OFFICE_REFERRALS_NOTE]
    if context.filters.grade or context.filters.group or context.filters.level:
        notes.append(
            "Withdrawn records keep no content: their count follows only the school filter."
        )
    return Built(rows, notes)


TAB_KINDS = {"spot": "In-class spot", "out": "TAB Out", "out_and_back": "TAB Out and Back"}
TAB_READY = (("yes", "Returned ready"), ("no", "Did not return ready"), ("", NOT_RECORDED))
TAB_CATEGORIES: tuple[tuple[str, str, str], ...] = (
    *(("kind", key, label) for key, label in TAB_KINDS.items()),
    *(("started_by", who, f"Started by the {who}") for who in ("student", "teacher")),
    *(("returned_ready", key, label) for key, label in TAB_READY),
)
"""(section, key, label) of each way the TAB report splits the events."""
TAB_CATEGORY_SUMS = (
    "tabs_spot", "tabs_out", "tabs_out_and_back", "tabs_by_student", "tabs_by_teacher",
    "tabs_ready", "tabs_not_ready", "tabs_ready_unknown",
)  # fmt: skip
"""The per-student count of ``rollup_students`` for each of ``TAB_CATEGORIES``, in order."""


@dataclass
class _TabCounts:
    """What the TAB report is made of, from the records or from the counts kept on write."""

    lengths: list[tuple[str, str, str, int, int, int]] = field(default_factory=list)
    """(kind, started by, returned ready, length in tenths of a minute or -1, events, seconds)."""
    students: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Students with a TAB of each category (section, key)."""
    per_student: list[Sequence[Any]] = field(default_factory=lambda: [()] * 5)
    """Per student with a TAB, as columns: the students, their events, seconds, TAB Outs and
    seconds of TAB Out."""


def _tabs_from_records(context: Context) -> _TabCounts:
    table = tables.tab_events
    query = sa.select(
        table.c.student_id,
        table.c.kind,
        table.c.started_by,
        table.c.returned_ready,
        table.c.minutes,
    ).where(*tab_conditions(context))
    lengths: Counter[tuple[str, str, str, int]] = Counter()
    seconds_of: Counter[tuple[str, str, str, int]] = Counter()
    categories: dict[tuple[str, str], set[str]] = {}
    per_student: dict[str, list[int]] = {}
    for student_id, kind, started_by, returned_ready, minutes in context.connection.execute(query):
        ready = rollup.ready_key(returned_ready)
        seconds, tenths = rollup.tab_length(None if minutes is None else float(minutes))
        key = (kind, started_by, ready, tenths)
        lengths[key] += 1
        seconds_of[key] += seconds
        for category in (("kind", kind), ("started_by", started_by), ("returned_ready", ready)):
            categories.setdefault(category, set()).add(student_id)
        out = kind in rollup.TAB_OUT_KINDS
        sums = per_student.setdefault(student_id, [0, 0, 0, 0])
        sums[0] += 1
        sums[1] += seconds
        sums[2] += int(out)
        sums[3] += seconds if out else 0
    return _TabCounts(
        [(*key, count, seconds_of[key]) for key, count in lengths.items()],
        Counter({category: len(ids) for category, ids in categories.items()}),
        [list(per_student), *zip(*per_student.values(), strict=True)] if per_student else [()] * 5,
    )


def _tabs_kept(context: Context) -> _TabCounts:
    counts = _TabCounts()
    counts.lengths = rolled.tab_lengths(context)
    per_student = rolled.student_sums(
        context, ["tabs", "tab_seconds", "tab_outs", "tab_out_seconds", *TAB_CATEGORY_SUMS]
    ).subquery()
    rows = context.connection.execute(sa.select(per_student).where(per_student.c.tabs > 0)).all()
    columns = _columns(rows, 5 + len(TAB_CATEGORY_SUMS))
    counts.per_student = columns[:5]
    # students with a TAB of each category: those whose count of them is not 0
    counts.students = Counter(
        {
            (section, key): len(column) - column.count(0)
            for (section, key, _), column in zip(TAB_CATEGORIES, columns[5:], strict=True)
        }
    )
    return counts


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[Sequence[Any]]:
    """``rows`` (each ``width`` long) as columns."""
    return list(zip(*rows, strict=True)) if rows else [()] * width


@lru_cache(maxsize=64)
def _tab_categories(kind: str, started_by: str, ready: str) -> tuple[tuple[str, str], ...]:
    """The categories of the TAB report a Take a Break of this kind, starter and return is in."""
    return (("total", "all"), ("kind", kind), ("started_by", started_by), ("returned_ready", ready))


def _weighted_medians(
    entries: Iterable[tuple[tuple[Hashable, ...], int, int]],
) -> dict[Hashable, float]:
    """The median value of each category, from entries (the categories it is in, a value, how
    many times it occurs): the values are put in order once, and each category's middle ones are
    found by bisecting its running counts."""
    members: dict[Hashable, list[tuple[int, int]]] = {}
    for categories, value, count in sorted(entries, key=itemgetter(1)):
        for category in categories:
            found = members.get(category)
            if found is None:
                found = members[category] = []
            found.append((value, count))
    medians: dict[Hashable, float] = {}
    for category, pairs in members.items():
        running = list(accumulate(map(itemgetter(1), pairs)))
        total = running[-1]
        if total:
            low = pairs[bisect_right(running, (total - 1) // 2)][0]
            high = pairs[bisect_right(running, total // 2)][0]
            medians[category] = (low + high) / 2
    return medians


def tab(context: Context) -> Built:
    counts = _tabs_kept(context) if rolled.usable(context) else _tabs_from_records(context)
    notes = [
        "Take a Break is a support, never discipline: it is not a removal, ISS or exclusion.",
        "Minutes are counted from each Take a Break's length in whole seconds; the median is "
        "taken over lengths in tenths of a minute.",
    ]
    if context.filters.level is not None:
        notes.append("The level filter does not apply to Take a Break.")
    population = _population(context, counts.per_student[0])
    small = _small_group(context, population)
    if small:
        return Built([], notes + small)
    rows: list[Row] = []
    seconds: Counter[tuple[str, str]] = Counter()
    events: Counter[tuple[str, str]] = Counter()
    # summed per (kind, started by, returned ready) first (a few), then per category
    per_key: dict[tuple[str, str, str], list[int]] = {}
    known: list[tuple[tuple[tuple[str, str], ...], int, int]] = []
    for kind, started_by, ready, tenths, count, length in counts.lengths:
        sums = per_key.get((kind, started_by, ready))
        if sums is None:
            sums = per_key[(kind, started_by, ready)] = [0, 0]
        sums[0] += count
        sums[1] += length
        if tenths != rollup.UNKNOWN_LENGTH and count:
            known.append((_tab_categories(kind, started_by, ready), tenths, count))
    for (kind, started_by, ready), (count, length) in per_key.items():
        for category in _tab_categories(kind, started_by, ready):
            events[category] += count
            seconds[category] += length
    medians = _weighted_medians(known)
    for section, key, label in (("total", "all", "All Take a Break events"), *TAB_CATEGORIES):
        category = (section, key)
        median = medians.get(category)
        rows.append(
            {
                "section": section,
                "key": key,
                "label": label,
                "events": events[category],
                "minutes_total": round(seconds[category] / 60, 1),
                "minutes_median": None if median is None else round(median / 10, 1),
                "students": len(counts.per_student[0])
                if section == "total"
                else counts.students[category],
                "share": _share(events[category], events[("total", "all")]),
            }
        )
    columns = counts.per_student
    suppressed, complementary = _tab_groups(context, columns, population, rows)
    if _private_group(context):
        notes.append("Single students are not listed when the report is filtered by race or sex.")
    else:
        students, _, _, outs, out_seconds = columns
        listed = sorted(
            (
                (student_id, student_outs, student_seconds)
                for student_id, student_outs, student_seconds in zip(
                    students, outs, out_seconds, strict=True
                )
                if student_outs and population[student_id].iep
            ),
            key=lambda item: (-item[2], item[0]),
        )
        for student_id, outs, out_seconds in listed:
            rows.append(
                {
                    "section": "iep_tab_out",
                    "key": student_id,
                    "label": population[student_id].name,
                    "events": outs,
                    "minutes_total": round(out_seconds / 60, 1),
                }
            )
    thresholds = context.config.suppression
    suppression = Suppression(
        min_numerator=thresholds.min_numerator,
        min_denominator=thresholds.min_denominator,
        applies_to=["group"],
        suppressed_cells=suppressed,
        complementary_cells=complementary,
    )
    return Built(rows, notes, suppression)


def _tab_groups(
    context: Context, columns: list[Sequence[Any]], population: Population, rows: list[Row]
) -> tuple[int, int]:
    """TAB use by student group (students with a TAB of those enrolled), suppressed like the
    equity report: a hidden group hides its events and minutes too. ``columns``: those of the
    per-student counts (student, events, seconds, TAB Outs, seconds of TAB Out)."""
    thresholds = context.config.suppression
    limits = Thresholds(thresholds.min_numerator, thresholds.min_denominator)
    suppressed = complementary = 0
    ids, tabs_each, seconds_each, _, _ = columns
    combined = population.sums(ids, tabs_each, seconds_each)
    sizes = population.sizes()
    for index, dimension in enumerate(DIMENSIONS):
        groups = sorted(sizes[dimension])
        enrolled_count = {group: sizes[dimension][group] for group in groups}
        users: Counter[str] = Counter()
        events: Counter[str] = Counter()
        seconds: Counter[str] = Counter()
        for combination, (students, tabs, tab_seconds) in combined.items():
            group = combination[index]
            users[group] += students
            events[group] += tabs
            seconds[group] += tab_seconds
        used = {group: users[group] for group in groups}
        decision = suppress_table(groups, enrolled_count, {"tab": used}, limits)
        suppressed += decision.cell_count
        complementary += decision.complementary_count
        for group in groups:
            why = decision.reason("tab", group)
            label = _group_label(dimension, group)
            if why is not None:
                rows.append(
                    {
                        "section": "group",
                        "key": f"{dimension}:{group}",
                        "label": label,
                        "suppressed": True,
                        "reason": limits.describe(why),
                    }
                )
                continue
            rows.append(
                {
                    "section": "group",
                    "key": f"{dimension}:{group}",
                    "label": label,
                    "events": events[group],
                    "minutes_total": round(seconds[group] / 60, 1),
                    "students": users[group],
                    "enrolled": enrolled_count[group],
                    "share": _share(users[group], enrolled_count[group]),
                    "suppressed": False,
                }
            )
    return suppressed, complementary


def _group_label(dimension: Dimension, group: str) -> str:
    if dimension == "race":
        return RACE_CATEGORIES.get(group, group)
    if dimension == "iep":
        return "IEP" if group == "yes" else "No IEP"
    if dimension == "grade":
        return f"Grade {group}" if group != "not_reported" else "Grade not reported"
    return "Sex not reported" if group == "not_reported" else f"Sex: {group}"


FOLLOW_UP_KINDS = {
    "family_contact": "Contact the family",
    "corrective_feedback": "Give corrective feedback",
    "student_version": "Hear the student's version",
    "repair_plan": "Make a repair-and-reflection plan",
}
MINUTES_PER_DAY = 1440


@dataclass
class _FollowUpGroup:
    """One row of the follow-ups report before it is written out."""

    total: int = 0
    done: int = 0
    overdue: int = 0
    median_minutes: float | None = None


def _follow_up_conditions(context: Context) -> list[sa.ColumnElement[bool]]:
    table = tables.follow_ups
    return [
        table.c.tombstone.is_(False),
        table.c.voided_at.is_(None),
        *incident_conditions(context),
    ]


def _follow_ups_from_records(context: Context) -> dict[str, _FollowUpGroup]:
    """Per kind (and ``""`` for all), from the records."""
    table, incidents = tables.follow_ups, tables.incidents
    now = rollup.utc(context.now)
    overdue = sa.and_(table.c.done_at.is_(None), table.c.due_at < now)
    query = (
        sa.select(table.c.kind, table.c.created_at, table.c.done_at, as_int(overdue))
        .select_from(table.join(incidents, incidents.c.id == table.c.incident_id))
        .where(*_follow_up_conditions(context))
    )
    groups: dict[str, _FollowUpGroup] = {}
    lengths: dict[str, Counter[int]] = {}
    for kind, created_at, done_at, late in context.connection.execute(query):
        minutes = rollup.follow_up_minutes(created_at, done_at)
        for key in (kind, ""):
            group = groups.setdefault(key, _FollowUpGroup())
            group.total += 1
            group.overdue += 1 if late else 0
            if minutes != rollup.OPEN:
                group.done += 1
                lengths.setdefault(key, Counter())[minutes] += 1
    medians = _weighted_medians(
        ((key,), minutes, count)
        for key, counted in lengths.items()
        for minutes, count in counted.items()
    )
    for key, group in groups.items():
        group.median_minutes = medians.get(key)
    return groups


def _follow_ups_kept(context: Context) -> dict[str, _FollowUpGroup]:
    """Per kind (and ``""`` for all), from the counts kept on write: the hour rows give the
    counts and which hour holds a median, the minute rows of that hour the median itself; the
    open follow-ups due today (UTC) before now come from the records (the kept counts know only
    the day an open follow-up is due)."""
    now = rollup.utc(context.now)
    assert now is not None
    today = now.date()
    groups: dict[str, _FollowUpGroup] = {}
    hours: dict[str, Counter[int]] = {}
    kept = rolled.FollowUpCounts(context)
    for kind, minutes, count, overdue in kept.by_hour(today):
        for key in (kind, ""):
            group = groups.setdefault(key, _FollowUpGroup())
            group.total += count
            group.overdue += overdue
            if minutes != rollup.OPEN:
                group.done += count
                hours.setdefault(key, Counter())[minutes] += count
    kinds = sorted(key for key in groups if key)
    for kind, overdue in _due_today(context, now).items():
        for key in (kind, ""):
            groups.setdefault(key, _FollowUpGroup()).overdue += overdue
    within: dict[int, list[tuple[str, int, int]]] = {}

    def minutes_within(key: str, hour: int) -> Counter[int]:
        if hour not in within:
            within[hour] = kept.within_hour(kinds, hour)
        found: Counter[int] = Counter()
        for kind, minutes, count in within[hour]:
            if key in ("", kind):
                found[minutes] += count
        return found

    for key, counted in hours.items():
        groups[key].median_minutes = _two_grain_median(counted, partial(minutes_within, key))
    return {key: group for key, group in groups.items() if group.total}


def _due_today(context: Context, now: datetime) -> Counter[str]:
    """Counted open follow-ups due from the start of ``now``'s UTC day to ``now``, per kind: the
    few of them first (the open-follow-ups index), then which of their incidents count."""
    table = tables.follow_ups
    start = datetime.combine(now.date(), time(), UTC)
    connection = context.connection
    due = connection.execute(
        sa.select(table.c.incident_id, table.c.kind).where(
            table.c.done_at.is_(None),
            table.c.tombstone.is_(False),
            table.c.voided_at.is_(None),
            table.c.due_at >= start,
            table.c.due_at < now,
        )
    ).all()
    if not due:
        return Counter()
    incidents = tables.incidents
    counted = set(
        connection.execute(
            sa.select(incidents.c.id).where(
                among(connection, incidents.c.id, sorted({row[0] for row in due})),
                *incident_conditions(context),
            )
        ).scalars()
    )
    return Counter(kind for incident_id, kind in due if incident_id in counted)


def _two_grain_median(
    hours: Mapping[int, int], minutes_within: Callable[[int], Mapping[int, int]]
) -> float | None:
    """The median of values counted per hour (``hours``: hour -> how many) whose exact values
    ``minutes_within(hour)`` gives (value -> how many) for the hours that hold a middle one."""
    ordered = sorted((hour, count) for hour, count in hours.items() if count)
    total = sum(count for _, count in ordered)
    if not total:
        return None
    middle: list[int] = []
    for position in ((total - 1) // 2, total // 2):
        seen = 0
        for hour, count in ordered:
            if position < seen + count:
                for value, many in sorted(minutes_within(hour).items()):
                    if position < seen + many:
                        middle.append(value)
                        break
                    seen += many
                break
            seen += count
    if len(middle) != 2:
        raise RuntimeError("the follow-ups' kept counts disagree between grains")
    return (middle[0] + middle[1]) / 2


def follow_ups(context: Context) -> Built:
    groups = (
        _follow_ups_kept(context) if rolled.usable(context) else _follow_ups_from_records(context)
    )
    rows: list[Row] = [
        _follow_up_row(
            "total" if key == "" else "kind",
            key or "all",
            "All follow-ups" if key == "" else FOLLOW_UP_KINDS.get(key, key),
            groups[key],
        )
        for key in sorted(groups)
    ]
    if not rows:
        rows.append(_follow_up_row("total", "all", "All follow-ups", _FollowUpGroup()))
    notes = [
        "Follow-ups of voided records are closed as no longer needed and not counted.",
        "Overdue: open past its due date; a follow-up without a due date is never overdue.",
        "Days to done are counted from whole minutes between created and done (rounded down); "
        "the median is taken over those.",
    ]
    return Built(rows, notes)


def _follow_up_row(section: str, key: str, label: str, group: _FollowUpGroup) -> Row:
    median = group.median_minutes
    return {
        "section": section,
        "key": key,
        "label": label,
        "total": group.total,
        "open": group.total - group.done,
        "overdue": group.overdue,
        "done": group.done,
        "completion_rate": _share(group.done, group.total),
        "median_days_to_done": None if median is None else round(median / MINUTES_PER_DAY, 2),
    }


def progression(context: Context) -> Built:
    table = tables.incidents
    connection = context.connection
    conditions = incident_conditions(context)
    names = behavior_names(connection)
    rows: list[Row] = []
    fast = rolled.usable(context)
    if fast:
        bypasses = [
            (school_id, code, sums.bypasses)
            for (school_id, code), sums in rolled.incident_sums(
                context, "behavior", by_school=True, having="bypasses"
            ).items()
            if sums.bypasses
        ]
    else:
        bypasses = [
            (school_id, code, int(count))
            for school_id, code, count in connection.execute(
                sa.select(table.c.school_id, table.c.behavior_code, sa.func.count())
                .where(*conditions, table.c.progression_bypassed.is_(True))
                .group_by(table.c.school_id, table.c.behavior_code)
            )
        ]
    for school_id, code, count in sorted(bypasses, key=lambda row: (-row[2], row[0] or "", row[1])):
        rows.append(
            {
                "section": "bypass",
                "key": f"{school_id}/{code}",
                "label": names.get(code, code),
                "school_id": school_id,
                "behavior_code": code,
                "bypasses": int(count),
            }
        )
    students_with_repeats, pair_count, top = _repeats(context)
    rows.append(
        {
            "section": "repeat_total",
            "key": "all",
            "label": "Students with repeated Level 2 incidents for one behavior",
            "incidents": students_with_repeats,
        }
    )
    notes = [INTERVENTIONS_NOTE]
    if _private_group(context):
        notes.append("Single students are not listed when the report is filtered by race or sex.")
    else:
        population = _population(context, {row[0] for row in top})
        recorded = _interventions(context, {row[0] for row in top})
        for student_id, code, count in top:
            rows.append(
                {
                    "section": "repeat",
                    "key": f"{student_id}/{code}",
                    "label": f"{population[student_id].name}: {names.get(code, code)}",
                    "student_id": student_id,
                    "behavior_code": code,
                    "incidents": int(count),
                    "interventions": recorded.get((student_id, code), 0)
                    + recorded.get((student_id, None), 0),
                }
            )
        if pair_count > TOP_REPEATS:
            notes.append(
                f"Repeats: the {TOP_REPEATS} student-behavior pairs with the most incidents of "
                f"{pair_count}."
            )
    if context.first < context.last - timedelta(days=366):
        notes.append("The period spans more than a school year: repeats are counted across it.")
    return Built(rows, notes)


def _repeats(context: Context) -> tuple[int, int, list[tuple[str, str, int]]]:
    """Students with two or more counted incidents of one behavior, such pairs, and the
    ``TOP_REPEATS`` pairs with the most (most first, then by student and behavior)."""
    if rolled.usable(context, per_behavior=True):
        pairs = rolled.student_sums(context, ["incidents"], behaviors=True).subquery()
        # written out, not bound, so that the repeated pairs' partial index applies
        repeated = pairs.c.incidents >= sa.literal_column("2")
        # grouped by student, not count(DISTINCT): PostgreSQL sorts for a distinct count, and
        # hashes for a grouping, several times faster over 100,000 pairs
        per_student = (
            sa.select(pairs.c.student_id, sa.func.count().label("pairs"))
            .where(repeated)
            .group_by(pairs.c.student_id)
            .subquery()
        )
        students, pair_count = context.connection.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(per_student.c.pairs), 0))
        ).one()
        top = context.connection.execute(
            sa.select(pairs.c.student_id, pairs.c.behavior_code, pairs.c.incidents)
            .where(repeated)
            .order_by(pairs.c.incidents.desc(), pairs.c.student_id, pairs.c.behavior_code)
            .limit(TOP_REPEATS)
        )
        return int(students), int(pair_count), [(a, b, int(n)) for a, b, n in top]
    table = tables.incidents
    repeats = context.connection.execute(
        sa.select(table.c.student_id, table.c.behavior_code, sa.func.count().label("n"))
        .where(*incident_conditions(context))
        .group_by(table.c.student_id, table.c.behavior_code)
        .having(sa.func.count() >= 2)
    ).all()
    ranked = sorted(repeats, key=lambda row: (-row[2], row[0], row[1]))
    return (
        len({row[0] for row in repeats}),
        len(repeats),
        [(a, b, int(n)) for a, b, n in ranked[:TOP_REPEATS]],
    )


def _interventions(context: Context, students: set[str]) -> dict[tuple[str, str | None], int]:
    """Live, not voided interventions per (student, behavior; None for all behaviors) that
    started in the period."""
    table = tables.interventions
    counted: dict[tuple[str, str | None], int] = {}
    wanted = sorted(students)
    for start in range(0, len(wanted), 500):
        query = (
            sa.select(table.c.student_id, table.c.behavior_code, sa.func.count())
            .where(
                table.c.tombstone.is_(False),
                table.c.voided_at.is_(None),
                table.c.starts_on >= context.first,
                table.c.starts_on <= context.last,
                table.c.student_id.in_(wanted[start : start + 500]),
            )
            .group_by(table.c.student_id, table.c.behavior_code)
        )
        for student_id, code, count in context.connection.execute(query):
            counted[(student_id, code)] = int(count)
    return counted


def _outcome_students(context: Context) -> dict[Outcome, Collection[str]]:
    """The students with each outcome (each student once)."""
    table, tabs = tables.incidents, tables.tab_events
    connection = context.connection
    if rolled.usable(context):
        sums = rolled.student_sums(context, ["incidents", "removals", "iss", "tab_outs"])
        students, *counts = _columns(connection.execute(sums).all(), 5)
        kept: tuple[Outcome, ...] = ("any_level2", "removal", "iss", "tab_out")
        # one row per student: those whose count of the outcome is not 0
        outcomes: dict[Outcome, Collection[str]] = {
            outcome: list(compress(students, count))
            for outcome, count in zip(kept, counts, strict=True)
        }
        outcomes["office_referral"] = _referred_students(context)
        return outcomes
    found: dict[Outcome, set[str]] = {"any_level2": set(), "removal": set(), "iss": set()}
    query = (
        sa.select(
            table.c.student_id,
            sa.func.max(as_int(table.c.is_removal)),
            sa.func.max(as_int(table.c.is_iss)),
        )
        .where(*incident_conditions(context))
        .group_by(table.c.student_id)
    )
    for student_id, removal, iss in connection.execute(query):
        found["any_level2"].add(student_id)
        if removal:
            found["removal"].add(student_id)
        if iss:
            found["iss"].add(student_id)
    tab_query = (
        sa.select(tabs.c.student_id)
        .where(*tab_conditions(context), tabs.c.kind.in_(rollup.TAB_OUT_KINDS))
        .distinct()
    )
    found["tab_out"] = {row[0] for row in connection.execute(tab_query)}
    found["office_referral"] = _referred_students(context)
    return dict(found)


def _referred_students(context: Context) -> set[str]:
    referrals = tables.office_referrals
    referral_query = (
        sa.select(referrals.c.student_id).where(*referral_conditions(context)).distinct()
    )
    return {row[0] for row in context.connection.execute(referral_query)}


def equity(context: Context) -> Built:
    outcomes = _outcome_students(context)
    with_any = set().union(*outcomes.values())
    population = _population(context, with_any)
    notes = [OFFICE_REFERRALS_NOTE]
    if context.filters.level is not None:
        notes.append("The level filter does not apply to TAB Out.")
    small = _small_group(context, population)
    thresholds = context.config.suppression
    limits = Thresholds(thresholds.min_numerator, thresholds.min_denominator)
    if small:
        return Built(
            [], notes + small, Suppression(**thresholds.model_dump(), applies_to=["equity"])
        )
    shown: list[Outcome] = [outcome for outcome in OUTCOMES if outcome in outcomes]
    rows: list[Row] = []
    total_enrolled = len(population)
    totals = {outcome: len(outcomes[outcome]) for outcome in shown}
    suppressed = complementary = 0
    hidden_totals: dict[str, Reason] = {}
    decisions = {}
    sizes = population.sizes()
    with_outcome = {outcome: population.tally(outcomes[outcome]) for outcome in shown}
    for dimension in DIMENSIONS:
        groups = sorted(sizes[dimension])
        enrolled_count = {group: sizes[dimension][group] for group in groups}
        numerators: dict[str, dict[str, int]] = {
            outcome: {group: with_outcome[outcome][dimension][group] for group in groups}
            for outcome in shown
        }
        decision = suppress_table(groups, enrolled_count, numerators, limits)
        decisions[dimension] = (groups, enrolled_count, numerators, decision)
        for outcome, why in decision.hidden_totals.items():
            hidden_totals.setdefault(outcome, why)
    for outcome in shown:
        total_why = hidden_totals.get(outcome)
        rows.append(
            _equity_row(outcome, "all", "all", "All students", total_enrolled, totals[outcome],
                        total_enrolled, totals[outcome],
                        limits.describe(total_why) if total_why else None)
        )  # fmt: skip
        for dimension in DIMENSIONS:
            groups, enrolled_count, numerators, decision = decisions[dimension]
            for group in groups:
                cell_why = decision.reason(outcome, group)
                if cell_why is None and total_why is not None:
                    cell_why = "complementary"
                rows.append(
                    _equity_row(outcome, dimension, group, _group_label(dimension, group),
                                enrolled_count[group], numerators[outcome][group],
                                total_enrolled, totals[outcome],
                                limits.describe(cell_why) if cell_why else None)
                )  # fmt: skip
    for row in rows:
        if row["suppressed"]:
            suppressed += 1
            if row["reason"] == limits.describe("complementary"):
                complementary += 1
    suppression = Suppression(
        min_numerator=thresholds.min_numerator,
        min_denominator=thresholds.min_denominator,
        applies_to=["equity"],
        suppressed_cells=suppressed,
        complementary_cells=complementary,
    )
    notes.append(
        "Risk: students with the outcome / students enrolled. Risk ratio: the group's risk / "
        "the risk of all other students. Composition: the group's share of students with the "
        "outcome beside its share of enrollment."
    )
    return Built(rows, notes, suppression)


def _equity_row(
    outcome: Outcome,
    dimension: str,
    group: str,
    label: str,
    enrolled_count: int,
    with_outcome: int,
    total_enrolled: int,
    total_with: int,
    reason: str | None,
) -> Row:
    base: Row = {
        "section": "equity",
        "outcome": outcome,
        "dimension": dimension,
        "group": group,
        "label": f"{OUTCOME_LABELS[outcome]}: {label}",
    }
    if reason is not None:
        return base | {
            "enrolled": None,
            "with_outcome": None,
            "risk": None,
            "risk_ratio": None,
            "composition_outcome": None,
            "composition_enrolled": None,
            "suppressed": True,
            "reason": reason,
        }
    risk = with_outcome / enrolled_count if enrolled_count else None
    others_enrolled = total_enrolled - enrolled_count
    others_with = total_with - with_outcome
    others_risk = others_with / others_enrolled if others_enrolled else None
    ratio = None
    if dimension != "all" and risk is not None and others_risk:
        ratio = round(risk / others_risk, 2)
    return base | {
        "enrolled": enrolled_count,
        "with_outcome": with_outcome,
        "risk": round(risk, 4) if risk is not None else None,
        "risk_ratio": ratio,
        "composition_outcome": _share(with_outcome, total_with),
        "composition_enrolled": _share(enrolled_count, total_enrolled),
        "suppressed": False,
        "reason": None,
    }


REPORT_BUILDERS: dict[ReportName, Callable[[Context], Built]] = {
    "big5": big5,
    "levels": levels,
    "tab": tab,
    "follow-ups": follow_ups,
    "progression": progression,
    "equity": equity,
}
