"""One exception tree: every error classlog raises on purpose descends from ClasslogError, and
the mistakes a user can make sit on the UserError branch."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

from schema.errors import ClasslogError, UserError, one_line

PACKAGES = ("classlog", "schema", "syncd", "district", "tui")


def exception_classes() -> dict[str, type[BaseException]]:
    """Every exception class defined in classlog's own packages, by qualified name."""
    found: dict[str, type[BaseException]] = {}
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            if ".migrations" in info.name or info.name.endswith("__main__"):
                continue
            module = importlib.import_module(info.name)
            for name, value in vars(module).items():
                if (
                    inspect.isclass(value)
                    and issubclass(value, BaseException)
                    and value.__module__ == module.__name__
                ):
                    found[f"{module.__name__}.{name}"] = value
    return found


def test_every_exception_classlog_defines_descends_from_the_one_root() -> None:
    classes = exception_classes()
    assert "schema.store.OfficeManagedError" in classes
    outside = sorted(name for name, cls in classes.items() if not issubclass(cls, ClasslogError))
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
    assert issubclass(exception_classes()[name], UserError)


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
    cls = exception_classes()[name]
    assert issubclass(cls, ClasslogError)
    assert not issubclass(cls, UserError)


def test_one_line_folds_line_breaks_and_never_answers_empty() -> None:
    assert one_line(UserError("first\nsecond\r\n  third")) == "first second third"
    assert one_line(UserError()) == "UserError"
