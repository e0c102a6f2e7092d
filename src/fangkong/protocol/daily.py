"""People under each measure of the protocol on a day, for the response capability's daily closure.

A system read without a principal (the caller limits the subtree with ``jpath``). A person counts under
a category when a management plan of theirs is in force (not ended, not replaced by a later plan) and
the day falls within its dates; a person with plans from two sources in the same category counts once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import String, and_, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from fangkong.protocol.models import ManagementPlanRecord, PlanState


def people_under_measure(session: Session, jpath: str, day: dt.date) -> dict[str, int]:
    """Protocol category id → people under ``jpath`` whose active plan covers ``day``, sorted by id."""
    return people_under_measure_at(session, [jpath], day)[jpath]


# Places per statement: a bulk import names thousands of communities; a few hundred per statement keep
# each one small, and under SQLite's limit of 500 terms in a compound select.
_PLACES_PER_STATEMENT = 400


def people_under_measure_at(
    session: Session, jpaths: Iterable[str], day: dt.date
) -> dict[str, dict[str, int]]:
    """:func:`people_under_measure` for many places at once: place → category → people (a place with no
    one under measure maps to an empty dict). One statement per few hundred places, whatever their
    number, so a batch over many communities costs what a batch over one does."""
    places = sorted(set(jpaths))
    found: dict[str, dict[str, int]] = {p: {} for p in places}
    plan = ManagementPlanRecord
    for start in range(0, len(places), _PLACES_PER_STATEMENT):
        chunk = places[start : start + _PLACES_PER_STATEMENT]
        # A UNION ALL of one-row selects: SQLite cannot name the columns of a VALUES list.
        place = union_all(*(select(literal(p, String).label("place")) for p in chunk)).cte("places")
        rows = session.execute(
            select(place.c.place, plan.category, func.count(func.distinct(plan.person_id)))
            # The subtree test of ``under``, against each listed place rather than one constant.
            .join(plan, and_(plan.jpath >= place.c.place, plan.jpath < place.c.place + "~"))
            .where(
                plan.state == PlanState.active,
                or_(plan.start_date.is_(None), plan.start_date <= day),
                or_(plan.end_date.is_(None), plan.end_date >= day),
            )
            .group_by(place.c.place, plan.category)
        ).all()
        for where, category, n in rows:
            found[str(where)][str(category)] = int(n)
    return {p: dict(sorted(c.items())) for p, c in found.items()}
