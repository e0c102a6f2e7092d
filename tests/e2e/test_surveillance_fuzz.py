"""Schemathesis over the surveillance API as an analyst (who may write, configure and respond): whatever
it sends, no surveillance route answers 5xx. The shared fuzz test calls as an investigator, who is
refused most surveillance writes, so this one covers them.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from conftest import World, token_for

lazy_schema = schemathesis.pytest.from_fixture("surveillance_schema")


@pytest.fixture
def surveillance_schema(app, world: World):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_asgi("/api/openapi.json", app).include(path_regex="^/api/surveillance/")


@pytest.fixture
def analyst_headers(client, world: World) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return token_for(client, "home_surveillance_analyst")


@pytest.mark.slow
@lazy_schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_a_surveillance_route_answer_5xx(case, analyst_headers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    response = case.call(headers=analyst_headers)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    )
