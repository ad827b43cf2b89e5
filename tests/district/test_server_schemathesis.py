"""Property-based fuzzing of the published OpenAPI document: whatever schemathesis sends, the
server never answers with a 5xx. Run as a district admin so requests get past authentication;
one run without a token covers the 401 paths."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from serverkit import make_code, server_settings

from district.app import create_app
from district.db import create_engine
from district.devices import enroll
from schema.wire import EnrollRequest

MAX_EXAMPLES = 50


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
    return schemathesis.openapi.from_asgi("/openapi.json", app)


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
    case.call_and_validate(headers=headers, checks=[not_a_server_error])
