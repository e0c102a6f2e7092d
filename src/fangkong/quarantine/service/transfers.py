"""Transfer (转运): placed people grouped by site and pickup community into vehicles, the driver's list,
and arrival, which checks everyone in.

A batch is one vehicle's run: people placed in one site, picked up in one community at one time.
Households ride together and the earliest deadlines go in the first vehicle of a community.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.crypto import Vault
from fangkong.core.errors import Conflict, InvalidInput, NotFound, RowError
from fangkong.core.events import EventBus
from fangkong.core.i18n import Message
from fangkong.core.models import Household, Jurisdiction, Person
from fangkong.core.permissions import Permission
from fangkong.core.scope import path_in_scope, under
from fangkong.quarantine.models import (
    BatchState,
    QuarantineRoom,
    QuarantineSite,
    Stay,
    StayState,
    TransferBatch,
)
from fangkong.quarantine.service import placement, stays
from fangkong.quarantine.service.placement import actor

_STAYS = cast(Table, Stay.__table__)
# Seats a vehicle may be given (a minibus to a coach).
MAX_SEATS = 60
# Pickups are planned on the quarter hour after now unless the coordinator names a time.
PICKUP_STEP = dt.timedelta(minutes=15)


def _next_quarter(now: dt.datetime) -> dt.datetime:
    base = now.replace(minute=0, second=0, microsecond=0)
    steps = -(-(now - base) // PICKUP_STEP)
    return base + PICKUP_STEP * max(1, steps)


def plan_batches(
    session: Session,
    principal: Principal,
    *,
    site_id: int | None = None,
    seats: int = 10,
    pickup_at: dt.datetime | None = None,
    vehicle_prefix: str = "车",
    ip: str = "",
) -> list[TransferBatch]:
    """Put every placed person in scope not yet in a batch into vehicles of ``seats``, by site and
    pickup community (the community they live in)."""
    if not 1 <= seats <= MAX_SEATS:
        raise InvalidInput(
            [RowError(1, "seats", Message("between {low} and {high} seats", low=1, high=MAX_SEATS))]
        )
    if len(vehicle_prefix) > 20:
        raise InvalidInput([RowError(1, "vehicle_prefix", Message("at most {n} characters", n=20))])
    query = (
        select(Stay, Person.jurisdiction_id, Person.household_id)
        .join(Person, Person.id == Stay.person_id)
        .where(
            under(Stay.jpath, principal.jpath),
            Stay.state == StayState.placed,
            Stay.batch_id.is_(None),
        )
    )
    if site_id is not None:
        site = session.get(QuarantineSite, site_id)
        if site is None or not placement.site_is_visible(site, principal):
            raise NotFound(f"site {site_id} not found")
        query = query.where(Stay.site_id == site_id)
    rows = session.execute(query).all()
    if not rows:
        return []
    groups: dict[tuple[int, int], list[tuple[Stay, int | None]]] = defaultdict(list)
    for stay, community, household in rows:
        groups[(stay.site_id, community)].append((stay, household))
    places = {
        j.id: j
        for j in session.scalars(select(Jurisdiction).where(Jurisdiction.id.in_({c for _s, c in groups})))
    }
    pickup = clock.as_utc(pickup_at) if pickup_at is not None else _next_quarter(clock.utcnow())
    numbered = session.scalar(
        select(func.count()).select_from(TransferBatch).where(under(TransferBatch.jpath, principal.jpath))
    )
    number = numbered or 0
    made: list[tuple[TransferBatch, list[Stay]]] = []
    for (site_key, community), members in sorted(groups.items()):
        # A household's earliest deadline orders it; its members sit together.
        first: dict[object, dt.datetime] = {}
        for stay, household in members:
            key = household if household is not None else f"p{stay.person_id}"
            deadline = clock.as_utc(stay.deadline_at)
            first[key] = min(first.get(key, deadline), deadline)
        members.sort(
            key=lambda m: (
                first[m[1] if m[1] is not None else f"p{m[0].person_id}"],
                str(m[1]),
                m[0].person_id,
            )
        )
        for start in range(0, len(members), seats):
            number += 1
            batch = TransferBatch(
                site_id=site_key,
                jpath=places[community].path,
                pickup_jurisdiction_id=community,
                vehicle=f"{vehicle_prefix}{number}",
                seats=seats,
                pickup_at=pickup,
                state=BatchState.planned,
                created_by=principal.username,
                created_at=clock.utcnow(),
            )
            session.add(batch)
            made.append((batch, [s for s, _h in members[start : start + seats]]))
    session.flush()
    session.execute(
        update(_STAYS).where(_STAYS.c.id == bindparam("stay")).values(batch_id=bindparam("batch")),
        [{"stay": s.id, "batch": batch.id} for batch, riders in made for s in riders],
    )
    for _batch, riders in made:
        for stay in riders:
            session.expire(stay)
    audit.record(
        session,
        actor(principal, ip),
        "quarantine.batches",
        "transfer_batch",
        made[0][0].id,
        jpath=principal.jpath,
        detail={"batches": [b.id for b, _r in made], "people": sum(len(r) for _b, r in made), "seats": seats},
    )
    return [b for b, _r in made]


def get_batch(session: Session, principal: Principal, batch_id: int) -> TransferBatch:
    batch = session.get(TransferBatch, batch_id)
    if batch is None or not path_in_scope(batch.jpath, principal.jpath):
        raise NotFound(f"transfer batch {batch_id} not found")
    return batch


@dataclass(frozen=True)
class Rider:
    stay_id: int
    person_id: int
    name: str
    sex: str
    age: int
    phone: str | None
    address: str | None
    room_number: str
    carer: bool
    state: StayState


@dataclass(frozen=True)
class BatchSheet:
    """The driver's list: where and when to pick up whom, and which room each goes to."""

    batch_id: int
    vehicle: str
    seats: int
    pickup_at: dt.datetime
    pickup_place: str
    site_name: str
    site_address: str
    state: BatchState
    riders: tuple[Rider, ...]
    revealed: bool


