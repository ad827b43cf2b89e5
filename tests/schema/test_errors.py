"""One exception tree: every error classlog raises on purpose descends from ClasslogError, and
the mistakes a user can make sit on the UserError branch."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import textwrap

import pytest

from schema.errors import UserError, one_line

PACKAGES = ("classlog", "schema", "syncd", "district", "tui")


WALK = textwrap.dedent(
    """
    import importlib, inspect, json, pkgutil, sys, warnings

    from schema.errors import ClasslogError, UserError

    warnings.simplefilter("ignore")
    found = {}
    for package_name in sys.argv[1:]:
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, package_name + "."):
            if ".migrations" in info.name or info.name.endswith("__main__"):
                continue
            module = importlib.import_module(info.name)
            for name, value in vars(module).items():
                if (
                    inspect.isclass(value)
                    and issubclass(value, BaseException)
                    and value.__module__ == module.__name__
                ):
                    found[module.__name__ + "." + name] = {
                        "classlog": issubclass(value, ClasslogError),
                        "user": issubclass(value, UserError),
                    }
    print(json.dumps(found))
    """
)


@functools.cache
def exception_classes() -> dict[str, dict[str, bool]]:
    """Every exception class defined in classlog's own packages, by qualified name, with whether
    it is a ClasslogError and a UserError. Walked in a subprocess: importing every module (the
    report's chart library among them) must not change this test process."""
    result = subprocess.run(
        [sys.executable, "-c", WALK, *PACKAGES],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    found: dict[str, dict[str, bool]] = json.loads(result.stdout.splitlines()[-1])
    return found


def test_every_exception_classlog_defines_descends_from_the_one_root() -> None:
    classes = exception_classes()
    assert "schema.store.OfficeManagedError" in classes
    outside = sorted(name for name, kind in classes.items() if not kind["classlog"])
    assert outside == []


@pytest.mark.parametrize(
    "name",
    [
        "schema.store.StoreError",
        "schema.store.OfficeManagedError",
        "schema.grid.GridError",
        "schema.roster.RosterError",
        "district.corrections.CorrectionError",
        "district.devices.EnrollmentCodeError",
        "district.devices.EnrollmentRefused",
        "tui.log.details.TimeError",
    ],
)
def test_a_users_mistake_is_on_the_user_error_branch(name: str) -> None:
    assert exception_classes()[name]["user"]


@pytest.mark.parametrize(
    "name",
    [
        "syncd.client.SyncError",
        "syncd.lock.AlreadyRunningError",
        "schema.db.NewerDatabaseError",
        "district.db.DatabaseError",
    ],
)
def test_a_condition_outside_the_users_hands_is_not_a_user_error(name: str) -> None:
    kind = exception_classes()[name]
    assert kind["classlog"]
    assert not kind["user"]


def test_one_line_folds_line_breaks_and_never_answers_empty() -> None:
    assert one_line(UserError("first\nsecond\r\n  third")) == "first second third"
    assert one_line(UserError()) == "UserError"
