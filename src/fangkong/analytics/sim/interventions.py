"""A strategy as plain data: what the response does, in the terms fangkong's protocols use.

The platform translates a protocol file into a :class:`Strategy`; this module knows nothing of protocols.
Every part is optional (``None`` = not done). Defaults that Covasim also has follow Covasim
(``covasim/interventions.py`` and ``parameters.py``); defaults that a protocol sets follow China's 9th
edition (cn-9, ``reference/protocols.md``). :func:`compile_strategy` turns a strategy into the arrays
the kernels read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray

from fangkong.analytics.sim.parameters import LayerValues

Place = Literal["centralized", "home"]

# multiplier on the transmission of an isolated case, per layer (household, school, workplace,
# community), dimensionless; Covasim hybrid iso_factor
COVASIM_ISOLATION_FACTORS = LayerValues(0.3, 0.1, 0.1, 0.1)
# chance that a contact is found, per layer, dimensionless; Covasim contact_tracing default 1.0 everywhere
TRACE_EVERYONE = LayerValues(1.0, 1.0, 1.0, 1.0)
Scope = Literal["all", "locked"]


@dataclass(frozen=True)
class Testing:
    """Tests people ask for or are sent to: daily chances of a test, and how results come back."""

    # daily chance that a person with symptoms, not yet diagnosed, is tested; no default (a choice)
    symptomatic_daily_prob: float
    # daily chance that anyone else is tested, dimensionless; Covasim test_prob asymp_prob default 0
    asymptomatic_daily_prob: float = 0.0
    # daily chance for a person with symptoms in quarantine; None = as symptomatic_daily_prob
    quarantined_symptomatic_daily_prob: float | None = None
    # days from sample to result, days; Covasim test_prob test_delay default 0, here 1 (PCR next day)
    result_delay_days: int = 1
    # chance that an infectious person tests positive, dimensionless; Covasim test_prob sensitivity
    sensitivity: float = 1.0


@dataclass(frozen=True)
class CaseIsolation:
    """Diagnosed people stay isolated until they recover; their transmission is scaled per layer."""

    # where cases are isolated (for the record; the factors carry the effect)
    place: Place = "centralized"
    layer_factors: LayerValues = COVASIM_ISOLATION_FACTORS


@dataclass(frozen=True)
class QuarantineStage:
    """One stage of a traced contact's management plan."""

    # length of the stage, days; cn-9 close contact stage 1 is 7 days (protocols.md section 3)
    days: int = 7
    # centralized (a facility) or home
    place: Place = "centralized"
    # share of the person's school, workplace and community transmission removed, dimensionless;
    # Covasim hybrid quar_factor 0.2 on s, w and c (i.e. 0.8 removed)
    reduction: float = 0.8
    # share of household transmission removed, dimensionless; None = `reduction` when centralized and
    # 0.4 at home (Covasim hybrid quar_factor h = 0.6)
    household_reduction: float | None = None
    # days of the stage (1 = its first day) with a test; cn-9 close contact centralized stage d1,2,3,5,7
    test_days: tuple[int, ...] = (1, 2, 3, 5, 7)

    def layer_factors(self) -> LayerValues:
        if self.household_reduction is not None:
            household = self.household_reduction
        else:
            household = self.reduction if self.place == "centralized" else 0.4
        keep = 1.0 - self.reduction
        return LayerValues(1.0 - household, keep, keep, keep)


def _cn9_close_contact_stages() -> tuple[QuarantineStage, ...]:
    # cn-9 close contacts: 7 d centralized (tests d1,2,3,5,7) + 3 d home health monitoring (test d3)
    return (
        QuarantineStage(days=7, place="centralized", test_days=(1, 2, 3, 5, 7)),
        QuarantineStage(days=3, place="home", reduction=0.8, test_days=(3,)),
    )


@dataclass(frozen=True)
class Quarantine:
    """The management plan of a traced contact, counted in days from the last exposure (day 0)."""

    stages: tuple[QuarantineStage, ...] = field(default_factory=_cn9_close_contact_stages)
    # chance that a scheduled test is taken by a person without symptoms, dimensionless; the protocol
    # tests everyone (1.0)
    test_prob: float = 1.0
    # chance that a scheduled test is taken by a person with symptoms, dimensionless
    symptomatic_test_prob: float = 1.0
    # keep people until their last result is back (release on negative tests)
    release_requires_negative: bool = True

    @property
    def total_days(self) -> int:
        return sum(stage.days for stage in self.stages)


