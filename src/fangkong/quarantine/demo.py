"""The quarantine part of the demo region: a reserve list at the standard, in three tiers, and people in it.

Every county gets rooms at the reserve standard (20 per 10,000 residents, ``rules.capacity``) spread over
three tiers of sites: tier 1 open, tiers 2 and 3 on reserve. One county is left a little short so the
reserve page shows a shortfall. In the demo county (where the demo accounts work) two cases are reported
and their household and neighbourhood contacts recorded through tracing, so their plans ask for
centralized quarantine; the quarantine manager places them, plans the transfer batches, and the first
vehicle arrives, so the room board, the to-place list and the census have something to show on first run.

Everything goes through the ordinary use cases, as the demo's residents go through the registry import.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.crypto import Vault
from fangkong.core.demo_loader import demo_principal
from fangkong.core.models import Jurisdiction, Person, Role
from fangkong.core.scope import under
from fangkong.quarantine import service
from fangkong.quarantine.models import QuarantineSite, RoomKind
from fangkong.quarantine.rules.capacity import RESERVE_ROOMS_PER_10K
from fangkong.wiring import build_bus

# Share of a county's rooms in each tier (modelling choice: the first tier takes most, so a small
# outbreak fits before a second tier is needed).
TIER_SHARES = (0.4, 0.3, 0.3)
# Site kinds by tier: hotels open first, purpose-built sites are the deep reserve.
TIER_KINDS = ("hotel", "hotel", "purpose_built")
TIER_HOURS_TO_OPEN = (6, 24, 48)
OPERATOR_WORDS = {"hotel": "宾馆", "purpose_built": "应急"}
# Rooms per floor, and the share that are family or accessible rooms (the 2022 design guide asks for
# mainly single rooms plus some for families, minors, the elderly and carers: protocols.md §6 fac.design).
ROOMS_PER_FLOOR = 20
FAMILY_EVERY = 10
ACCESSIBLE_EVERY = 20
# The county left short of the standard, as a share of its standard (shows the shortfall on the page).
SHORT_COUNTY_SHARE = 0.85
# Contacts found per demo case beyond the household (neighbours who shared a meal with the case).
NEIGHBOURS_PER_CASE = 6


@dataclass(frozen=True)
class DemoQuarantine:
    sites: int
    rooms: int
    placed: int
    checked_in: int


def _approver(session: Session, county: Jurisdiction) -> Principal:
    """The demo's own approval of the tier-1 sites: a command-centre principal of the county."""
    return Principal(
        user_id=0,
        username="demo",
        display_name="demo",
        role=Role.command_centre,
        jurisdiction_id=county.id,
        jpath=county.path,
        jurisdiction_name=county.name,
        via="demo",
    )


def _rooms(total: int) -> list[service.sites.RoomInput]:
    rooms = []
    for index in range(total):
        floor, slot = divmod(index, ROOMS_PER_FLOOR)
        number = f"{floor + 2}{slot + 1:02d}"
        if (slot + 1) % ACCESSIBLE_EVERY == 0:
            kind, beds = RoomKind.accessible, 2
        elif (slot + 1) % FAMILY_EVERY == 0:
            kind, beds = RoomKind.family, 3
        else:
            kind, beds = RoomKind.single, 1
        # Two ventilation zones per floor: the east and the west wing.
        zone = "东" if slot < ROOMS_PER_FLOOR // 2 else "西"
        rooms.append(
            service.sites.RoomInput(number=number, kind=kind, beds=beds, floor=str(floor + 2), zone=zone)
        )
    return rooms


