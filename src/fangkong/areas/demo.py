"""The risk-area part of the demo region: the demo cases' homes designated, arrivals, doorstep services.

The command centre proposes areas from the demo outbreak's cases (their homes: high) and approves them,
so the public page lists them and the rest of the county is low. Two residents of a designated area are
flagged as needing care and have doorstep requests (a medical emergency answered and done, medicine
still open); three hospitals' emergency departments are on record (two open). Travellers who left the
designated area for another county register on the public form, so that county's community has them
on its worklist with the plan their category gives. Everything goes through the areas use cases.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.areas.service import arrivals, designation, doorstep
from fangkong.core import clock
from fangkong.core.crypto import Vault
from fangkong.core.demo_loader import demo_principal
from fangkong.core.events import EventBus
from fangkong.core.idnumber import check_digit
from fangkong.core.models import Jurisdiction, Level, Person
from fangkong.core.scope import under
from fangkong.wiring import build_bus

# Demo travellers: (surname and given name, birth date, phone tail); their ID numbers are made up with
# valid check digits under the origin county's code.
TRAVELLERS = (("周海峰", "19850312", "0001"), ("陈雅琴", "19920705", "0002"))
HOSPITALS = (("浙江大学医学院附属第一医院", True), ("杭州市第一人民医院", True), ("西溪医院", False))


@dataclass(frozen=True)
class DemoAreas:
    designated: int
    arrivals: int
    requests: int


def _id_number(county: str, birth: str, serial: int) -> str:
    first17 = f"{county}{birth}{serial:03d}"
    return first17 + check_digit(first17)


def seed(session: Session, vault: Vault, county_code: str, other_county_code: str) -> DemoAreas:
    bus = build_bus()
    command = demo_principal(session, "command")
    community_worker = demo_principal(session, "community")
    county = session.scalar(select(Jurisdiction).where(Jurisdiction.code == county_code))
    other = session.scalar(select(Jurisdiction).where(Jurisdiction.code == other_county_code))
    assert county is not None
    assert other is not None
    designated = 0
    for proposal in designation.propose_from_cases(session, command):
        designation.approve(session, bus, command, proposal.id, ip="demo")
        designated += 1
    requests = 0
    for name, open_now in HOSPITALS:
        doorstep.set_emergency_department(
            session, command, jurisdiction_id=county.id, name=name, open=open_now, phone="0571-120", ip="demo"
        )
    areas = designation.areas_in_force(session, county.path)
    if areas:
        area = areas[0]
        residents = doorstep.vulnerable_in_area(session, community_worker, area.id)
        people = [r.person_id for r in residents][:2] or list(
            session.scalars(select(Person.id).where(under(Person.jpath, area.jpath)).limit(2))
        )
        for index, person_id in enumerate(people):
            doorstep.set_flags(
                session,
                community_worker,
                person_id,
                regular_treatment=index == 0,
                pregnant=index == 1,
                ip="demo",
            )
        if people:
            emergency = doorstep.open_request(
                session,
                bus,
                community_worker,
                kind="medical_emergency",
                detail="胸闷气短，需送急诊",
                area_id=area.id,
                person_id=people[0],
                ip="demo",
            )
            doorstep.take(session, community_worker, emergency.id, ip="demo")
            doorstep.complete(
                session, community_worker, emergency.id, outcome="120 送医，已入急诊", ip="demo"
            )
            doorstep.open_request(
                session,
                bus,
                community_worker,
                kind="medicine",
                detail="降压药 一周用量",
                area_id=area.id,
                person_id=people[-1],
                ip="demo",
            )
            requests = 2
        registered = _arrivals(session, vault, bus, county, other, area.id)
    else:
        registered = 0
    return DemoAreas(designated, registered, requests)


def _arrivals(
    session: Session, vault: Vault, bus: EventBus, county: Jurisdiction, other: Jurisdiction, area_id: int
) -> int:
    destination = session.scalar(
        select(Jurisdiction)
        .where(under(Jurisdiction.path, other.path), Jurisdiction.level == Level.community)
        .order_by(Jurisdiction.code)
        .limit(1)
    )
    if destination is None:
        return 0
    today = clock.today()
    registered = 0
    for serial, (name, birth, phone) in enumerate(TRAVELLERS, start=901):
        arrivals.register_arrival(
            session,
            vault,
            bus,
            arrivals.ArrivalInput(
                id_number=_id_number(county.code, birth, serial),
                name=name,
                phone=f"1390000{phone}",
                origin_county_code=county.code,
                origin_area_id=area_id,
                departed_on=(today - dt.timedelta(days=1)).isoformat(),
                arrived_on=(today - dt.timedelta(days=1)).isoformat(),
                destination_code=destination.code,
                address=f"{destination.name}和平路{serial % 100}号",
            ),
            channel="form",
            reporter="demo",
            ip="demo",
        )
        registered += 1
    return registered
