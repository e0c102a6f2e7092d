"""Risk areas: proposals from cases, the command centre's approval, the lifting clock, each area's timeline.

Proposals come from tracing's cases (read through ``tracing.service``): a case's home (its registry
household, in its community) and the places it frequents are high, places where it stayed are medium, as
the protocol in force where the case lives allows (``rules.proposals``). The command centre approves a
proposal (``RiskAreaDesignated``); from then on the protocol's clock (``rules.lifting``) says which change
falls due on which day, and what holds it back: a new infection in the area (``case_reported`` restarts the
clock) or a missing negative screening round of everyone on the final day, read from testing's rounds.
Applying a change publishes ``RiskAreaLifted``. Every step is a line of the area's timeline
(``RiskAreaChange``), and the rest of a county with any high or medium area is low: a read, not rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from fangkong.areas.events import RiskAreaDesignated, RiskAreaLifted
from fangkong.areas.models import (
    AreaState,
    RiskArea,
    RiskAreaCase,
    RiskAreaChange,
    RiskAreaHousehold,
    RiskLevel,
    UnitKind,
)
from fangkong.areas.rules import lifting, proposals
from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.bulk import write_rows
from fangkong.core.clock import local_day, today, utcnow
from fangkong.core.errors import Conflict, Forbidden, InvalidInput, NotFound, RowError
from fangkong.core.events import DomainEvent, EventBus
from fangkong.core.i18n import Message, joined, stored
from fangkong.core.models import Household, Jurisdiction, Level, Person, Role
from fangkong.core.permissions import Permission
from fangkong.core.scope import path_in_scope, under
from fangkong.protocol.schema import RiskAreas
from fangkong.protocol.service import protocol_in_force
from fangkong.tracing import service as tracing
from fangkong.tracing.events import CaseReported

# Cases that are infections (a suspected case is not, until confirmed; an excluded one never is).
INFECTIONS = frozenset({"confirmed", "asymptomatic"})
# Areas still standing: a proposal waiting for approval, or an area in force.
OPEN_STATES = (AreaState.proposed, AreaState.in_force)
# Units that are a whole jurisdiction: their residents are everyone under it, not listed households.
WHOLE_JURISDICTION = frozenset({UnitKind.community, UnitKind.township})
MAX_PAGE_SIZE = 200
# A visit on a train or a plane designates no area (tracing's place kind).
TRANSPORT = "transport"
# Timeline kinds (``RiskAreaChange.kind``).
PROPOSED, DESIGNATED, REJECTED, NEW_CASE, DOWNGRADED, LIFTED, HOUSEHOLDS = (
    "proposed",
    "designated",
    "rejected",
    "new_case",
    "downgraded",
    "lifted",
    "households",
)

T = TypeVar("T")


def actor(principal: Principal, ip: str = "") -> audit.Actor:
    return audit.Actor(principal.user_id, principal.username, ip or "web")


def _require(principal: Principal, permission: Permission, what: Message) -> None:
    if not principal.can(permission):
        raise Forbidden(Message("{what} needs the {permission} permission", what=what, permission=permission))


# ---------------------------------------------------------------------------------------------- reads


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def get_area(session: Session, principal: Principal, area_id: int) -> RiskArea:
    area = session.get(RiskArea, area_id)
    if area is None or not path_in_scope(area.jpath, principal.jpath):
        raise NotFound(f"risk area {area_id} not found")
    return area


@dataclass(frozen=True)
class AreaFilter:
    state: AreaState | None = None
    level: RiskLevel | None = None
    unit_kind: UnitKind | None = None
    county_id: int | None = None
    jurisdiction_id: int | None = None
    # A part of the area's name.
    q: str = ""


def list_areas(
    session: Session, principal: Principal, filters: AreaFilter | None = None, page: int = 1, size: int = 50
) -> Page[RiskArea]:
    """Areas in the caller's scope, newest first, filtered and paged."""
    filters = filters or AreaFilter()
    page, size = max(1, page), max(1, min(size, MAX_PAGE_SIZE))
    stmt = select(RiskArea).where(under(RiskArea.jpath, principal.jpath))
    if filters.state is not None:
        stmt = stmt.where(RiskArea.state == filters.state)
    if filters.level is not None:
        stmt = stmt.where(RiskArea.level == filters.level)
    if filters.unit_kind is not None:
        stmt = stmt.where(RiskArea.unit_kind == filters.unit_kind)
    if filters.county_id is not None:
        stmt = stmt.where(RiskArea.county_id == filters.county_id)
    if filters.jurisdiction_id is not None:
        stmt = stmt.where(RiskArea.jurisdiction_id == filters.jurisdiction_id)
    if filters.q.strip():
        stmt = stmt.where(RiskArea.name.contains(filters.q.strip(), autoescape=True))
    total = (
        session.scalar(select(func.count()).select_from(stmt.with_only_columns(RiskArea.id).subquery())) or 0
    )
    items = list(session.scalars(stmt.order_by(RiskArea.id.desc()).offset((page - 1) * size).limit(size)))
    return Page(items, total, page, size)


