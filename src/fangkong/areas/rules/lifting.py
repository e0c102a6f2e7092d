"""The lifting clock of a risk area (pure): which change falls due on which day, and what blocks it.

The protocol in force says it all (``risk_areas.tiers.<level>.downgrade``, protocols.md §4): cn-9 takes a
high area to medium after 7 consecutive days with no new infection and a negative screening round of
everyone on day 7, then to low after 3 more such days; a medium area goes to low after 7 days and a
negative day-7 round; cn-9-20 and cn-9-10 take a high area to low after 5 days; cn-10 designates none.
Nothing here re-types those numbers: they are read from the protocol's steps.

The clock of the current level counts whole days from the later of the day the level began and the last
day an infection was found in the area: a new case starts it again. Day ``n`` of the clock is the day
``n`` days after its start, so a step of 7 days falls due on day 7 (the day of the final screening).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fangkong.core.i18n import Message
from fangkong.protocol.schema import DowngradeStep, RiskAreas

# Levels an area can stand at, highest first (low is the rest of the county: no area stands there).
AREA_LEVELS = ("high", "medium")


@dataclass(frozen=True)
class ClockFacts:
    """Where an area stands: its level, since when, its last infection, and whether it came from high."""

    level: str
    level_since: dt.date
    last_case_on: dt.date | None = None
    downgraded_from_high: bool = False

    @property
    def clock_from(self) -> dt.date:
        """The day the clock of the current level counts from (a later infection starts it again)."""
        if self.last_case_on is not None and self.last_case_on > self.level_since:
            return self.last_case_on
        return self.level_since


@dataclass(frozen=True)
class NextStep:
    """The next change of an area by the protocol's clock, if nothing new happens."""

    to_level: str
    due_on: dt.date
    clock_from: dt.date
    # Consecutive days with no new infection the step needs (0: due at once, see ``reason``).
    days: int
    # The final day whose screening round of everyone must be negative (None: the step needs none).
    screening_on: dt.date | None
    reason: Message

    @property
    def screening_day(self) -> int | None:
        """The clock's day of the required screening (7 under cn-9), for the users' words."""
        return self.days if self.screening_on is not None else None


def _tier_steps(rules: RiskAreas, level: str) -> tuple[DowngradeStep, ...] | None:
    tier = rules.tiers.get(level)  # type: ignore[call-overload]
    return None if tier is None else tier.downgrade


def _step(rules: RiskAreas, facts: ClockFacts) -> DowngradeStep | None:
    """The protocol's step that applies now; None when the protocol has no rule for this level."""
    if facts.downgraded_from_high:
        # A downgraded high area follows the rest of the high tier's steps (cn-9: 3 more days to low),
        # not the steps of an area designated at its new level.
        steps = _tier_steps(rules, "high") or ()
        for index, step in enumerate(steps):
            if step.to == facts.level:
                return steps[index + 1] if index + 1 < len(steps) else None
        return None
    own = _tier_steps(rules, facts.level)
    return own[0] if own else None


def next_step(rules: RiskAreas | None, facts: ClockFacts) -> NextStep | None:
    """The next change of an area standing at ``facts`` under ``rules`` (the protocol in force there).

    An area at a level the protocol in force no longer has (medium under cn-9-20), or under a protocol
    that designates no areas (cn-10), is due to go to low at once; an area already low has no next step.
    """
    if facts.level not in AREA_LEVELS:
        return None
    start = facts.clock_from
    if rules is None or not rules.designated:
        return NextStep(
            "low", start, start, 0, None, Message("the protocol in force designates no risk areas")
        )
    if facts.level not in rules.tiers:
        return NextStep(
            "low",
            start,
            start,
            0,
            None,
            Message("the protocol in force has no {level} tier", level=Message(facts.level, ctx="risk area")),
        )
    step = _step(rules, facts)
    if step is None:
        # A tier with no downgrade rule: the protocol does not lift it by the clock; nothing is due.
        return None
    due = start + dt.timedelta(days=step.no_new_infection_days)
    if step.final_day_screening_negative:
        reason = Message(
            "{days} consecutive days with no new infection and a negative screening round of everyone "
            "on day {days}",
            days=step.no_new_infection_days,
        )
    else:
        reason = Message("{days} consecutive days with no new infection", days=step.no_new_infection_days)
    return NextStep(
        step.to,
        due,
        start,
        step.no_new_infection_days,
        due if step.final_day_screening_negative else None,
        reason,
    )