def list_batches(
    session: Session, principal: Principal, *, state: BatchState | None = None
) -> list[TransferBatch]:
    query = select(TransferBatch).where(under(TransferBatch.jpath, principal.jpath))
    if state is not None:
        query = query.where(TransferBatch.state == state)
    return list(session.scalars(query.order_by(TransferBatch.pickup_at, TransferBatch.id)))


def batch_sheet(
    session: Session, principal: Principal, batch_id: int, *, vault: Vault | None = None, ip: str = ""
) -> BatchSheet:
    """The batch's list for its driver. Names, phones and addresses are masked, unless a vault is given
    and the role may see personal data: then they are shown in full, and the read is audited."""
    batch = get_batch(session, principal, batch_id)
    site = session.get(QuarantineSite, batch.site_id)
    place = session.get(Jurisdiction, batch.pickup_jurisdiction_id)
    assert site is not None
    rows = session.execute(
        select(Stay, Person, QuarantineRoom.number, Household)
        .join(Person, Person.id == Stay.person_id)
        .join(QuarantineRoom, QuarantineRoom.id == Stay.room_id)
        .outerjoin(Household, Household.id == Person.household_id)
        .where(Stay.batch_id == batch.id, under(Stay.jpath, principal.jpath))
        .order_by(Stay.id)
    ).all()
    reveal = vault is not None and principal.can(Permission.people_reveal)
    today = clock.today()
    riders = []
    for stay, person, room_number, household in rows:
        name, phone = person.name_masked, person.phone_masked
        address = household.address_masked if household is not None else None
        if reveal:
            assert vault is not None
            data = vault.decrypt_person(person.pii)
            name, phone, address = data.name, data.phone or None, data.address
        riders.append(
            Rider(
                stay_id=stay.id,
                person_id=person.id,
                name=name,
                sex=person.sex,
                age=placement.age_on(person.birth_date, today),
                phone=phone,
                address=address,
                room_number=room_number,
                carer=stay.carer,
                state=stay.state,
            )
        )
    if reveal and riders:
        audit.record(
            session,
            actor(principal, ip),
            "quarantine.batch_sheet.reveal",
            "transfer_batch",
            batch.id,
            jpath=batch.jpath,
            detail={"people": [r.person_id for r in riders], "fields": ["name", "phone", "address"]},
        )
    return BatchSheet(
        batch_id=batch.id,
        vehicle=batch.vehicle,
        seats=batch.seats,
        pickup_at=clock.as_utc(batch.pickup_at),
        pickup_place=place.name if place is not None else "",
        site_name=site.name,
        site_address=site.address,
        state=batch.state,
        riders=tuple(riders),
        revealed=reveal,
    )


def confirm_arrival(
    session: Session,
    bus: EventBus,
    principal: Principal,
    batch_id: int,
    *,
    at: dt.datetime | None = None,
    ip: str = "",
) -> int:
    """The vehicle arrived: everyone on it still placed is checked in; the number checked in."""
    batch = get_batch(session, principal, batch_id)
    if batch.state is BatchState.arrived:
        raise Conflict(Message("this batch has already arrived"))
    moment = clock.as_utc(at) if at is not None else clock.utcnow()
    riders = list(
        session.scalars(
            select(Stay)
            .where(
                Stay.batch_id == batch.id, Stay.state == StayState.placed, under(Stay.jpath, principal.jpath)
            )
            .order_by(Stay.id)
        )
    )
    count = stays.check_in_stays(session, bus, riders, moment, principal.username)
    batch.state = BatchState.arrived
    batch.arrived_at = moment
    audit.record(
        session,
        actor(principal, ip),
        "quarantine.arrival",
        "transfer_batch",
        batch.id,
        jpath=batch.jpath,
        detail={"checked_in": count},
    )
    return count


def depart(session: Session, principal: Principal, batch_id: int, *, ip: str = "") -> TransferBatch:
    """The vehicle left the pickup point."""
    batch = get_batch(session, principal, batch_id)
    if batch.state is not BatchState.planned:
        raise Conflict(Message("only a planned batch can depart"))
    batch.state = BatchState.departed
    audit.record(
        session, actor(principal, ip), "quarantine.depart", "transfer_batch", batch.id, jpath=batch.jpath
    )
    return batch


def riders_of(session: Session, batch_ids: Sequence[int]) -> dict[int, int]:
    """People on each batch (for a list of batches)."""
    if not batch_ids:
        return {}
    rows = session.execute(
        select(Stay.batch_id, func.count()).where(Stay.batch_id.in_(batch_ids)).group_by(Stay.batch_id)
    ).all()
    return {cast(int, b): n for b, n in rows}
