"""The lifting clock: which change falls due on which day, what holds it back, applying it, the calendar.

The protocol's clock (``rules.lifting``) says when an area in force goes down a level or back to low; a
new infection restarts it, and the final day may need a negative screening round of everyone in the
area, read from testing's rounds (:func:`negative_round_found`, the day-7 screening read). Applying a
change publishes ``RiskAreaLifted``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.areas.events import RiskAreaLifted
from fangkong.areas.models import (
    AreaState,
    RiskArea,
    RiskLevel,
)
from fangkong.areas.rules import lifting
from fangkong.areas.service.designation.reads import (
    DOWNGRADED,
    LIFTED,
    WHOLE_JURISDICTION,
    _change,
    _require,
    actor,
    areas_in_force,
    get_area,
    households_of,
)
from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.clock import local_day, today, utcnow
from fangkong.core.errors import Conflict, InvalidInput, NotFound, RowError
from fangkong.core.events import EventBus
from fangkong.core.i18n import Message, joined
from fangkong.core.models import Person
from fangkong.core.permissions import Permission
from fangkong.core.scope import path_in_scope
from fangkong.protocol.service import protocol_in_force

# ---------------------------------------------------------------------------------------- the clock


def _facts(area: RiskArea) -> lifting.ClockFacts:
    since = area.level_since or (local_day(area.designated_at) if area.designated_at else today())
    return lifting.ClockFacts(area.level.value, since, area.last_case_on, area.downgraded_from_high)


@dataclass(frozen=True)
class DueChange:
    """A change of an area that falls due by the protocol's clock, with what holds it back."""

    area_id: int
    name: str
    jpath: str
    county_id: int
    from_level: RiskLevel
    to_level: RiskLevel
    due_on: dt.date
    clock_from: dt.date
    # The rule that makes it due ("7 consecutive days with no new infection and ...").
    reason: Message
    blockers: tuple[Message, ...]
    # ``new_case`` and/or ``screening``, beside the words.
    blocker_kinds: tuple[str, ...]
    screening_on: dt.date | None

    @property
    def ready(self) -> bool:
        return not self.blockers


def _evaluation(
    session: Session, principal: Principal, area: RiskArea, on: dt.date
) -> lifting.Evaluation | None:
    rules = protocol_in_force(session, area.jpath).risk_areas
    facts = _facts(area)
    step = lifting.next_step(rules, facts)
    negative = False
    if step is not None and step.screening_on is not None and step.due_on <= on:
        negative = negative_round_found(session, principal, area, step.screening_on, on)
    return lifting.evaluate(rules, facts, on, negative_round_found=negative)


def _due(area: RiskArea, evaluation: lifting.Evaluation) -> DueChange:
    step = evaluation.step
    return DueChange(
        area_id=area.id,
        name=area.name,
        jpath=area.jpath,
        county_id=area.county_id,
        from_level=area.level,
        to_level=RiskLevel(step.to_level),
        due_on=step.due_on,
        clock_from=step.clock_from,
        reason=step.reason,
        blockers=tuple(b.message for b in evaluation.blockers),
        blocker_kinds=tuple(b.kind for b in evaluation.blockers),
        screening_on=step.screening_on,
    )


def due_changes(session: Session, principal: Principal, on: dt.date) -> list[DueChange]:
    """Each change falling due by ``on`` (that day, or earlier and not yet applied) for the areas in force
    in the caller's scope, with what blocks it; a change a new infection put off shows that as its blocker."""
    _require(principal, Permission.areas_read, Message("reading risk areas"))
    found: list[DueChange] = []
    for area in areas_in_force(session, principal.jpath):
        evaluation = _evaluation(session, principal, area, on)
        if evaluation is not None:
            found.append(_due(area, evaluation))
    return sorted(found, key=lambda d: (d.due_on, d.jpath, d.area_id))


