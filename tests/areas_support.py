"""Builders shared by the areas capability's tests (a module beside conftest, imported by the tests).

Each helper appends its builders at the end of this file, under a heading of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import HOME_COUNTY, World
from fangkong.core.auth import Principal, principal_for
from fangkong.core.crypto import Vault
from fangkong.core.db import Database
from fangkong.core.events import DomainEvent, EventBus
from fangkong.core.models import Jurisdiction, Person, User
from fangkong.wiring import build_bus

# --- designation, the lifting clock (AREAS-CORE) -----------------------------------------------------------

HOME_COMMUNITY = "330106001001"  # 保俶社区: residents 0..2 of the home county (0 and 2 share a household)
OTHER_HOME_COMMUNITY = "330106001002"  # 宝石社区: residents 3..5


@contextmanager
def acting_as(db: Database, username: str) -> Iterator[tuple[Session, Principal]]:
    """A unit of work and the principal of a seeded user (``home_command_centre`` ...)."""
    with db.unit_of_work() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None, username
        yield session, principal_for(session, user, "token")


@dataclass
class Recorder:
    """The wired bus with the areas handler subscribed (if wiring does not list it yet), remembering what
    the areas capability published."""

    bus: EventBus = field(default_factory=build_bus)
    events: list[DomainEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        from fangkong.areas.events import RiskAreaDesignated, RiskAreaLifted
        from fangkong.areas.service import designation
        from fangkong.tracing.events import CaseReported

        if designation.case_reported not in self.bus.handlers_for(CaseReported):
            self.bus.subscribe(CaseReported, designation.case_reported)
        for kind in (RiskAreaDesignated, RiskAreaLifted):
            self.bus.subscribe(kind, lambda _s, e: self.events.append(e))

    def of(self, kind: type[DomainEvent]) -> list[DomainEvent]:
        return [e for e in self.events if isinstance(e, kind)]


def register_case(
    db: Database,
    vault: Vault,
    bus: EventBus,
    world: World,
    person_index: int,
    *,
    found_on: dt.date,
    county: str = HOME_COUNTY,
    username: str = "home_investigator",
    classification: str = "confirmed",
) -> int:
    """A case for a seeded resident (``world.people[county][person_index]``), found (sampled) on a day."""
    from fangkong.tracing import service
    from fangkong.tracing.persons import PersonInput

    person_id = world.people[county][person_index]
    with acting_as(db, username) as (session, me):
        case = service.register_case(
            session,
            vault,
            bus,
            me,
            service.CaseInput(
                classification=service.Classification(classification),
                person=PersonInput(id_number=world.id_numbers[person_id]),
                sampling_date=found_on,
            ),
        )
        return case.id


def add_visits(
    db: Database,
    case_id: int,
    visits: Sequence[tuple[str, dt.datetime]],
    *,
    username: str = "home_investigator",
) -> None:
    """Places (venues) and local start times of a case's account."""
    from fangkong.tracing import service
    from fangkong.tracing.models import PlaceKind

    with acting_as(db, username) as (session, me):
        service.add_visits(
            session,
            build_bus(),
            me,
            case_id,
            [
                service.VisitInput(PlaceKind.venue, name, start, start + dt.timedelta(hours=2))
                for name, start in visits
            ],
        )


def switch_protocol(db: Database, world: World, code: str, protocol_id: str) -> None:
    """Put a protocol in force in a jurisdiction (``cn-9-10`` in the home county ...)."""
    from fangkong.core import audit
    from fangkong.protocol import service

    with db.unit_of_work() as session:
        node = session.get(Jurisdiction, world.jurisdictions[code])
        assert node is not None
        service.switch_protocol(session, audit.SYSTEM, node, protocol_id)


def screening_round(
    db: Database,
    world: World,
    on: dt.date,
    *,
    community: str = HOME_COMMUNITY,
    sampled: Sequence[int] | None = None,
    positives: int = 0,
    barcode: str = "AREA-R-1",
) -> int:
    """A closed round of a campaign over one community, held on ``on`` (local noon), with ``sampled``
    residents (default: all of them) in one tube resulted negative, and ``positives`` infections found."""
    from fangkong.core.clock import from_local, utcnow
    from fangkong.testing.models import TestResult, Tube, TubeMember
    from fangkong.testing.service import rounds
    from testing_orders_support import insert_tube

    with acting_as(db, "home_testing_coordinator") as (session, me):
        jid = world.jurisdictions[community]
        campaign = rounds.create_campaign(session, me, name=f"{community} 全员核酸 {on}", areas=[jid])
        opened = rounds.open_round(
            session, me, campaign.id, starts_at=from_local(dt.datetime.combine(on, dt.time(12)))
        )
        people = (
            list(sampled)
            if sampled is not None
            else list(
                session.scalars(select(Person.id).where(Person.jurisdiction_id == jid).order_by(Person.id))
            )
        )
        if people:
            tube = insert_tube(session, barcode, people, opened.starts_at, device=barcode)
            tube.round_id = opened.id
            tube.result = TestResult.positive if positives else TestResult.negative
            tube.resulted_at = utcnow()
            for member in session.scalars(select(TubeMember).where(TubeMember.tube_id == tube.id)):
                member.round_id = opened.id
            session.flush()
            assert isinstance(tube, Tube)
        rounds.close_round(session, me, opened.id, community_positives=positives)
        return opened.id


# --- PUBLIC+DOORSTEP: areas put straight in force -------------------------------------------------------


