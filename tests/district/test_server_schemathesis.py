"""Property-based fuzzing of the published OpenAPI document with every schemathesis check:
whatever it sends, the server never answers with a 5xx or a status code its document does not
list, and its answers match the document. Run as a district admin so requests get past
authentication; one run without a token covers the 401 paths."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks
from serverkit import make_code, server_settings

from district.app import create_app
from district.db import create_engine
from district.devices import enroll
from schema.wire import EnrollRequest

MAX_EXAMPLES = 50
load_all_checks()
ALL_CHECKS = list(CHECKS.get_all())
"""Every check schemathesis has (its ``--checks all``): no server error, no undocumented status
code or content type, responses matching their schemas, bad data refused, good data accepted,
auth not ignored. Strings hold no NUL: the server refuses text no database can store (422) by
design, ahead of any route."""


@pytest.fixture
def admin_token_and_app(database_url: str) -> Iterator[tuple[str, object]]:
    engine: sa.Engine = create_engine(database_url)
    code = make_code(engine, "admin", None)
    token = enroll(
        engine, EnrollRequest(code=code, device_id="fuzz-admin"), datetime.now(UTC)
    ).token
    yield token, create_app(server_settings(database_url), engine=engine)
    engine.dispose()


@pytest.fixture
def api_schema(admin_token_and_app: tuple[str, object]) -> schemathesis.BaseSchema:
    _token, app = admin_token_and_app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.config.generation.update(allow_x00=False)
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_request_makes_the_server_fail(
    case: schemathesis.Case, admin_token_and_app: tuple[str, object]
) -> None:
    token, _app = admin_token_and_app
    headers = dict(case.headers or {})
    headers.setdefault("Authorization", f"Bearer {token}")
    case.call_and_validate(headers=headers, checks=ALL_CHECKS)
