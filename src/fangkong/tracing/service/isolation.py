"""Whether a person who becomes a case was managed as a contact when found, and since when isolated.

A case found while a contact's plan still managed them is "found under management"; their isolation as
a contact (their own record, or their plan's isolating stage) closes the exposure window of their own
contacts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.clock import as_local, as_utc, from_local, local_day, utcnow
from fangkong.tracing.models import (
    Contact,
    ContactCategory,
    ContactStatus,
)
from fangkong.tracing.protocols import plan_for, protocol_for
from fangkong.tracing.rules import (
    MANAGED_CATEGORIES,
)


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
