"""Protocol → strategy: the simulator plays the same protocol files the platform runs.

:func:`strategy_for_protocol` reads a protocol (``protocol/files/*.yaml``) and builds the simulator's
:class:`~fangkong.analytics.sim.Strategy`, one part per thing the file says:

* case isolation: the confirmed category's first stage (a makeshift or designated hospital isolates
  in a facility; home isolation at home; no stages, no isolation);
* contact tracing and quarantine: the close-contact category's stages become the quarantine plan
  (days, place, test days), its release rules whether release waits for negative results; the
  transfer deadline sets the tracing delay;
* risk-area lockdown: a designated high tier with temporary lockdowns allowed locks an area with a
  case; the high tier's first downgrade sets the days without a case before it is lifted; a tier whose
  unit is a building or smaller covers only part of the model's area (a compound);
* regional testing: enabled regional testing runs Dorfman rounds in the locked areas, with the
  protocol's largest pool and its completion time as the result delay.

What people do (how often the ill seek a test, how many contacts tracing finds) is not in a protocol;
those numbers are :class:`Behaviour`, the same for every arm, each with its source or marked as an
assumption. What a protocol says that the simulator cannot play (contacts of contacts, stop rules of
testing rounds, travellers) is listed in :attr:`ArmMapping.notes`, so that the account says what it
left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Final, Literal

from fangkong.analytics import sim
from fangkong.core.i18n import Message, joined, stored
from fangkong.protocol.loader import load_any
from fangkong.protocol.schema import (
    AllTestsNegative,
    Category,
    FinalTestNegative,
    Protocol,
    Stage,
)

NO_MEASURES: Final[str] = "none"
"""The arm without any response: the reference the account measures every strategy against."""

STANDARD_ARMS: Final[tuple[str, ...]] = ("cn-9", "cn-9-20", "cn-9-10", "cn-10", NO_MEASURES)
"""The strategies of issue 6: 9th edition, the 20 measures, the new 10, Class B management, nothing."""

# Model areas are compounds (小区); cn-9-20 and cn-9-10 lock a building or smaller. Share of a compound
# one building holds, dimensionless; the demo region's compounds have 20 buildings
# (core.demo.population BUILDINGS_PER_COMPOUND, a modelling choice).
BUILDING_SHARE_OF_AREA: Final[float] = 1 / 20
# Multiplier on transmission per layer of a case isolated in a facility (household, school, workplace,
# community); assumption: a makeshift or designated hospital meets no one of the modelled population.
FACILITY_ISOLATION_FACTORS: Final[sim.LayerValues] = sim.LayerValues(0.0, 0.0, 0.0, 0.0)
# Chance that tracing finds a contact, per layer (household, school, workplace, community),
# dimensionless; assumption: every household member, most of a class or workplace group, a fifth of
# community contacts (venue codes, recollection).
DEFAULT_TRACE_PROB: Final[sim.LayerValues] = sim.LayerValues(1.0, 0.9, 0.8, 0.2)
# Lockdown window over which cases are counted, days; assumption (the 14-day epidemiological window).
LOCKDOWN_WINDOW_DAYS: Final[int] = 14
# Days without a case before a locked area is lifted when the protocol sets no downgrade, days; cn-9
# high → medium after 7 days (protocols.md section 4).
DEFAULT_LIFT_DAYS: Final[int] = 7


@dataclass(frozen=True)
class Behaviour:
    """What people and teams do that no protocol file says; the same in every arm of a comparison."""

    # daily chance that a person with symptoms, not yet diagnosed, is tested, dimensionless; assumption
    # (fever-clinic visits and "愿检尽检"; Covasim's test_prob examples use 0.1-0.2)
    symptomatic_test_prob: float = 0.2
    # daily chance that anyone else is tested outside rounds and quarantine, dimensionless; assumption
    asymptomatic_test_prob: float = 0.0
    # days from sample to result when the protocol sets no lab deadline, days; assumption (next day)
    result_delay_days: int = 1
    # chance that tracing finds a contact, per layer; DEFAULT_TRACE_PROB (assumption)
    trace_prob: sim.LayerValues = DEFAULT_TRACE_PROB
    # extra days to find contacts outside the household beyond the protocol's transfer deadline, days;
    # assumption
    extra_trace_days_outside_household: int = 1
    # cases whose contacts can be traced per day, cases; None = no limit (Covasim default)
    tracing_capacity: int | None = None
    # share of school, workplace and community transmission removed by a lockdown, dimensionless;
    # assumption for "足不出户、上门服务" (interventions.AreaLockdown default)
    lockdown_reduction: float = 0.9
    # days between testing rounds in a locked area, days; cn-rt-2 "daily in streets with cases"
    # (protocols.md section 5, rt.rounds)
    round_every_days: int = 1
    # share of the people in scope sampled in a round, dimensionless; assumption
    round_coverage: float = 0.9
    # share of transmission removed by centralised quarantine, outside and inside the household,
    # dimensionless; assumption: single rooms in a facility
    centralized_reduction: float = 0.95
    # share of school, workplace and community transmission removed by quarantine at home with no going
    # out, dimensionless; assumption (Covasim hybrid quar_factor 0.2 on s, w, c → 0.8; no going out → 0.9)
    home_reduction: float = 0.9
    # share of household transmission removed by quarantine at home, dimensionless; Covasim hybrid
    # quar_factor h = 0.6 → 0.4
    home_household_reduction: float = 0.4
    # share of outside transmission removed by health monitoring while free to move (masks), dimensionless;
    # assumption
    monitoring_reduction: float = 0.3
    # doses given per day by a vaccination campaign, doses; 0 = none (no protocol file sets one)
    vaccine_doses_per_day: int = 0


DEFAULT_BEHAVIOUR: Final[Behaviour] = Behaviour()


@dataclass(frozen=True)
class ArmMapping:
    """A strategy and how it was read from its protocol: what maps where, and what was left out."""

    arm: str
    label: str
    strategy: sim.Strategy
    notes: tuple[str, ...] = field(default_factory=tuple)
    protocol_id: str | None = None
    # Share of a locked area's residents the lockdown actually confines (a building of a compound);
    # the account counts lockdown person-days at this share.
    lockdown_share: float = 1.0

    @property
    def isolation_place(self) -> str | None:
        return None if self.strategy.isolation is None else self.strategy.isolation.place


def arm(reference: str, behaviour: Behaviour = DEFAULT_BEHAVIOUR) -> ArmMapping:
    """The arm named by ``reference``: ``none`` (no measures), a built-in protocol id, or a protocol file."""
    if reference == NO_MEASURES:
        return ArmMapping(
            arm=NO_MEASURES,
            label="No measures",
            strategy=_with_vaccination(sim.Strategy(name=NO_MEASURES, isolation=None), behaviour),
            notes=("No testing, isolation, tracing, lockdown or testing rounds: the reference arm.",),
        )
    return strategy_for_protocol(load_any(reference), behaviour, name=reference)


def strategy_for_protocol(
    protocol: Protocol, behaviour: Behaviour = DEFAULT_BEHAVIOUR, *, name: str | None = None
) -> ArmMapping:
    """The simulator's strategy for a protocol, with notes on what could not be played."""
    notes: list[str] = []
    arm_name = name or protocol.id
    delay = _days(protocol.deadlines.lab_turnaround_hours, behaviour.result_delay_days)
    testing = sim.Testing(
        symptomatic_daily_prob=behaviour.symptomatic_test_prob,
        asymptomatic_daily_prob=behaviour.asymptomatic_test_prob,
        result_delay_days=delay,
    )
    isolation = _isolation(protocol, notes)
    tracing = _tracing(protocol, behaviour, notes)
    lockdown = _lockdown(protocol, behaviour, notes)
    rounds = _rounds(protocol, behaviour, lockdown, notes)
    strategy = sim.Strategy(
        name=arm_name,
        testing=testing,
        isolation=isolation,
        tracing=tracing,
        rounds=rounds,
        lockdown=lockdown,
    )
    notes.append("Inbound travellers, arrivals from risk areas and routine screening are not simulated.")
    return ArmMapping(
        arm=arm_name,
        label=protocol.name,
        strategy=_with_vaccination(strategy, behaviour),
        notes=tuple(notes),
        protocol_id=protocol.id,
        lockdown_share=lockdown_share(protocol),
    )


