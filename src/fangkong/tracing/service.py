"""Use cases of case investigation and tracing: one function per thing an investigator does.

Every function takes the caller's session (the API, page or CLI opens the unit of work), limits every
read of people-linked rows to the caller's subtree with ``core.scope.under`` (a row outside it is "not
found"), audits every write, and publishes the management events the protocol capability acts on:
``PersonPlacedUnderManagement`` when a contact is classified into a managed category,
``PersonReleasedFromManagement`` when that stops being true, both with ``source=f"contact:{id}"``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, true, update
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.clock import as_local, as_utc, from_local, local_day, utcnow
from fangkong.core.crypto import Vault
from fangkong.core.errors import Conflict, DomainError, InvalidInput, NotFound, RowError
from fangkong.core.events import EventBus, PersonPlacedUnderManagement, PersonReleasedFromManagement
from fangkong.core.i18n import Message, stored
from fangkong.core.models import Jurisdiction
from fangkong.core.scope import DRILL_CASE_PREFIX, is_sandbox_path, path_in_scope, real_place_of, under
from fangkong.protocol.plan import ManagementPlan, ScheduleOnDay, schedule_on
from fangkong.protocol.schema import Protocol
from fangkong.tracing import persons
from fangkong.tracing.classification import Decision, ExposureFact, IndexTiming, Via, decide
from fangkong.tracing.events import CaseReclassified, CaseReported
from fangkong.tracing.models import (
    Case,
    CaseHistory,
    ChainLink,
    Contact,
    ContactCategory,
    ContactStatus,
    Exposure,
    Outcome,
    PlaceKind,
    Visit,
)
from fangkong.tracing.models import (
    Certainty as Certainty,
)
from fangkong.tracing.models import (
    Classification as Classification,
)
from fangkong.tracing.protocols import plan_for, protocol_for
from fangkong.tracing.rules import (
    INFECTED,
    MANAGED_CATEGORIES,
    RuleError,
    check_reclassification,
    clamp_day,
    date_problem,
    new_case_ref,
    place_key,
    subject_key,
    time_problem,
)

MAX_PAGE_SIZE = 200


def actor(principal: Principal, ip: str = "") -> audit.Actor:
    return audit.Actor(principal.user_id, principal.username, ip or "web")


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def _paging(page: int, size: int) -> tuple[int, int]:
    return max(1, page), max(1, min(size, MAX_PAGE_SIZE))


# ---------------------------------------------------------------------------------------------- reads


def get_case(session: Session, principal: Principal, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None or not path_in_scope(case.jpath, principal.jpath):
        raise NotFound(f"case {case_id} not found")
    return case


def get_contact(session: Session, principal: Principal, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or not path_in_scope(contact.jpath, principal.jpath):
        raise NotFound(f"contact {contact_id} not found")
    return contact


def case_by_ref(session: Session, principal: Principal, case_ref: str) -> Case:
    case = session.scalar(
        select(Case).where(Case.case_ref == case_ref.strip(), under(Case.jpath, principal.jpath))
    )
    if case is None:
        raise NotFound(f"case {case_ref} not found")
    return case


def _place_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    return dict(
        session.execute(select(Jurisdiction.id, Jurisdiction.name).where(Jurisdiction.id.in_(wanted))).all()
    )


@dataclass(frozen=True)
class PlaceGroup:
    """Places for a picker under the name of the place above them (a street's communities...)."""

    name: str
    places: list[tuple[str, str]]  # (code, name)


def _grouped(session: Session, nodes: Sequence[Jurisdiction]) -> list[PlaceGroup]:
    parents = _place_names(session, {n.parent_id for n in nodes if n.parent_id is not None})
    groups: dict[int | None, PlaceGroup] = {}
    for node in nodes:
        group = groups.get(node.parent_id)
        if group is None:
            group = groups[node.parent_id] = PlaceGroup(parents.get(node.parent_id or 0, ""), [])
        group.places.append((node.code, node.name))
    return list(groups.values())


def _real_places(session: Session, principal: Principal) -> ColumnElement[bool]:
    """Drill sandboxes stay out of pickers, except for someone working inside one."""
    own = session.get(Jurisdiction, principal.jurisdiction_id)
    return Jurisdiction.is_sandbox.is_(False) if own is None or not own.is_sandbox else true()


def community_choices(session: Session, principal: Principal) -> list[PlaceGroup]:
    """Communities in the caller's jurisdiction, by street (township), for the community pickers."""
    from fangkong.core.models import Level

    nodes = session.scalars(
        select(Jurisdiction)
        .where(
            under(Jurisdiction.path, principal.jpath),
            Jurisdiction.level == Level.community,
            _real_places(session, principal),
        )
        .order_by(Jurisdiction.path)
    ).all()
    return _grouped(session, nodes)


def county_choices(session: Session, principal: Principal) -> list[PlaceGroup]:
    """Counties outside the caller's jurisdiction, by city: where a contact living elsewhere is referred."""
    from fangkong.core.models import Level

    nodes = session.scalars(
        select(Jurisdiction)
        .where(
            ~under(Jurisdiction.path, principal.jpath),
            Jurisdiction.level == Level.county,
            _real_places(session, principal),
        )
        .order_by(Jurisdiction.path)
    ).all()
    return _grouped(session, nodes)


def county_code_of(session: Session, jurisdiction_id: int | None) -> str:
    """The county a jurisdiction lies in (itself if it is one), as its code; "" above county level."""
    node = session.get(Jurisdiction, jurisdiction_id) if jurisdiction_id is not None else None
    codes = [c for c in node.path.split("/") if c] if node is not None else []
    return codes[2] if len(codes) > 2 else ""


def _scope_path(session: Session, principal: Principal, jurisdiction_id: int | None) -> str:
    if jurisdiction_id is None:
        return principal.jpath
    node = session.get(Jurisdiction, jurisdiction_id)
    if node is None or not path_in_scope(node.path, principal.jpath):
        raise NotFound(f"jurisdiction {jurisdiction_id} not found")
    return node.path


# ---------------------------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class CaseInput:
    classification: Classification
    person: persons.PersonInput
    case_ref: str = ""
    onset_date: dt.date | None = None
    sampling_date: dt.date | None = None
    diagnosis_date: dt.date | None = None
    reported_at: dt.datetime | None = None  # local wall-clock time
    imported: bool = False
    origin: str = ""
    isolated_at: dt.datetime | None = None  # local wall-clock time
    outcome: Outcome | None = None
    outcome_date: dt.date | None = None
    notes: str = ""


def _check_dates(
    data: CaseInput | CaseUpdate,
    row: int = 1,
    *,
    classification: Classification | None = None,
    stored: Case | None = None,
) -> list[RowError]:
    """Every date problem of a report or a correction; ``stored`` holds the dates a correction keeps."""
    errors = _date_values(data, row)
    if errors:
        return errors

    def value(name: str) -> dt.date | None:
        given: dt.date | None = getattr(data, name)
        return given if given is not None or stored is None else getattr(stored, name)

    onset, sampling, diagnosis = value("onset_date"), value("sampling_date"), value("diagnosis_date")
    kind = classification or (stored.classification if stored is not None else None)
    if diagnosis is None:
        return errors
    # A lab-confirmed diagnosis rests on a positive sample, so it cannot come before the sample; a
    # confirmed or suspected case is one with symptoms, diagnosed once they began. An asymptomatic
    # infection may be found before symptoms ever start (onset after diagnosis is then possible).
    if (
        sampling is not None
        and diagnosis < sampling
        and kind in (Classification.confirmed, Classification.asymptomatic)
    ):
        errors.append(
            RowError(
                row,
                "diagnosis_date",
                Message(
                    "{diagnosis} is before the sampling date {sampling}: a confirmed diagnosis "
                    "needs the positive sample first",
                    diagnosis=diagnosis,
                    sampling=sampling,
                ),
            )
        )
    if (
        onset is not None
        and diagnosis < onset
        and kind in (Classification.confirmed, Classification.suspected)
    ):
        errors.append(
            RowError(
                row,
                "diagnosis_date",
                Message(
                    "{diagnosis} is before the onset date {onset}: a case with symptoms is "
                    "diagnosed after they begin",
                    diagnosis=diagnosis,
                    onset=onset,
                ),
            )
        )
    return errors


def _date_values(data: CaseInput | CaseUpdate, row: int) -> list[RowError]:
    errors: list[RowError] = []
    for name in ("onset_date", "sampling_date", "diagnosis_date", "outcome_date"):
        value = getattr(data, name)
        problem = date_problem(value) if value is not None else None
        if problem:
            errors.append(RowError(row, name, problem))
    for name in ("reported_at", "isolated_at"):
        moment = getattr(data, name, None)
        problem = time_problem(moment) if moment is not None else None
        if problem:
            errors.append(RowError(row, name, problem))
    return errors


def _managed_contact_of(session: Session, key: str, found_day: dt.date) -> Contact | None:
    """The contact record under which this person was managed on ``found_day`` (None if none).

    Called when the person becomes a case, so every record that exists was there first; "managed" means an
    active close contact or contact of a contact whose plan under the protocol still ran that day.
    """
    records = _managing_contacts(session, key, found_day)
    return records[0] if records else None


def _managing_contacts(session: Session, key: str, found_day: dt.date) -> list[Contact]:
    """Every contact record whose plan still managed this person on ``found_day``, latest exposure first."""
    candidates = list(
        session.scalars(
            select(Contact)
            .where(Contact.subject_key == key, Contact.status == ContactStatus.active)
            .where(Contact.category.in_([ContactCategory.close_contact, ContactCategory.contact_of_contact]))
            .order_by(Contact.last_exposure.desc())
        )
    )
    managing: list[Contact] = []
    for contact in candidates:
        protocol = protocol_for(session, contact.jpath)
        plan = plan_for(protocol, contact.category.value, as_local(contact.last_exposure).date())
        if plan is not None and plan.managed and plan.end_date is not None and found_day <= plan.end_date:
            managing.append(contact)
    return managing


def _isolated_since(session: Session, key: str, found_day: dt.date, now: dt.datetime) -> dt.datetime | None:
    """When a person who becomes a case was first isolated under the plans that still managed them."""
    return first_isolation(session, _managing_contacts(session, key, found_day), now)


def first_isolation(session: Session, managing: Iterable[Contact], now: dt.datetime) -> dt.datetime | None:
    """The earliest isolation (``isolation_of``) among the contact records that managed a person when
    they were found (``_managing_contacts``): the import, which has those records already, asks this."""
    times = [t for c in managing if (t := isolation_of(session, c, now))]
    return min(times) if times else None


# Stages that keep a person away from everyone they could infect: from their start, exposures to the
# person stop. Home isolation does not (the household stays exposed), so it does not close a window.
ISOLATING_STAGES = frozenset({"centralized_quarantine", "medical_isolation"})


def isolation_of(session: Session, contact: Contact, now: dt.datetime | None = None) -> dt.datetime | None:
    """When a contact was isolated, as far as the record shows (aware UTC), or None.

    Their own isolation time when one was recorded; else the start of their plan's isolating stage, but
    not before the contact was on record (nobody is taken into quarantine before being found) and only
    if that moment fell inside the stage and has passed.
    """
    if contact.isolated_at is not None:
        return as_utc(contact.isolated_at)
    if contact.category not in MANAGED_CATEGORIES:
        return None
    protocol = protocol_for(session, contact.jpath)
    plan = plan_for(protocol, contact.category.value, as_local(contact.last_exposure).date())
    stage = next((s for s in plan.stages if s.type in ISOLATING_STAGES), None) if plan else None
    if stage is None:
        return None
    began = max(from_local(dt.datetime.combine(stage.start, dt.time.min)), as_utc(contact.created_at))
    if local_day(began) > stage.end or began > (now or utcnow()):
        return None
    return began


def found_day(case: Case) -> dt.date:
    """The day a case was found: its positive sample, else its diagnosis, else its report."""
    return case.sampling_date or case.diagnosis_date or as_local(case.reported_at).date()


def register_case(
    session: Session, vault: Vault, bus: EventBus, principal: Principal, data: CaseInput, *, ip: str = ""
) -> Case:
    """Register a case for a person (found in or added to the registry, or unidentified)."""
    errors = _check_dates(data, classification=data.classification)
    if errors:
        raise InvalidInput(errors)
    if data.case_ref and session.scalar(select(Case.id).where(Case.case_ref == data.case_ref)) is not None:
        raise Conflict(Message("case number {ref} is already used", ref=data.case_ref))
    subject = persons.resolve(session, vault, bus, principal, data.person, register_residents=True)
    existing = session.scalar(
        select(Case).where(Case.subject_key == subject.key, Case.classification != Classification.excluded)
    )
    if existing is not None and path_in_scope(existing.jpath, principal.jpath):
        raise Conflict(Message("this person is already case {ref}", ref=existing.case_ref))
    if existing is not None:
        raise Conflict("this person is already a case in another jurisdiction")
    reported = from_local(data.reported_at) if data.reported_at else utcnow()
    case = Case(
        case_ref=data.case_ref or f"pending-{subject.key}-{reported.timestamp():.0f}",
        person_id=subject.person_id,
        unidentified_id=subject.unidentified_id,
        subject_key=subject.key,
        jurisdiction_id=subject.jurisdiction_id,
        jpath=subject.jpath,
        classification=data.classification,
        onset_date=data.onset_date,
        sampling_date=data.sampling_date,
        diagnosis_date=data.diagnosis_date,
        reported_at=reported,
        imported=data.imported,
        origin=data.origin or None,
        isolated_at=from_local(data.isolated_at) if data.isolated_at else None,
        outcome=data.outcome,
        outcome_date=data.outcome_date,
        notes=data.notes or None,
        created_by=principal.user_id,
        cluster_id=0,
        found_under_management=False,
    )
    session.add(case)
    session.flush()
    case.cluster_id = case.id
    if not data.case_ref:
        case.case_ref = new_case_ref(_county_code(subject.jpath), as_local(reported).date(), case.id)
    session.add(
        CaseHistory(
            case_id=case.id,
            from_classification=None,
            to_classification=case.classification,
            reason="reported",
            by_user_id=principal.user_id,
        )
    )
    source = _managed_contact_of(session, subject.key, found_day(case))
    if source is not None:
        case.found_under_management = True
        if case.isolated_at is None:
            # Already isolated as a contact: her own contacts' window closed then, not at the report.
            case.isolated_at = _isolated_since(session, subject.key, found_day(case), reported)
    _absorb_contacts(session, bus, principal, case, prefer=source)
    audit.record(
        session,
        actor(principal, ip),
        "cases.register",
        "case",
        case.id,
        jpath=case.jpath,
        detail={"case_ref": case.case_ref, "classification": case.classification.value},
    )
    _publish_case(session, bus, case)
    return case


def _county_code(jpath: str) -> str:
    if is_sandbox_path(jpath):
        # A drill's case is numbered as its sandbox's (演练-<township>), never as a real county's.
        codes = [c for c in real_place_of(jpath).split("/") if c]
        return f"{DRILL_CASE_PREFIX}{codes[min(3, len(codes) - 1)]}"
    codes = [c for c in jpath.split("/") if c]
    return codes[min(2, len(codes) - 1)] if codes else "000000"


def _publish_case(session: Session, bus: EventBus, case: Case) -> None:
    bus.publish(
        session,
        CaseReported(
            case.id,
            case.jpath,
            case.classification.value,
            case.person_id,
            case.imported,
            case.found_under_management,
        ),
    )


def _absorb_contacts(
    session: Session, bus: EventBus, principal: Principal, case: Case, prefer: Contact | None = None
) -> None:
    """The new case's person was a contact of other cases: those contacts become converted, with links."""
    contacts = list(
        session.scalars(
            select(Contact).where(
                Contact.subject_key == case.subject_key,
                Contact.status.in_([ContactStatus.active, ContactStatus.dropped]),
                Contact.case_id != case.id,
            )
        )
    )
    ordered = sorted(
        contacts, key=lambda c: (c is not prefer, c.category is not ContactCategory.close_contact)
    )
    for contact in ordered:
        index = session.get(Case, contact.case_id)
        if index is None or index.classification not in INFECTED:
            continue
        _convert(
            session, bus, principal, case, contact, link=contact.category is not ContactCategory.not_a_contact
        )
    session.execute(
        update(Exposure).where(Exposure.subject_key == case.subject_key).values(exposed_case_id=case.id)
    )


def _convert(
    session: Session, bus: EventBus, principal: Principal, case: Case, contact: Contact, *, link: bool
) -> None:
    was_active = contact.status is ContactStatus.active
    contact.status = ContactStatus.converted
    contact.converted_case_id = case.id
    contact.updated_at = utcnow()
    if case.source_contact_id is None and link:
        case.source_contact_id = contact.id
    if (
        link
        and session.scalar(
            select(ChainLink.id).where(
                or_(
                    and_(
                        ChainLink.infector_case_id == contact.case_id, ChainLink.infectee_case_id == case.id
                    ),
                    and_(
                        ChainLink.infector_case_id == case.id, ChainLink.infectee_case_id == contact.case_id
                    ),
                )
            )
        )
        is None
    ):
        exposure_id = session.scalar(
            select(Exposure.id)
            .where(Exposure.case_id == contact.case_id, Exposure.subject_key == contact.subject_key)
            .order_by(Exposure.start.desc())
            .limit(1)
        )
        certainty = (
            Certainty.probable if contact.category is ContactCategory.close_contact else Certainty.possible
        )
        _add_link(
            session,
            contact.case_id,
            case.id,
            certainty,
            exposure_id,
            "converted from contact",
            principal.user_id,
        )
    if was_active and contact.person_id is not None and contact.category in MANAGED_CATEGORIES:
        bus.publish(
            session, PersonReleasedFromManagement(person_id=contact.person_id, source=f"contact:{contact.id}")
        )
    _promote_second_ring(session, bus, principal, case, contact)


def _promote_second_ring(
    session: Session, bus: EventBus, principal: Principal, case: Case, contact: Contact
) -> None:
    """Contacts of a close contact who became a case are re-classified as contacts of that new case."""
    second = list(session.scalars(select(Exposure).where(Exposure.via_contact_id == contact.id)))
    if not second:
        return
    for exposure in second:
        session.add(
            Exposure(
                case_id=case.id,
                jpath=case.jpath,
                person_id=exposure.person_id,
                unidentified_id=exposure.unidentified_id,
                subject_key=exposure.subject_key,
                exposed_case_id=exposure.exposed_case_id,
                via_contact_id=None,
                setting=exposure.setting,
                place=exposure.place,
                start=exposure.start,
                end=exposure.end,
                protected=exposure.protected,
                distance_m=exposure.distance_m,
                duration_minutes=exposure.duration_minutes,
                note=f"first ring of {case.case_ref}; was via contact {contact.id}",
                created_by=principal.user_id,
            )
        )
    session.flush()
    old = list(
        session.scalars(
            select(Contact).where(
                Contact.via_contact_id == contact.id, Contact.status == ContactStatus.active
            )
        )
    )
    for row in old:
        row.status = ContactStatus.superseded
        row.updated_at = utcnow()
        if row.person_id is not None and row.category in MANAGED_CATEGORIES:
            bus.publish(
                session, PersonReleasedFromManagement(person_id=row.person_id, source=f"contact:{row.id}")
            )
    subjects = {e.subject_key: _subject_from_row(session, e.person_id, e.unidentified_id) for e in second}
    reclassify_contacts(session, bus, case, subjects)


def _subject_from_row(
    session: Session, person_id: int | None, unidentified_id: int | None
) -> persons.Subject:
    """Where a known subject's rows belong: the jurisdiction of an existing contact or case row for them."""
    key = subject_key(person_id, unidentified_id)
    row = session.execute(
        select(Contact.jurisdiction_id, Contact.jpath, Contact.residence_jurisdiction_id)
        .where(Contact.subject_key == key)
        .limit(1)
    ).first()
    if row is None:
        found = session.execute(
            select(Case.jurisdiction_id, Case.jpath).where(Case.subject_key == key).limit(1)
        ).first()
        if found is None:
            raise NotFound(f"no record of {key}")
        return persons.Subject(person_id, unidentified_id, found[0], found[1])
    return persons.Subject(person_id, unidentified_id, row[0], row[1], row[2])


@dataclass(frozen=True)
class CaseUpdate:
    onset_date: dt.date | None = None
    sampling_date: dt.date | None = None
    diagnosis_date: dt.date | None = None
    isolated_at: dt.datetime | None = None
    outcome: Outcome | None = None
    outcome_date: dt.date | None = None
    imported: bool | None = None
    origin: str | None = None
    notes: str | None = None


def update_case(
    session: Session, bus: EventBus, principal: Principal, case_id: int, data: CaseUpdate, *, ip: str = ""
) -> Case:
    """Correct or complete a case's dates and outcome; contacts are re-classified when the window moves."""
    case = get_case(session, principal, case_id)
    errors = _check_dates(data, stored=case)
    if errors:
        raise InvalidInput(errors)
    changed: dict[str, object] = {}
    for name in (
        "onset_date",
        "sampling_date",
        "diagnosis_date",
        "outcome",
        "outcome_date",
        "imported",
        "origin",
        "notes",
    ):
        value = getattr(data, name)
        if value is not None and getattr(case, name) != value:
            setattr(case, name, value)
            changed[name] = value
    if data.isolated_at is not None:
        case.isolated_at = from_local(data.isolated_at)
        changed["isolated_at"] = data.isolated_at
    if not changed:
        return case
    session.flush()
    if {"onset_date", "sampling_date", "isolated_at"} & changed.keys():
        reclassify_contacts(session, bus, case)
    audit.record(
        session,
        actor(principal, ip),
        "cases.update",
        "case",
        case.id,
        jpath=case.jpath,
        detail={k: str(v) for k, v in changed.items()},
    )
    return case


def reclassify_case(
    session: Session,
    bus: EventBus,
    principal: Principal,
    case_id: int,
    to: Classification,
    reason: str,
    *,
    ip: str = "",
) -> Case:
    """Change a case's classification; the history keeps every earlier one."""
    case = get_case(session, principal, case_id)
    try:
        check_reclassification(case.classification, to)
    except RuleError as exc:
        raise DomainError(str(exc)) from exc
    previous = case.classification
    case.classification = to
    session.add(
        CaseHistory(
            case_id=case.id,
            from_classification=previous,
            to_classification=to,
            reason=reason.strip()[:300] or "reclassified",
            by_user_id=principal.user_id,
        )
    )
    session.flush()
    if to is Classification.excluded:
        _release_all_contacts(session, bus, case)
    elif previous is Classification.excluded:
        reclassify_contacts(session, bus, case)
    audit.record(
        session,
        actor(principal, ip),
        "cases.reclassify",
        "case",
        case.id,
        jpath=case.jpath,
        detail={"from": previous.value, "to": to.value, "reason": reason[:300]},
    )
    bus.publish(session, CaseReclassified(case.id, case.jpath, previous.value, to.value))
    return case


def _release_all_contacts(session: Session, bus: EventBus, case: Case) -> None:
    rows = list(
        session.scalars(
            select(Contact).where(Contact.case_id == case.id, Contact.status == ContactStatus.active)
        )
    )
    for contact in rows:
        contact.status = ContactStatus.dropped
        contact.reason = stored(
            Message(
                "index case {ref} was excluded; {reason}",
                ref=case.case_ref,
                reason=Message.loads(contact.reason),
            )
        )
        contact.updated_at = utcnow()
        if contact.person_id is not None and contact.category in MANAGED_CATEGORIES:
            bus.publish(
                session,
                PersonReleasedFromManagement(person_id=contact.person_id, source=f"contact:{contact.id}"),
            )


@dataclass(frozen=True)
class CaseRow:
    id: int
    case_ref: str
    label: str
    classification: Classification
    onset_date: dt.date | None
    diagnosis_date: dt.date | None
    reported_at: dt.datetime
    imported: bool
    outcome: Outcome | None
    jurisdiction_name: str
    found_under_management: bool
    has_source: bool
    contacts: int
    cluster_id: int


@dataclass(frozen=True)
class CaseFilter:
    classification: Classification | None = None
    q: str = ""
    no_source: bool = False
    found_under_management: bool | None = None
    cluster_id: int | None = None
    reported_from: dt.date | None = None
    reported_to: dt.date | None = None
    jurisdiction_id: int | None = None


def _has_source() -> ColumnElement[bool]:
    return or_(Case.imported.is_(True), exists().where(ChainLink.infectee_case_id == Case.id))


def list_cases(
    session: Session, principal: Principal, filters: CaseFilter, page: int = 1, size: int = 50
) -> Page[CaseRow]:
    page, size = _paging(page, size)
    scope = _scope_path(session, principal, filters.jurisdiction_id)
    stmt = select(Case).where(under(Case.jpath, scope))
    if filters.classification is not None:
        stmt = stmt.where(Case.classification == filters.classification)
    if filters.q.strip():
        stmt = stmt.where(Case.case_ref == filters.q.strip())
    if filters.no_source:
        stmt = stmt.where(~_has_source(), Case.classification != Classification.excluded)
    if filters.found_under_management is not None:
        stmt = stmt.where(Case.found_under_management.is_(filters.found_under_management))
    if filters.cluster_id is not None:
        stmt = stmt.where(Case.cluster_id == filters.cluster_id)
    if filters.reported_from is not None:
        stmt = stmt.where(
            Case.reported_at >= from_local(dt.datetime.combine(filters.reported_from, dt.time.min))
        )
    if filters.reported_to is not None:
        last = clamp_day(filters.reported_to)
        stmt = stmt.where(
            Case.reported_at < from_local(dt.datetime.combine(last, dt.time.min) + dt.timedelta(days=1))
        )
    total = session.scalar(select(func.count()).select_from(stmt.with_only_columns(Case.id).subquery())) or 0
    cases = list(session.scalars(stmt.order_by(Case.id.desc()).offset((page - 1) * size).limit(size)))
    return Page(case_rows(session, principal, cases), total, page, size)


def case_rows(session: Session, principal: Principal, cases: Sequence[Case]) -> list[CaseRow]:
    if not cases:
        return []
    ids = [c.id for c in cases]
    names = persons.labels(session, principal, [c.subject_key for c in cases])
    places = _place_names(session, (c.jurisdiction_id for c in cases))
    counts = dict(
        session.execute(
            select(Contact.case_id, func.count())
            .where(Contact.case_id.in_(ids), Contact.category.in_(list(MANAGED_CATEGORIES)))
            .group_by(Contact.case_id)
        ).all()
    )
    sourced = set(
        session.scalars(select(ChainLink.infectee_case_id).where(ChainLink.infectee_case_id.in_(ids)))
    )
    return [
        CaseRow(
            id=c.id,
            case_ref=c.case_ref,
            label=names.get(c.subject_key, "?"),
            classification=c.classification,
            onset_date=c.onset_date,
            diagnosis_date=c.diagnosis_date,
            reported_at=as_local(c.reported_at),
            imported=c.imported,
            outcome=c.outcome,
            jurisdiction_name=places.get(c.jurisdiction_id, ""),
            found_under_management=c.found_under_management,
            has_source=c.imported or c.id in sourced,
            contacts=counts.get(c.id, 0),
            cluster_id=c.cluster_id,
        )
        for c in cases
    ]


# ---------------------------------------------------------------------------------------------- visits


@dataclass(frozen=True)
class VisitInput:
    kind: PlaceKind
    place_name: str
    start: dt.datetime  # local wall-clock time
    end: dt.datetime | None = None
    address: str = ""
    transport_no: str = ""
    carriage: str = ""
    seat: str = ""
    note: str = ""


def add_visits(
    session: Session, principal: Principal, case_id: int, visits: Sequence[VisitInput], *, ip: str = ""
) -> list[Visit]:
    """Record places and time slots of a case's account."""
    case = get_case(session, principal, case_id)
    errors: list[RowError] = []
    for row, visit in enumerate(visits, start=1):
        for name, moment in (("start", visit.start), ("end", visit.end)):
            problem = time_problem(moment) if moment is not None else None
            if problem:
                errors.append(RowError(row, name, problem))
        if not visit.place_name.strip() and not visit.transport_no.strip():
            errors.append(RowError(row, "place_name", "name the place or the vehicle"))
        if visit.end is not None and visit.end < visit.start:
            errors.append(RowError(row, "end", "ends before it starts"))
    if errors:
        raise InvalidInput(errors)
    rows = [
        Visit(
            case_id=case.id,
            jpath=case.jpath,
            kind=v.kind,
            place_name=(v.place_name or v.transport_no).strip()[:200],
            address=v.address.strip()[:200] or None,
            transport_no=v.transport_no.strip()[:40] or None,
            carriage=v.carriage.strip()[:10] or None,
            seat=v.seat.strip()[:10] or None,
            start=from_local(v.start),
            end=from_local(v.end) if v.end else None,
            note=v.note.strip()[:300] or None,
            place_key=place_key(v.kind, v.place_name, v.address, v.transport_no),
        )
        for v in visits
    ]
    session.add_all(rows)
    session.flush()
    audit.record(
        session,
        actor(principal, ip),
        "cases.visits",
        "case",
        case.id,
        jpath=case.jpath,
        detail={"added": len(rows)},
    )
    return rows


def visits_of(session: Session, principal: Principal, case_id: int) -> list[Visit]:
    case = get_case(session, principal, case_id)
    return list(session.scalars(select(Visit).where(Visit.case_id == case.id).order_by(Visit.start)))


# ---------------------------------------------------------------------------------------------- exposures


@dataclass(frozen=True)
class ExposureInput:
    """One line of the line list: who (a person, a known case, or via a close contact), how, when."""

    setting: str
    start: dt.datetime  # local wall-clock time
    person: persons.PersonInput | None = None
    contact_case_id: int | None = None
    via_contact_id: int | None = None
    end: dt.datetime | None = None
    protected: bool = False
    distance_m: float | None = None
    duration_minutes: float | None = None
    place: str = ""
    note: str = ""
    # The index case infected this person (a known case): a chain link with this certainty.
    infected: Certainty | None = None


def add_exposures(
    session: Session,
    vault: Vault,
    bus: EventBus,
    principal: Principal,
    case_id: int,
    lines: Sequence[ExposureInput],
    *,
    ip: str = "",
) -> list[Contact]:
    """Record exposures found by the investigation and classify every person they concern."""
    from fangkong.tracing.rules import SETTINGS

    case = get_case(session, principal, case_id)
    errors: list[RowError] = []
    for row, line in enumerate(lines, start=1):
        for name, moment in (("start", line.start), ("end", line.end)):
            problem = time_problem(moment) if moment is not None else None
            if problem:
                errors.append(RowError(row, name, problem))
        if line.setting not in SETTINGS:
            errors.append(
                RowError(row, "setting", Message("“{value}” is not an exposure setting", value=line.setting))
            )
        if line.end is not None and line.end < line.start:
            errors.append(RowError(row, "end", "ends before it starts"))
        if (line.person is None) == (line.contact_case_id is None):
            errors.append(
                RowError(row, "person", "give either the person or the case number of a known case")
            )
        if line.infected is not None and line.contact_case_id is None:
            errors.append(
                RowError(row, "infected", "a transmission link needs the other person's case number")
            )
        if line.distance_m is not None and line.distance_m < 0:
            errors.append(RowError(row, "distance_m", "cannot be negative"))
        if line.duration_minutes is not None and line.duration_minutes < 0:
            errors.append(RowError(row, "duration_minutes", "cannot be negative"))
    if errors:
        raise InvalidInput(errors)
    subjects: dict[str, persons.Subject] = {}
    written: list[tuple[Exposure, ExposureInput]] = []
    for row, line in enumerate(lines, start=1):
        exposed_case: Case | None = None
        if line.contact_case_id is not None:
            exposed_case = get_case(session, principal, line.contact_case_id)
            if exposed_case.id == case.id:
                raise InvalidInput([RowError(row, "contact_case_ref", "a case cannot be exposed to itself")])
            subject = persons.subject_of_case(exposed_case)
        else:
            assert line.person is not None
            subject = persons.resolve(session, vault, bus, principal, line.person, row=row)
            exposed_case = session.scalar(
                select(Case).where(
                    Case.subject_key == subject.key, Case.classification != Classification.excluded
                )
            )
        if line.via_contact_id is not None:
            via = get_contact(session, principal, line.via_contact_id)
            if via.case_id != case.id:
                raise InvalidInput(
                    [
                        RowError(
                            row,
                            "via_contact_id",
                            Message("the chosen close contact is not a contact of this case"),
                        )
                    ]
                )
        subjects[subject.key] = subject
        exposure = Exposure(
            case_id=case.id,
            jpath=case.jpath,
            person_id=subject.person_id,
            unidentified_id=subject.unidentified_id,
            subject_key=subject.key,
            exposed_case_id=exposed_case.id if exposed_case else None,
            via_contact_id=line.via_contact_id,
            setting=line.setting,
            place=line.place.strip()[:200] or None,
            start=from_local(line.start),
            end=from_local(line.end) if line.end else None,
            protected=line.protected,
            distance_m=line.distance_m,
            duration_minutes=line.duration_minutes,
            note=line.note.strip()[:300] or None,
            created_by=principal.user_id,
        )
        session.add(exposure)
        written.append((exposure, line))
    session.flush()
    for exposure, line in written:
        if line.infected is not None and exposure.exposed_case_id is not None:
            add_link(
                session,
                principal,
                case.id,
                exposure.exposed_case_id,
                line.infected,
                exposure_id=exposure.id,
                note=exposure.note or "",
                ip=ip,
                audited=False,
            )
    contacts = reclassify_contacts(session, bus, case, subjects)
    audit.record(
        session,
        actor(principal, ip),
        "cases.exposures",
        "case",
        case.id,
        jpath=case.jpath,
        detail={"added": len(written), "people": len(subjects)},
    )
    return contacts


def remove_exposure(
    session: Session, bus: EventBus, principal: Principal, exposure_id: int, *, ip: str = ""
) -> None:
    exposure = session.get(Exposure, exposure_id)
    if exposure is None or not path_in_scope(exposure.jpath, principal.jpath):
        raise NotFound(f"exposure {exposure_id} not found")
    case = get_case(session, principal, exposure.case_id)
    key = exposure.subject_key
    session.execute(update(ChainLink).where(ChainLink.exposure_id == exposure.id).values(exposure_id=None))
    session.delete(exposure)
    session.flush()
    subject = _subject_from_row(session, exposure.person_id, exposure.unidentified_id)
    reclassify_contacts(session, bus, case, {key: subject})
    audit.record(
        session, actor(principal, ip), "cases.exposure_removed", "exposure", exposure_id, jpath=case.jpath
    )


def exposures_of(session: Session, principal: Principal, case_id: int) -> list[Exposure]:
    case = get_case(session, principal, case_id)
    return list(session.scalars(select(Exposure).where(Exposure.case_id == case.id).order_by(Exposure.start)))


def _facts(session: Session, case: Case, keys: set[str] | None) -> list[ExposureFact]:
    stmt = select(Exposure).where(Exposure.case_id == case.id)
    if keys is not None:
        stmt = stmt.where(Exposure.subject_key.in_(keys))
    exposures = list(session.scalars(stmt))
    via_ids = {e.via_contact_id for e in exposures if e.via_contact_id is not None}
    vias: dict[int, Via] = {}
    if via_ids:
        rows = list(session.scalars(select(Contact).where(Contact.id.in_(via_ids))))
        # The close contact is named in the reason by masked name, as every list shows her, not by a
        # row id; she is this case's own contact, so her name is the investigators' to read.
        names = persons.masked_labels(session, "/", [c.subject_key for c in rows])
        for c in rows:
            # Her quarantine closes the window of her own contacts (a contact of a contact exposed to
            # her after she was isolated was not exposed through her).
            isolated = isolation_of(session, c)
            vias[c.id] = Via(
                c.id,
                names.get(c.subject_key, "?"),
                as_local(c.first_exposure),
                as_local(isolated) if isolated else None,
                c.high_risk,
            )
    return [
        ExposureFact(
            subject_key=e.subject_key,
            setting=e.setting,
            start=as_local(e.start),
            end=as_local(e.end) if e.end else None,
            protected=e.protected,
            distance_m=e.distance_m,
            duration_minutes=e.duration_minutes,
            via=vias.get(e.via_contact_id) if e.via_contact_id else None,
        )
        for e in exposures
    ]


def index_timing(case: Case) -> IndexTiming:
    return IndexTiming(
        case.id, case.onset_date, case.sampling_date, as_local(case.isolated_at) if case.isolated_at else None
    )


def reclassify_contacts(
    session: Session, bus: EventBus, case: Case, subjects: dict[str, persons.Subject] | None = None
) -> list[Contact]:
    """Classify the case's exposed people (all, or ``subjects``) and bring their contacts up to date."""
    if case.classification is Classification.excluded:
        return []
    protocol = protocol_for(session, case.jpath)
    now = as_local(utcnow())
    keys = set(subjects) if subjects is not None else None
    decisions = decide(protocol, index_timing(case), _facts(session, case, keys), now)
    existing = {
        c.subject_key: c
        for c in session.scalars(
            select(Contact).where(
                Contact.case_id == case.id, *([Contact.subject_key.in_(keys)] if keys else [])
            )
        )
    }
    case_subjects = _case_ids_by_subject(session, [d.subject_key for d in decisions])
    results: list[Contact] = []
    for decision in decisions:
        contact = existing.get(decision.subject_key)
        changed = True
        if contact is None:
            subject = (subjects or {}).get(decision.subject_key) or _subject_from_row(
                session, *persons_key(decision.subject_key)
            )
            contact = _new_contact(session, case, subject, decision, protocol.id)
        else:
            changed = _update_contact(session, bus, contact, decision, protocol.id)
        converted = case_subjects.get(decision.subject_key)
        if converted is not None and converted != case.id and contact.status is ContactStatus.active:
            contact.status = ContactStatus.converted
            contact.converted_case_id = converted
        elif changed and contact.status is ContactStatus.active and contact.person_id is not None:
            _publish_placed(session, bus, contact)
        results.append(contact)
    decided = {d.subject_key for d in decisions}
    for key, contact in existing.items():
        if key not in decided and contact.status is ContactStatus.active:
            # Every exposure of this person to the case was removed: they are no longer its contact.
            contact.status = ContactStatus.dropped
            contact.reason = "no exposure to this case is left on record"
            contact.updated_at = utcnow()
            if contact.person_id is not None:
                bus.publish(
                    session,
                    PersonReleasedFromManagement(person_id=contact.person_id, source=f"contact:{contact.id}"),
                )
            results.append(contact)
    return results


def persons_key(key: str) -> tuple[int | None, int | None]:
    from fangkong.tracing.rules import parse_subject_key

    return parse_subject_key(key)


def _case_ids_by_subject(session: Session, keys: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(keys), 1000):
        rows = session.execute(
            select(Case.subject_key, Case.id).where(
                Case.subject_key.in_(keys[start : start + 1000]),
                Case.classification != Classification.excluded,
            )
        )
        found.update(dict(rows.all()))
    return found


def _status_for(category: ContactCategory) -> ContactStatus:
    return ContactStatus.active if category in MANAGED_CATEGORIES else ContactStatus.dropped


def _new_contact(
    session: Session, case: Case, subject: persons.Subject, decision: Decision, protocol_id: str
) -> Contact:
    contact = Contact(
        case_id=case.id,
        person_id=subject.person_id,
        unidentified_id=subject.unidentified_id,
        subject_key=subject.key,
        jurisdiction_id=subject.jurisdiction_id,
        jpath=subject.jpath,
        category=decision.category,
        decided_by="classifier",
        reason=decision.reason,
        via_contact_id=decision.via_contact_id,
        setting=decision.setting,
        first_exposure=from_local(decision.first_exposure),
        last_exposure=from_local(decision.last_exposure),
        high_risk=True,
        status=_status_for(decision.category),
        residence_jurisdiction_id=subject.residence_jurisdiction_id,
        protocol_id=protocol_id,
    )
    session.add(contact)
    session.flush()
    return contact


def _update_contact(
    session: Session, bus: EventBus, contact: Contact, decision: Decision, protocol_id: str
) -> bool:
    """Bring a contact up to date; True when what its plan depends on changed."""
    last = from_local(decision.last_exposure)
    moved = as_utc(contact.last_exposure) != last
    contact.first_exposure = from_local(decision.first_exposure)
    contact.last_exposure = last
    contact.protocol_id = protocol_id
    contact.updated_at = utcnow()
    if contact.decided_by == "investigator" or contact.status in (
        ContactStatus.converted,
        ContactStatus.superseded,
    ):
        return moved
    was, before = contact.status, contact.category
    contact.category = decision.category
    contact.reason = decision.reason
    contact.setting = decision.setting
    contact.via_contact_id = decision.via_contact_id
    contact.status = _status_for(decision.category)
    if (
        was is ContactStatus.active
        and contact.status is ContactStatus.dropped
        and contact.person_id is not None
    ):
        bus.publish(
            session, PersonReleasedFromManagement(person_id=contact.person_id, source=f"contact:{contact.id}")
        )
    return moved or before != contact.category or was != contact.status


def _publish_placed(session: Session, bus: EventBus, contact: Contact) -> None:
    assert contact.person_id is not None
    via_person = None
    if contact.via_contact_id is not None:
        via = session.get(Contact, contact.via_contact_id)
        via_person = via.person_id if via is not None else None
    bus.publish(
        session,
        PersonPlacedUnderManagement(
            person_id=contact.person_id,
            jpath=contact.jpath,
            category=contact.category.value,
            clock_date=as_local(contact.last_exposure).date(),
            source=f"contact:{contact.id}",
            linked_person_id=via_person,
        ),
    )


# ---------------------------------------------------------------------------------------------- contacts


@dataclass(frozen=True)
class ContactRow:
    id: int
    label: str
    case_id: int
    case_ref: str
    category: ContactCategory
    decided_by: str
    reason: str
    setting: str | None
    last_exposure: dt.datetime
    status: ContactStatus
    plan_end: dt.date | None
    jurisdiction_name: str
    via_contact_id: int | None
    lives_elsewhere: bool
    converted_case_id: int | None
    # The close contact a second-ring contact was exposed through, by name (masked) rather than id.
    via_label: str = ""
    # An active contact's plan on the local today: tests whose day passed without a sample, and
    # whether a sample is due now (a test planned today, or a catch-up for missed ones).
    tests_missed: int = 0
    test_due_now: bool = False


@dataclass(frozen=True)
class ContactFilter:
    category: ContactCategory | None = None
    status: ContactStatus | None = ContactStatus.active
    case_id: int | None = None
    lives_elsewhere: bool | None = None
    second_ring: bool | None = None
    jurisdiction_id: int | None = None


def list_contacts(
    session: Session, principal: Principal, filters: ContactFilter, page: int = 1, size: int = 50
) -> Page[ContactRow]:
    page, size = _paging(page, size)
    scope = _scope_path(session, principal, filters.jurisdiction_id)
    stmt = select(Contact).where(under(Contact.jpath, scope))
    if filters.status is not None:
        stmt = stmt.where(Contact.status == filters.status)
    if filters.category is not None:
        stmt = stmt.where(Contact.category == filters.category)
    else:
        stmt = stmt.where(Contact.category.in_(sorted(MANAGED_CATEGORIES)))
    if filters.case_id is not None:
        stmt = stmt.where(Contact.case_id == filters.case_id)
    if filters.lives_elsewhere is not None:
        test = Contact.residence_jurisdiction_id.is_not(None)
        stmt = stmt.where(test if filters.lives_elsewhere else ~test)
    if filters.second_ring is not None:
        ring = Contact.via_contact_id.is_not(None)
        stmt = stmt.where(ring if filters.second_ring else ~ring)
    total = (
        session.scalar(select(func.count()).select_from(stmt.with_only_columns(Contact.id).subquery())) or 0
    )
    rows = list(session.scalars(stmt.order_by(Contact.id.desc()).offset((page - 1) * size).limit(size)))
    return Page(contact_rows(session, principal, rows), total, page, size)


def contact_rows(session: Session, principal: Principal, contacts: Sequence[Contact]) -> list[ContactRow]:
    if not contacts:
        return []
    via_ids = {c.via_contact_id for c in contacts if c.via_contact_id is not None}
    via_keys: dict[int, str] = (
        dict(session.execute(select(Contact.id, Contact.subject_key).where(Contact.id.in_(via_ids))).all())
        if via_ids
        else {}
    )
    names = persons.labels(session, principal, [c.subject_key for c in contacts] + list(via_keys.values()))
    today = clock.today()
    refs = dict(
        session.execute(
            select(Case.id, Case.case_ref).where(Case.id.in_({c.case_id for c in contacts}))
        ).all()
    )
    places = _place_names(session, (c.jurisdiction_id for c in contacts))
    protocols: dict[str, object] = {}
    rows: list[ContactRow] = []
    for c in contacts:
        protocol = protocols.get(c.jpath)
        if protocol is None:
            protocol = protocols[c.jpath] = protocol_for(session, c.jpath)
        plan = plan_for(protocol, c.category.value, as_local(c.last_exposure).date())  # type: ignore[arg-type]
        schedule = (
            schedule_on(plan, today)
            if plan is not None and plan.managed and c.status is ContactStatus.active
            else None
        )
        rows.append(
            ContactRow(
                id=c.id,
                label=names.get(c.subject_key, "?"),
                case_id=c.case_id,
                case_ref=refs.get(c.case_id, ""),
                category=c.category,
                decided_by=c.decided_by,
                reason=c.reason,
                setting=c.setting,
                last_exposure=as_local(c.last_exposure),
                status=c.status,
                plan_end=plan.end_date if plan is not None else None,
                jurisdiction_name=places.get(c.jurisdiction_id, ""),
                via_contact_id=c.via_contact_id,
                lives_elsewhere=c.residence_jurisdiction_id is not None,
                converted_case_id=c.converted_case_id,
                via_label=names.get(via_keys.get(c.via_contact_id or 0, ""), ""),
                tests_missed=len(schedule.missed) if schedule else 0,
                test_due_now=schedule.due_now if schedule else False,
            )
        )
    return rows


def override_contact(
    session: Session,
    bus: EventBus,
    principal: Principal,
    contact_id: int,
    category: ContactCategory,
    reason: str,
    *,
    ip: str = "",
) -> Contact:
    """An investigator's judgement replaces the classifier's (protocols allow "judged by investigators")."""
    contact = get_contact(session, principal, contact_id)
    if not reason.strip():
        raise InvalidInput([RowError(1, "reason", "say why the classifier's outcome is overridden")])
    if contact.status in (ContactStatus.converted, ContactStatus.superseded):
        raise DomainError(
            Message(
                "this contact is {status}; it cannot be reclassified", status=Message(contact.status.value)
            )
        )
    previous, was = contact.category, contact.status
    contact.category = category
    contact.decided_by = "investigator"
    contact.reason = stored(
        Message(
            "investigator: {reason} (classifier said {category})",
            reason=reason.strip()[:500],
            category=Message(previous.value),
        )
    )
    contact.status = _status_for(category)
    contact.updated_at = utcnow()
    if contact.person_id is not None:
        if contact.status is ContactStatus.active:
            _publish_placed(session, bus, contact)
        elif was is ContactStatus.active:
            bus.publish(
                session,
                PersonReleasedFromManagement(person_id=contact.person_id, source=f"contact:{contact.id}"),
            )
    audit.record(
        session,
        actor(principal, ip),
        "contacts.override",
        "contact",
        contact.id,
        jpath=contact.jpath,
        detail={"from": previous.value, "to": category.value},
    )
    return contact


def convert_contact(
    session: Session,
    bus: EventBus,
    principal: Principal,
    contact_id: int,
    classification: Classification,
    *,
    case_ref: str = "",
    sampling_date: dt.date | None = None,
    onset_date: dt.date | None = None,
    diagnosis_date: dt.date | None = None,
    ip: str = "",
) -> Case:
    """A contact tested positive: they become a case, linked to the index case (the chain edge stays)."""
    contact = get_contact(session, principal, contact_id)
    if contact.status is ContactStatus.converted:
        raise Conflict(Message("this contact is already a case"))
    if classification not in INFECTED and classification is not Classification.suspected:
        raise DomainError("a contact converts to a suspected, confirmed or asymptomatic case")
    if case_ref and session.scalar(select(Case.id).where(Case.case_ref == case_ref)) is not None:
        raise Conflict(Message("case number {ref} is already used", ref=case_ref))
    errors = _check_dates(
        CaseUpdate(onset_date=onset_date, sampling_date=sampling_date, diagnosis_date=diagnosis_date),
        classification=classification,
    )
    if errors:
        raise InvalidInput(errors)
    if (
        session.scalar(
            select(Case.id).where(
                Case.subject_key == contact.subject_key, Case.classification != Classification.excluded
            )
        )
        is not None
    ):
        raise Conflict("this person is already a case")
    now = utcnow()
    found_on = sampling_date or local_day(now)
    managed = _managed_contact_of(session, contact.subject_key, found_on) is not None
    # Isolated as a contact before testing positive: the case's contacts were exposed only until then.
    isolated = _isolated_since(session, contact.subject_key, found_on, now) if managed else None
    case = Case(
        case_ref=case_ref or f"pending-{contact.id}",
        person_id=contact.person_id,
        unidentified_id=contact.unidentified_id,
        subject_key=contact.subject_key,
        jurisdiction_id=contact.jurisdiction_id,
        jpath=contact.jpath,
        classification=classification,
        onset_date=onset_date,
        sampling_date=found_on,
        diagnosis_date=diagnosis_date,
        reported_at=now,
        imported=False,
        source_contact_id=contact.id,
        found_under_management=managed,
        isolated_at=isolated,
        created_by=principal.user_id,
        cluster_id=0,
    )
    session.add(case)
    session.flush()
    case.cluster_id = case.id
    if not case_ref:
        case.case_ref = new_case_ref(_county_code(case.jpath), as_local(now).date(), case.id)
    session.add(
        CaseHistory(
            case_id=case.id,
            from_classification=None,
            to_classification=classification,
            reason="converted from a contact",
            by_user_id=principal.user_id,
        )
    )
    session.flush()
    _convert(session, bus, principal, case, contact, link=True)
    _absorb_contacts(session, bus, principal, case)
    audit.record(
        session,
        actor(principal, ip),
        "contacts.convert",
        "contact",
        contact.id,
        jpath=contact.jpath,
        detail={"case_id": case.id, "case_ref": case.case_ref},
    )
    _publish_case(session, bus, case)
    return case


# ---------------------------------------------------------------------------------------------- chain links


def add_link(
    session: Session,
    principal: Principal,
    infector_case_id: int,
    infectee_case_id: int,
    certainty: Certainty,
    *,
    exposure_id: int | None = None,
    note: str = "",
    ip: str = "",
    audited: bool = True,
) -> ChainLink:
    """Record that one case infected another; both must be in the caller's jurisdiction."""
    infector = get_case(session, principal, infector_case_id)
    infectee = get_case(session, principal, infectee_case_id)
    if infector.id == infectee.id:
        raise DomainError("a case cannot infect itself")
    reverse = session.scalar(
        select(ChainLink.id).where(
            ChainLink.infector_case_id == infectee.id, ChainLink.infectee_case_id == infector.id
        )
    )
    if reverse is not None:
        raise Conflict(
            Message(
                "{infector} is already recorded as infected by {infectee}",
                infector=infector.case_ref,
                infectee=infectee.case_ref,
            )
        )
    same = session.scalar(
        select(ChainLink).where(
            ChainLink.infector_case_id == infector.id, ChainLink.infectee_case_id == infectee.id
        )
    )
    if same is not None:
        same.certainty = certainty
        return same
    link = _add_link(session, infector.id, infectee.id, certainty, exposure_id, note, principal.user_id)
    if audited:
        audit.record(
            session,
            actor(principal, ip),
            "cases.link",
            "case",
            infectee.id,
            jpath=infectee.jpath,
            detail={"infector": infector.id, "certainty": certainty.value},
        )
    return link


def _add_link(
    session: Session,
    infector_id: int,
    infectee_id: int,
    certainty: Certainty,
    exposure_id: int | None,
    note: str,
    by: int | None,
) -> ChainLink:
    infector = session.get(Case, infector_id)
    infectee = session.get(Case, infectee_id)
    assert infector is not None
    assert infectee is not None
    cluster = merge_clusters(session, infector.cluster_id, infectee.cluster_id)
    link = ChainLink(
        infector_case_id=infector_id,
        infectee_case_id=infectee_id,
        certainty=certainty,
        exposure_id=exposure_id,
        jpath=infectee.jpath,
        cluster_id=cluster,
        note=note[:300] or None,
        created_by=by,
    )
    session.add(link)
    session.flush()
    return link


def remove_link(session: Session, principal: Principal, link_id: int, *, ip: str = "") -> None:
    link = session.get(ChainLink, link_id)
    if link is None or not path_in_scope(link.jpath, principal.jpath):
        raise NotFound(f"link {link_id} not found")
    get_case(session, principal, link.infector_case_id)
    cluster = link.cluster_id
    session.delete(link)
    session.flush()
    from fangkong.tracing.clusters import recompute_clusters

    recompute_clusters(session, [cluster])
    audit.record(
        session,
        actor(principal, ip),
        "cases.unlink",
        "case",
        link.infectee_case_id,
        jpath=link.jpath,
        detail={"infector": link.infector_case_id},
    )


def merge_clusters(session: Session, a: int, b: int) -> int:
    """Join two clusters under the smaller label (a link between them was just added)."""
    if a == b:
        return a
    keep, drop = min(a, b), max(a, b)
    session.execute(
        update(Case)
        .where(Case.cluster_id == drop)
        .values(cluster_id=keep)
        .execution_options(synchronize_session="fetch")
    )
    session.execute(
        update(ChainLink)
        .where(ChainLink.cluster_id == drop)
        .values(cluster_id=keep)
        .execution_options(synchronize_session="fetch")
    )
    return keep


@dataclass(frozen=True)
class LinkView:
    id: int
    infector_case_id: int
    infector_ref: str
    infectee_case_id: int
    infectee_ref: str
    certainty: Certainty
    in_scope: bool


def links_of(session: Session, principal: Principal, case_id: int) -> tuple[list[LinkView], list[LinkView]]:
    """(infected by, infected) links of a case; the other end is named only when it is in scope."""
    case = get_case(session, principal, case_id)
    links = list(
        session.scalars(
            select(ChainLink).where(
                or_(ChainLink.infectee_case_id == case.id, ChainLink.infector_case_id == case.id)
            )
        )
    )
    others = {lk.infector_case_id for lk in links} | {lk.infectee_case_id for lk in links}
    known = {
        cid: (ref, path)
        for cid, ref, path in session.execute(
            select(Case.id, Case.case_ref, Case.jpath).where(Case.id.in_(others))
        )
    }
    views = []
    for lk in links:
        other = lk.infector_case_id if lk.infectee_case_id == case.id else lk.infectee_case_id
        ref, path = known.get(other, ("", ""))
        visible = path_in_scope(path, principal.jpath)
        shown = ref if visible else "—"
        views.append(
            LinkView(
                lk.id,
                lk.infector_case_id if visible or lk.infector_case_id == case.id else 0,
                case.case_ref if lk.infector_case_id == case.id else shown,
                lk.infectee_case_id if visible or lk.infectee_case_id == case.id else 0,
                case.case_ref if lk.infectee_case_id == case.id else shown,
                lk.certainty,
                visible,
            )
        )
    return (
        [v for v, lk in zip(views, links, strict=True) if lk.infectee_case_id == case.id],
        [v for v, lk in zip(views, links, strict=True) if lk.infector_case_id == case.id],
    )


@dataclass(frozen=True)
class ContactDetail:
    contact: Contact
    row: ContactRow
    protocol: Protocol
    plan: ManagementPlan | None
    exposures: list[Exposure]
    # The plan's tests on the local today (active contacts only): done, missed, due now, ahead.
    schedule: ScheduleOnDay | None = None
    # Masked names of the close contacts the exposures went through (second ring), by contact id.
    via_labels: dict[int, str] = field(default_factory=dict)


def contact_detail(session: Session, principal: Principal, contact_id: int) -> ContactDetail:
    """A contact with its row, its plan under the protocol in force and its exposures to the index case."""
    contact = get_contact(session, principal, contact_id)
    (row,) = contact_rows(session, principal, [contact])
    protocol = protocol_for(session, contact.jpath)
    plan = plan_for(protocol, contact.category.value, as_local(contact.last_exposure).date())
    exposures = list(
        session.scalars(
            select(Exposure)
            .where(Exposure.case_id == contact.case_id, Exposure.subject_key == contact.subject_key)
            .order_by(Exposure.start)
        )
    )
    schedule = None
    if plan is not None and plan.managed and contact.status is ContactStatus.active:
        # No test results reach tracing yet, so every past test day without one shows as missed.
        schedule = schedule_on(plan, clock.today())
    via_ids = {e.via_contact_id for e in exposures if e.via_contact_id is not None}
    via_keys = (
        dict(session.execute(select(Contact.id, Contact.subject_key).where(Contact.id.in_(via_ids))).all())
        if via_ids
        else {}
    )
    names = persons.labels(session, principal, list(via_keys.values()))
    return ContactDetail(
        contact=contact,
        row=row,
        protocol=protocol,
        plan=plan,
        exposures=exposures,
        schedule=schedule,
        via_labels={cid: names.get(key, "?") for cid, key in via_keys.items()},
    )


@dataclass
class CaseDetail:
    case: Case
    label: str
    jurisdiction_name: str
    history: list[CaseHistory]
    visits: list[Visit]
    exposures: list[Exposure]
    exposure_labels: dict[str, str]
    contacts: list[ContactRow]
    infected_by: list[LinkView]
    infected: list[LinkView]
    source_contact_id: int | None
    cluster_size: int
    no_known_source: bool
    extra: dict[str, object] = field(default_factory=dict)


def case_detail(session: Session, principal: Principal, case_id: int) -> CaseDetail:
    case = get_case(session, principal, case_id)
    history = list(
        session.scalars(select(CaseHistory).where(CaseHistory.case_id == case.id).order_by(CaseHistory.id))
    )
    exposures = exposures_of(session, principal, case.id)
    contacts = list(
        session.scalars(
            select(Contact)
            .where(Contact.case_id == case.id, under(Contact.jpath, principal.jpath))
            .order_by(Contact.id)
        )
    )
    infected_by, infected = links_of(session, principal, case.id)
    size = (
        session.scalar(select(func.count()).select_from(Case).where(Case.cluster_id == case.cluster_id)) or 1
    )
    source_contact = None
    if case.source_contact_id is not None:
        src = session.get(Contact, case.source_contact_id)
        source_contact = src.id if src is not None and path_in_scope(src.jpath, principal.jpath) else None
    names = persons.labels(session, principal, [case.subject_key, *{e.subject_key for e in exposures}])
    return CaseDetail(
        case=case,
        label=names.get(case.subject_key, "?"),
        jurisdiction_name=_place_names(session, [case.jurisdiction_id]).get(case.jurisdiction_id, ""),
        history=history,
        visits=visits_of(session, principal, case.id),
        exposures=exposures,
        exposure_labels=names,
        contacts=contact_rows(session, principal, contacts),
        infected_by=infected_by,
        infected=infected,
        source_contact_id=source_contact,
        cluster_size=size,
        no_known_source=not case.imported
        and not infected_by
        and case.classification is not Classification.excluded,
    )


# ------------------------------------------------------------------------------- reads for other capabilities


def index_cases_of_sources(session: Session, sources: Iterable[str]) -> dict[str, frozenset[int]]:
    """The index case behind each plan source ``contact:<id>`` (quarantine keeps contacts of different
    cases apart). Sources that are not contacts, or unknown contacts, are left out."""
    contact_ids: dict[int, str] = {}
    for source in sources:
        kind, _, number = source.partition(":")
        if kind == "contact" and number.isdigit():
            contact_ids[int(number)] = source
    found: dict[str, frozenset[int]] = {}
    ids = sorted(contact_ids)
    for start in range(0, len(ids), 1000):
        rows = session.execute(
            select(Contact.id, Contact.case_id).where(Contact.id.in_(ids[start : start + 1000]))
        )
        for contact_id, case_id in rows:
            found[contact_ids[contact_id]] = frozenset({case_id})
    return found
