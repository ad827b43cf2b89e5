"""An office referral and an intervention end to end with real processes, as a teacher and an
administrator meet them: `classlog referral add` and `classlog intervention add` on the device,
`classlog sync --once` to the real `classlog server`, `classlog district referral decide` on the
server's database, another `sync --once`, and `classlog referral show` printing the decision."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from realworld import ROOT, Templates, World, classlog, run

pytestmark = pytest.mark.e2e

STUDENT = "stu-0004"


@pytest.fixture
def world(tmp_path: Path, templates: Templates):  # type: ignore[no-untyped-def]
    with World(tmp_path, templates) as running:
        yield running


def test_a_referral_goes_to_the_district_and_the_offices_decision_comes_back(
    world: World,
) -> None:
    device = world.device("teacher")
    home = str(device.home)
    saved = run(
        "referral", "add", "--student", STUDENT, "--behavior", "wpn-other",
        "--location", "Gym", "--note", "brought to the office by Mr. Ortiz", "--home", home,
    )  # fmt: skip
    notice, line = saved.splitlines()
    assert notice.startswith("NOTICE: Serious threats of school violence must be reported")
    assert line.startswith("saved office referral ")
    assert "not sent yet" in line
    referral = line.split()[3].rstrip(":")
    run(
        "intervention", "add", "--student", STUDENT, "--kind", "reteaching",
        "--behavior", "DIS-CLASS", "--home", home,
    )  # fmt: skip
    assert device.sync_once().returncode == 0
    assert device.pending() == 0
    held = world.server.state()
    assert held.fields(referral)["behavior_code"] == "WPN-OTHER"
    assert held.fields(referral)["note"] == "brought to the office by Mr. Ortiz"
    assert "decided_level" not in held.fields(referral)
    [intervention] = held.of_kind("intervention").values()
    assert (intervention["student_id"], intervention["kind"]) == (STUDENT, "reteaching")

    refused = subprocess.run(
        classlog(
            *("district", "referral", "decide", referral, "--level", "5", "--oss-days", "2"),
            *("--db", world.server.db_url),
        ),
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ),
        cwd=ROOT,
        timeout=120,
    )
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1
    assert "plan rule oss-days" in refused.stderr
    assert "Traceback" not in refused.stderr

    decided = run(
        "district", "referral", "decide", referral, "--level", "4", "--oss-days", "3",
        "--alternative", "Restorative circle", "--db", world.server.db_url,
    )  # fmt: skip
    assert decided == (
        f"referral {referral}: Level 4: 3 days of OSS; alternatives to suspension offered: "
        "Restorative circle\n"
    )
    assert device.sync_once().returncode == 0
    shown = run("referral", "show", referral, "--home", home)
    assert f"office referral {referral}: {STUDENT}, WPN-OTHER, " in shown
    assert shown.endswith(
        "decision: Level 4: 3 days of OSS; alternatives to suspension offered: Restorative circle\n"
    )
    assert world.server.state().fields(referral)["decided_level"] == 4