def due_without_new_cases(rules: RiskAreas | None, facts: ClockFacts) -> NextStep | None:
    """The step as it stood before any infection found after the level began (the clock not restarted)."""
    return next_step(rules, ClockFacts(facts.level, facts.level_since, None, facts.downgraded_from_high))


@dataclass(frozen=True)
class Blocker:
    """Why a change that falls due cannot be applied yet."""

    kind: str  # "new_case" or "screening"
    message: Message


def screening_blocker(step: NextStep) -> Blocker | None:
    """The blocker a step has until a negative screening round of everyone on its final day is found."""
    if step.screening_on is None:
        return None
    return Blocker(
        "screening",
        Message("needs a negative screening round of everyone on day {day}", day=step.screening_day),
    )


def new_case_blocker(facts: ClockFacts, step: NextStep) -> Blocker:
    assert facts.last_case_on is not None
    return Blocker(
        "new_case",
        Message(
            "a new infection on {day} started the clock again: next change due on {due}",
            day=facts.last_case_on,
            due=step.due_on,
        ),
    )


@dataclass(frozen=True)
class Evaluation:
    """A change that falls due on a day (or fell due earlier and is still waiting), with its blockers."""

    step: NextStep
    blockers: tuple[Blocker, ...]

    @property
    def ready(self) -> bool:
        return not self.blockers


def evaluate(
    rules: RiskAreas | None, facts: ClockFacts, on: dt.date, *, negative_round_found: bool
) -> Evaluation | None:
    """The change due on ``on`` for an area, or None when none is due (nor held back by a new case).

    A change the clock would have made by ``on`` had no infection been found since the level began is
    reported as blocked by the new case (with the day it now falls due), so the command centre sees why
    an expected lifting did not come. ``negative_round_found`` says whether testing has a negative
    round of everyone in the area on or after the step's final day (asked only when the step needs one).
    """
    step = next_step(rules, facts)
    if step is None:
        return None
    if step.due_on <= on:
        blocker = None if negative_round_found else screening_blocker(step)
        return Evaluation(step, (blocker,) if blocker else ())
    original = due_without_new_cases(rules, facts)
    if original is not None and original.due_on <= on and step.clock_from > facts.level_since:
        return Evaluation(step, (new_case_blocker(facts, step),))
    return None


@dataclass(frozen=True)
class ProjectedChange:
    """One line of the lifting calendar: the day an area changes if nothing new happens."""

    on: dt.date
    from_level: str
    to_level: str
    needs_screening: bool


def projected_changes(rules: RiskAreas | None, facts: ClockFacts, *, limit: int = 5) -> list[ProjectedChange]:
    """Every change ahead of an area if nothing new happens, each applied on the day it falls due."""
    changes: list[ProjectedChange] = []
    current = facts
    while len(changes) < limit:
        step = next_step(rules, current)
        if step is None:
            break
        changes.append(
            ProjectedChange(step.due_on, current.level, step.to_level, step.screening_on is not None)
        )
        if step.to_level == "low":
            break
        current = ClockFacts(
            step.to_level,
            step.due_on,
            current.last_case_on,
            current.downgraded_from_high or current.level == "high",
        )
    return changes


def applied(facts: ClockFacts, to_level: str, on: dt.date) -> ClockFacts:
    """Where an area stands once a change to ``to_level`` was applied on ``on``."""
    return ClockFacts(to_level, on, facts.last_case_on, facts.downgraded_from_high or facts.level == "high")
