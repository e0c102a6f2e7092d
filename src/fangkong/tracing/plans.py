"""The plans tracing holds itself: contacts under management who are not in the people registry.

The protocol capability stores a plan for every registry person a contact places under management
(``PersonPlacedUnderManagement``). A contact known only by name and phone (an unidentified person, the
usual case in the first hours of an investigation) has no registry person to hang a stored plan on, so
tracing computes that contact's plan from the protocol in force whenever it shows it. A protocol switch
must re-plan and count those contacts too: ``fangkong.protocol.service`` reads them through
:func:`managed_without_stored_plan` (looked up by name, as this capability reads the protocol in force).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, not_, or_, select
from sqlalchemy.orm import Session

from fangkong.core.clock import as_local
from fangkong.core.scope import under
from fangkong.tracing.models import Contact, ContactStatus
from fangkong.tracing.rules import MANAGED_CATEGORIES

READ_CHUNK = 5_000


@dataclass(frozen=True)
class HeldPlan:
    """A contact under management whose plan tracing computes (what the plan counts from)."""

    contact_id: int
    jpath: str
    category: str
    last_exposure: dt.date  # the local day, as tracing's plan counts it


def managed_without_stored_plan(session: Session, path: str, excluded: Sequence[str] = ()) -> list[HeldPlan]:
    """Active contacts of a managed category under ``path`` (outside the ``excluded`` subtrees) who are
    not registry people, in id order."""
    condition = and_(
        under(Contact.jpath, path),
        Contact.status == ContactStatus.active,
        Contact.person_id.is_(None),
        Contact.category.in_(sorted(MANAGED_CATEGORIES)),
    )
    if excluded:
        condition = and_(condition, not_(or_(*(under(Contact.jpath, p) for p in excluded))))
    rows = session.execute(
        select(Contact.id, Contact.jpath, Contact.category, Contact.last_exposure)
        .where(condition)
        .order_by(Contact.id)
        .execution_options(yield_per=READ_CHUNK)
    )
    return [
        HeldPlan(cid, jpath, category.value, as_local(last).date()) for cid, jpath, category, last in rows
    ]
