"""A contact who becomes a case: their contact records are converted, with chain links.

Used when a case is registered for someone who was a contact (``register_case``, :mod:`.cases`) and
when a contact is converted (``convert_contact``, :mod:`.contacts`); contacts of a close contact who
became a case are re-classified as contacts of the new case (the second ring moves up).
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from fangkong.core.auth import Principal
from fangkong.core.clock import utcnow
from fangkong.core.events import EventBus, PersonReleasedFromManagement
from fangkong.tracing.models import (
    Case,
    Certainty,
    ChainLink,
    Contact,
    ContactCategory,
    ContactStatus,
    Exposure,
)
from fangkong.tracing.rules import (
    INFECTED,
    MANAGED_CATEGORIES,
)
from fangkong.tracing.service.classifying import _subject_from_row, reclassify_contacts
from fangkong.tracing.service.links import _add_link


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
