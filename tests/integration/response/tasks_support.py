"""Helpers of the response tasks tests: the response handlers on the app's bus (as ``wiring`` lists
them), acting as a seeded user, and a confirmed case made through tracing's API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import HOME_COUNTY, World
from fangkong.core.auth import Principal, principal_for
from fangkong.core.events import EventBus
from fangkong.core.models import User
from fangkong.response.service import handlers


def response_rows() -> list[tuple[type, object]]:
    """The rows ``fangkong.wiring`` holds for the response tasks (the counters' rows left out)."""
    from fangkong.wiring import _response

    return [(event, handler) for event, handler in _response() if handler.__module__ == handlers.__name__]


def wire(bus: EventBus) -> EventBus:
    """Subscribe the response task handlers unless the bus has them (the app's bus, built by ``wiring``,
    does: then this changes nothing)."""
    for event_type, handler in response_rows():
        if handler not in bus.handlers_for(event_type):
            bus.subscribe(event_type, handler)  # type: ignore[arg-type]
    return bus


@contextmanager
def as_user(app, username: str) -> Iterator[tuple[Session, Principal]]:  # type: ignore[no-untyped-def]
    with app.state.db.unit_of_work() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        yield session, principal_for(session, user, "token")


def report_case(client, world: World, headers: dict[str, str], index: int = 0, ref: str = "XH-1") -> int:  # type: ignore[no-untyped-def]
    person = world.people[HOME_COUNTY][index]
    response = client.post(
        "/api/tracing/cases",
        headers=headers,
        json={
            "classification": "confirmed",
            "case_ref": ref,
            "onset_date": "2026-12-05",
            "person": {"id_number": world.id_numbers[person]},
        },
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])