def apply_change(
    session: Session,
    bus: EventBus,
    principal: Principal,
    area_id: int,
    to_level: RiskLevel,
    *,
    on: dt.date | None = None,
    ip: str = "",
) -> RiskArea:
    """Apply the change due today (the command centre): down a level, or lifted back to low.

    ``on`` is the day it is taken (default today; a drill passes its own calendar day)."""
    _require(principal, Permission.areas_approve, Message("lifting a risk area"))
    area = get_area(session, principal, area_id)
    if area.state is not AreaState.in_force:
        raise Conflict(
            Message(
                "only an area in force can change; this one is {state}",
                state=Message(area.state.value, ctx="risk area"),
            )
        )
    on = on or today()
    evaluation = _evaluation(session, principal, area, on)
    if evaluation is None:
        step = lifting.next_step(protocol_in_force(session, area.jpath).risk_areas, _facts(area))
        if step is None:
            raise Conflict(Message("the protocol in force does not lift this area by the clock"))
        raise Conflict(
            Message(
                "no change is due for this area today: to {level} on {due}",
                level=Message(step.to_level, ctx="risk area"),
                due=step.due_on,
            )
        )
    step = evaluation.step
    if RiskLevel(to_level) is not RiskLevel(step.to_level):
        raise InvalidInput(
            [
                RowError(
                    1,
                    "to_level",
                    Message("the change due is to {level}", level=Message(step.to_level, ctx="risk area")),
                )
            ]
        )
    if evaluation.blockers:
        raise Conflict(joined([b.message for b in evaluation.blockers]))
    before = area.level
    area.level = RiskLevel(step.to_level)
    area.level_since = on
    if before is RiskLevel.high:
        area.downgraded_from_high = True
    lifted = area.level is RiskLevel.low
    if lifted:
        area.state = AreaState.lifted
        area.lifted_at = utcnow()
    _change(
        session, area, LIFTED if lifted else DOWNGRADED, principal.username, step.reason, before, area.level
    )
    audit.record(
        session,
        actor(principal, ip),
        "areas.lift" if lifted else "areas.downgrade",
        "risk_area",
        area.id,
        jpath=area.jpath,
        detail={"from": before.value, "to": area.level.value, "due_on": step.due_on.isoformat()},
    )
    session.flush()
    bus.publish(session, RiskAreaLifted(area.id, area.jpath, before.value, area.level.value))
    return area


@dataclass(frozen=True)
class CalendarEntry:
    """The day an area changes if nothing new happens (the lifting calendar)."""

    on: dt.date
    area_id: int
    name: str
    jpath: str
    from_level: RiskLevel
    to_level: RiskLevel
    needs_screening: bool


def lifting_calendar(
    session: Session, principal: Principal, *, start: dt.date | None = None, end: dt.date | None = None
) -> list[CalendarEntry]:
    """Which area changes on which day from ``start`` (default today) to ``end``, if nothing new happens;
    a change already due and not applied is shown on ``start``."""
    _require(principal, Permission.areas_read, Message("reading risk areas"))
    first = start or today()
    entries: list[CalendarEntry] = []
    for area in areas_in_force(session, principal.jpath):
        rules = protocol_in_force(session, area.jpath).risk_areas
        for change in lifting.projected_changes(rules, _facts(area)):
            on = max(change.on, first)
            if end is not None and on > end:
                break
            entries.append(
                CalendarEntry(
                    on,
                    area.id,
                    area.name,
                    area.jpath,
                    RiskLevel(change.from_level),
                    RiskLevel(change.to_level),
                    change.needs_screening,
                )
            )
    return sorted(entries, key=lambda e: (e.on, e.jpath, e.area_id))


# ------------------------------------------------------------------------------- screening rounds


def _rounds_covering(session: Session, jpath: str, first: dt.date, last: dt.date) -> list[int]:
    """Closed rounds between ``first`` and ``last`` whose campaign area covers ``jpath`` (testing's read)."""
    from fangkong.testing.service.rounds import rounds_covering

    return rounds_covering(session, jpath, first, last)


def _residents(session: Session, area: RiskArea) -> set[int] | None:
    """The area's residents a screening round must reach: its households' people, less those who are
    cases (isolated or in hospital, they are not screened with their neighbours). None when the area
    names no household (then no round can be shown to have reached everyone)."""
    from fangkong.tracing.persons import people_who_are_cases

    households = households_of(session, [area.id]).get(area.id, [])
    if not households:
        return None
    people = set(session.scalars(select(Person.id).where(Person.household_id.in_(households))))
    return people - people_who_are_cases(session, people)


def negative_round_found(
    session: Session, principal: Principal, area: RiskArea, first: dt.date, last: dt.date
) -> bool:
    """Whether testing holds a negative screening round of everyone in the area, held between ``first``
    (the clock's final day) and ``last``: closed, no infection found, no sample without its result, and
    nobody of the area left unsampled (everyone under a whole-jurisdiction area, else its households)."""
    from fangkong.testing.service import coverage

    residents: set[int] | None = None
    looked = False
    for round_id in _rounds_covering(session, area.jpath, first, last):
        try:
            found, _scope = coverage.visible_round(session, principal, round_id)
            seen = coverage.coverage(session, principal, round_id)
        except NotFound:
            continue
        if found.community_positives != 0:
            continue  # an infection found, or a round closed without its count
        inside = [
            c
            for c in seen.communities
            if path_in_scope(c.jpath, area.jpath) or path_in_scope(area.jpath, c.jpath)
        ]
        if not inside or any(c.without_result for c in inside):
            continue
        if area.unit_kind in WHOLE_JURISDICTION:
            if all(c.not_sampled == 0 for c in inside):
                return True
            continue
        if not looked:
            residents, looked = _residents(session, area), True
        if residents is None:
            continue
        community = (
            area.jurisdiction_id if any(c.jurisdiction_id == area.jurisdiction_id for c in inside) else None
        )
        missing = {
            p.person_id for p in coverage.not_sampled(session, principal, round_id, community_id=community)
        }
        if not residents & missing:
            return True
    return False
