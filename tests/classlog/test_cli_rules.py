"""The plan's rules through the real `classlog` command: notices printed as lines, Title IX
sanctions refused, removals with a length, bypasses with a reason, and interventions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from schema.grid import MANDATORY_REPORTING_NOTICE, TITLE_IX_NOTICE
from schema.models import FollowUpKind, InterventionKind
from schema.store import DeviceStore


def classlog(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLASSLOG_HOME": str(home), "TZ": "UTC"}
    return subprocess.run(
        [sys.executable, "-m", "classlog", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def log_add(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return classlog(home, "log", "add", "--student", "s-1", *args)


def one_line_refusal(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]
    assert "Traceback" not in result.stderr


def test_a_title_ix_behavior_prints_its_notice_and_opens_the_coordinator_follow_up(
    device_home: Path,
) -> None:
    result = log_add(
        device_home, "--behavior", "SEX-EXPOSE", "--level", "1", "--action", "redirect"
    )
    assert result.returncode == 0, result.stderr
    assert f"NOTICE: {TITLE_IX_NOTICE}" in result.stdout.splitlines()
    store = DeviceStore.open(device_home)
    try:
        [incident] = store.todays_incidents()
        kinds = {follow_up.kind for follow_up in store.follow_ups_for(incident.id)}
        assert FollowUpKind.TITLE_IX_COORDINATOR in kinds
    finally:
        store.close()


def test_a_threat_prints_the_mandatory_reporting_notice(device_home: Path) -> None:
    result = log_add(device_home, "--behavior", "WPN-TOY-THREAT", "--level", "2")
    assert result.returncode == 0, result.stderr
    assert f"NOTICE: {MANDATORY_REPORTING_NOTICE}" in result.stdout.splitlines()
    plain = log_add(device_home, "--behavior", "WPN-TOY", "--level", "1")
    assert "NOTICE" not in plain.stdout


def test_a_title_ix_iss_is_refused_with_the_notice_and_nothing_saved(device_home: Path) -> None:
    result = log_add(device_home, "--behavior", "SEX-PANTS", "--level", "2", "--action", "iss")
    one_line_refusal(result, "Title IX")
    assert f"NOTICE: {TITLE_IX_NOTICE}" in result.stdout
    store = DeviceStore.open(device_home)
    try:
        assert store.todays_incidents() == []
    finally:
        store.close()


def test_a_removal_needs_its_length_in_minutes(device_home: Path) -> None:
    refused = log_add(device_home, "--behavior", "DIS-CLASS", "--level", "2", "--action", "removal")
    one_line_refusal(refused, "length")
    saved = log_add(
        device_home,
        "--behavior",
        "DIS-CLASS",
        "--level",
        "2",
        "--action",
        "removal",
        "--removal-minutes",
        "25",
    )
    assert saved.returncode == 0, saved.stderr
    store = DeviceStore.open(device_home)
    try:
        [incident] = store.todays_incidents()
        assert incident.removal_minutes == 25
    finally:
        store.close()


def test_going_higher_without_the_intervention_needs_a_reason_and_an_intervention_lifts_it(
    device_home: Path,
) -> None:
    assert log_add(device_home, "--behavior", "DIS-CLASS", "--level", "1").returncode == 0
    refused = log_add(device_home, "--behavior", "DIS-CLASS", "--level", "2")
    one_line_refusal(refused, "needs a reason")
    recorded = classlog(
        device_home,
        "intervention",
        "add",
        "--student",
        "s-1",
        "--behavior",
        "dis-class",
        "--kind",
        "behavior_analysis",
        "--review",
        "2099-01-01",
    )
    assert recorded.returncode == 0, recorded.stderr
    assert "Behavior analysis for DIS-CLASS" in recorded.stdout
    saved = log_add(device_home, "--behavior", "DIS-CLASS", "--level", "2")
    assert saved.returncode == 0, saved.stderr
    assert "bypassed" not in saved.stdout
    store = DeviceStore.open(device_home)
    try:
        [intervention] = store.interventions_for("s-1")
        assert intervention.kind is InterventionKind.BEHAVIOR_ANALYSIS
        assert not any(i.progression_bypassed for i in store.todays_incidents())
    finally:
        store.close()


def test_intervention_add_refuses_bad_input_in_one_line(device_home: Path) -> None:
    one_line_refusal(
        classlog(device_home, "intervention", "add", "--student", "s-1", "--kind", "district"),
        "needs its name",
    )
    one_line_refusal(
        classlog(
            device_home,
            "intervention",
            "add",
            "--student",
            "s-1",
            "--kind",
            "reteaching",
            "--start",
            "tomorrow",
        ),
        "--start",
    )
    one_line_refusal(
        classlog(device_home, "intervention", "add", "--student", "nobody", "--kind", "reteaching"),
        "unknown student",
    )


def test_an_office_managed_behavior_points_to_a_referral_which_is_saved(
    device_home: Path,
) -> None:
    refused = log_add(device_home, "--behavior", "WPN-FIREARM", "--level", "2")
    one_line_refusal(refused, "classlog referral add --student s-1 --behavior WPN-FIREARM")
    sent = classlog(
        device_home,
        "referral",
        "add",
        "--student",
        "s-1",
        "--behavior",
        "wpn-firearm",
        "--location",
        "Hallway",
        "--note",
        "found in a locker",
    )
    assert sent.returncode == 0, sent.stderr
    assert f"NOTICE: {MANDATORY_REPORTING_NOTICE}" in sent.stdout.splitlines()
    assert "saved office referral" in sent.stdout
    store = DeviceStore.open(device_home)
    try:
        [referral] = store.office_referrals_for("s-1")
        assert (referral.behavior_code, referral.location) == ("WPN-FIREARM", "Hallway")
        assert referral.note == "found in a locker"
        assert store.todays_incidents() == []
    finally:
        store.close()
    one_line_refusal(
        classlog(device_home, "referral", "add", "--student", "s-1", "--behavior", "ADT-VAPE"),
        "not by the office",
    )
