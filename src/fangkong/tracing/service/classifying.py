"""Classifying a case's exposed people and keeping their contact records up to date.

Every exposure of a case is turned into facts for the classifier (:mod:`fangkong.tracing.classification`)
under the protocol in force; each decision creates or updates the person's contact record and publishes
``PersonPlacedUnderManagement`` or ``PersonReleasedFromManagement`` as management starts or stops.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.clock import as_local, as_utc, from_local, utcnow
from fangkong.core.errors import NotFound
from fangkong.core.events import EventBus, PersonPlacedUnderManagement, PersonReleasedFromManagement
from fangkong.tracing import persons
from fangkong.tracing.classification import Decision, ExposureFact, IndexTiming, Via, decide
from fangkong.tracing.models import (
    Case,
    Classification,
    Contact,
    ContactCategory,
    ContactStatus,
    Exposure,
)
from fangkong.tracing.protocols import protocol_for
from fangkong.tracing.rules import (
    MANAGED_CATEGORIES,
    subject_key,
)
from fangkong.tracing.service.isolation import isolation_of


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
