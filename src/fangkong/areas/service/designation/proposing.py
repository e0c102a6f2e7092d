"""Proposals from cases: homes and frequent places high, places where a case stayed medium; households.

A proposal run reads tracing's infections in the caller's scope and, as the protocol in force where each
case lives allows (``rules.proposals``), makes or joins an area per home and per place; a case found
later than an area's last restarts the clock of an area in force. The investigation lists the
households of an area smaller than its jurisdiction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.areas.models import (
    AreaState,
    RiskArea,
    RiskAreaCase,
    RiskAreaHousehold,
    RiskLevel,
    UnitKind,
)
from fangkong.areas.rules import proposals
from fangkong.areas.service.designation.reads import (
    HOUSEHOLDS,
    INFECTIONS,
    MAX_PAGE_SIZE,
    NEW_CASE,
    OPEN_STATES,
    PROPOSED,
    TRANSPORT,
    WHOLE_JURISDICTION,
    _change,
    _reader,
    _require,
    actor,
    get_area,
)
from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.bulk import write_rows
from fangkong.core.clock import local_day, utcnow
from fangkong.core.errors import Conflict, InvalidInput, RowError
from fangkong.core.i18n import Message, stored
from fangkong.core.models import Household, Jurisdiction, Level, Person
from fangkong.core.permissions import Permission
from fangkong.core.scope import path_in_scope
from fangkong.protocol.schema import RiskAreas
from fangkong.protocol.service import protocol_in_force
from fangkong.tracing import service as tracing

# ------------------------------------------------------------------------------------------- proposals


def _rules_at(
    session: Session, jpath: str, cache: dict[str, tuple[str, RiskAreas | None]]
) -> tuple[str, RiskAreas | None]:
    if jpath not in cache:
        protocol = protocol_in_force(session, jpath)
        cache[jpath] = (protocol.id, protocol.risk_areas)
    return cache[jpath]


def _county_of(session: Session, jurisdiction: Jurisdiction) -> Jurisdiction:
    """The county a community or township lies in (itself if it is one)."""
    node = jurisdiction
    while node.level not in (Level.county, Level.city, Level.province) and node.parent_id is not None:
        parent = session.get(Jurisdiction, node.parent_id)
        if parent is None:
            break
        node = parent
    return node


def proposal_notice(session: Session, principal: Principal) -> Message | None:
    """What a proposal run in the caller's jurisdiction says when its protocol designates no areas (cn-10)."""
    protocol = protocol_in_force(session, principal.jpath)
    if proposals.designates(protocol.risk_areas):
        return None
    return proposals.no_designation_notice(protocol.id)


def _home_name(jurisdiction: Jurisdiction, household: Household) -> str:
    # The masked address keeps the street and hides the numbers that locate one home: a place, no person.
    street = household.address_masked.rstrip("*").strip()
    return f"{jurisdiction.name} {street}".strip()[:120]


class _Proposer:
    """One proposal run: areas made or found per place, links added, clocks restarted by new cases."""

    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal
        self.rules: dict[str, tuple[str, RiskAreas | None]] = {}
        self.created: list[RiskArea] = []
        self.linked = 0
        self.skipped_protocols: set[str] = set()

    def open_area(self, jurisdiction_id: int, name: str) -> RiskArea | None:
        return self.session.scalar(
            select(RiskArea)
            .where(
                RiskArea.jurisdiction_id == jurisdiction_id,
                RiskArea.name == name,
                RiskArea.state.in_(OPEN_STATES),
            )
            .order_by(RiskArea.id)
            .limit(1)
        )

    def area_of_household(self, household_id: int, jpath: str) -> RiskArea | None:
        listed = self.session.scalar(
            select(RiskArea)
            .join(RiskAreaHousehold, RiskAreaHousehold.area_id == RiskArea.id)
            .where(RiskAreaHousehold.household_id == household_id, RiskArea.state.in_(OPEN_STATES))
            .order_by(RiskArea.id)
            .limit(1)
        )
        if listed is not None:
            return listed
        return _whole_jurisdiction_area(self.session, jpath)

    def new_area(
        self, jurisdiction: Jurisdiction, protocol_id: str, level: str, unit: UnitKind, name: str
    ) -> RiskArea:
        county = _county_of(self.session, jurisdiction)
        area = RiskArea(
            jurisdiction_id=jurisdiction.id,
            jpath=jurisdiction.path,
            county_id=county.id,
            unit_kind=unit,
            name=name,
            level=RiskLevel(level),
            state=AreaState.proposed,
            protocol_id=protocol_id,
            reason="",
            proposed_at=utcnow(),
            downgraded_from_high=False,
        )
        self.session.add(area)
        self.session.flush()
        _change(self.session, area, PROPOSED, "system", to_level=area.level)
        self.created.append(area)
        return area

    def link(
        self, area: RiskArea, case_id: int, link: str, found_on: dt.date, visit_id: int | None = None
    ) -> None:
        _link_case(self.session, area, case_id, link, found_on, visit_id, by=self.principal.username)
        self.linked += 1


