"""The day's case and contact figures of a subtree, for the response capability's daily closure (日清日结).

System reads without a principal: the caller limits the subtree with ``jpath`` and has checked that the
user may see it. A "day" is a local day of the deployment's zone (``core.clock.day_bounds``).

Which cases count: ``confirmed`` and ``asymptomatic``, as on the epidemic curve (``.daily``); a case
reclassified later counts under what it is now, on the day it was first reported. Which contacts count:
the three contact categories of the protocol (close, contact of contact, general), not the exposed
people the classifier found not to be contacts, and not the records an investigator dropped.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from fangkong.core.clock import day_bounds
from fangkong.core.scope import under
from fangkong.tracing.models import Case, Classification, Contact, ContactCategory, ContactStatus
from fangkong.tracing.service.daily import COUNTED

IDENTIFIED_CATEGORIES = (
    ContactCategory.close_contact,
    ContactCategory.contact_of_contact,
    ContactCategory.general_contact,
)


def case_figures(session: Session, jpath: str, day: dt.date) -> dict[str, int]:
    """Cases under ``jpath``: reported on ``day`` (and of them confirmed, asymptomatic, found among
    people already under management), and the total reported by the end of the day."""
    start, end = day_bounds(day)
    of_day = Case.reported_at >= start
    row = session.execute(
        select(
            func.count(),
            func.count(case((of_day, 1))),
            func.count(case((of_day & (Case.classification == Classification.confirmed), 1))),
            func.count(case((of_day & (Case.classification == Classification.asymptomatic), 1))),
            func.count(case((of_day & Case.found_under_management.is_(True), 1))),
        ).where(under(Case.jpath, jpath), Case.classification.in_(COUNTED), Case.reported_at < end)
    ).one()
    total, reported, confirmed, asymptomatic, managed = (int(v or 0) for v in row)
    return {
        "reported": reported,
        "total": total,
        "confirmed": confirmed,
        "asymptomatic": asymptomatic,
        "found_under_management": managed,
    }


def contacts_identified(session: Session, jpath: str, day: dt.date) -> int:
    """Contacts under ``jpath`` whose record was made on ``day`` (close, contact of contact, general)."""
    start, end = day_bounds(day)
    found = session.scalar(
        select(func.count()).where(
            under(Contact.jpath, jpath),
            Contact.created_at >= start,
            Contact.created_at < end,
            Contact.category.in_(IDENTIFIED_CATEGORIES),
            Contact.status != ContactStatus.dropped,
        )
    )
    return int(found or 0)
