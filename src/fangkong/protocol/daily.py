"""People under each measure of the protocol on a day, for the response capability's daily closure.

A system read without a principal (the caller limits the subtree with ``jpath``). A person counts under
a category when a management plan of theirs is in force (not ended, not replaced by a later plan) and
the day falls within its dates; a person with plans from two sources in the same category counts once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from fangkong.core.scope import under
from fangkong.protocol.models import ManagementPlanRecord, PlanState


def people_under_measure(session: Session, jpath: str, day: dt.date) -> dict[str, int]:
    """Protocol category id → people under ``jpath`` whose active plan covers ``day``, sorted by id."""
    plan = ManagementPlanRecord
    rows = session.execute(
        select(plan.category, func.count(func.distinct(plan.person_id)))
        .where(
            under(plan.jpath, jpath),
            plan.state == PlanState.active,
            or_(plan.start_date.is_(None), plan.start_date <= day),
            or_(plan.end_date.is_(None), plan.end_date >= day),
        )
        .group_by(plan.category)
    ).all()
    return {category: int(n) for category, n in sorted(rows)}
