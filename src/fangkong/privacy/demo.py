"""The personal-data part of the demo region: the outbreak's emergency is open at the province (so its
purge is one close away), and a few residents of the demo county were registered a second time under a
mistyped ID number with the same name, phone and birth date, so the duplicates page has work on first
run. Everything goes through the use cases, as the province's administrator.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import audit, clock, people
from fangkong.core.auth import principal_for
from fangkong.core.crypto import Vault
from fangkong.core.events import EventBus
from fangkong.core.idnumber import generate_id_numbers
from fangkong.core.models import Jurisdiction, Person, User

SEED = 20221213
# Residents entered twice in the demo county (demo choice).
DUPLICATES = 3
# The demo outbreak has run for nine days (response.demo); its emergency opened on its first.
EMERGENCY_DAYS = 9
EMERGENCY_NAME = "2022年11月西湖区本土疫情"
ADMIN = "admin"


@dataclass(frozen=True)
class DemoPrivacy:
    emergencies: int
    duplicates: int


def seed(session: Session, vault: Vault, bus: EventBus, county_code: str) -> DemoPrivacy:
    from fangkong.privacy.service import emergency

    user = session.scalar(select(User).where(User.username == ADMIN))
    county = session.scalar(select(Jurisdiction).where(Jurisdiction.code == county_code))
    if user is None or county is None:
        return DemoPrivacy(0, 0)
    admin = principal_for(session, user, "token")
    actor = audit.Actor(admin.user_id, admin.username, "demo")
    emergency.open_emergency(
        session, admin, actor, EMERGENCY_NAME, clock.today() - dt.timedelta(days=EMERGENCY_DAYS)
    )
    rng = np.random.default_rng(SEED)
    made = 0
    chosen = session.scalars(
        select(Person.id)
        .where(Person.jpath >= county.path, Person.jpath < county.path + "~", Person.phone_hash.is_not(None))
        .order_by(Person.id)
        .limit(DUPLICATES)
    ).all()
    for person_id in chosen:
        first = people.reveal(session, vault, admin, int(person_id), ip="demo")
        resident = session.get(Person, person_id)
        place = session.get(Jurisdiction, resident.jurisdiction_id) if resident is not None else None
        if place is None:
            continue
        number = _another_number(session, vault, first.id_number, rng)
        people.register(
            session,
            vault,
            bus,
            admin,
            {
                "id_number": number,
                "name": first.name or "",
                "phone": first.phone or "",
                "community_code": place.code,
                "address": first.address or "",
            },
        )
        made += 1
    return DemoPrivacy(1, made)


def _another_number(session: Session, vault: Vault, id_number: str, rng: np.random.Generator) -> str:
    """A valid ID number of the same region, birth date and sex that nobody holds yet."""
    birth = np.datetime64(f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}", "D")
    male = int(id_number[16]) % 2 == 1
    while True:
        number = str(generate_id_numbers([id_number[:6]], [birth], [male], rng)[0])
        taken = session.scalar(select(Person.id).where(Person.id_hash == vault.keyed_hash(number)))
        if number != id_number and taken is None:
            return number