def areas_in_force(session: Session, scope_path: str) -> list[RiskArea]:
    """The high and medium areas in force under ``scope_path`` (for the public page and arrivals)."""
    return list(
        session.scalars(
            select(RiskArea)
            .where(under(RiskArea.jpath, scope_path), RiskArea.state == AreaState.in_force)
            .order_by(RiskArea.jpath, RiskArea.id)
        )
    )


def households_of(session: Session, area_ids: Iterable[int]) -> dict[int, list[int]]:
    """The listed households of each area (areas that are a whole jurisdiction list none)."""
    ids = sorted(set(area_ids))
    found: dict[int, list[int]] = {}
    for start in range(0, len(ids), 1000):
        for area_id, household_id in session.execute(
            select(RiskAreaHousehold.area_id, RiskAreaHousehold.household_id)
            .where(RiskAreaHousehold.area_id.in_(ids[start : start + 1000]))
            .order_by(RiskAreaHousehold.area_id, RiskAreaHousehold.household_id)
        ):
            found.setdefault(area_id, []).append(household_id)
    return found


def timeline(session: Session, principal: Principal, area_id: int) -> list[RiskAreaChange]:
    """Every step of an area, oldest first: proposed, designated, new cases, downgraded, lifted."""
    area = get_area(session, principal, area_id)
    return list(
        session.scalars(
            select(RiskAreaChange)
            .where(RiskAreaChange.area_id == area.id)
            .order_by(RiskAreaChange.at, RiskAreaChange.id)
        )
    )


def cases_of(session: Session, principal: Principal, area_id: int) -> list[RiskAreaCase]:
    """The cases (and places) behind an area: its reason, in the order they were found."""
    area = get_area(session, principal, area_id)
    return list(
        session.scalars(
            select(RiskAreaCase)
            .where(RiskAreaCase.area_id == area.id)
            .order_by(RiskAreaCase.found_on, RiskAreaCase.id)
        )
    )


@dataclass(frozen=True)
class CountyLevel:
    """A county with high or medium areas in force: everything else in it is low (protocols.md §4)."""

    county_id: int
    code: str
    name: str
    jpath: str
    high: int
    medium: int

    @property
    def rest_is_low(self) -> bool:
        return self.high + self.medium > 0


def _county_path_of(path: str) -> str | None:
    codes = [c for c in path.split("/") if c]
    return "/" + "".join(f"{c}/" for c in codes[:3]) if len(codes) >= 3 else None


def county_levels(session: Session, principal: Principal) -> list[CountyLevel]:
    """The counties in the caller's view (those under it, or the one it lies in) with any high or medium
    area in force, and how many of each: the rest of each such county is low."""
    own_county = _county_path_of(principal.jpath)
    in_view = under(Jurisdiction.path, principal.jpath)
    if own_county is not None and own_county != principal.jpath:
        in_view = or_(in_view, Jurisdiction.path == own_county)
    rows = session.execute(
        select(
            Jurisdiction.id,
            Jurisdiction.code,
            Jurisdiction.name,
            Jurisdiction.path,
            RiskArea.level,
            func.count(),
        )
        .join(RiskArea, RiskArea.county_id == Jurisdiction.id)
        .where(
            in_view,
            RiskArea.state == AreaState.in_force,
            RiskArea.level.in_([RiskLevel.high, RiskLevel.medium]),
        )
        .group_by(Jurisdiction.id, Jurisdiction.code, Jurisdiction.name, Jurisdiction.path, RiskArea.level)
    )
    counts: dict[int, tuple[str, str, str, dict[RiskLevel, int]]] = {}
    for jid, code, name, path, level, n in rows:
        counts.setdefault(jid, (code, name, path, {}))[3][RiskLevel(level)] = int(n)
    return [
        CountyLevel(jid, code, name, path, levels.get(RiskLevel.high, 0), levels.get(RiskLevel.medium, 0))
        for jid, (code, name, path, levels) in sorted(counts.items(), key=lambda item: item[1][2])
    ]


