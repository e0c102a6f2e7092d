"""Every route of the app, called as every role and from a foreign jurisdiction.

The routes are enumerated from the app itself, so a route added later is covered without anyone
remembering to add it here. For each route the permission it asks for is read from its ``Require``
dependency; a route with none must be on the short public list below.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select

from areas_support import seed_areas_foreign
from closure_support import seed_closure_foreign
from conftest import FOREIGN_COUNTY, World, seed_modeling_foreign, seed_surveillance_foreign, token_for
from fangkong.core.deps import Require
from fangkong.core.models import Household, Person, Role, User
from fangkong.core.permissions import ROLE_PERMISSIONS
from fangkong.routes import routers
from privacy_support import seed_privacy_foreign
from quarantine_support import seed_quarantine_foreign
from resources_support import seed_resources_foreign
from response_tasks_support import seed_response_foreign
from testing_support import seed_testing_foreign
from vaccination_support import seed_vaccination_foreign

PUBLIC = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/lang/{code}"),
    ("POST", "/api/auth/token"),
    ("GET", "/healthz"),
    # The public risk-area page, its feeds, the subscription and the arrival form (issue 14): no login.
    ("GET", "/public/areas"),
    ("GET", "/public/areas.json"),
    ("GET", "/public/areas/{county_code}.json"),
    ("GET", "/public/arrivals"),
    ("POST", "/public/arrivals"),
    ("POST", "/public/api/arrivals"),
    ("GET", "/public/areas/subscribe"),
    ("POST", "/public/areas/subscribe"),
    ("GET", "/public/areas/unsubscribe"),
    ("POST", "/public/areas/unsubscribe"),
}
# Path parameters that name things every jurisdiction shares (a language, a protocol), not scoped rows.
SHARED_PARAMS = {"code", "protocol_id"}
# Text that only a response about the foreign county could contain.
FOREIGN_MARKERS = ("海曙区", "南门社区", "南门街道", "away_")


def _permission_of(route: APIRoute) -> Require | None:
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, Require):
            return dep.call
        stack.extend(dep.dependencies)
    return None


def _foreign_ids(app, world: World) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with app.state.db.unit_of_work() as session:
        person_id = world.people[FOREIGN_COUNTY][0]
        person = session.get(Person, person_id)
        household = session.scalar(select(Household.id).where(Household.id == person.household_id))
        user = session.scalar(select(User.id).where(User.username == "away_administrator"))
    return {
        "person_id": str(person_id),
        "household_id": str(household),
        "jurisdiction_id": str(world.jurisdictions[FOREIGN_COUNTY]),
        "user_id": str(user),
        "code": "zh",
        "protocol_id": "cn-9",
        **seed_surveillance_foreign(app.state.db, world),
        **_foreign_tracing(app, world),
        **seed_modeling_foreign(app.state.db, world),
        **seed_quarantine_foreign(app, world),
        **seed_areas_foreign(app, world),
        **seed_testing_foreign(app, world),
        **seed_response_foreign(app, world),
        **seed_closure_foreign(app),
        **seed_vaccination_foreign(app, world),
        **seed_privacy_foreign(app, world),
        **seed_resources_foreign(app, world),
    }


def _foreign_tracing(app, world: World) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Tracing objects of the foreign county: two linked cases, a contact living in a third county (上城区)
    kept as an unidentified person, and the assist request sent there."""
    import datetime as dt

    from fangkong.core.auth import principal_for
    from fangkong.core.crypto import Vault
    from fangkong.core.events import EventBus
    from fangkong.tracing import assist, service
    from fangkong.tracing.models import Certainty, Classification
    from fangkong.tracing.persons import PersonInput

    settings = app.state.settings
    vault, bus = Vault(settings.encryption_key, settings.hash_key), EventBus()
    with app.state.db.unit_of_work() as session:
        investigator = session.scalar(select(User).where(User.username == "away_investigator"))
        me = principal_for(session, investigator, "token")
        first, second = (
            service.register_case(
                session,
                vault,
                bus,
                me,
                service.CaseInput(
                    classification=Classification.confirmed,
                    onset_date=dt.date(2022, 7, 5),
                    person=PersonInput(id_number=world.id_numbers[pid]),
                ),
            )
            for pid in world.people[FOREIGN_COUNTY][:2]
        )
        link = service.add_link(session, me, first.id, second.id, Certainty.probable)
        stranger = PersonInput(name="南门客", phone="13900009999", residence_code="330102")
        (contact,) = service.add_exposures(
            session,
            vault,
            bus,
            me,
            first.id,
            [service.ExposureInput("household", dt.datetime(2022, 7, 4, 20), person=stranger)],
        )
        exposure = service.exposures_of(session, me, first.id)[0]
        request = assist.send(session, vault, bus, me, contact.id, "330102")
        return {
            "case_id": str(first.id),
            "cluster_id": str(first.cluster_id),
            "contact_id": str(contact.id),
            "exposure_id": str(exposure.id),
            "link_id": str(link.id),
            "request_id": str(request.id),
            "unidentified_id": str(contact.unidentified_id),
        }


