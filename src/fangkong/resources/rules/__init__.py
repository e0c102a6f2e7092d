"""Pure decisions of the resources capability (no I/O; unit-tested without a database): when a
certification is valid and who is eligible for a post, how ready a team is, what a testing round
consumes, the consumption rate learned from use, days of stock left and when to reorder, and who may be
posted to a site for which period.

One module per use case; this module is their public face, so ``from fangkong.resources import rules``
and ``rules.PASS_SCORE`` read as they did when the rules were one file:

- :mod:`.certifications`: validity, renewal, the pass mark, eligibility;
- :mod:`.teams`: standard sizes and readiness;
- :mod:`.supplies`: consumption, the learned rate, days left, reorders;
- :mod:`.postings`: the skill a post needs, overlapping periods, who may be posted.
"""

from __future__ import annotations

from fangkong.resources.rules.certifications import (
    CERTIFICATION_VALID_DAYS,
    PASS_SCORE,
    RENEWAL_WINDOW_DAYS,
    certification_valid,
    eligible,
    renewal_due,
)
from fangkong.resources.rules.postings import (
    MAX_POSTING_DAYS,
    ROLE_SKILL,
    current,
    overlaps,
    posting_problem,
)
from fangkong.resources.rules.supplies import (
    DEFAULT_REORDER_DAYS,
    PPE_PER_OCCUPIED_ROOM_DAY,
    RATE_WINDOW_DAYS,
    REAGENTS_PER_TUBE,
    SWABS_PER_PERSON,
    TUBES_PER_TUBE,
    UNITS,
    daily_rate,
    days_left,
    needs_reorder,
    reorder_quantity,
    round_consumption,
)
from fangkong.resources.rules.teams import (
    PARTLY_READY_AT,
    STANDARD_SIZE,
    TEAM_SKILL,
    Readiness,
    ReadinessState,
    readiness,
)

__all__ = [
    "CERTIFICATION_VALID_DAYS",
    "DEFAULT_REORDER_DAYS",
    "MAX_POSTING_DAYS",
    "PARTLY_READY_AT",
    "PASS_SCORE",
    "PPE_PER_OCCUPIED_ROOM_DAY",
    "RATE_WINDOW_DAYS",
    "REAGENTS_PER_TUBE",
    "RENEWAL_WINDOW_DAYS",
    "ROLE_SKILL",
    "STANDARD_SIZE",
    "SWABS_PER_PERSON",
    "TEAM_SKILL",
    "TUBES_PER_TUBE",
    "UNITS",
    "Readiness",
    "ReadinessState",
    "certification_valid",
    "current",
    "daily_rate",
    "days_left",
    "eligible",
    "needs_reorder",
    "overlaps",
    "posting_problem",
    "readiness",
    "renewal_due",
    "reorder_quantity",
    "round_consumption",
]
