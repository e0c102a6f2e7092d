"""Schemathesis over the OpenAPI schema: whatever it sends, the API never answers 5xx.

Calls are made as a county investigator (most routes reachable) against the seeded world, on both
databases, since some inputs (huge integers, odd text) fail differently in PostgreSQL and SQLite.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from conftest import World, token_for

lazy_schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def api_schema(app, world: World):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_asgi("/api/openapi.json", app)


@pytest.fixture
def auth_headers(client, world: World) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return token_for(client, "home_investigator")


@lazy_schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_api_answer_5xx(case, auth_headers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    response = case.call(headers=auth_headers)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    )
