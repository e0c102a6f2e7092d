"""The risk-area part of a drill: areas designated from the drill's cases and lifted on its clock.

When the drill plays the teams (autopilot), the command centre's daily round at :data:`AREAS_HOUR` of
each drill day: propose areas from the cases reported so far (homes and frequent places high, places
where cases stayed medium, as the drill's protocol allows) and approve every proposal; then take each
change the protocol's clock makes due that day. A change that waits for a negative screening round of
everyone on its final day gets one: the sandbox's campaign opens a round that morning, every resident of
the area's community who is not a case is scanned into 10-in-1 tubes, the lab reports them, the round is
closed with the infections it found, and the change is applied if the round came back clean.

All of it goes through the areas and testing use cases as the drill itself, on the drill's calendar day,
so the score reads how many days each case's home waited for its designation and whether liftings were
taken when they fell due.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy.orm import Session

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.events import EventBus
from fangkong.modeling.drill_outbreak import ScheduledEvent

# Drill hour of the day the command centre goes over the risk areas (10:00, modelling choice).
AREAS_HOUR: Final[float] = 10.0
# Local time a screening round starts on its day, and how long the scanning takes (modelling choice).
SCREENING_START: Final[dt.time] = dt.time(7, 0)
SCANNING_MINUTES: Final[int] = 120
POOL_SIZE: Final[int] = 10


def schedule(days: int) -> list[ScheduledEvent]:
    """The command centre's risk-area round on each drill day."""
    return [ScheduledEvent("areas", day * 24.0 + AREAS_HOUR, {"day": day}) for day in range(days)]


def areas_round(session: Session, bus: EventBus, principal: Principal, day: dt.date, hash_key: str) -> str:
    """Propose and approve, screen where needed, then apply what fell due; a short record of it."""
    from fangkong.areas.service import RiskLevel, designation

    approved = 0
    for proposal in designation.propose_from_cases(session, principal):
        designation.approve(session, bus, principal, proposal.id, on=day, ip="drill")
        approved += 1
    screened = 0
    applied = 0
    for change in designation.due_changes(session, principal, day):
        if change.due_on > day:
            continue
        if "screening" in change.blocker_kinds and "new_case" not in change.blocker_kinds:
            screened += _screen(session, bus, principal, change.area_id, day, hash_key)
    for change in designation.due_changes(session, principal, day):
        if change.due_on <= day and change.ready:
            designation.apply_change(
                session, bus, principal, change.area_id, RiskLevel(change.to_level), ip="drill"
            )
            applied += 1
    return f"approved:{approved};screened:{screened};applied:{applied}"


def _screen(
    session: Session, bus: EventBus, principal: Principal, area_id: int, day: dt.date, hash_key: str
) -> int:
    """A screening round of the area's community on ``day``; returns the residents scanned."""
    from fangkong.areas.service import designation
    from fangkong.testing.rules.codes import ScanCodes
    from fangkong.testing.service import TestResult, coverage, results, rounds, scanning

    area = designation.get_area(session, principal, area_id)
    campaign = rounds.create_campaign(
        session,
        principal,
        name=f"演练筛查 {area.name}"[:120],
        areas=[area.jurisdiction_id],
        pool_size=POOL_SIZE,
        reason="drill autopilot: the day-7 screening of a risk area",
    )
    starts = clock.from_local(dt.datetime.combine(day, SCREENING_START))
    opened = rounds.open_round(session, principal, campaign.id, starts_at=starts)
    rounds.set_up_sites(session, principal, opened.id)
    waiting = coverage.not_sampled(session, principal, opened.id)
    from fangkong.tracing.persons import people_who_are_cases

    cases = people_who_are_cases(session, [p.person_id for p in waiting])
    people = [p.person_id for p in waiting if p.person_id not in cases]
    codes = ScanCodes(hash_key)
    scans = [
        scanning.Scan(
            device_id=f"drill-{opened.id}",
            device_seq=index,
            round_id=opened.id,
            barcode=f"DR{opened.id:05d}-{index // POOL_SIZE:05d}",
            person_code=codes.code_for(person_id),
            scanned_at=starts + dt.timedelta(minutes=SCANNING_MINUTES * index / max(1, len(people))),
        )
        for index, person_id in enumerate(people)
    ]
    if scans:
        scanning.bind(session, principal, scans, codes=codes)
    tested = starts + dt.timedelta(minutes=SCANNING_MINUTES, hours=4)
    for index, barcode in enumerate(sorted({s.barcode for s in scans})):
        results.apply_result(
            session,
            results.ResultLine(
                row=index + 1,
                barcode=barcode,
                result=TestResult.negative,
                ct_values={},
                tested_at=min(tested, clock.utcnow()),
                version=None,
            ),
            origin="drill lab",
            bus=bus,
        )
    rounds.close_round(session, principal, opened.id, bus=bus)
    return len(scans)
