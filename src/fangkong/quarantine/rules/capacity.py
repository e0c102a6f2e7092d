"""Pure capacity decisions: the reserve standard, the site life cycle, the 7-day projection, activation.

No I/O: the service reads rooms, stays and plans and hands the figures in; everything here is a
function of its arguments, so it is unit-tested without a database.

The unit of capacity is the room, as in the reserve standard ("rooms per 10,000 residents") and the
activation rule ("open rooms are 80 % occupied"). The projection counts one room per expected arrival
(sites are mainly single rooms, fac.design); households that will share a family room make it err
towards "full sooner", the safe side for opening the next tier.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from fangkong.core.i18n import Message
from fangkong.quarantine.models import SiteStatus

# ---------------------------------------------------------------------------------------- parameters

# Reserve standard, rooms per 10,000 residents: "at least 20 rooms per 10,000 population", NHC press
# conference of 2021-09-29 (../shared/reference/protocols.md §6 fac.reserve, source S19).
RESERVE_ROOMS_PER_10K = 20
RESERVE_STANDARD_SOURCE = "NHC press conference 2021-09-29 (protocols.md §6 fac.reserve, S19)"
# Open the next tier when open rooms are this occupied, share 0-1. No national figure exists
# (protocols.md §6 fac.tiered_activation: U); 0.8 is the example, a jurisdiction sets its own.
DEFAULT_OCCUPANCY_THRESHOLD = 0.8
# ... or when the forecast says they will be that occupied within this many hours (issue 12's example).
DEFAULT_FORECAST_HOURS = 48
# The longest forecast horizon a rule may name, hours: the census projects 7 days.
MAX_FORECAST_HOURS = 7 * 24
# Days the census projects ahead (issue 12: "for the next 7 days").
PROJECTION_DAYS = 7


# ---------------------------------------------------------------------------------- reserve standard


@dataclass(frozen=True)
class ReserveFigures:
    """A jurisdiction's reserve against the standard."""

    residents: int
    rooms: int
    per_10k: float | None  # None when nobody lives there
    standard: int  # rooms per 10,000 residents
    required: int  # rooms the standard asks for
    shortfall: int  # rooms missing (0 when the standard is met)

    @property
    def meets_standard(self) -> bool:
        return self.shortfall == 0


def reserve_figures(residents: int, rooms: int, standard: int = RESERVE_ROOMS_PER_10K) -> ReserveFigures:
    """Rooms per 10,000 residents and the rooms missing to reach ``standard`` (rounded up: 20 per 10,000
    for 15,001 residents is 30.002 rooms, and 30 rooms fall short of it)."""
    required = math.ceil(residents * standard / 10_000)
    per_10k = rooms * 10_000 / residents if residents > 0 else None
    return ReserveFigures(residents, rooms, per_10k, standard, required, max(0, required - rooms))


# -------------------------------------------------------------------------------------- site statuses

# Which status may follow which: reserve → preparing → open → closing → reserve, or closed for good
# from any status where nobody is inside (open must go through closing, which waits for the last release).
TRANSITIONS: dict[SiteStatus, frozenset[SiteStatus]] = {
    SiteStatus.reserve: frozenset({SiteStatus.preparing, SiteStatus.closed}),
    SiteStatus.preparing: frozenset({SiteStatus.open, SiteStatus.closed}),
    SiteStatus.open: frozenset({SiteStatus.closing}),
    SiteStatus.closing: frozenset({SiteStatus.reserve, SiteStatus.closed}),
    SiteStatus.closed: frozenset(),
}


def status_word(status: SiteStatus) -> Message:
    """A status as the reader's word for it ("open" names other things elsewhere, hence the context)."""
    return Message(status.value, ctx="quarantine")


def transition_problem(site_name: str, current: SiteStatus, target: SiteStatus) -> Message | None:
    """Why a site cannot go from ``current`` to ``target``, or None when it may."""
    if target in TRANSITIONS[current]:
        return None
    allowed = sorted(TRANSITIONS[current])
    if not allowed:
        return Message("{site} is closed for good: its status no longer changes", site=site_name)
    return Message(
        "{site} is {status}: it cannot become {target} (from {status} it can become {allowed})",
        site=site_name,
        status=status_word(current),
        target=status_word(target),
        allowed=[status_word(s) for s in allowed],
    )


# ------------------------------------------------------------------------------------------ projection


@dataclass(frozen=True)
class DayFlow:
    """Rooms expected to fill and to free on one day."""

    day: dt.date
    arrivals: int
    releases: int


@dataclass(frozen=True)
class ProjectedDay:
    day: dt.date
    arrivals: int
    releases: int
    occupied: int  # rooms occupied at the end of the day
    capacity: int  # rooms in service in open sites
    share: float | None  # occupied / capacity; None without capacity


def project(occupied_now: int, capacity: int, flows: Sequence[DayFlow]) -> list[ProjectedDay]:
    """Occupied rooms at the end of each day: yesterday's, plus arrivals, minus releases.

    The occupancy is demand: it may pass the capacity (people who would have no room), which is what
    says how much of the next tier is needed.
    """
    days: list[ProjectedDay] = []
    occupied = occupied_now
    for flow in flows:
        occupied = max(0, occupied + flow.arrivals - flow.releases)
        share = occupied / capacity if capacity > 0 else None
        days.append(ProjectedDay(flow.day, flow.arrivals, flow.releases, occupied, capacity, share))
    return days


