"""Pure decisions of postings: which certification a role needs, whether two periods overlap, and who
may be posted (no I/O; unit-tested without a database).

Every number or mapping is a parameter with its source.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from fangkong.resources.models import PostingRole, Skill

# The skill a role needs a valid certification for ("no training, no post", as for samplers: issue 17).
# Medical posts need clinical certification and cleaning posts disinfection (消杀) certification: the
# guide's 健康观察组 and 防控消毒组 (隔离医学观察和居家健康监测指南, 9th ed.: 人员配置); lead, security and
# support posts need none on the platform (local practice: they come from the government, the police and
# the service trades, whose qualifications are kept elsewhere).
ROLE_SKILL: Final[dict[PostingRole, Skill]] = {
    PostingRole.medical: Skill.clinical,
    PostingRole.cleaning: Skill.disinfection,
    PostingRole.sampler: Skill.sampling,
}
# Longest period a person is posted for in one go, days: demo choice (a rotation of staff at a closed
# site is about a fortnight plus its own quarantine; longer is a typing error).
MAX_POSTING_DAYS: Final[int] = 90


def overlaps(
    start: dt.datetime, end: dt.datetime | None, other_start: dt.datetime, other_end: dt.datetime | None
) -> bool:
    """Do the half-open periods [start, end) and [other_start, other_end) share an instant (None: open)?"""
    return (other_end is None or start < other_end) and (end is None or other_start < end)


def current(start: dt.datetime, end: dt.datetime | None, at: dt.datetime) -> bool:
    """Is a posting of [start, end) in force at ``at``?"""
    return start <= at and (end is None or at < end)


def posting_problem(
    role: PostingRole, available: bool, away_elsewhere: bool, valid_skills: set[Skill]
) -> str | None:
    """Why a person may not take ``role`` (a message id), or None: available, not deployed elsewhere,
    and certified today for the role's skill when it has one."""
    if not available:
        return "{name} is marked not available"
    if away_elsewhere:
        return "{name} is deployed elsewhere in support"
    skill = ROLE_SKILL.get(role)
    if skill is not None and skill not in valid_skills:
        return "{name} holds no valid certification for this post"
    return None