def _routes(app):  # type: ignore[no-untyped-def]
    top = [r for r in app.routes if isinstance(r, APIRoute)]
    nested = [r for router in routers() for r in router.routes if isinstance(r, APIRoute)]
    for route in top + nested:
        for method in sorted(route.methods - {"HEAD"}):
            yield method, route


def _call(client, method: str, path: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    if method == "GET":
        return client.get(path, headers=headers, follow_redirects=False)
    return client.request(method, path, headers=headers, json={}, follow_redirects=False)


def test_every_route_declares_a_permission_or_is_public(app) -> None:  # type: ignore[no-untyped-def]
    undeclared = [
        (method, route.path)
        for method, route in _routes(app)
        if _permission_of(route) is None and (method, route.path) not in PUBLIC
    ]
    assert undeclared == []


def test_every_router_is_flat_so_the_matrix_sees_its_routes() -> None:
    """A router included into another (FastAPI keeps it nested, not as APIRoutes) would hide its routes
    from the walk above: each capability copies its rooms' routes flat instead."""
    nested = [
        (router.prefix or "/", type(entry).__name__)
        for router in routers()
        for entry in router.routes
        if not isinstance(entry, APIRoute)
    ]
    assert nested == []


def test_every_route_as_every_role_from_a_foreign_jurisdiction(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    ids = _foreign_ids(app, world)
    problems: list[str] = []
    tokens = {role: token_for(client, f"home_{role.value}") for role in Role}
    checked = 0
    for method, route in _routes(app):
        if (method, route.path) in PUBLIC:
            continue
        params = re.findall(r"{(\w+)}", route.path)
        unknown = [p for p in params if p not in ids]
        assert not unknown, f"{route.path}: add a foreign object for path parameter(s) {unknown} to this test"
        path = route.path.format(**ids)
        anonymous = _call(client, method, path, {})
        if anonymous.status_code not in (401, 303):
            problems.append(f"{method} {path} anonymous -> {anonymous.status_code}")
        needed = _permission_of(route)
        assert needed is not None
        for role, headers in tokens.items():
            response = _call(client, method, path, headers)
            checked += 1
            allowed = needed.permission in ROLE_PERMISSIONS[role]
            status = response.status_code
            if status >= 500:
                problems.append(f"{method} {path} as {role.value} -> {status}")
            elif not allowed and status != 403:
                problems.append(
                    f"{method} {path} as {role.value} (lacks {needed.permission.value}) -> {status}"
                )
            elif allowed and set(params) - SHARED_PARAMS and status == 200:
                problems.append(f"{method} {path} as {role.value} reached a foreign object -> 200")
            elif allowed and any(marker in response.text for marker in FOREIGN_MARKERS):
                problems.append(f"{method} {path} as {role.value} leaked foreign data")
    assert checked > 100
    assert problems == []


@pytest.mark.parametrize("role", [Role.investigator, Role.viewer])
def test_home_routes_still_work_for_allowed_roles(client, world: World, role: Role) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, f"home_{role.value}")
    assert client.get("/api/me", headers=headers).status_code == 200
    people_status = client.get("/api/people", headers=headers).status_code
    assert people_status == (200 if role is Role.investigator else 403)
