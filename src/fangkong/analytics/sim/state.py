"""The per-person state of a run, its layout, and the names of the daily figures.

Dates are whole simulation days in int16; ``NEVER`` marks an event that has not happened and will not
unless something changes it, so that ``day >= date`` is false for it. Column constants name the
columns of the two date tables; kernels read them as compile-time constants.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fangkong.analytics.sim.parameters import Parameters
from fangkong.analytics.sim.population import Population

NEVER = 32767
NONE = -32768

# Stages of infection.
SUSCEPTIBLE = 0
EXPOSED = 1
PRESYMPTOMATIC = 2
ASYMPTOMATIC = 3
MILD = 4
SEVERE = 5
CRITICAL = 6
RECOVERED = 7
DEAD = 8

# Columns of `course` (the illness, fixed at infection).
C_INFECTED = 0
C_INFECTIOUS = 1
C_SYMPTOMATIC = 2
C_SEVERE = 3
C_CRITICAL = 4
C_END = 5

# Columns of `ops` (what the response did to the person).
O_DIAGNOSED = 0
O_RESULT = 1
O_QUARANTINE_PENDING = 2
O_PENDING_EXPOSURE = 3
O_QUARANTINE_EXPOSURE = 4
O_QUARANTINE_ENTRY = 5
O_TESTED_UPTO = 6

# Columns of `counters` (per-person totals over the run).
K_QUARANTINE_DAYS = 0
K_TIMES_QUARANTINED = 1
K_TESTS = 2

# The daily figures, in the order of the kernels' `counts` vector.
DAILY_FIGURES = (
    "new_infections",
    "new_symptomatic",
    "new_severe",
    "new_critical",
    "new_deaths",
    "new_recoveries",
    "new_diagnoses",
    "tests",
    "tubes",
    "new_quarantined",
    "in_quarantine_centralized",
    "in_quarantine_home",
    "in_isolation",
    "in_lockdown",
    "areas_locked",
    "hospital_demand",
    "icu_demand",
    "contacts_traced",
    "tracing_backlog",
    "vaccine_doses",
    "infections_household",
    "infections_school",
    "infections_workplace",
    "infections_community",
    "infectious",
)
F = {name: n for n, name in enumerate(DAILY_FIGURES)}
F_NEW_INFECTIONS = F["new_infections"]
F_NEW_SYMPTOMATIC = F["new_symptomatic"]
F_NEW_SEVERE = F["new_severe"]
F_NEW_CRITICAL = F["new_critical"]
F_NEW_DEATHS = F["new_deaths"]
F_NEW_RECOVERIES = F["new_recoveries"]
F_NEW_DIAGNOSES = F["new_diagnoses"]
F_TESTS = F["tests"]
F_TUBES = F["tubes"]
F_NEW_QUARANTINED = F["new_quarantined"]
F_IN_QUARANTINE_CENTRALIZED = F["in_quarantine_centralized"]
F_IN_QUARANTINE_HOME = F["in_quarantine_home"]
F_IN_ISOLATION = F["in_isolation"]
F_IN_LOCKDOWN = F["in_lockdown"]
F_AREAS_LOCKED = F["areas_locked"]
F_HOSPITAL = F["hospital_demand"]
F_ICU = F["icu_demand"]
F_CONTACTS_TRACED = F["contacts_traced"]
F_TRACING_BACKLOG = F["tracing_backlog"]
F_VACCINE_DOSES = F["vaccine_doses"]
F_INFECTIONS_BY_LAYER = F["infections_household"]
F_INFECTIOUS = F["infectious"]


@dataclass
class AgentState:
    """All per-person arrays of one run (about 45 bytes a person besides the population)."""

    stage: NDArray[np.int8]
    course: NDArray[np.int16]
    dies: NDArray[np.bool_]
    band: NDArray[np.uint8]
    rel_trans: NDArray[np.float32]
    rel_sus: NDArray[np.float32]
    vaccinated_day: NDArray[np.int16]
    ops: NDArray[np.int16]
    result_positive: NDArray[np.bool_]
    quarantine_stage: NDArray[np.int8]
    counters: NDArray[np.int32]

    @classmethod
    def create(cls, population: Population, params: Parameters, rng: np.random.Generator) -> AgentState:
        n = population.size
        tables = params.band_tables()
        band = (np.searchsorted(tables.lower, population.age, side="right") - 1).clip(0).astype(np.uint8)
        rel_sus = tables.susceptibility[band].astype(np.float32)
        # Covasim draws individual transmissibility from a negative binomial with mean 1 on a grid of
        # `step` (covasim/utils.py n_neg_binomial), which gives the over-dispersion of secondary cases.
        k = params.transmissibility_dispersion
        step = params.transmissibility_step
        mean_counts = 1.0 / step
        rel_trans = (rng.negative_binomial(k, k / (mean_counts + k), n) * step).astype(np.float32)
        ops = np.full((n, 7), NEVER, dtype=np.int16)
        ops[:, O_PENDING_EXPOSURE] = NONE
        ops[:, O_QUARANTINE_EXPOSURE] = NONE
        ops[:, O_TESTED_UPTO] = -1
        vaccinated_day = np.full(n, NEVER, dtype=np.int16)
        # People vaccinated before the run are protected from day 0.
        vaccinated_day[population.vaccinated] = -params.vaccine_days_to_protection - 1
        return cls(
            stage=np.zeros(n, dtype=np.int8),
            course=np.full((n, 6), NEVER, dtype=np.int16),
            dies=np.zeros(n, dtype=np.bool_),
            band=band,
            rel_trans=rel_trans,
            rel_sus=rel_sus,
            vaccinated_day=vaccinated_day,
            ops=ops,
            result_positive=np.zeros(n, dtype=np.bool_),
            quarantine_stage=np.full(n, -1, dtype=np.int8),
            counters=np.zeros((n, 3), dtype=np.int32),
        )

    @property
    def nbytes(self) -> int:
        return int(sum(getattr(self, name).nbytes for name in self.__dataclass_fields__))
