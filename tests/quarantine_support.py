"""Builders the quarantine tests share: acting as a user of the seeded world, sites with rooms, plans, stays.

Imported by the test modules (a conftest.py beside them would shadow the suite's own ``conftest``).
Helpers append their functions at the end of this file.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from conftest import HOME_COUNTY, World
from fangkong.core.auth import Principal, principal_for
from fangkong.core.clock import utcnow
from fangkong.core.crypto import Vault
from fangkong.core.db import Database
from fangkong.core.events import EventBus, PersonPlacedUnderManagement
from fangkong.core.models import Person, User
from fangkong.protocol.service import place_many
from fangkong.quarantine.models import (
    QuarantineRoom,
    QuarantineSite,
    RoomKind,
    RoomState,
    SiteKind,
    SiteStatus,
    Stay,
    StayState,
)
from fangkong.quarantine.service import sites

# ------------------------------------------------------------------ sites, rooms, plans and stays (capacity)


@contextmanager
def acting(app: Any, username: str) -> Iterator[tuple[Session, Principal]]:
    """A unit of work and the principal of a seeded user (``home_quarantine_manager``...)."""
    with app.state.db.unit_of_work() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None, username
        yield session, principal_for(session, user, "token")


def new_site(
    session: Session,
    principal: Principal,
    name: str,
    *,
    tier: int = 1,
    rooms: int = 0,
    kind: RoomKind = RoomKind.single,
    beds: int = 1,
    status: SiteStatus = SiteStatus.reserve,
    county: str = HOME_COUNTY,
    hours_to_open: int = 24,
    rooms_per_floor: int = 10,
) -> QuarantineSite:
    """A site made through the service, with ``rooms`` rooms (101, 102, ... by floor), put in ``status``
    directly (test set-up: the status history starts empty)."""
    site = sites.create_site(
        session,
        principal,
        sites.SiteInput(
            name=name,
            kind=SiteKind.hotel,
            address=f"{name} 地址",
            jurisdiction_code=county,
            operator=f"{name} 运营方",
            contact_name="联系人",
            contact_phone="13800000000",
            tier=tier,
            hours_to_open=hours_to_open,
        ),
    )
    if rooms:
        sites.add_rooms(
            session,
            principal,
            site.id,
            [
                sites.RoomInput(
                    number=f"{i // rooms_per_floor + 1}{i % rooms_per_floor + 1:02d}",
                    kind=kind,
                    beds=beds,
                    floor=str(i // rooms_per_floor + 1),
                    zone="A" if i % 2 == 0 else "B",
                )
                for i in range(rooms)
            ],
        )
    if status != SiteStatus.reserve:
        site.status = status
        session.flush()
    return site


def plan_centralized(
    session: Session, person_id: int, last_exposure: dt.date, *, category: str = "close_contact"
) -> str:
    """A management plan from a close-contact exposure (the protocol in force puts them in a site for
    its centralized stage); returns its source, ``contact:<person id>``."""
    jpath = session.scalar(select(Person.jpath).where(Person.id == person_id))
    assert jpath is not None
    source = f"contact:{person_id}"
    place_many(
        session,
        [PersonPlacedUnderManagement(person_id, jpath, category, last_exposure, source)],
    )
    return source


def occupy(
    session: Session,
    room: QuarantineRoom,
    person_id: int,
    *,
    source: str | None = None,
    placed_at: dt.datetime | None = None,
    state: StayState = StayState.checked_in,
) -> Stay:
    """A stay written directly (as the placement's conditional UPDATE would leave the room)."""
    jpath = session.scalar(select(Person.jpath).where(Person.id == person_id))
    assert jpath is not None
    at = placed_at or utcnow()
    group = f"person:{person_id}"
    stay = Stay(
        person_id=person_id,
        jpath=jpath,
        site_id=room.site_id,
        room_id=room.id,
        source=source or f"contact:{person_id}",
        group_key=group,
        case_key="",
        state=state,
        identified_at=at,
        deadline_at=at + dt.timedelta(hours=8),
        placed_at=at,
        placed_by="test",
        checked_in_at=at if state == StayState.checked_in else None,
    )
    session.add(stay)
    session.execute(
        update(QuarantineRoom)
        .where(QuarantineRoom.id == room.id)
        .values(occupants=QuarantineRoom.occupants + 1, state=RoomState.occupied, group_key=group)
    )
    session.flush()
    session.refresh(room)
    return stay


def rooms_of(session: Session, site: QuarantineSite) -> list[QuarantineRoom]:
    return list(
        session.scalars(
            select(QuarantineRoom).where(QuarantineRoom.site_id == site.id).order_by(QuarantineRoom.number)
        )
    )


# ------------------------------------------------------------- people to place, rooms by spec (placement)
#
# People are put under a plan the way the platform does it: ``PersonPlacedUnderManagement`` published on
# the bus ``fangkong.wiring.build_bus()`` builds, so the protocol capability computes their plan. Sites
# here are written directly with rooms of any kind, beds, floor and zone (``RoomSpec``).


def principal_of(session: Session, username: str) -> Principal:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None, username
    return principal_for(session, user, "token")


@dataclass(frozen=True)
class RoomSpec:
    number: str
    kind: RoomKind = RoomKind.single
    beds: int = 1
    floor: str = "1"
    zone: str = ""


def singles(count: int, *, floor: str = "1", first: int = 101) -> list[RoomSpec]:
    return [RoomSpec(str(first + i), RoomKind.single, 1, floor) for i in range(count)]


def make_site(
    session: Session,
    world: World,
    rooms: Sequence[RoomSpec],
    *,
    code: str = HOME_COUNTY,
    name: str = "西湖宾馆",
    status: SiteStatus = SiteStatus.open,
    tier: int = 1,
) -> int:
    """The id of a site of the jurisdiction ``code`` with these rooms, in ``status`` (default open)."""
    from fangkong.core.models import Jurisdiction

    place = session.get(Jurisdiction, world.jurisdictions[code])
    assert place is not None
    site = QuarantineSite(
        name=name,
        kind=SiteKind.hotel,
        address=f"{place.name} 隔离点路 1 号",
        jurisdiction_id=place.id,
        jpath=place.path,
        operator="运营方",
        status=status,
        tier=tier,
        hours_to_open=12,
        staff_on_duty=4,
    )
    session.add(site)
    session.flush()
    session.add_all(
        QuarantineRoom(site_id=site.id, number=r.number, floor=r.floor, zone=r.zone, kind=r.kind, beds=r.beds)
        for r in rooms
    )
    session.flush()
    return site.id


def room_ids(session: Session, site_id: int) -> dict[str, int]:
    """Room ids of a site by room number."""
    rows = session.execute(
        select(QuarantineRoom.number, QuarantineRoom.id).where(QuarantineRoom.site_id == site_id)
    )
    return dict(rows.all())


def manage(
    session: Session,
    person_ids: Sequence[int],
    *,
    category: str = "close_contact",
    clock_date: dt.date | None = None,
    source: str = "test",
    bus: EventBus | None = None,
) -> None:
    """Put people under management from the source ``<source>:<person id>`` through the wiring's bus;
    the plan counts from ``clock_date`` (default: yesterday, local)."""
    from fangkong.core import clock
    from fangkong.wiring import build_bus

    bus = bus or build_bus()
    day = clock_date or clock.today() - dt.timedelta(days=1)
    for person_id in person_ids:
        person = session.get(Person, person_id)
        assert person is not None
        bus.publish(
            session,
            PersonPlacedUnderManagement(
                person_id=person_id,
                jpath=person.jpath,
                category=category,
                clock_date=day,
                source=f"{source}:{person_id}",
            ),
        )
    session.flush()


_sequence = itertools.count(500)


def add_person(
    session: Session,
    vault: Vault,
    *,
    birth: dt.date,
    community: str = "330106001001",
    address: str = "330106001001 幸福路9号",
    name: str = "赵敏",
) -> int:
    """A registry person (a minor, someone elderly...) registered by the province administrator; the
    seeded world's addresses are ``<community code> 幸福路<n>号``, so the same address joins a household."""
    from conftest import valid_id
    from fangkong.core import people

    id_number = valid_id(community[:6], birth.strftime("%Y%m%d"), next(_sequence) % 1000)
    view = people.register(
        session,
        vault,
        EventBus(),
        principal_of(session, "province_admin"),
        {
            "id_number": id_number,
            "name": name,
            "phone": f"1390013{next(_sequence) % 10000:04d}",
            "community_code": community,
            "address": address,
        },
    )
    return view.id


def household_of(session: Session, person_id: int) -> int | None:
    person = session.get(Person, person_id)
    assert person is not None
    return person.household_id


def case_with_contacts(
    db: Database,
    vault: Vault,
    case_person: int,
    contacts: Sequence[int],
    *,
    bus: EventBus | None = None,
    username: str = "home_investigator",
) -> tuple[int, list[int]]:
    """A confirmed case of ``case_person`` with household close contacts ``contacts`` (registry people),
    made through tracing as an investigator, exposed ten hours ago; their plans follow through the bus.
    Returns the case id and the contact ids."""
    from fangkong.core import clock
    from fangkong.tracing import service
    from fangkong.tracing.models import Classification
    from fangkong.tracing.persons import PersonInput
    from fangkong.wiring import build_bus

    bus = bus or build_bus()
    when = clock.as_local(clock.utcnow()).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    when -= dt.timedelta(hours=10)
    with db.unit_of_work() as session:
        me = principal_of(session, username)
        case = service.register_case(
            session,
            vault,
            bus,
            me,
            service.CaseInput(
                classification=Classification.confirmed,
                person=PersonInput(person_id=case_person),
                onset_date=when.date(),
            ),
        )
        made = service.add_exposures(
            session,
            vault,
            bus,
            me,
            case.id,
            [service.ExposureInput("household", when, person=PersonInput(person_id=p)) for p in contacts],
        )
        return case.id, [c.id for c in made]


# ------------------------------------------------------------------ the foreign county's objects (web helper)


def seed_quarantine_foreign(app: Any, world: Any) -> dict[str, str]:
    """A site of 海曙区 (foreign) with rooms, a stay in one of them and its transfer batch, made through
    the quarantine use cases as the foreign quarantine manager, so that every route with one of these path
    parameters can be tried from the home county (the authorization matrix)."""
    from conftest import FOREIGN_COUNTY
    from fangkong.core import clock
    from fangkong.quarantine.service import placement, transfers

    with acting(app, "away_quarantine_manager") as (session, me):
        site = new_site(session, me, "南门宾馆", rooms=3, status=SiteStatus.open, county=FOREIGN_COUNTY)
        room = rooms_of(session, site)[0]
        person = world.people[FOREIGN_COUNTY][1]
        # Exposed yesterday: the centralized stage covers today.
        plan_centralized(session, person, clock.today() - dt.timedelta(days=1))
        stay = placement.place_in_room(session, me, person, room.id)
        (batch,) = transfers.plan_batches(session, me, seats=4)
        return {
            "site_id": str(site.id),
            "room_id": str(rooms_of(session, site)[1].id),
            "stay_id": str(stay.id),
            "batch_id": str(batch.id),
        }


def negative_last_stage_tests(db: Database, tmp_path: Path, person_ids: Sequence[int]) -> None:
    """Each person's last test of the centralized stage sampled in a single tube and reported negative by
    a lab file, through the testing use cases (a release waits for it)."""
    from fangkong.quarantine.service.stays import last_stage_tests
    from fangkong.testing.models import TestOrder
    from fangkong.testing.service import orders, results
    from fangkong.wiring import build_bus
    from testing_support import write_results

    rows = []
    with db.unit_of_work() as session:
        sampler = principal_of(session, "home_testing_coordinator")
        orders.sync_orders(session, "/", person_ids=person_ids)
        for (person_id, source), day in last_stage_tests(session, person_ids).items():
            order = session.scalar(
                select(TestOrder).where(
                    TestOrder.person_id == person_id, TestOrder.source == source, TestOrder.due_date == day
                )
            )
            assert order is not None
            barcode = f"Q{order.id:08d}"
            orders.record_sample(session, sampler, order.id, barcode)
            rows.append([barcode, "阴性", "", "", f"{day} 20:00"])
    lab_file = write_results(tmp_path / "stage_results.csv", rows)
    with db.unit_of_work() as session:
        results.load_results(session, principal_of(session, "home_laboratory"), lab_file, bus=build_bus())