def days_until(projection: Sequence[ProjectedDay], occupied_now: int, rooms: float) -> int | None:
    """Days from today until occupancy reaches ``rooms`` (0: it has, or will today); None: not in view.

    ``projection`` starts with today. With ``rooms`` at 0 (no open room) any demand is "full now".
    """
    if occupied_now >= rooms and (rooms > 0 or occupied_now > 0):
        return 0
    for index, day in enumerate(projection):
        if day.occupied >= rooms and (rooms > 0 or day.occupied > 0):
            return index
    return None


def days_until_full(projection: Sequence[ProjectedDay], occupied_now: int, capacity: int) -> int | None:
    """Days from today until every open room is taken (0: today); None when not within the projection."""
    return days_until(projection, occupied_now, capacity)


# ------------------------------------------------------------------------------------------ activation


@dataclass(frozen=True)
class ReserveSite:
    """A site on the reserve list that could be opened."""

    site_id: int
    name: str
    tier: int
    hours_to_open: int
    rooms: int


@dataclass(frozen=True)
class ActivationDecision:
    """Whether to open the next tier, why, and which sites.

    ``reasons`` says what triggered (or, when nothing did, where things stand); ``sites`` are the
    reserve sites of the next tier, quickest to open first.
    """

    activate: bool
    reasons: tuple[Message, ...]
    occupancy: float | None
    hours_until_threshold: float | None
    next_tier: int | None
    sites: tuple[ReserveSite, ...]


def decide_activation(
    *,
    occupied: int,
    capacity: int,
    waiting: int,
    threshold: float,
    forecast_hours: int,
    projection: Sequence[ProjectedDay],
    hours_ahead: Sequence[float],
    reserve: Sequence[ReserveSite],
) -> ActivationDecision:
    """Open the next tier when open rooms are ``threshold`` occupied now, or will be within
    ``forecast_hours`` by the projection.

    ``hours_ahead[i]`` is the hours from now to the start of ``projection[i]``'s day (0 for today): a
    day's arrivals count from its start, so the forecast errs early, which is the side to err on when a
    site takes hours to open. ``waiting`` is the people to place now; with no open room at all any of
    them is a reason to open. The next tier is the lowest tier that still has sites in reserve (tier 1
    opens first).
    """
    occupancy = occupied / capacity if capacity > 0 else None
    hours: float | None = None
    for day, ahead in zip(projection, hours_ahead, strict=True):
        if (day.share is not None and day.share >= threshold) or (capacity == 0 and day.occupied > 0):
            hours = ahead
            break
    reasons: list[Message] = []
    if capacity == 0 and (waiting > 0 or occupied > 0):
        reasons.append(Message("no room is open and {n} people are waiting for one", n=waiting))
    elif occupancy is not None and occupancy >= threshold:
        reasons.append(
            Message(
                "open rooms are {share} occupied ({occupied} of {capacity}), at or above the threshold "
                "of {threshold}",
                share=_percent(occupancy),
                occupied=occupied,
                capacity=capacity,
                threshold=_percent(threshold),
            )
        )
    elif hours is not None and hours <= forecast_hours:
        reasons.append(
            Message(
                "the forecast reaches {threshold} occupancy in about {hours} h, within the horizon of "
                "{horizon} h",
                threshold=_percent(threshold),
                hours=round(hours),
                horizon=forecast_hours,
            )
        )
    triggered = bool(reasons)
    if not triggered:
        reasons.append(_standing(occupancy, threshold, hours, forecast_hours))
    tiers = sorted({s.tier for s in reserve})
    next_tier = tiers[0] if tiers else None
    sites = tuple(
        sorted(
            (s for s in reserve if s.tier == next_tier),
            key=lambda s: (s.hours_to_open, -s.rooms, s.name),
        )
    )
    if triggered and next_tier is None:
        reasons.append(Message("no site is left in reserve: every tier is open or preparing"))
    elif triggered:
        reasons.append(
            Message(
                "tier {tier} is next: {n} sites in reserve with {rooms} rooms",
                tier=next_tier,
                n=len(sites),
                rooms=sum(s.rooms for s in sites),
            )
        )
    return ActivationDecision(
        triggered and next_tier is not None, tuple(reasons), occupancy, hours, next_tier, sites
    )


def _standing(occupancy: float | None, threshold: float, hours: float | None, horizon: int) -> Message:
    if occupancy is None:
        return Message("no room is open and nobody is waiting for one")
    if hours is None:
        return Message(
            "open rooms are {share} occupied, below the threshold of {threshold}, and the forecast stays "
            "below it",
            share=_percent(occupancy),
            threshold=_percent(threshold),
        )
    return Message(
        "open rooms are {share} occupied, below the threshold of {threshold}; the forecast reaches it in "
        "about {hours} h, beyond the horizon of {horizon} h",
        share=_percent(occupancy),
        threshold=_percent(threshold),
        hours=round(hours),
        horizon=horizon,
    )


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def threshold_problem(occupancy_threshold: float, forecast_hours: int) -> list[tuple[str, Message]]:
    """What is wrong with an activation rule, by field."""
    problems: list[tuple[str, Message]] = []
    if not 0 < occupancy_threshold <= 1:
        problems.append(
            ("occupancy_threshold", Message("the occupancy threshold is a share between 0 and 1 (e.g. 0.8)"))
        )
    if not 0 <= forecast_hours <= MAX_FORECAST_HOURS:
        problems.append(
            (
                "forecast_hours",
                Message("the forecast horizon is between 0 and {max} hours", max=MAX_FORECAST_HOURS),
            )
        )
    return problems
