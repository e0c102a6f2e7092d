"""The event areas publishes for the response tasks (SQLite and PostgreSQL): a doorstep request logged
publishes ``DoorstepRequested`` once with where, what and when; a refused request publishes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from areas_support import area_in_force, as_user
from conftest import World
from fangkong.areas.events import DoorstepRequested
from fangkong.areas.models import ServiceRequest
from fangkong.areas.service import doorstep
from fangkong.core import clock
from fangkong.core.errors import Forbidden, InvalidInput
from fangkong.core.events import DomainEvent, EventBus

WORKER = "home_community_worker"
COMMUNITY = "330106001001"  # 保俶社区


def test_a_doorstep_request_is_published_once(app, world: World, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    seen: list[DomainEvent] = []
    bus = EventBus()
    bus.subscribe(DoorstepRequested, lambda _s, e: seen.append(e))
    with as_user(app, WORKER) as (session, principal):
        area_id = area_in_force(session, place_code=COMMUNITY, name="翠苑小区")
        emergency = doorstep.open_request(
            session, bus, principal, kind="medical_emergency", area_id=area_id, detail="透析"
        )
        row = session.scalar(select(ServiceRequest).where(ServiceRequest.id == emergency.id))
        assert row is not None
        assert seen == [
            DoorstepRequested(
                request_id=emergency.id,
                jpath=row.jpath,
                kind="medical_emergency",
                requested_at=clock.as_utc(row.created_at),
            )
        ]
        with pytest.raises(InvalidInput):
            doorstep.open_request(session, bus, principal, kind="haircut", area_id=area_id)
    with as_user(app, "home_surveillance_analyst") as (session, principal), pytest.raises(Forbidden):
        doorstep.open_request(session, bus, principal, kind="food", area_id=area_id)
    assert len(seen) == 1
    frozen_clock.advance(hours=1)
    with as_user(app, WORKER) as (session, principal):
        food = doorstep.open_request(session, bus, principal, kind="food", area_id=area_id)
    assert [(e.request_id, e.kind) for e in seen if isinstance(e, DoorstepRequested)] == [
        (emergency.id, "medical_emergency"),
        (food.id, "food"),
    ]
    first, second = seen
    assert isinstance(first, DoorstepRequested) and isinstance(second, DoorstepRequested)
    assert second.requested_at - first.requested_at >= dt.timedelta(hours=1)
