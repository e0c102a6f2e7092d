"""Contacts: an investigator's judgement overriding the classifier's, and a contact becoming a case."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.clock import as_local, local_day, utcnow
from fangkong.core.errors import Conflict, DomainError, InvalidInput, RowError
from fangkong.core.events import EventBus, PersonReleasedFromManagement
from fangkong.core.i18n import Message, stored
from fangkong.tracing.models import (
    Case,
    CaseHistory,
    Classification,
    Contact,
    ContactCategory,
    ContactStatus,
)
from fangkong.tracing.rules import (
    INFECTED,
    new_case_ref,
)
from fangkong.tracing.service.cases import CaseUpdate, _check_dates, _county_code, _publish_case
from fangkong.tracing.service.classifying import _publish_placed, _status_for
from fangkong.tracing.service.conversion import _absorb_contacts, _convert
from fangkong.tracing.service.isolation import _isolated_since, _managed_contact_of
from fangkong.tracing.service.reads import actor, get_contact


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
