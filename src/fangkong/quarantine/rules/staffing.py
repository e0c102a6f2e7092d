"""The minimum staff a quarantine site must have posted before it opens, by its size (pure).

A site's size is the beds of its rooms in service (the most people it can hold). The posts are the
resources capability's posting roles, named here by their values (quarantine does not import resources'
models).

Sources, one line each:
* one lead per site: 隔离医学观察和居家健康监测指南 (9th ed., 2022), 一、(二) 1.(1) "集中隔离点负责人：1 名";
* one medical worker per 50 people in quarantine, at least one: the figure of the national guideline for
  centralised quarantine sites as issue 17 quotes it ("1 medical worker per ~50 people"); the clause
  itself is not in ../shared/reference/protocols.md (tag U there): verify against the guide in force;
* security and cleaning, one per 100 beds, at least one each: local-practice parameters (the guide asks
  for 安全保卫组 and 防控消毒组 without a number); change them here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

LEADS_PER_SITE: Final[int] = 1
# People in quarantine per medical worker (the guideline's figure, see the module docstring).
BEDS_PER_MEDICAL: Final[int] = 50
# Beds per security guard and per cleaner (local-practice parameters).
BEDS_PER_SECURITY: Final[int] = 100
BEDS_PER_CLEANER: Final[int] = 100
SOURCE: Final[str] = (
    "隔离医学观察和居家健康监测指南（第九版）人员配置：负责人 1 名；医护人员每 50 名隔离人员 1 名"
    "（指南原文待核）；安保、保洁每 100 床 1 名为本地做法参数"
)


def minimum_staff(beds: int) -> dict[str, int]:
    """Posts a site of ``beds`` beds needs filled before it opens, by posting role."""
    beds = max(0, beds)
    return {
        "lead": LEADS_PER_SITE,
        "medical": max(1, math.ceil(beds / BEDS_PER_MEDICAL)),
        "security": max(1, math.ceil(beds / BEDS_PER_SECURITY)),
        "cleaning": max(1, math.ceil(beds / BEDS_PER_CLEANER)),
    }


@dataclass(frozen=True)
class StaffingGap:
    role: str
    needed: int
    posted: int

    @property
    def missing(self) -> int:
        return max(0, self.needed - self.posted)


def staffing_gaps(beds: int, posted: dict[str, int]) -> list[StaffingGap]:
    """The posts still short of the minimum (empty: the site may open)."""
    gaps = [StaffingGap(role, n, posted.get(role, 0)) for role, n in minimum_staff(beds).items()]
    return [g for g in gaps if g.missing]


def minimum_total(beds: int) -> int:
    return sum(minimum_staff(beds).values())