@dataclass(frozen=True)
class ContactTracing:
    """Tracing of diagnosed cases' contacts, who then follow the quarantine plan."""

    trace_prob: LayerValues = TRACE_EVERYONE
    # days from diagnosis of the case to quarantine of the contact, per layer; Covasim default 0
    trace_delay_days: tuple[int, int, int, int] = (0, 0, 0, 0)
    # cases whose contacts can be traced per day, cases; None = no limit (Covasim capacity default)
    daily_capacity: int | None = None
    quarantine: Quarantine = field(default_factory=Quarantine)


@dataclass(frozen=True)
class TestingRounds:
    """Regional testing rounds (区域核酸检测) with Dorfman pools."""

    # days between rounds, days; cn-rt-2 daily in streets with recent cases (protocols.md section 5)
    every_days: int = 1
    # day of the first round, simulation day
    first_day: int = 0
    # last day a round may start, simulation day; None = until the end
    last_day: int | None = None
    # share of the people in scope who are sampled, dimensionless; assumption
    coverage: float = 0.9
    # people per pooled tube, people; cn-rt-2 10-in-1 (protocols.md section 5, rt.pool)
    pool_size: int = 10
    # chance that a pool or single tube with an infectious person is positive, dimensionless; assumption
    sensitivity: float = 0.95
    # days from sampling to pool results, days; cn-rt-3 a round finished within 24 h
    result_delay_days: int = 1
    # extra days to recall and retest the members of a positive pool, days; assumption (rt.pool.positive)
    retest_delay_days: int = 1
    # "all" areas or only "locked" (risk) areas
    scope: Scope = "all"


@dataclass(frozen=True)
class AreaLockdown:
    """Risk-area lockdown by rule: an area with enough recent cases is locked until it stays clean."""

    # diagnosed cases living in the area that trigger a lockdown, cases; cn-9 a case's residence is a
    # high-risk area (protocols.md section 4)
    case_threshold: int = 1
    # window over which cases are counted, days; cn-9 14-day epidemiological window (assumption)
    window_days: int = 14
    # consecutive days without a new case before lifting, days; cn-9 high -> medium after 7 days
    lift_after_clean_days: int = 7
    # share of school, workplace and community transmission of residents removed, dimensionless;
    # assumption for "足不出户" (no one leaves home) with door-to-door services
    reduction: float = 0.9


@dataclass(frozen=True)
class Vaccination:
    """Vaccination campaign by age priority."""

    # doses given per day, doses
    doses_per_day: int
    # age groups [from, to) in order of priority, years; oldest first (assumption, cn-10 protection
    # of the vulnerable)
    priority_ages: tuple[tuple[int, int], ...] = ((60, 256), (18, 60), (3, 18))
    # first day of the campaign, simulation day
    first_day: int = 0


@dataclass(frozen=True)
class Strategy:
    """Everything the response does in one arm; all parts optional."""

    name: str = "none"
    testing: Testing | None = None
    isolation: CaseIsolation | None = field(default_factory=CaseIsolation)
    tracing: ContactTracing | None = None
    rounds: TestingRounds | None = None
    lockdown: AreaLockdown | None = None
    vaccination: Vaccination | None = None


class CompiledStrategy(NamedTuple):
    """A strategy as the kernels read it."""

    testing_on: bool
    symptomatic_prob: float
    asymptomatic_prob: float
    quarantined_symptomatic_prob: float
    test_delay: int
    sensitivity: float
    isolation_factors: NDArray[np.float64]
    tracing_on: bool
    trace_prob: NDArray[np.float64]
    trace_delay: NDArray[np.int64]
    trace_capacity: int
    quarantine_total: int
    stage_of_day: NDArray[np.int8]
    next_test_day: NDArray[np.int64]
    stage_place: NDArray[np.int8]
    stage_factors: NDArray[np.float64]
    quarantine_test_prob: float
    quarantine_symptomatic_test_prob: float
    release_requires_negative: bool
    lockdown_factors: NDArray[np.float64]


PLACE_HOME = 1
PLACE_CENTRALIZED = 2


