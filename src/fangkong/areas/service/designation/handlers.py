"""Handlers of other capabilities' events: an infection reported by tracing restarts the clock of each area
in force it is behind (its home, the places it visited).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.areas.models import (
    AreaState,
    RiskArea,
    RiskAreaHousehold,
)
from fangkong.areas.rules import proposals
from fangkong.areas.service.designation.proposing import _link_case, _whole_jurisdiction_area
from fangkong.areas.service.designation.reads import INFECTIONS, TRANSPORT, _reader
from fangkong.core.events import DomainEvent
from fangkong.core.models import Person
from fangkong.tracing import service as tracing
from fangkong.tracing.events import CaseReported

# ------------------------------------------------------------------------------------------- handler


def case_reported(session: Session, event: DomainEvent) -> None:
    """Handler of tracing's ``CaseReported``: an infection whose home or visited place is in an area in
    force restarts that area's clock (``last_case_on``, a line of its timeline)."""
    assert isinstance(event, CaseReported)
    if event.classification not in INFECTIONS:
        return
    reader = _reader()
    case = tracing.get_case(session, reader, event.case_id)
    found_on = tracing.found_day(case)
    areas: list[tuple[RiskArea, str, int | None]] = []
    person = session.get(Person, event.person_id) if event.person_id is not None else None
    home = None
    if person is not None and person.household_id is not None:
        home = session.scalar(
            select(RiskArea)
            .join(RiskAreaHousehold, RiskAreaHousehold.area_id == RiskArea.id)
            .where(
                RiskAreaHousehold.household_id == person.household_id, RiskArea.state == AreaState.in_force
            )
            .order_by(RiskArea.id)
            .limit(1)
        )
    if home is None:
        whole = _whole_jurisdiction_area(session, case.jpath)
        home = whole if whole is not None and whole.state is AreaState.in_force else None
    if home is not None:
        areas.append((home, proposals.HOME, None))
    visits = [v for v in tracing.visits_of(session, reader, case.id) if v.kind.value != TRANSPORT]
    for visit in visits:
        place = session.scalar(
            select(RiskArea)
            .where(
                RiskArea.jpath == visit.jpath,
                RiskArea.name == visit.place_name[:120],
                RiskArea.state == AreaState.in_force,
            )
            .limit(1)
        )
        if place is not None and all(place.id != a.id for a, _, _ in areas):
            areas.append((place, proposals.STAYED, visit.id))
    for area, link, visit_id in areas:
        _link_case(session, area, case.id, link, found_on, visit_id, by="system")