def as_user(app: Any, username: str) -> Any:
    """A unit of work and the principal of a seeded user (``home_community_worker``...)."""
    from contextlib import contextmanager

    from sqlalchemy import select

    from fangkong.core.auth import principal_for
    from fangkong.core.models import User

    @contextmanager
    def _acting() -> Any:
        with app.state.db.unit_of_work() as session:
            user = session.scalar(select(User).where(User.username == username))
            assert user is not None, username
            yield session, principal_for(session, user, "token")

    return _acting()


def area_in_force(
    session: Any,
    *,
    place_code: str,
    name: str,
    level: str = "high",
    unit_kind: str = "compound",
    state: str = "in_force",
    households: tuple[int, ...] = (),
    at: Any = None,
    change_kind: str = "designated",
    reason: str = "病例住所",
) -> int:
    """A risk area written directly (as designation would leave it) with its timeline entry; its id.

    ``place_code`` is the community or township it lies in; its county is the place's county.
    """
    from sqlalchemy import select

    from fangkong.areas.models import (
        AreaState,
        RiskArea,
        RiskAreaChange,
        RiskAreaHousehold,
        RiskLevel,
        UnitKind,
    )
    from fangkong.core import clock
    from fangkong.core.models import Jurisdiction, Level

    place = session.scalar(select(Jurisdiction).where(Jurisdiction.code == place_code))
    county = place
    while county.level != Level.county:
        county = session.get(Jurisdiction, county.parent_id)
    at = at or clock.utcnow()
    area = RiskArea(
        jurisdiction_id=place.id,
        jpath=place.path,
        county_id=county.id,
        unit_kind=UnitKind(unit_kind),
        name=name,
        level=RiskLevel(level),
        state=AreaState(state),
        protocol_id="cn-9",
        reason=reason,
        proposed_at=at,
        designated_at=at if state != "proposed" else None,
        approved_by=None if state == "proposed" else "home_command_centre",
        level_since=clock.local_day(at),
    )
    session.add(area)
    session.flush()
    for household_id in households:
        session.add(RiskAreaHousehold(area_id=area.id, household_id=household_id))
    session.add(
        RiskAreaChange(
            area_id=area.id,
            county_id=county.id,
            jpath=place.path,
            kind=change_kind,
            from_level=None,
            to_level=RiskLevel(level),
            reason=reason,
            by="home_command_centre",
            at=at,
        )
    )
    session.flush()
    return int(area.id)


# --- ARRIVALS: reports, lifting, the look-back bus ---------------------------------------------------------


def arrival_input(**overrides: object) -> Any:
    """A good report of a trip from 海曙区 (the seeded foreign county) to 保俶社区 (home county);
    the traveller is not in the registry unless ``id_number`` names someone who is."""
    from conftest import valid_id
    from fangkong.areas.service.arrivals import ArrivalInput
    from fangkong.core import clock

    today = clock.today()
    values: dict[str, object] = {
        "id_number": valid_id("330203", "19900101", 123),
        "name": "赵敏",
        "phone": "13900139000",
        "origin_county_code": "330203",
        "departed_on": (today - dt.timedelta(days=2)).isoformat(),
        "arrived_on": (today - dt.timedelta(days=1)).isoformat(),
        "destination_code": "330106001001",
        "address": "保俶路1号",
        "companions": 1,
        "places_visited": "天一广场",
    }
    values.update(overrides)
    return ArrivalInput(**values)  # type: ignore[arg-type]


def lift_area(session: Session, area_id: int, at: dt.datetime) -> None:
    """An area in force lifted back to low at ``at`` (its timeline gets the step)."""
    from fangkong.areas.models import AreaState, RiskArea, RiskAreaChange, RiskLevel

    area = session.get(RiskArea, area_id)
    assert area is not None
    session.add(
        RiskAreaChange(
            area_id=area.id,
            county_id=area.county_id,
            jpath=area.jpath,
            kind="lifted",
            from_level=area.level,
            to_level=RiskLevel.low,
            reason="",
            by="home_command_centre",
            at=at,
        )
    )
    area.state = AreaState.lifted
    area.level = RiskLevel.low
    area.lifted_at = at
    session.flush()


def arrivals_bus() -> EventBus:
    """The platform's bus with the look-back handler on ``RiskAreaDesignated`` (until the lead wires it)."""
    from fangkong.areas.events import RiskAreaDesignated
    from fangkong.areas.service import arrivals

    bus = build_bus()
    if arrivals.arrivals_for_designated_area not in bus.handlers_for(RiskAreaDesignated):
        bus.subscribe(RiskAreaDesignated, arrivals.arrivals_for_designated_area)
    return bus


# --- AREAS-WEB: foreign objects for the authorization matrix -------------------------------------------


def seed_areas_foreign(app: Any, world: World) -> dict[str, str]:
    """An area in force, an arrival and a doorstep request of the foreign county (海曙区), by path name."""
    from fangkong.areas import service
    from fangkong.core.config import Settings

    settings: Settings = app.state.settings
    vault = Vault(settings.encryption_key, settings.hash_key)
    with as_user(app, "away_command_centre") as (session, _me):
        area_id = area_in_force(session, place_code="330203001001", name="南门社区", unit_kind="community")
    with as_user(app, "away_community_worker") as (session, me):
        receipt = service.arrivals.register_arrival(
            session,
            vault,
            build_bus(),
            arrival_input(origin_county_code="330106", destination_code="330203001001"),
            channel="staff",
            reporter=me.username,
            ip="seed",
        )
        request = service.doorstep.open_request(session, app.state.bus, me, kind="food", area_id=area_id)
    return {"area_id": str(area_id), "arrival_id": str(receipt.arrival_id), "request_id": str(request.id)}
