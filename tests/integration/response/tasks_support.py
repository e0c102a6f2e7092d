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
    """The rows ``fangkong.wiring`` holds for the response tasks (what the lead wires)."""
    from fangkong.areas.events import DoorstepRequested, RiskAreaDesignated
    from fangkong.quarantine.events import PersonCheckedIntoQuarantine, QuarantineSiteActivated
    from fangkong.surveillance.events import AlertAnswered, AlertRaised
    from fangkong.testing.events import PoolFoundPositive, PoolRecalled
    from fangkong.tracing.events import AssistRequested, CaseInvestigated, CaseReclassified, CaseReported

    return [
        (CaseReported, handlers.case_reported),
        (CaseReclassified, handlers.case_reclassified),
        (AlertRaised, handlers.alert_raised),
        (AssistRequested, handlers.assist_requested),
        (PoolFoundPositive, handlers.pool_found_positive),
        (QuarantineSiteActivated, handlers.site_activated),
        (DoorstepRequested, handlers.doorstep_requested),
        (CaseInvestigated, handlers.case_investigated),
        (PersonCheckedIntoQuarantine, handlers.person_checked_into_quarantine),
        (RiskAreaDesignated, handlers.risk_area_designated),
        (AlertAnswered, handlers.alert_answered),
        (PoolRecalled, handlers.pool_recalled),
    ]


def wire(bus: EventBus) -> EventBus:
    """Subscribe the response handlers unless ``wiring`` already did."""
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
