"""Asking for a drill: the limits and defaults of a drill, and checking a request to start one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from fangkong.core.errors import RowError
from fangkong.core.i18n import Message

# --- limits and defaults of a drill ------------------------------------------------------------------
MIN_PEOPLE: Final[int] = 200
MAX_PEOPLE: Final[int] = 20_000
MIN_DAYS: Final[int] = 7
MAX_DAYS: Final[int] = 90
# Drill hours per real hour, bounds; 1440 (the default) plays a drill day in a real minute.
MIN_SPEED: Final[float] = 1.0
MAX_SPEED: Final[float] = 1_000_000.0
DEFAULT_SPEED: Final[float] = 1440.0
# Infections seeded on day 0 of a drill, people (a small cluster for the teams to find).
DEFAULT_INITIAL_INFECTIONS: Final[int] = 3
# Most cases a drill reports, cases (beyond this the teams drown rather than practise).
DEFAULT_MAX_CASES: Final[int] = 60
# Fewest cases a drill outbreak must have, cases; a run with fewer is drawn again with the next seed.
MIN_CASES: Final[int] = 3
# Draws of the outbreak before giving up, draws.
MAX_OUTBREAK_DRAWS: Final[int] = 8
# Communities of a sandbox, communities.
DEFAULT_COMMUNITIES: Final[int] = 3
# Draws of the synthetic residents before giving up when their ID numbers clash with the registry's.
RESIDENT_DRAWS: Final[int] = 3
# Largest share of a draw's residents left out because their generated ID numbers are registered
# already; a draw with more is drawn again (share of the residents asked for).
MAX_TAKEN_SHARE: Final[float] = 0.05
# Autopilot delays, drill hours: an investigation after each report, a response to each alert.
DEFAULT_INVESTIGATION_DELAY_HOURS: Final[float] = 6.0
DEFAULT_ALERT_RESPONSE_DELAY_HOURS: Final[float] = 2.0
# Local time of the day an exposure of the answer key is dated, hours (an evening at home or at work).
EXPOSURE_HOUR: Final[int] = 19
# Detector the sandbox's fever-clinic figure is judged by (EARS C1: a 7-day baseline, fit for a new
# series; CDC's EARS, Hutwagner et al. 2003).
DETECTOR_METHOD: Final[str] = "ears_c1"
FEVER_CHANNEL: Final[str] = "fever_clinic"


@dataclass(frozen=True)
class DrillRequest:
    people: int
    days: int
    protocol_id: str = "cn-9"
    name: str = ""
    county_id: int | None = None
    seed: int = 1
    speed: float = DEFAULT_SPEED
    autopilot: bool = False
    realtime: bool = True
    investigation_delay_hours: float = DEFAULT_INVESTIGATION_DELAY_HOURS
    alert_response_delay_hours: float = DEFAULT_ALERT_RESPONSE_DELAY_HOURS
    communities: int = DEFAULT_COMMUNITIES
    initial_infections: int = DEFAULT_INITIAL_INFECTIONS
    max_cases: int = DEFAULT_MAX_CASES


def check_request(request: DrillRequest) -> list[RowError]:
    from fangkong.protocol.loader import builtin_ids

    errors: list[RowError] = []
    if not MIN_PEOPLE <= request.people <= MAX_PEOPLE:
        errors.append(
            RowError(
                1,
                "people",
                Message("between {low} and {high} residents", low=MIN_PEOPLE, high=f"{MAX_PEOPLE:,}"),
            )
        )
    if not MIN_DAYS <= request.days <= MAX_DAYS:
        errors.append(
            RowError(1, "days", Message("between {low} and {high} days", low=MIN_DAYS, high=MAX_DAYS))
        )
    if request.protocol_id not in builtin_ids():
        errors.append(
            RowError(1, "protocol_id", Message("unknown protocol “{value}”", value=request.protocol_id))
        )
    if not MIN_SPEED <= request.speed <= MAX_SPEED:
        errors.append(
            RowError(
                1,
                "speed",
                Message(
                    "between {low} and {high} drill hours per hour",
                    low=float(MIN_SPEED),
                    high=float(MAX_SPEED),
                ),
            )
        )
    if not 0 <= request.seed < 2**31:
        errors.append(RowError(1, "seed", "a whole number from 0 to 2147483647"))
    for name in ("investigation_delay_hours", "alert_response_delay_hours"):
        value = getattr(request, name)
        if not 0 <= value <= 24 * 30:
            errors.append(RowError(1, name, "between 0 and 720 drill hours"))
    if not 1 <= request.communities <= 20:
        errors.append(RowError(1, "communities", "between 1 and 20 communities"))
    if not 1 <= request.initial_infections <= 100:
        errors.append(RowError(1, "initial_infections", "between 1 and 100 people"))
    if not MIN_CASES <= request.max_cases <= 500:
        errors.append(
            RowError(1, "max_cases", Message("between {low} and {high} cases", low=MIN_CASES, high=500))
        )
    if len(request.name) > 60:
        errors.append(RowError(1, "name", "at most 60 characters"))
    return errors
