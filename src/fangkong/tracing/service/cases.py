"""Cases: registering a case, correcting it, reclassifying it; the checks of a case's dates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.clock import as_local, from_local, utcnow
from fangkong.core.crypto import Vault
from fangkong.core.errors import Conflict, DomainError, InvalidInput, RowError
from fangkong.core.events import EventBus, PersonReleasedFromManagement
from fangkong.core.i18n import Message, stored
from fangkong.core.scope import DRILL_CASE_PREFIX, is_sandbox_path, path_in_scope, real_place_of
from fangkong.tracing import persons
from fangkong.tracing.events import CaseReclassified, CaseReported
from fangkong.tracing.models import (
    Case,
    CaseHistory,
    Classification,
    Contact,
    ContactStatus,
    Outcome,
)
from fangkong.tracing.rules import (
    MANAGED_CATEGORIES,
    RuleError,
    check_reclassification,
    date_problem,
    new_case_ref,
    time_problem,
)
from fangkong.tracing.service.classifying import reclassify_contacts
from fangkong.tracing.service.conversion import _absorb_contacts
from fangkong.tracing.service.isolation import _isolated_since, _managed_contact_of
from fangkong.tracing.service.reads import actor, get_case


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