# ----------------------------------------------------------------------------------------- the timeline


def _change(
    session: Session,
    area: RiskArea,
    kind: str,
    by: str,
    reason: str | Message = "",
    from_level: RiskLevel | None = None,
    to_level: RiskLevel | None = None,
) -> RiskAreaChange:
    change = RiskAreaChange(
        area_id=area.id,
        county_id=area.county_id,
        jpath=area.jpath,
        kind=kind,
        from_level=from_level,
        to_level=to_level,
        reason=stored(reason),
        by=by,
        at=utcnow(),
    )
    session.add(change)
    return change


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


# -------------------------------------------------------------------------------------------- approval


def approve(
    session: Session,
    bus: EventBus,
    principal: Principal,
    area_id: int,
    *,
    level: RiskLevel | None = None,
    unit_kind: UnitKind | None = None,
    name: str | None = None,
    on: dt.date | None = None,
    ip: str = "",
) -> RiskArea:
    """The command centre designates a proposed area, as proposed or adjusted after the investigation
    (its level, unit and name, within what the protocol in force allows). Its clock starts ``on``
    (default today; a drill passes its own calendar day)."""
    _require(principal, Permission.areas_approve, Message("designating a risk area"))
    area = get_area(session, principal, area_id)
    if area.state is not AreaState.proposed:
        raise Conflict(
            Message(
                "only a proposed area can be designated; this one is {state}",
                state=Message(area.state.value, ctx="risk area"),
            )
        )
    protocol = protocol_in_force(session, area.jpath)
    rules = protocol.risk_areas
    if not proposals.designates(rules):
        raise Conflict(proposals.no_designation_notice(protocol.id))
    new_level = level or area.level
    new_unit = unit_kind or area.unit_kind
    new_name = (name if name is not None else area.name).strip()
    errors: list[RowError] = []
    rule = proposals.tier_unit_rule(rules, new_level.value)
    if rule is None:
        errors.append(
            RowError(
                1,
                "level",
                Message(
                    "the protocol in force has no {level} tier",
                    level=Message(new_level.value, ctx="risk area"),
                ),
            )
        )
    elif new_unit not in rule.allowed:
        allowed = sorted(rule.allowed, key=lambda k: proposals.UNIT_SIZE[k])
        errors.append(
            RowError(
                1,
                "unit_kind",
                Message(
                    "the protocol in force allows only {units} for a {level} area",
                    units=[Message(k.value, ctx="unit kind") for k in allowed],
                    level=Message(new_level.value, ctx="risk area"),
                ),
            )
        )
    if not new_name or len(new_name) > 120:
        errors.append(RowError(1, "name", Message("a name of 1 to 120 characters is required")))
    if errors:
        raise InvalidInput(errors)
    area.level = new_level
    area.unit_kind = new_unit
    area.name = new_name
    area.state = AreaState.in_force
    area.protocol_id = protocol.id
    area.designated_at = utcnow()
    area.approved_by = principal.username
    area.level_since = on or today()
    area.downgraded_from_high = False
    _change(session, area, DESIGNATED, principal.username, Message.loads(area.reason), to_level=new_level)
    audit.record(
        session,
        actor(principal, ip),
        "areas.designate",
        "risk_area",
        area.id,
        jpath=area.jpath,
        detail={"level": new_level.value, "unit": new_unit.value, "protocol": protocol.id},
    )
    session.flush()
    bus.publish(session, RiskAreaDesignated(area.id, area.jpath, area.level.value))
    return area


def reject(
    session: Session, principal: Principal, area_id: int, *, reason: str = "", ip: str = ""
) -> RiskArea:
    """The command centre turns a proposal down (its cases propose it no more)."""
    _require(principal, Permission.areas_approve, Message("rejecting a proposed risk area"))
    area = get_area(session, principal, area_id)
    if area.state is not AreaState.proposed:
        raise Conflict(
            Message(
                "only a proposed area can be rejected; this one is {state}",
                state=Message(area.state.value, ctx="risk area"),
            )
        )
    area.state = AreaState.rejected
    _change(session, area, REJECTED, principal.username, reason.strip()[:500], from_level=area.level)
    audit.record(
        session,
        actor(principal, ip),
        "areas.reject",
        "risk_area",
        area.id,
        jpath=area.jpath,
        detail={"reason": reason.strip()[:500]},
    )
    return area


# ---------------------------------------------------------------------------------------- the clock


