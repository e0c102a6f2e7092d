"""Schemathesis over the OpenAPI schema: whatever it sends, the API never answers 5xx.

Each generated request is sent as one of several roles of the home county in turn (between them they may
call every route: investigator, surveillance analyst, command centre, administrator) against the seeded
world, on both databases, since some inputs (huge integers, odd text) fail differently in PostgreSQL and
SQLite.
"""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from conftest import World, token_for

lazy_schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def api_schema(app, world: World):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_asgi("/api/openapi.json", app)


FUZZ_ROLES = ("investigator", "surveillance_analyst", "command_centre", "administrator")
# Requests that start minutes of simulation in the background (a strategy comparison, a drill) are left
# to their own integration tests: fuzzing them would run hundreds of simulations.
LONG_RUNNING = re.compile(r"^/api/modeling/(comparisons|drills)")


class Roles:
    """The fuzzing roles, handed out in turn: each generated request is sent as one of them, skipping a
    role the operation has already refused (403), so every request does work and a role that may call
    an operation sees its share of the cases."""

    def __init__(self, headers: dict[str, dict[str, str]]) -> None:
        self.headers = headers
        self.turn = 0
        self.refused: dict[str, set[str]] = {}

    def next_for(self, operation: str) -> tuple[str, dict[str, str]]:
        refused = self.refused.setdefault(operation, set())
        allowed = [role for role in FUZZ_ROLES if role not in refused] or list(FUZZ_ROLES)
        self.turn += 1
        role = allowed[self.turn % len(allowed)]
        return role, self.headers[role]


@pytest.fixture
def roles(client, world: World) -> Roles:  # type: ignore[no-untyped-def]
    return Roles({role: token_for(client, f"home_{role}") for role in FUZZ_ROLES})


@lazy_schema.parametrize()
# Schemathesis' coverage phase sends the schema's boundary and negative cases of every parameter, and
# the fuzzing phase three generated requests more; with 221 operations on two databases this is still
# the largest share of the suite's time, which CI holds to 40 minutes. Each request goes to one role in
# turn (sending each to all four took some 16 minutes of the suite's 53 in CI).
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_api_answer_5xx(case, roles: Roles) -> None:  # type: ignore[no-untyped-def]
    if case.method == "POST" and LONG_RUNNING.match(case.path):
        return
    operation = f"{case.method} {case.path}"
    role, headers = roles.next_for(operation)
    response = case.call(headers=headers)
    if response.status_code == 403:
        roles.refused[operation].add(role)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} as {role} -> {response.status_code}: {response.text[:300]}"
    )