def _days(hours: int | None, default: int) -> int:
    """A deadline in hours as whole days of delay (within a day → 1 day: results come the next day)."""
    return default if hours is None else max(1, math.ceil(hours / 24))


def _isolation(protocol: Protocol, notes: list[str]) -> sim.CaseIsolation | None:
    confirmed = protocol.categories.get("confirmed")
    if confirmed is None or not confirmed.stages:
        notes.append("Infected people are not isolated: the protocol file gives no isolation stage for them.")
        return None
    first = confirmed.stages[0]
    if first.place in ("makeshift_hospital", "designated_hospital", "quarantine_site"):
        notes.append(
            stored(
                Message(
                    "Cases are isolated in a facility ({place}): no transmission after diagnosis.",
                    place=Message(first.place, ctx="protocol table"),
                )
            )
        )
        return sim.CaseIsolation(place="centralized", layer_factors=FACILITY_ISOLATION_FACTORS)
    notes.append("Cases are isolated at home (Covasim's isolation factors).")
    return sim.CaseIsolation(place="home")


def _tracing(protocol: Protocol, behaviour: Behaviour, notes: list[str]) -> sim.ContactTracing | None:
    rules = protocol.contact_tracing
    close = protocol.categories.get("close_contact")
    if not rules.identified or close is None or not close.identified or not close.stages:
        notes.append("Close contacts are not traced.")
        return None
    stages = tuple(_stage(stage, behaviour) for stage in close.stages)
    household_delay = _days(protocol.deadlines.close_contact_transfer_hours, 1) - 1
    outside = household_delay + behaviour.extra_trace_days_outside_household
    quarantine = sim.Quarantine(
        stages=stages,
        release_requires_negative=_release_waits_for_results(close),
    )
    plan = joined(
        [
            Message("{days} d {place}", days=s.days, place=Message(s.place, ctx="protocol table"))
            for s in stages
        ],
        "{first} + {rest}",
    )
    notes.append(
        stored(
            Message(
                "Close contacts: {plan}, tests on plan days {days}.", plan=plan, days=_test_days_text(stages)
            )
        )
    )
    coc = protocol.categories.get("contact_of_contact")
    if rules.contact_of_contact is not None and rules.contact_of_contact.identified and coc and coc.stages:
        notes.append(
            "Contacts of close contacts are identified by the protocol but not simulated (one ring)."
        )
    return sim.ContactTracing(
        trace_prob=behaviour.trace_prob,
        trace_delay_days=(household_delay, outside, outside, outside),
        daily_capacity=behaviour.tracing_capacity,
        quarantine=quarantine,
    )


