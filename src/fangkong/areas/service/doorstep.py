"""Doorstep services for sealed areas (足不出户、上门服务): vulnerable residents, service requests, emergency
departments, and the board per area.

Vulnerable residents come from the registry (age from the birth date, a household of one) and from the
flags community workers enter (pregnant, dialysis, other regular treatment, living alone where the
registry does not show it). Service requests carry a deadline by urgency. A medical emergency has 30
minutes and nothing may hold it: no field of a request asks for a test result, and no test, plan or
quarantine state is consulted before it is answered. In Xi'an in January 2022 a woman eight months
pregnant was kept waiting two hours at a hospital over a test result and lost the baby; an emergency
that is late escalates at once (``escalate_late``, run by the scheduler).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from fangkong.areas.events import DoorstepRequested
from fangkong.areas.models import (
    AreaState,
    EmergencyDepartment,
    RequestKind,
    RequestState,
    RiskArea,
    RiskAreaHousehold,
    ServiceRequest,
    UnitKind,
    VulnerableFlags,
)
from fangkong.core import audit, clock, people
from fangkong.core.auth import Principal
from fangkong.core.errors import Conflict, Forbidden, InvalidInput, NotFound, RowError
from fangkong.core.events import EventBus
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction, Person
from fangkong.core.permissions import Permission
from fangkong.core.scope import SANDBOX_ROOT, is_sandbox_path, path_in_scope, under

# ------------------------------------------------------------------------------------ parameters

# Age from which a resident is on the list without any flag, years (issue 14: age ≥ 80).
VULNERABLE_AGE = 80
# Time to answer a request, by kind. The medical emergency's 30 minutes is the requirement, set
# after Xi'an, January 2022 (a pregnant woman kept waiting two hours over a test result lost her baby);
# the others are local practice of sealed-area service teams, to be set by each deployment.
DEADLINES: dict[RequestKind, dt.timedelta] = {
    RequestKind.medical_emergency: dt.timedelta(minutes=30),  # requirement (Xi'an, January 2022)
    RequestKind.medical_care: dt.timedelta(hours=2),  # local practice
    RequestKind.medicine: dt.timedelta(hours=4),  # local practice
    RequestKind.food: dt.timedelta(hours=12),  # local practice
    RequestKind.other: dt.timedelta(hours=24),  # local practice
}
# An emergency department's status older than this is shown as possibly out of date, hours (local practice).
DEPARTMENT_STATUS_STALE_HOURS = 6
MAX_DETAIL = 300
MAX_NOTE = 200
_OPEN_STATES = (RequestState.open, RequestState.taken)
_UNITS_THAT_ARE_JURISDICTIONS = (UnitKind.community, UnitKind.township)


def _actor(principal: Principal, ip: str = "") -> audit.Actor:
    return audit.Actor(principal.user_id, principal.username, ip or "web")


def _require(principal: Principal, *permissions: Permission) -> None:
    if not any(principal.can(p) for p in permissions):
        raise Forbidden("doorstep services need the doorstep permission (community worker, command centre)")


def _area_in_force(session: Session, principal: Principal, area_id: int) -> RiskArea:
    area = session.get(RiskArea, area_id)
    if area is None or not path_in_scope(area.jpath, principal.jpath):
        raise NotFound(f"risk area {area_id} not found")
    if area.state != AreaState.in_force:
        raise Conflict(Message("risk area {area} is not in force", area=area.name))
    return area


def _text(value: object, field: str, limit: int, errors: list[RowError]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.append(RowError(1, field, Message("must be text")))
        return ""
    text = value.strip()
    if len(text) > limit:
        errors.append(RowError(1, field, Message("at most {limit} characters", limit=limit)))
    if "\x00" in text:
        errors.append(RowError(1, field, Message("holds characters that cannot be stored")))
    return text


# ------------------------------------------------------------------------------------ vulnerable residents


@dataclass(frozen=True)
class VulnerableResident:
    """A resident of a sealed area who needs looking after, masked, and why."""

    person_id: int
    name: str
    id_number: str
    phone: str | None
    age: int
    household_id: int | None
    address: str | None
    reasons: tuple[str, ...]  # aged_80_plus, living_alone, pregnant, dialysis, regular_treatment
    note: str
    flags_updated_at: dt.datetime | None


def set_flags(
    session: Session,
    principal: Principal,
    person_id: int,
    *,
    pregnant: bool = False,
    dialysis: bool = False,
    regular_treatment: bool = False,
    living_alone: bool = False,
    note: str = "",
    ip: str = "",
) -> VulnerableFlags:
    """Record what a community worker knows about a resident (replaces the previous flags)."""
    _require(principal, Permission.doorstep_manage)
    person = session.get(Person, person_id)
    if person is None or not path_in_scope(person.jpath, principal.jpath):
        raise NotFound(f"person {person_id} not found")
    errors: list[RowError] = []
    shown = _text(note, "note", MAX_NOTE, errors)
    values = {
        "pregnant": pregnant,
        "dialysis": dialysis,
        "regular_treatment": regular_treatment,
        "living_alone": living_alone,
    }
    for name, value in values.items():
        if not isinstance(value, bool):
            errors.append(RowError(1, name, Message("must be yes or no")))
    if errors:
        raise InvalidInput(errors)
    flags = session.get(VulnerableFlags, person_id)
    if flags is None:
        flags = VulnerableFlags(person_id=person_id, jpath=person.jpath, updated_by=principal.username)
        session.add(flags)
    for name, value in values.items():
        setattr(flags, name, value)
    flags.note = shown
    flags.jpath = person.jpath
    flags.updated_by = principal.username
    flags.updated_at = clock.utcnow()
    session.flush()
    audit.record(
        session,
        _actor(principal, ip),
        "areas.doorstep.flags",
        "person",
        person_id,
        jpath=person.jpath,
        detail={k: v for k, v in values.items() if v},
    )
    return flags


def _eighty_years_before(today: dt.date) -> dt.date:
    try:
        return today.replace(year=today.year - VULNERABLE_AGE)
    except ValueError:  # 29 February of a year whose 80th predecessor is not a leap year
        return today.replace(year=today.year - VULNERABLE_AGE, day=28)


def _residents(area: RiskArea) -> ColumnElement[bool]:
    """The condition on ``Person`` that picks an area's residents (see the models' module doc)."""
    if area.unit_kind in _UNITS_THAT_ARE_JURISDICTIONS:
        return under(Person.jpath, area.jpath)
    households = select(RiskAreaHousehold.household_id).where(RiskAreaHousehold.area_id == area.id)
    return Person.household_id.in_(households)


def vulnerable_in_area(session: Session, principal: Principal, area_id: int) -> list[VulnerableResident]:
    """Residents of an area in force who are 80 or older, live alone, are pregnant or need treatment.

    Set-based: three small conditions over the area's residents, then one masked read of those found.
    """
    _require(principal, Permission.doorstep_manage)
    area = _area_in_force(session, principal, area_id)
    today = clock.today()
    residents = _residents(area)
    in_scope = under(Person.jpath, principal.jpath)
    household_size = (
        select(Person.household_id, func.count().label("size"))
        .where(residents, Person.household_id.is_not(None))
        .group_by(Person.household_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Person.id,
            Person.birth_date,
            household_size.c.size,
            VulnerableFlags.pregnant,
            VulnerableFlags.dialysis,
            VulnerableFlags.regular_treatment,
            VulnerableFlags.living_alone,
            VulnerableFlags.note,
            VulnerableFlags.updated_at,
        )
        .outerjoin(VulnerableFlags, VulnerableFlags.person_id == Person.id)
        .outerjoin(household_size, household_size.c.household_id == Person.household_id)
        .where(
            residents,
            in_scope,
            or_(
                Person.birth_date <= _eighty_years_before(today),
                household_size.c.size == 1,
                VulnerableFlags.pregnant.is_(True),
                VulnerableFlags.dialysis.is_(True),
                VulnerableFlags.regular_treatment.is_(True),
                VulnerableFlags.living_alone.is_(True),
            ),
        )
        .order_by(Person.household_id, Person.id)
    ).all()
    views = people.views_by_ids(session, principal.jpath, [r[0] for r in rows])
    found: list[VulnerableResident] = []
    for pid, _birth, size, pregnant, dialysis, treatment, alone, note, updated_at in rows:
        view = views.get(pid)
        if view is None:
            continue
        reasons = [
            reason
            for reason, present in (
                ("pregnant", pregnant),
                ("dialysis", dialysis),
                ("regular_treatment", treatment),
                ("aged_80_plus", view.age >= VULNERABLE_AGE),
                ("living_alone", bool(alone) or size == 1),
            )
            if present
        ]
        found.append(
            VulnerableResident(
                person_id=pid,
                name=view.name,
                id_number=view.id_number,
                phone=view.phone,
                age=view.age,
                household_id=view.household_id,
                address=view.address,
                reasons=tuple(reasons),
                note=note or "",
                flags_updated_at=None if updated_at is None else clock.as_utc(updated_at),
            )
        )
    return found


# ------------------------------------------------------------------------------------ service requests


@dataclass(frozen=True)
class RequestView:
    id: int
    area_id: int | None
    area_name: str | None
    person_id: int | None
    kind: RequestKind
    detail: str
    state: RequestState
    created_at: dt.datetime
    created_by: str
    deadline_at: dt.datetime
    taken_by: str | None
    taken_at: dt.datetime | None
    done_at: dt.datetime | None
    escalated_at: dt.datetime | None
    outcome: str
    late: bool


def _view(row: ServiceRequest, area_name: str | None, now: dt.datetime) -> RequestView:
    deadline = clock.as_utc(row.deadline_at)
    done = None if row.done_at is None else clock.as_utc(row.done_at)
    late = (done is None and row.state in _OPEN_STATES and deadline < now) or (
        done is not None and done > deadline
    )
    return RequestView(
        id=row.id,
        area_id=row.area_id,
        area_name=area_name,
        person_id=row.person_id,
        kind=row.kind,
        detail=row.detail,
        state=row.state,
        created_at=clock.as_utc(row.created_at),
        created_by=row.created_by,
        deadline_at=deadline,
        taken_by=row.taken_by,
        taken_at=None if row.taken_at is None else clock.as_utc(row.taken_at),
        done_at=done,
        escalated_at=None if row.escalated_at is None else clock.as_utc(row.escalated_at),
        outcome=row.outcome,
        late=late,
    )


def _kind(value: object, errors: list[RowError]) -> RequestKind | None:
    try:
        return RequestKind(value) if isinstance(value, str) else RequestKind(str(value))
    except ValueError:
        errors.append(RowError(1, "kind", Message("not a kind of request")))
        return None


def open_request(
    session: Session,
    bus: EventBus,
    principal: Principal,
    *,
    kind: object,
    detail: object = "",
    area_id: int | None = None,
    person_id: int | None = None,
    ip: str = "",
) -> RequestView:
    """Log a request from a sealed area; its deadline follows from its kind and nothing else.

    There is deliberately no test-result field, and nothing about the person's tests or plan is read:
    a medical emergency is never held for a test result. Publishes ``DoorstepRequested``.
    """
    _require(principal, Permission.doorstep_manage)
    errors: list[RowError] = []
    request_kind = _kind(kind, errors)
    text = _text(detail, "detail", MAX_DETAIL, errors)
    if area_id is None and person_id is None:
        errors.append(RowError(1, "area_id", Message("name the area or the resident")))
    if errors:
        raise InvalidInput(errors)
    assert request_kind is not None
    area = _area_in_force(session, principal, area_id) if area_id is not None else None
    jpath = area.jpath if area is not None else ""
    if person_id is not None:
        person = session.get(Person, person_id)
        if person is None or not path_in_scope(person.jpath, principal.jpath):
            raise NotFound(f"person {person_id} not found")
        jpath = person.jpath
    now = clock.utcnow()
    row = ServiceRequest(
        area_id=area_id,
        person_id=person_id,
        jpath=jpath,
        kind=request_kind,
        detail=text,
        state=RequestState.open,
        created_at=now,
        created_by=principal.username,
        deadline_at=now + DEADLINES[request_kind],
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        _actor(principal, ip),
        "areas.doorstep.request",
        "doorstep_request",
        row.id,
        jpath=jpath,
        detail={"kind": request_kind.value},
    )
    bus.publish(
        session, DoorstepRequested(request_id=row.id, jpath=jpath, kind=request_kind.value, requested_at=now)
    )
    return _view(row, area.name if area is not None else None, now)


def _request(session: Session, principal: Principal, request_id: int) -> ServiceRequest:
    row = session.get(ServiceRequest, request_id)
    if row is None or not path_in_scope(row.jpath, principal.jpath):
        raise NotFound(f"request {request_id} not found")
    return row


def _area_name(session: Session, row: ServiceRequest) -> str | None:
    if row.area_id is None:
        return None
    area = session.get(RiskArea, row.area_id)
    return area.name if area is not None else None


def take(session: Session, principal: Principal, request_id: int, *, ip: str = "") -> RequestView:
    """Someone takes the request on (who and when are kept); taking a taken one hands it over."""
    _require(principal, Permission.doorstep_manage)
    row = _request(session, principal, request_id)
    if row.state not in _OPEN_STATES:
        raise Conflict(Message("request {id} is already {state}", id=request_id, state=row.state.value))
    now = clock.utcnow()
    row.state = RequestState.taken
    row.taken_by = principal.username
    row.taken_at = now
    session.flush()
    audit.record(
        session, _actor(principal, ip), "areas.doorstep.take", "doorstep_request", row.id, jpath=row.jpath
    )
    return _view(row, _area_name(session, row), now)


def complete(
    session: Session, principal: Principal, request_id: int, *, outcome: object = "", ip: str = ""
) -> RequestView:
    """The request was done (what was done, in a few words)."""
    _require(principal, Permission.doorstep_manage)
    errors: list[RowError] = []
    text = _text(outcome, "outcome", MAX_DETAIL, errors)
    if errors:
        raise InvalidInput(errors)
    row = _request(session, principal, request_id)
    if row.state not in _OPEN_STATES:
        raise Conflict(Message("request {id} is already {state}", id=request_id, state=row.state.value))
    now = clock.utcnow()
    if row.taken_at is None:
        row.taken_by, row.taken_at = principal.username, now
    row.state = RequestState.done
    row.done_at = now
    row.outcome = text
    session.flush()
    audit.record(
        session, _actor(principal, ip), "areas.doorstep.done", "doorstep_request", row.id, jpath=row.jpath
    )
    return _view(row, _area_name(session, row), now)


def cancel(
    session: Session, principal: Principal, request_id: int, *, reason: object = "", ip: str = ""
) -> RequestView:
    _require(principal, Permission.doorstep_manage)
    errors: list[RowError] = []
    text = _text(reason, "reason", MAX_DETAIL, errors)
    if not text:
        errors.append(RowError(1, "reason", Message("say why the request is cancelled")))
    if errors:
        raise InvalidInput(errors)
    row = _request(session, principal, request_id)
    if row.state not in _OPEN_STATES:
        raise Conflict(Message("request {id} is already {state}", id=request_id, state=row.state.value))
    row.state = RequestState.cancelled
    row.outcome = text
    session.flush()
    audit.record(
        session, _actor(principal, ip), "areas.doorstep.cancel", "doorstep_request", row.id, jpath=row.jpath
    )
    return _view(row, _area_name(session, row), clock.utcnow())


def list_requests(
    session: Session,
    principal: Principal,
    *,
    area_id: int | None = None,
    open_only: bool = False,
    limit: int = 500,
) -> list[RequestView]:
    """Requests in scope, emergencies and the nearest deadlines first."""
    _require(principal, Permission.doorstep_manage, Permission.areas_read)
    stmt = select(ServiceRequest, RiskArea.name).outerjoin(RiskArea, RiskArea.id == ServiceRequest.area_id)
    stmt = stmt.where(under(ServiceRequest.jpath, principal.jpath))
    if area_id is not None:
        stmt = stmt.where(ServiceRequest.area_id == area_id)
    if open_only:
        stmt = stmt.where(ServiceRequest.state.in_(_OPEN_STATES))
    emergency_first = case((ServiceRequest.kind == RequestKind.medical_emergency, 0), else_=1)
    stmt = stmt.order_by(emergency_first, ServiceRequest.deadline_at, ServiceRequest.id).limit(
        max(1, min(limit, 5000))
    )
    now = clock.utcnow()
    return [_view(row, name, now) for row, name in session.execute(stmt).all()]


def escalate_late(session: Session, now: dt.datetime | None = None) -> list[RequestView]:
    """Mark every open request past its deadline as escalated (once) and return them, emergencies first.

    For the scheduler, every minute: a medical emergency is late 30 minutes after it was logged and is
    escalated on the first run after that. Requests of drills are escalated like any other (their path
    keeps them in the drill's own views).
    """
    moment = now or clock.utcnow()
    rows = list(
        session.scalars(
            select(ServiceRequest)
            .where(
                ServiceRequest.state.in_(_OPEN_STATES),
                ServiceRequest.deadline_at < moment,
                ServiceRequest.escalated_at.is_(None),
            )
            .order_by(
                case((ServiceRequest.kind == RequestKind.medical_emergency, 0), else_=1),
                ServiceRequest.deadline_at,
                ServiceRequest.id,
            )
        )
    )
    for row in rows:
        row.escalated_at = moment
    session.flush()
    names = dict(
        session.execute(
            select(RiskArea.id, RiskArea.name).where(RiskArea.id.in_({r.area_id for r in rows if r.area_id}))
        ).all()
    )
    return [_view(row, names.get(row.area_id) if row.area_id else None, moment) for row in rows]


# ------------------------------------------------------------------------------------ emergency departments


@dataclass(frozen=True)
class DepartmentView:
    id: int
    name: str
    jurisdiction_id: int
    jurisdiction_name: str
    phone: str
    open: bool
    note: str
    updated_by: str
    updated_at: dt.datetime
    stale: bool  # not confirmed for DEPARTMENT_STATUS_STALE_HOURS


def set_emergency_department(
    session: Session,
    principal: Principal,
    *,
    jurisdiction_id: int,
    name: object,
    open: bool,
    phone: object = "",
    note: object = "",
    ip: str = "",
) -> DepartmentView:
    """Say whether a hospital's emergency department takes patients now (creates it the first time)."""
    _require(principal, Permission.doorstep_manage)
    place = session.get(Jurisdiction, jurisdiction_id)
    if place is None or not path_in_scope(place.path, principal.jpath):
        raise NotFound(f"jurisdiction {jurisdiction_id} not found")
    errors: list[RowError] = []
    title = _text(name, "name", 120, errors)
    if not title and not errors:
        errors.append(RowError(1, "name", Message("required")))
    number = _text(phone, "phone", 30, errors)
    remark = _text(note, "note", MAX_NOTE, errors)
    if not isinstance(open, bool):
        errors.append(RowError(1, "open", Message("must be yes or no")))
    if errors:
        raise InvalidInput(errors)
    row = session.scalar(
        select(EmergencyDepartment).where(
            EmergencyDepartment.jurisdiction_id == jurisdiction_id, EmergencyDepartment.name == title
        )
    )
    if row is None:
        row = EmergencyDepartment(jurisdiction_id=jurisdiction_id, jpath=place.path, name=title)
        session.add(row)
    row.open = open
    row.phone = number or row.phone or ""
    row.note = remark
    row.updated_by = principal.username
    # Set even when nothing changed: confirming the status is what keeps it current.
    row.updated_at = clock.utcnow()
    session.flush()
    audit.record(
        session,
        _actor(principal, ip),
        "areas.doorstep.emergency_department",
        "emergency_department",
        row.id,
        jpath=place.path,
        detail={"open": open},
    )
    return _department_view(row, place.name, clock.utcnow())


def _department_view(row: EmergencyDepartment, place: str, now: dt.datetime) -> DepartmentView:
    updated = clock.as_utc(row.updated_at)
    return DepartmentView(
        id=row.id,
        name=row.name,
        jurisdiction_id=row.jurisdiction_id,
        jurisdiction_name=place,
        phone=row.phone,
        open=row.open,
        note=row.note,
        updated_by=row.updated_by,
        updated_at=updated,
        stale=now - updated > dt.timedelta(hours=DEPARTMENT_STATUS_STALE_HOURS),
    )


def _city_path(path: str) -> str:
    """The path of the city a node lies in (a hospital serves beyond its own county); shallower as is."""
    prefix = SANDBOX_ROOT if is_sandbox_path(path) else ""
    parts = [p for p in path[len(prefix) :].split("/") if p]
    return prefix + "/" + "/".join(parts[:2]) + "/" if len(parts) > 2 else path


def emergency_departments(
    session: Session, principal: Principal, *, open_only: bool = False
) -> list[DepartmentView]:
    """Emergency departments of the user's city (people in sealed areas are taken across county lines),
    open ones first, with when each status was last confirmed."""
    _require(principal, Permission.doorstep_manage, Permission.areas_read)
    stmt = (
        select(EmergencyDepartment, Jurisdiction.name)
        .join(Jurisdiction, Jurisdiction.id == EmergencyDepartment.jurisdiction_id)
        .where(under(EmergencyDepartment.jpath, _city_path(principal.jpath)))
    )
    if open_only:
        stmt = stmt.where(EmergencyDepartment.open.is_(True))
    stmt = stmt.order_by(EmergencyDepartment.open.desc(), EmergencyDepartment.jpath, EmergencyDepartment.name)
    now = clock.utcnow()
    return [_department_view(row, place, now) for row, place in session.execute(stmt).all()]


def open_emergency_departments(session: Session, principal: Principal) -> list[DepartmentView]:
    return emergency_departments(session, principal, open_only=True)


# ------------------------------------------------------------------------------------ the board


@dataclass(frozen=True)
class BoardRow:
    """One area in force (or requests outside any area, ``area_id`` None): its requests by state."""

    area_id: int | None
    area_name: str
    level: str | None
    open: int
    late: int
    done: int
    escalated: int
    emergencies_open: int


def board(session: Session, principal: Principal) -> list[BoardRow]:
    """Per area in force in scope: requests open, late (open past the deadline), done; areas with late
    requests first. One grouped query."""
    _require(principal, Permission.doorstep_manage, Permission.areas_read)
    now = clock.utcnow()
    is_open = ServiceRequest.state.in_(_OPEN_STATES)
    counts = {
        area_id: (int(o or 0), int(late or 0), int(d or 0), int(e or 0), int(em or 0))
        for area_id, o, late, d, e, em in session.execute(
            select(
                ServiceRequest.area_id,
                func.sum(case((is_open, 1), else_=0)),
                func.sum(case((is_open & (ServiceRequest.deadline_at < now), 1), else_=0)),
                func.sum(case((ServiceRequest.state == RequestState.done, 1), else_=0)),
                func.sum(case((is_open & ServiceRequest.escalated_at.is_not(None), 1), else_=0)),
                func.sum(
                    case((is_open & (ServiceRequest.kind == RequestKind.medical_emergency), 1), else_=0)
                ),
            )
            .where(under(ServiceRequest.jpath, principal.jpath))
            .group_by(ServiceRequest.area_id)
        ).all()
    }
    areas = session.execute(
        select(RiskArea.id, RiskArea.name, RiskArea.level)
        .where(under(RiskArea.jpath, principal.jpath), RiskArea.state == AreaState.in_force)
        .order_by(RiskArea.name, RiskArea.id)
    ).all()
    rows = [
        BoardRow(area_id, name, str(level), *counts.pop(area_id, (0, 0, 0, 0, 0)))
        for area_id, name, level in areas
    ]
    # Requests of areas lifted since, and of residents outside any area, are not dropped from the count.
    rest = [sum(values) for values in zip(*counts.values(), strict=True)] if counts else []
    if rest and any(rest):
        rows.append(BoardRow(None, "", None, *rest))
    rows.sort(key=lambda r: (-r.late, -r.emergencies_open, r.area_id is None))
    return rows