def seed_sites(
    session: Session, counties: Sequence[Jurisdiction], short_county: str | None
) -> tuple[int, int]:
    """Three tiers of sites per county at the reserve standard; tier 1 opened. Returns (sites, rooms)."""
    admin = demo_principal(session, "admin")
    bus = build_bus()
    sites = rooms = 0
    for county in counties:
        residents = session.scalar(
            select(func.count()).select_from(Person).where(under(Person.jpath, county.path))
        )
        standard = math.ceil((residents or 0) * RESERVE_ROOMS_PER_10K / 10_000)
        target = math.ceil(standard * SHORT_COUNTY_SHARE) if county.code == short_county else standard
        if target == 0:
            continue
        approver = _approver(session, county)
        for tier, share in enumerate(TIER_SHARES, start=1):
            count = max(1, round(target * share))
            site = service.sites.create_site(
                session,
                admin,
                service.sites.SiteInput(
                    name=f"{county.name}{('第一', '第二', '第三')[tier - 1]}梯队隔离点",
                    kind=TIER_KINDS[tier - 1],
                    address=f"{county.name}健康路{tier * 10 + 1}号",
                    jurisdiction_code=county.code,
                    operator=f"{county.name}{OPERATOR_WORDS[TIER_KINDS[tier - 1]]}管理有限公司",
                    contact_name="值班经理",
                    contact_phone=f"0571-8800{tier:04d}",
                    tier=tier,
                    hours_to_open=TIER_HOURS_TO_OPEN[tier - 1],
                ),
                ip="demo",
            )
            rooms += service.sites.add_rooms(session, admin, site.id, _rooms(count), ip="demo")
            sites += 1
            if tier == 1:
                service.activation.activate(
                    session, bus, approver, site.id, reason="demo: first tier", ip="demo"
                )
                service.activation.mark_open(session, approver, site.id, ip="demo")
    return sites, rooms


def _people_for_cases(
    session: Session, county: Jurisdiction, cases: int
) -> list[tuple[Person, list[Person]]]:
    """Index people with a household of at least three, each with the household and a few neighbours."""
    households = session.execute(
        select(Person.household_id)
        .where(under(Person.jpath, county.path), Person.household_id.is_not(None))
        .group_by(Person.household_id)
        .having(func.count() >= 3)
        .order_by(Person.household_id)
        .limit(cases)
    ).scalars()
    found = []
    for household_id in households:
        members = list(
            session.scalars(select(Person).where(Person.household_id == household_id).order_by(Person.id))
        )
        index, household = members[0], members[1:]
        neighbours = list(
            session.scalars(
                select(Person)
                .where(Person.jpath == index.jpath, Person.household_id != household_id)
                .order_by(Person.id)
                .limit(NEIGHBOURS_PER_CASE)
            )
        )
        found.append((index, household + neighbours))
    return found


def seed_outbreak(session: Session, vault: Vault, county: Jurisdiction, cases: int = 2) -> tuple[int, int]:
    """Two reported cases with their contacts, placed and partly transferred. Returns (placed, checked in)."""
    from fangkong.tracing import service as tracing
    from fangkong.tracing.persons import PersonInput
    from fangkong.tracing.service import Classification

    bus = build_bus()
    investigator = demo_principal(session, "investigator")
    manager = demo_principal(session, "quarantine")
    today = clock.today()
    exposed = dt.datetime.combine(today - dt.timedelta(days=1), dt.time(18, 0))
    for index, contacts in _people_for_cases(session, county, cases):
        case = tracing.register_case(
            session,
            vault,
            bus,
            investigator,
            tracing.CaseInput(
                classification=Classification.confirmed,
                person=PersonInput(person_id=index.id),
                onset_date=today - dt.timedelta(days=1),
                sampling_date=today,
                diagnosis_date=today,
                notes="demo",
            ),
            ip="demo",
        )
        lines = [
            tracing.ExposureInput(
                # Neighbours shared a meal with the index case the evening before the onset.
                setting="household" if person.household_id == index.household_id else "shared_meal",
                start=exposed,
                person=PersonInput(person_id=person.id),
                note="demo",
            )
            for person in contacts
        ]
        tracing.add_exposures(session, vault, bus, investigator, case.id, lines, ip="demo")
    report = service.placement.place_people(session, manager, ip="demo")
    batches = service.transfers.plan_batches(session, manager, seats=8, ip="demo")
    checked_in = 0
    if batches:
        checked_in = service.transfers.confirm_arrival(session, bus, manager, batches[0].id, ip="demo")
    return report.placed, checked_in


def seed(session: Session, vault: Vault, county_codes: Sequence[str], demo_county: str) -> DemoQuarantine:
    """The whole quarantine part of the demo (see the module doc)."""
    counties = list(
        session.scalars(
            select(Jurisdiction).where(Jurisdiction.code.in_(county_codes)).order_by(Jurisdiction.code)
        )
    )
    short = next((c.code for c in counties if c.code != demo_county), None)
    sites, rooms = seed_sites(session, counties, short)
    county = next(c for c in counties if c.code == demo_county)
    placed, checked_in = seed_outbreak(session, vault, county)
    assert session.scalar(select(func.count()).select_from(QuarantineSite)) == sites
    return DemoQuarantine(sites, rooms, placed, checked_in)