def _stage(stage: Stage, behaviour: Behaviour) -> sim.QuarantineStage:
    test_days = tuple(sorted({day for tests in stage.tests for day in tests.days if day <= stage.days}))
    if stage.type == "centralized_quarantine" or stage.place == "quarantine_site":
        return sim.QuarantineStage(
            days=stage.days,
            place="centralized",
            reduction=behaviour.centralized_reduction,
            household_reduction=behaviour.centralized_reduction,
            test_days=test_days,
        )
    if stage.may_leave_home:
        reduction = behaviour.monitoring_reduction if stage.type != "testing_only" else 0.0
        return sim.QuarantineStage(
            days=stage.days, place="home", reduction=reduction, household_reduction=0.0, test_days=test_days
        )
    return sim.QuarantineStage(
        days=stage.days,
        place="home",
        reduction=behaviour.home_reduction,
        household_reduction=behaviour.home_household_reduction,
        test_days=test_days,
    )


def _release_waits_for_results(category: Category) -> bool:
    return any(isinstance(rule, AllTestsNegative | FinalTestNegative) for rule in category.release)


def _test_days_text(stages: tuple[sim.QuarantineStage, ...]) -> str:
    days: list[int] = []
    start = 0
    for stage in stages:
        days.extend(start + d for d in stage.test_days)
        start += stage.days
    return ", ".join(str(d) for d in days) or "none"


