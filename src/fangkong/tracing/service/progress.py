"""How far a case's investigation has come, for the response capability's tasks and sweeper.

These are system reads (no principal: an event handler or the sweeper asks on behalf of the platform)
and the publication of ``CaseInvestigated``, which the investigation's use cases make when they record
something for a case.
"""

from __future__ import annotations

from sqlalchemy import case as when
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from fangkong.core.events import EventBus
from fangkong.tracing.events import CaseInvestigated
from fangkong.tracing.models import Case, Contact, ContactCategory, ContactStatus

# A converted contact became a case of their own: still one of this case's contacts, and isolated (a case
# is isolated or treated). Dropped and superseded records no longer count for this case.
_COUNTED = (ContactStatus.active, ContactStatus.converted)


def contacts_count(session: Session, case_id: int) -> int:
    """The number of contacts the case has now (active or converted, classified as some kind of contact)."""
    return (
        session.scalar(
            select(func.count(Contact.id)).where(
                Contact.case_id == case_id,
                Contact.status.in_(_COUNTED),
                Contact.category != ContactCategory.not_a_contact,
            )
        )
        or 0
    )


def close_contacts_isolated(session: Session, case_id: int) -> tuple[int, int]:
    """(close contacts of the case, how many of them are isolated), in one query.

    Isolated means the record has an isolation time (the person checked into a quarantine room) or the
    contact has since become a case.
    """
    isolated = or_(Contact.isolated_at.is_not(None), Contact.status == ContactStatus.converted)
    total, done = session.execute(
        select(func.count(Contact.id), func.coalesce(func.sum(when((isolated, 1), else_=0)), 0)).where(
            Contact.case_id == case_id,
            Contact.category == ContactCategory.close_contact,
            Contact.status.in_(_COUNTED),
        )
    ).one()
    return int(total), int(done)


def publish_investigated(session: Session, bus: EventBus, case: Case) -> None:
    """Tell the others that the investigation of ``case`` recorded something (same unit of work)."""
    bus.publish(
        session,
        CaseInvestigated(case_id=case.id, jpath=case.jpath, contacts=contacts_count(session, case.id)),
    )
