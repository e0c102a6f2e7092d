"""Teams: the standard size of each team type, the skill that counts towards it, and how ready a team is
against that size (no I/O).

Every number is a parameter on its own line with its source. Where no published figure exists the
number is a demo choice, said so; a deployment changes it here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from fangkong.resources.models import Skill, TeamKind

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
