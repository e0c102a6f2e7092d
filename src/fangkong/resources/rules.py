"""Pure decisions of the resources capability: when a certification is valid, who is eligible for a
post, how ready a team is, what a testing round consumes, the consumption rate learned from use, days
of stock left and when to reorder.

Every number is a parameter on its own line with its source. Where no published figure exists the
number is a demo choice, said so; a deployment changes it here.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from fangkong.resources.models import Skill, SupplyKind, TeamKind

# --------------------------------------------------------------------------------- certifications

# Days a certification stays valid after the exam: demo choice (yearly refresher, as most provincial
# sampler-training notices ask; no national figure).
CERTIFICATION_VALID_DAYS: Final[int] = 365
# A certification expiring within this many days is on the renewal worklist: demo choice (a month
# leaves time to book a session).
RENEWAL_WINDOW_DAYS: Final[int] = 30
# Exam score (out of 100) a course passes at unless the course says otherwise: demo choice.
PASS_SCORE: Final[int] = 80


def certification_valid(passed_on: dt.date, expires_on: dt.date, day: dt.date) -> bool:
    """Valid from the exam day to the expiry day, both included."""
    return passed_on <= day <= expires_on


def eligible(available: bool, deployed_away: bool, valid_skills: set[Skill], skill: Skill) -> bool:
    """Eligible for a post of ``skill``: available, not away on a deployment, and certified for it today
    ("no training, no post": every skill is posted only with a valid certification)."""
    return available and not deployed_away and skill in valid_skills


def renewal_due(expires_on: dt.date, day: dt.date, window: int = RENEWAL_WINDOW_DAYS) -> bool:
    """On the renewal worklist: expired already, or expiring within ``window`` days."""
    return expires_on <= day + dt.timedelta(days=window)


# ------------------------------------------------------------------------------------------ teams

# Standard size of a team per type, the size its readiness is counted against. Investigation: 3 per
# team (demo choice following the usual field-investigation group of an epidemiologist, a public
# security officer and a community worker, "三人小组"); the others are demo choices.
STANDARD_SIZE: Final[dict[TeamKind, int]] = {
    TeamKind.investigation: 3,
    TeamKind.sampling: 10,
    TeamKind.testing: 6,
    TeamKind.disinfection: 4,
    TeamKind.transfer: 4,
}
# The skill a member must be certified for to count towards a team's readiness.
TEAM_SKILL: Final[dict[TeamKind, Skill]] = {
    TeamKind.investigation: Skill.field_investigation,
    TeamKind.sampling: Skill.sampling,
    TeamKind.testing: Skill.laboratory_testing,
    TeamKind.disinfection: Skill.disinfection,
    TeamKind.transfer: Skill.transport,
}
# Share of the standard size at which a team is partly ready (below it: not ready): demo choice.
PARTLY_READY_AT: Final[float] = 0.5


class ReadinessState(StrEnum):
    ready = "ready"
    partly_ready = "partly_ready"
    not_ready = "not_ready"


@dataclass(frozen=True)
class Readiness:
    standard: int
    members: int
    ready: int  # members certified for the team's skill and available today

    @property
    def ratio(self) -> float:
        return min(1.0, self.ready / self.standard) if self.standard else 0.0

    @property
    def gap(self) -> int:
        """How many certified, available people the team lacks to reach its standard size."""
        return max(0, self.standard - self.ready)

    @property
    def state(self) -> ReadinessState:
        if self.ready >= self.standard:
            return ReadinessState.ready
        if self.ratio >= PARTLY_READY_AT:
            return ReadinessState.partly_ready
        return ReadinessState.not_ready


def readiness(kind: TeamKind, members: int, ready: int) -> Readiness:
    return Readiness(STANDARD_SIZE[kind], members, ready)


# --------------------------------------------------------------------------------------- supplies

# What one testing round consumes per tube and per person sampled. One PCR reaction per tube, pooled
# or single (the point of pooling: protocols.md rt.pool); one swab per person sampled (every person is
# swabbed even when ten share a tube, rt.pool).
REAGENTS_PER_TUBE: Final[int] = 1
SWABS_PER_PERSON: Final[int] = 1
TUBES_PER_TUBE: Final[int] = 1
# Protective suit sets per occupied quarantine room-day (staff entering for meals, checks and tests):
# demo choice.
PPE_PER_OCCUPIED_ROOM_DAY: Final[int] = 2

# The consumption rate is learned from the last this many days of consumption and issues: demo choice
# (two weeks spans a campaign's every-other-day rounds several times over).
RATE_WINDOW_DAYS: Final[int] = 14
# Reorder when fewer days than this are left at the learned rate: demo choice (a week is the usual lead
# time for a provincial reserve to deliver). A store may set its own.
DEFAULT_REORDER_DAYS: Final[int] = 7

UNITS: Final[dict[SupplyKind, str]] = {
    SupplyKind.ppe: "set",
    SupplyKind.swab: "swab",
    SupplyKind.tube: "tube",
    SupplyKind.reagent: "reaction",
    SupplyKind.antigen_test: "test",
    SupplyKind.disinfectant: "litre",
    SupplyKind.medicine: "pack",
}


def round_consumption(tubes: int, people: int) -> dict[SupplyKind, int]:
    """What a testing round of ``tubes`` tubes holding ``people`` people's swabs draws from stock."""
    return {
        SupplyKind.tube: tubes * TUBES_PER_TUBE,
        SupplyKind.reagent: tubes * REAGENTS_PER_TUBE,
        SupplyKind.swab: people * SWABS_PER_PERSON,
    }


def daily_rate(used_in_window: int, first_use: dt.date | None, day: dt.date) -> float:
    """Units used a day: what was used in the window, over the days from the first use in it to today
    (so a store that only started being used yesterday is not diluted over two weeks of nothing)."""
    if first_use is None or used_in_window <= 0:
        return 0.0
    days = min(RATE_WINDOW_DAYS, (day - first_use).days + 1)
    return used_in_window / max(1, days)


def days_left(on_hand: int, rate: float) -> float | None:
    """Days the stock lasts at ``rate``; None when nothing is being used."""
    if rate <= 0:
        return None
    return max(0, on_hand) / rate


def needs_reorder(on_hand: int, rate: float, reorder_days: int) -> bool:
    """Reorder when the stock will not last ``reorder_days`` at the learned rate (or is gone)."""
    left = days_left(on_hand, rate)
    return left is not None and left < reorder_days


def reorder_quantity(on_hand: int, rate: float, reorder_days: int) -> int:
    """Units to order so that the stock lasts twice the reorder threshold at the learned rate."""
    target = math.ceil(rate * reorder_days * 2)
    return max(0, target - max(0, on_hand))