def _lockdown(protocol: Protocol, behaviour: Behaviour, notes: list[str]) -> sim.AreaLockdown | None:
    areas = protocol.risk_areas
    if areas is None or not areas.designated or "high" not in areas.tiers:
        notes.append("No risk areas are designated.")
        return None
    high = areas.tiers["high"]
    if not areas.temporary_lockdown_allowed:
        notes.append(
            "High-risk areas are a building or smaller and lifted fast (快封快解), with no temporary "
            "lockdown: covered by the quarantine of household contacts, no area lockdown."
        )
        return None
    lift = high.downgrade[0].no_new_infection_days if high.downgrade else DEFAULT_LIFT_DAYS
    share = lockdown_share(protocol)
    if share < 1.0:
        notes.append(
            stored(
                Message(
                    "High-risk areas are buildings: lockdown removes {reduction} of outside contacts "
                    "for {share} of the compound (an average over the compound); the account counts "
                    "{share} of the compound's residents as locked down.",
                    reduction=f"{behaviour.lockdown_reduction:.0%}",
                    share=f"{share:.0%}",
                )
            )
        )
    else:
        notes.append(
            stored(
                Message(
                    "A compound with a case is locked down until {days} days pass without a case.", days=lift
                )
            )
        )
    return sim.AreaLockdown(
        case_threshold=1,
        window_days=LOCKDOWN_WINDOW_DAYS,
        lift_after_clean_days=lift,
        reduction=behaviour.lockdown_reduction * share,
    )


def lockdown_share(protocol: Protocol) -> float:
    """Share of a model area one high-risk unit covers: 1 for a compound, a building's share otherwise."""
    areas = protocol.risk_areas
    if areas is None or "high" not in areas.tiers:
        return 1.0
    return BUILDING_SHARE_OF_AREA if _building_scale(areas.tiers["high"].unit) else 1.0


def _building_scale(unit: str | None) -> bool:
    text = (unit or "").lower()
    return any(word in text for word in ("building", "unit (单元)", "楼", "floor", "household"))


def _rounds(
    protocol: Protocol, behaviour: Behaviour, lockdown: sim.AreaLockdown | None, notes: list[str]
) -> sim.TestingRounds | None:
    regional = protocol.regional_testing
    if regional is None or not regional.enabled:
        notes.append("No regional testing rounds.")
        return None
    pool = max(regional.pool_sizes) if regional.pool_sizes else 10
    hours = regional.completion_hours(0)
    scope: Literal["all", "locked"] = "locked" if lockdown is not None else "all"
    notes.append(
        stored(
            Message(
                "Regional testing: rounds every {days} day(s) in {where}, {pool}-in-1 pools; the stop rule "
                "(3 clean rounds) is approximated by the lifting of the lockdown.",
                days=behaviour.round_every_days,
                where=Message("locked areas" if scope == "locked" else "every area"),
                pool=pool,
            )
        )
    )
    return sim.TestingRounds(
        every_days=behaviour.round_every_days,
        coverage=behaviour.round_coverage,
        pool_size=pool,
        result_delay_days=_days(hours, 1),
        scope=scope,
    )


def _with_vaccination(strategy: sim.Strategy, behaviour: Behaviour) -> sim.Strategy:
    if behaviour.vaccine_doses_per_day <= 0:
        return strategy
    return replace(strategy, vaccination=sim.Vaccination(doses_per_day=behaviour.vaccine_doses_per_day))