def _whole_jurisdiction_area(session: Session, jpath: str) -> RiskArea | None:
    """An open area that is a whole community or township containing ``jpath``."""
    codes = [c for c in jpath.split("/") if c]
    ancestors = ["/" + "".join(f"{c}/" for c in codes[: i + 1]) for i in range(len(codes))]
    return session.scalar(
        select(RiskArea)
        .where(
            RiskArea.jpath.in_(ancestors),
            RiskArea.unit_kind.in_(list(WHOLE_JURISDICTION)),
            RiskArea.state.in_(OPEN_STATES),
        )
        .order_by(RiskArea.id)
        .limit(1)
    )


def _refresh_reason(session: Session, area: RiskArea) -> None:
    rows = session.execute(
        select(RiskAreaCase.case_id, RiskAreaCase.link, RiskAreaCase.found_on).where(
            RiskAreaCase.area_id == area.id
        )
    ).all()
    reader = _reader()
    refs = {cid: tracing.get_case(session, reader, cid).case_ref for cid in {r[0] for r in rows}}
    area.reason = stored(
        proposals.reason_for([proposals.LinkFact(refs[cid], link, day) for cid, link, day in rows])
    )


def _link_case(
    session: Session,
    area: RiskArea,
    case_id: int,
    link: str,
    found_on: dt.date,
    visit_id: int | None,
    *,
    by: str,
) -> bool:
    """Record a case behind an area; an infection found later than the area's last restarts its clock."""
    exists = session.scalar(
        select(RiskAreaCase.id).where(
            RiskAreaCase.area_id == area.id, RiskAreaCase.case_id == case_id, RiskAreaCase.link == link
        )
    )
    if exists is not None:
        return False
    session.add(
        RiskAreaCase(area_id=area.id, case_id=case_id, link=link, visit_id=visit_id, found_on=found_on)
    )
    session.flush()
    if area.last_case_on is None or found_on > area.last_case_on:
        area.last_case_on = found_on
        if area.state is AreaState.in_force:
            _change(
                session,
                area,
                NEW_CASE,
                by,
                Message("a new infection found on {day}: the clock starts again", day=found_on),
                from_level=area.level,
                to_level=area.level,
            )
    _refresh_reason(session, area)
    return True


def _case_ids(session: Session, principal: Principal, since: dt.date | None) -> list[int]:
    ids: list[int] = []
    page = 1
    while True:
        found = tracing.list_cases(
            session, principal, tracing.CaseFilter(reported_from=since), page=page, size=MAX_PAGE_SIZE
        )
        ids.extend(row.id for row in found.items if row.classification.value in INFECTIONS)
        if page >= found.pages:
            return sorted(ids)
        page += 1


def propose_from_cases(
    session: Session, principal: Principal, *, since: dt.date | None = None
) -> list[RiskArea]:
    """Proposals from the cases in the caller's scope (reported on or after ``since``): their homes and
    frequent places high, places where they stayed medium, as the protocol in force allows.

    A case already behind an open area joins it (an area in force has its clock restarted); a case or a
    place already behind any area, even one lifted or rejected, proposes nothing again, so the run can be
    repeated. Returns the proposals this run made; under a protocol that designates no areas it makes
    none (:func:`proposal_notice` says why).
    """
    _require(principal, Permission.areas_propose, Message("proposing risk areas"))
    run = _Proposer(session, principal)
    for case_id in _case_ids(session, principal, since):
        _propose_for_case(run, case_id)
    audit.record(
        session,
        actor(principal),
        "areas.propose",
        "risk_area",
        "-",
        jpath=principal.jpath,
        detail={
            "since": since.isoformat() if since else None,
            "created": [a.id for a in run.created],
            "linked": run.linked,
            "no_designation": sorted(run.skipped_protocols),
        },
    )
    return run.created