def _facts(area: RiskArea) -> lifting.ClockFacts:
    since = area.level_since or (local_day(area.designated_at) if area.designated_at else today())
    return lifting.ClockFacts(area.level.value, since, area.last_case_on, area.downgraded_from_high)


@dataclass(frozen=True)
class DueChange:
    """A change of an area that falls due by the protocol's clock, with what holds it back."""

    area_id: int
    name: str
    jpath: str
    county_id: int
    from_level: RiskLevel
    to_level: RiskLevel
    due_on: dt.date
    clock_from: dt.date
    # The rule that makes it due ("7 consecutive days with no new infection and ...").
    reason: Message
    blockers: tuple[Message, ...]
    # ``new_case`` and/or ``screening``, beside the words.
    blocker_kinds: tuple[str, ...]
    screening_on: dt.date | None

    @property
    def ready(self) -> bool:
        return not self.blockers


def _evaluation(
    session: Session, principal: Principal, area: RiskArea, on: dt.date
) -> lifting.Evaluation | None:
    rules = protocol_in_force(session, area.jpath).risk_areas
    facts = _facts(area)
    step = lifting.next_step(rules, facts)
    negative = False
    if step is not None and step.screening_on is not None and step.due_on <= on:
        negative = negative_round_found(session, principal, area, step.screening_on, on)
    return lifting.evaluate(rules, facts, on, negative_round_found=negative)


def _due(area: RiskArea, evaluation: lifting.Evaluation) -> DueChange:
    step = evaluation.step
    return DueChange(
        area_id=area.id,
        name=area.name,
        jpath=area.jpath,
        county_id=area.county_id,
        from_level=area.level,
        to_level=RiskLevel(step.to_level),
        due_on=step.due_on,
        clock_from=step.clock_from,
        reason=step.reason,
        blockers=tuple(b.message for b in evaluation.blockers),
        blocker_kinds=tuple(b.kind for b in evaluation.blockers),
        screening_on=step.screening_on,
    )


def due_changes(session: Session, principal: Principal, on: dt.date) -> list[DueChange]:
    """Each change falling due by ``on`` (that day, or earlier and not yet applied) for the areas in force
    in the caller's scope, with what blocks it; a change a new infection put off shows that as its blocker."""
    _require(principal, Permission.areas_read, Message("reading risk areas"))
    found: list[DueChange] = []
    for area in areas_in_force(session, principal.jpath):
        evaluation = _evaluation(session, principal, area, on)
        if evaluation is not None:
            found.append(_due(area, evaluation))
    return sorted(found, key=lambda d: (d.due_on, d.jpath, d.area_id))


def apply_change(
    session: Session,
    bus: EventBus,
    principal: Principal,
    area_id: int,
    to_level: RiskLevel,
    *,
    on: dt.date | None = None,
    ip: str = "",
) -> RiskArea:
    """Apply the change due today (the command centre): down a level, or lifted back to low.

    ``on`` is the day it is taken (default today; a drill passes its own calendar day)."""
    _require(principal, Permission.areas_approve, Message("lifting a risk area"))
    area = get_area(session, principal, area_id)
    if area.state is not AreaState.in_force:
        raise Conflict(
            Message(
                "only an area in force can change; this one is {state}",
                state=Message(area.state.value, ctx="risk area"),
            )
        )
    on = on or today()
    evaluation = _evaluation(session, principal, area, on)
    if evaluation is None:
        step = lifting.next_step(protocol_in_force(session, area.jpath).risk_areas, _facts(area))
        if step is None:
            raise Conflict(Message("the protocol in force does not lift this area by the clock"))
        raise Conflict(
            Message(
                "no change is due for this area today: to {level} on {due}",
                level=Message(step.to_level, ctx="risk area"),
                due=step.due_on,
            )
        )
    step = evaluation.step
    if RiskLevel(to_level) is not RiskLevel(step.to_level):
        raise InvalidInput(
            [
                RowError(
                    1,
                    "to_level",
                    Message("the change due is to {level}", level=Message(step.to_level, ctx="risk area")),
                )
            ]
        )
    if evaluation.blockers:
        raise Conflict(joined([b.message for b in evaluation.blockers]))
    before = area.level
    area.level = RiskLevel(step.to_level)
    area.level_since = on
    if before is RiskLevel.high:
        area.downgraded_from_high = True
    lifted = area.level is RiskLevel.low
    if lifted:
        area.state = AreaState.lifted
        area.lifted_at = utcnow()
    _change(
        session, area, LIFTED if lifted else DOWNGRADED, principal.username, step.reason, before, area.level
    )
    audit.record(
        session,
        actor(principal, ip),
        "areas.lift" if lifted else "areas.downgrade",
        "risk_area",
        area.id,
        jpath=area.jpath,
        detail={"from": before.value, "to": area.level.value, "due_on": step.due_on.isoformat()},
    )
    session.flush()
    bus.publish(session, RiskAreaLifted(area.id, area.jpath, before.value, area.level.value))
    return area


