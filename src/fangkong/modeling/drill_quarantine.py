"""The quarantine part of a drill: the sandbox's reserve list, and the autopilot's placements.

When a drill starts, its sandbox gets a reserve list like a real county's: three tiers of sites at the
reserve standard for its residents (at least :data:`MIN_ROOMS_PER_SITE` rooms each), tier 1 open. When
the drill plays the teams (autopilot), each investigation is followed, after
:data:`DEFAULT_PLACEMENT_DELAY_HOURS` drill hours, by the quarantine manager's round: release whoever's
plan ends by then, disinfect the emptied rooms, open the next tier if the activation advice says so,
place everyone on the to-place list, plan the transfer batches, and confirm their arrival, all as the
drill itself through the quarantine use cases, on the drill's own calendar day. The score's placement
measure then reads how long each person took from identification to check-in.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core.auth import Principal
from fangkong.core.events import EventBus
from fangkong.core.models import Jurisdiction, Person
from fangkong.core.scope import under

# Drill hours from an investigation to the quarantine manager's placement round (modelling choice:
# within cn-9's 8-hour transfer deadline for close contacts, protocols.md §7 epi.local_list).
DEFAULT_PLACEMENT_DELAY_HOURS: Final[float] = 4.0
# Smallest site a sandbox gets, rooms (a sandbox of a few thousand residents has a standard of a few
# rooms; an outbreak there needs at least a small hotel).
MIN_ROOMS_PER_SITE: Final[int] = 10
# Rooms per site, as a multiple of the reserve standard per tier (three tiers: together three times
# the standard, since a drill's outbreak is concentrated in its few communities).
TIERS: Final[int] = 3
# Seats per transfer vehicle (a minibus).
VEHICLE_SEATS: Final[int] = 8


def prepare_sites(session: Session, principal: Principal, township: Jurisdiction) -> int:
    """Three tiers of sites in the sandbox, tier 1 open; returns the number of rooms."""
    from fangkong.quarantine import service
    from fangkong.quarantine.rules.capacity import RESERVE_ROOMS_PER_10K

    residents = session.scalar(
        select(func.count()).select_from(Person).where(under(Person.jpath, township.path))
    )
    per_site = max(MIN_ROOMS_PER_SITE, math.ceil((residents or 0) * RESERVE_ROOMS_PER_10K / 10_000))
    rooms = 0
    bus = EventBus()
    for tier in range(1, TIERS + 1):
        site = service.sites.create_site(
            session,
            principal,
            service.sites.SiteInput(
                name=f"演练隔离点{tier}",
                kind="hotel",
                address="",
                jurisdiction_code=township.code,
                tier=tier,
                hours_to_open=2 * tier,
            ),
            ip="drill",
        )
        rooms += service.sites.add_rooms(
            session,
            principal,
            site.id,
            [
                service.sites.RoomInput(
                    number=f"{tier}{index + 1:03d}",
                    kind="family" if index % 10 == 9 else "single",
                    beds=3 if index % 10 == 9 else 1,
                    floor=str(index // 10 + 1),
                )
                for index in range(per_site)
            ],
            ip="drill",
        )
        if tier == 1:
            service.activation.activate(
                session, bus, principal, site.id, reason="drill: first tier", ip="drill"
            )
            service.activation.mark_open(session, principal, site.id, ip="drill")
    return rooms


def placement_round(session: Session, bus: EventBus, principal: Principal, day: dt.date) -> str:
    """The autopilot's quarantine round on drill day ``day``; returns a short record of what it did.

    Whoever's plan releases them by that day is checked out first, so the rooms turn over as in a real
    site; then the next tier is opened if the advice says so, everyone waiting is placed and transferred.
    """
    from fangkong.quarantine import service

    released = service.stays.release_due(session, principal, on=day, ip="drill")
    cleaned = _disinfect_emptied_rooms(session, principal)
    advice = service.activation.evaluate(session, principal, on=day)
    opened = 0
    if advice.activate:
        for reserve in advice.sites:
            service.activation.activate(
                session, bus, principal, reserve.site_id, reason="drill autopilot", ip="drill"
            )
            service.activation.mark_open(session, principal, reserve.site_id, ip="drill")
            opened += 1
    report = service.placement.place_people(session, principal, on=day, ip="drill")
    checked_in = 0
    for batch in service.transfers.plan_batches(session, principal, seats=VEHICLE_SEATS, ip="drill"):
        checked_in += service.transfers.confirm_arrival(session, bus, principal, batch.id, ip="drill")
    # Kept on the drill event (60 characters at most): placed, checked in, sites opened, left waiting,
    # released, rooms disinfected.
    return (
        f"placed:{report.placed};in:{checked_in};open:{opened};left:{len(report.unplaced)};"
        f"out:{released};clean:{cleaned}"
    )[:60]


def _disinfect_emptied_rooms(session: Session, principal: Principal) -> int:
    """The sites' cleaning teams: every emptied room gets its terminal disinfection and is free again."""
    from fangkong.quarantine import service
    from fangkong.quarantine.service import RoomState

    cleaned = 0
    for site in service.sites.list_sites(session, principal, size=service.sites.MAX_PAGE_SIZE).items:
        if not site.rooms_by_state.get(RoomState.cleaning):
            continue
        for floor in service.stays.room_board(session, principal, site.id).floors:
            for room in floor.rooms:
                if room.state is RoomState.cleaning:
                    service.stays.record_cleaning(session, principal, room.room_id, note="drill", ip="drill")
                    cleaned += 1
    return cleaned
