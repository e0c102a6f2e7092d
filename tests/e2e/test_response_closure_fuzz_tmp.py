"""Temporary: schemathesis over the closure routes only (removed after the run)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from conftest import World, token_for

lazy_schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def api_schema(app, world: World):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_asgi("/api/openapi.json", app).include(path_regex="closures")


@pytest.fixture
def role_headers(client, world: World) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    return [token_for(client, f"home_{role}") for role in ("investigator", "command_centre")]


@lazy_schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_closures_never_5xx(case, role_headers) -> None:  # type: ignore[no-untyped-def]
    for headers in role_headers:
        response = case.call(headers=headers)
        assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