def _propose_for_case(run: _Proposer, case_id: int) -> None:
    session = run.session
    case = tracing.get_case(session, run.principal, case_id)
    protocol_id, rules = _rules_at(session, case.jpath, run.rules)
    if not proposals.designates(rules):
        run.skipped_protocols.add(protocol_id)
        return
    found_on = tracing.found_day(case)
    linked = session.execute(
        select(RiskAreaCase.link, RiskAreaCase.visit_id).where(RiskAreaCase.case_id == case.id)
    ).all()
    jurisdiction = session.get(Jurisdiction, case.jurisdiction_id)
    assert jurisdiction is not None
    home_rule = proposals.tier_unit_rule(rules, RiskLevel.high.value)
    if home_rule is not None and not any(link == proposals.HOME for link, _ in linked):
        _propose_home(run, case.id, case.person_id, jurisdiction, protocol_id, home_rule, found_on)
    visits = [
        proposals.VisitFact(v.id, v.place_key, v.place_name, local_day(v.start))
        for v in tracing.visits_of(session, run.principal, case.id)
        if v.kind.value != TRANSPORT
    ]
    seen_visits = {visit_id for _, visit_id in linked if visit_id is not None}
    for place in proposals.place_proposals(rules, visits):
        if place.visit_id in seen_visits:
            continue
        rule = proposals.tier_unit_rule(rules, place.level)
        assert rule is not None
        area = run.open_area(jurisdiction.id, place.place_name[:120])
        if area is not None and area.state is AreaState.proposed and _rank(place.level) > _rank(area.level):
            area.level = RiskLevel(place.level)
        elif area is None or _rank(place.level) > _rank(area.level):
            area = run.new_area(
                jurisdiction, protocol_id, place.level, rule.place_unit, place.place_name[:120]
            )
        run.link(area, case.id, place.link, found_on, place.visit_id)


def _rank(level: str) -> int:
    return {"high": 3, "medium": 2, "low": 1}[str(level)]


def _propose_home(
    run: _Proposer,
    case_id: int,
    person_id: int | None,
    jurisdiction: Jurisdiction,
    protocol_id: str,
    rule: proposals.UnitRule,
    found_on: dt.date,
) -> None:
    session = run.session
    person = session.get(Person, person_id) if person_id is not None else None
    household = session.get(Household, person.household_id) if person and person.household_id else None
    if household is None:
        # Someone the registry does not know (or knows without a home): the investigation names the place.
        return
    area = run.area_of_household(household.id, jurisdiction.path)
    if area is None:
        name = _home_name(jurisdiction, household)
        area = run.open_area(jurisdiction.id, name)
        if area is None or area.level is not RiskLevel.high:
            area = run.new_area(jurisdiction, protocol_id, RiskLevel.high.value, rule.home_unit, name)
        if area.unit_kind not in WHOLE_JURISDICTION:
            _add_household_rows(session, area, [household.id])
    run.link(area, case_id, proposals.HOME, found_on)


def _add_household_rows(session: Session, area: RiskArea, household_ids: Sequence[int]) -> int:
    have = set(
        session.scalars(select(RiskAreaHousehold.household_id).where(RiskAreaHousehold.area_id == area.id))
    )
    new = sorted(set(household_ids) - have)
    write_rows(
        session,
        RiskAreaHousehold.__table__,  # type: ignore[arg-type]
        ("area_id", "household_id"),
        [(area.id, hid) for hid in new],
    )
    return len(new)


def add_households(
    session: Session, principal: Principal, area_id: int, household_ids: Sequence[int], *, ip: str = ""
) -> int:
    """List households of the registry inside an area smaller than its jurisdiction (the investigation
    names them: the registry knows households, not buildings). Returns how many were new."""
    _require(principal, Permission.areas_propose, Message("listing the households of a risk area"))
    area = get_area(session, principal, area_id)
    if area.state not in OPEN_STATES:
        raise Conflict(
            Message(
                "the area is {state}: its households can no longer change",
                state=Message(area.state.value, ctx="risk area"),
            )
        )
    if area.unit_kind in WHOLE_JURISDICTION:
        raise Conflict(Message("the area is a whole jurisdiction: all its residents are in it"))
    wanted = list(dict.fromkeys(household_ids))
    known = dict(
        session.execute(select(Household.id, Household.jpath).where(Household.id.in_(wanted or [-1]))).all()
    )
    errors = [
        RowError(row, "household_id", Message("household {id} is not in {place}", id=hid, place=area.name))
        for row, hid in enumerate(wanted, start=1)
        if hid not in known or not path_in_scope(known[hid], area.jpath)
    ]
    if not wanted:
        errors.append(RowError(1, "household_id", Message("name at least one household")))
    if errors:
        raise InvalidInput(errors)
    added = _add_household_rows(session, area, wanted)
    if added:
        _change(session, area, HOUSEHOLDS, principal.username, Message("{n} households added", n=added))
    audit.record(
        session,
        actor(principal, ip),
        "areas.households",
        "risk_area",
        area.id,
        jpath=area.jpath,
        detail={"added": added, "households": wanted},
    )
    return added