@dataclass(frozen=True)
class CalendarEntry:
    """The day an area changes if nothing new happens (the lifting calendar)."""

    on: dt.date
    area_id: int
    name: str
    jpath: str
    from_level: RiskLevel
    to_level: RiskLevel
    needs_screening: bool


def lifting_calendar(
    session: Session, principal: Principal, *, start: dt.date | None = None, end: dt.date | None = None
) -> list[CalendarEntry]:
    """Which area changes on which day from ``start`` (default today) to ``end``, if nothing new happens;
    a change already due and not applied is shown on ``start``."""
    _require(principal, Permission.areas_read, Message("reading risk areas"))
    first = start or today()
    entries: list[CalendarEntry] = []
    for area in areas_in_force(session, principal.jpath):
        rules = protocol_in_force(session, area.jpath).risk_areas
        for change in lifting.projected_changes(rules, _facts(area)):
            on = max(change.on, first)
            if end is not None and on > end:
                break
            entries.append(
                CalendarEntry(
                    on,
                    area.id,
                    area.name,
                    area.jpath,
                    RiskLevel(change.from_level),
                    RiskLevel(change.to_level),
                    change.needs_screening,
                )
            )
    return sorted(entries, key=lambda e: (e.on, e.jpath, e.area_id))


# ------------------------------------------------------------------------------- screening rounds


def _rounds_covering(session: Session, jpath: str, first: dt.date, last: dt.date) -> list[int]:
    """Closed rounds between ``first`` and ``last`` whose campaign area covers ``jpath`` (testing's read)."""
    from fangkong.testing.service.rounds import rounds_covering

    return rounds_covering(session, jpath, first, last)


def _residents(session: Session, area: RiskArea) -> set[int] | None:
    """The area's residents a screening round must reach: its households' people, less those who are
    cases (isolated or in hospital, they are not screened with their neighbours). None when the area
    names no household (then no round can be shown to have reached everyone)."""
    from fangkong.tracing.persons import people_who_are_cases

    households = households_of(session, [area.id]).get(area.id, [])
    if not households:
        return None
    people = set(session.scalars(select(Person.id).where(Person.household_id.in_(households))))
    return people - people_who_are_cases(session, people)


def negative_round_found(
    session: Session, principal: Principal, area: RiskArea, first: dt.date, last: dt.date
) -> bool:
    """Whether testing holds a negative screening round of everyone in the area, held between ``first``
    (the clock's final day) and ``last``: closed, no infection found, no sample without its result, and
    nobody of the area left unsampled (everyone under a whole-jurisdiction area, else its households)."""
    from fangkong.testing.service import coverage

    residents: set[int] | None = None
    looked = False
    for round_id in _rounds_covering(session, area.jpath, first, last):
        try:
            found, _scope = coverage.visible_round(session, principal, round_id)
            seen = coverage.coverage(session, principal, round_id)
        except NotFound:
            continue
        if found.community_positives != 0:
            continue  # an infection found, or a round closed without its count
        inside = [
            c
            for c in seen.communities
            if path_in_scope(c.jpath, area.jpath) or path_in_scope(area.jpath, c.jpath)
        ]
        if not inside or any(c.without_result for c in inside):
            continue
        if area.unit_kind in WHOLE_JURISDICTION:
            if all(c.not_sampled == 0 for c in inside):
                return True
            continue
        if not looked:
            residents, looked = _residents(session, area), True
        if residents is None:
            continue
        community = (
            area.jurisdiction_id if any(c.jurisdiction_id == area.jurisdiction_id for c in inside) else None
        )
        missing = {
            p.person_id for p in coverage.not_sampled(session, principal, round_id, community_id=community)
        }
        if not residents & missing:
            return True
    return False


# ------------------------------------------------------------------------------------------- handler


def _reader() -> Principal:
    """Who a handler reads tracing as: the system, over the whole tree (it writes nothing there)."""
    return Principal(0, "system", "system", Role.command_centre, 0, "/", "", "system")


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
