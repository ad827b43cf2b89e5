"""In-process against the real district app (``district.app.create_app``) through an httpx
ASGI transport, with injectable clocks on both sides: the clock scenarios and an
administrator's correction, on the server's real rules rather than the fake's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from realapp import RealDistrict
from realworld import Templates
from synckit import ManualClock

from schema.store import DeviceStore, IncidentChanges
from schema.wire import MAX_CLOCK_AHEAD_MS

YEAR_MS = 365 * 24 * 3600 * 1000
DAY_MS = 24 * 3600 * 1000


@pytest.fixture
async def real(tmp_path: Path, templates: Templates) -> AsyncIterator[RealDistrict]:
    clock = ManualClock(int(datetime.now(UTC).timestamp() * 1000))
    district = RealDistrict(tmp_path, templates, clock)
    yield district
    await district.close()


def _log(store: DeviceStore, student: str, note: str) -> str:
    from schema.models import IncidentDraft

    draft = IncidentDraft(student_id=student, behavior_code="DIS-CLASS", level=2, note=note)
    return store.log_incident(draft).id


async def test_real_server_clock_a_year_ahead_is_restamped_and_accepted(
    real: RealDistrict, templates: Templates
) -> None:
    ahead = ManualClock(real.clock.ms + YEAR_MS)
    store, engine = await real.device("ahead", ahead)
    first = _log(store, templates.student_ids[0], "a year ahead")
    store.edit_incident(first, IncidentChanges(note="edited a year ahead"))
    report = await engine.push()
    assert report.restamped > 0
    assert engine.store.pending_count() == 0
    held = await real.held(first)
    assert held is not None
    assert held["fields"]["note"] == "edited a year ahead"  # type: ignore[index]
    limit = real.clock.ms + MAX_CLOCK_AHEAD_MS
    assert all(int(stamp[:13]) <= limit for stamp in held["field_hlc"].values())  # type: ignore[union-attr]
    later = _log(store, templates.student_ids[1], "after the correction")
    await engine.push()
    assert await real.held(later) is not None
    store.close()


async def test_real_server_clock_a_day_behind_and_jumping_back(
    real: RealDistrict, templates: Templates
) -> None:
    behind = ManualClock(real.clock.ms - DAY_MS)
    store, engine = await real.device("behind", behind)
    record = _log(store, templates.student_ids[0], "a day behind")
    await engine.push()
    assert abs(engine.store.clock_offset_ms() - DAY_MS) < 2000
    behind.ms -= 3600 * 1000
    real.clock.advance(1)
    store.edit_incident(record, IncidentChanges(note="after a jump back"))
    await engine.push()
    held = await real.held(record)
    assert held is not None
    assert held["fields"]["note"] == "after a jump back"  # type: ignore[index]
    store.close()


async def test_real_server_admin_correction_reaches_the_owner(
    real: RealDistrict, templates: Templates
) -> None:
    store, engine = await real.device("owner", ManualClock(real.clock.ms))
    record = _log(store, templates.student_ids[0], "original")
    await engine.push()
    real.clock.advance(5)
    response = await real.admin_http.patch(
        f"/v1/admin/records/{record}",
        json={"fields": {"location": "Hallway"}, "reason": "wrong room"},
        headers={"Authorization": f"Bearer {real.admin_token}"},
    )
    assert response.status_code == 200, response.text
    await engine.pull()
    assert store.incident(record).location == "Hallway"
    held = await real.held(record)
    assert held is not None
    assert held["fields"]["location"] == "Hallway"
    store.close()