def compile_strategy(strategy: Strategy) -> CompiledStrategy:
    """Check a strategy and turn it into kernel arrays; raises ValueError naming the bad field."""
    testing = strategy.testing
    if testing is not None:
        _check_prob("testing.symptomatic_daily_prob", testing.symptomatic_daily_prob)
        _check_prob("testing.asymptomatic_daily_prob", testing.asymptomatic_daily_prob)
        _check_prob("testing.sensitivity", testing.sensitivity)
        if testing.result_delay_days < 0:
            raise ValueError("testing.result_delay_days must be >= 0")
    quar_symp = 0.0
    if testing is not None:
        given = testing.quarantined_symptomatic_daily_prob
        quar_symp = testing.symptomatic_daily_prob if given is None else given
        _check_prob("testing.quarantined_symptomatic_daily_prob", quar_symp)

    isolation = np.ones(4) if strategy.isolation is None else np.asarray(strategy.isolation.layer_factors)
    tracing = strategy.tracing
    quarantine = (
        tracing.quarantine
        if tracing is not None
        else Quarantine(stages=(QuarantineStage(days=1, test_days=()),))
    )
    if not quarantine.stages:
        raise ValueError("tracing.quarantine.stages must not be empty")
    stage_of_day, next_test_day = _quarantine_days(quarantine)
    stage_place = np.asarray(
        [PLACE_CENTRALIZED if s.place == "centralized" else PLACE_HOME for s in quarantine.stages],
        dtype=np.int8,
    )
    stage_factors = np.asarray([s.layer_factors() for s in quarantine.stages], dtype=np.float64)
    if np.any(stage_factors < 0) or np.any(stage_factors > 1):
        raise ValueError("quarantine stage reductions must lie in [0, 1]")
    if tracing is not None:
        for layer, p in zip(
            ("household", "school", "workplace", "community"), tracing.trace_prob, strict=True
        ):
            _check_prob(f"tracing.trace_prob.{layer}", p)
        if any(d < 0 for d in tracing.trace_delay_days):
            raise ValueError("tracing.trace_delay_days must be >= 0")
    lockdown = strategy.lockdown
    lockdown_factors = np.ones(4)
    if lockdown is not None:
        _check_prob("lockdown.reduction", lockdown.reduction)
        lockdown_factors[1:] = 1.0 - lockdown.reduction
    capacity = -1
    if tracing is not None and tracing.daily_capacity is not None:
        capacity = int(tracing.daily_capacity)
    return CompiledStrategy(
        testing_on=testing is not None,
        symptomatic_prob=0.0 if testing is None else testing.symptomatic_daily_prob,
        asymptomatic_prob=0.0 if testing is None else testing.asymptomatic_daily_prob,
        quarantined_symptomatic_prob=quar_symp,
        test_delay=0 if testing is None else testing.result_delay_days,
        sensitivity=1.0 if testing is None else testing.sensitivity,
        isolation_factors=isolation.astype(np.float64),
        tracing_on=tracing is not None,
        trace_prob=np.zeros(4) if tracing is None else np.asarray(tracing.trace_prob, dtype=np.float64),
        trace_delay=np.zeros(4, np.int64)
        if tracing is None
        else np.asarray(tracing.trace_delay_days, np.int64),
        trace_capacity=capacity,
        quarantine_total=quarantine.total_days,
        stage_of_day=stage_of_day,
        next_test_day=next_test_day,
        stage_place=stage_place,
        stage_factors=stage_factors,
        quarantine_test_prob=quarantine.test_prob,
        quarantine_symptomatic_test_prob=quarantine.symptomatic_test_prob,
        release_requires_negative=quarantine.release_requires_negative,
        lockdown_factors=lockdown_factors,
    )


def _quarantine_days(quarantine: Quarantine) -> tuple[NDArray[np.int8], NDArray[np.int64]]:
    # Day k of the plan (k = 0 is the last exposure) maps to a stage; stage s covers the days after the
    # stages before it. A test on day d of stage s is plan day (days before s) + d.
    total = quarantine.total_days
    stage_of_day = np.zeros(total + 1, dtype=np.int8)
    test_flag = np.zeros(total + 2, dtype=np.bool_)
    start = 0
    for s, stage in enumerate(quarantine.stages):
        if stage.days <= 0:
            raise ValueError(f"quarantine stage {s + 1}: days must be positive")
        stage_of_day[start + 1 : start + stage.days + 1] = s
        for d in stage.test_days:
            if not 1 <= d <= stage.days:
                raise ValueError(f"quarantine stage {s + 1}: test day {d} outside 1..{stage.days}")
            test_flag[start + d] = True
        start += stage.days
    # next_test_day[k] = the first plan day >= k with a test, or a day past the plan.
    next_test_day = np.full(total + 2, total + 100, dtype=np.int64)
    upcoming = total + 100
    for k in range(total + 1, -1, -1):
        if test_flag[k]:
            upcoming = k
        next_test_day[k] = upcoming
    return stage_of_day, next_test_day


def _check_prob(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1], got {value}")
