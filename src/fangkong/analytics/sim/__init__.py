"""Agent-based epidemic simulator that plays the platform's strategies (pure numpy + numba).

Build a population (:func:`make_population` or :func:`population_from_arrays`), describe what the
response does as a :class:`Strategy`, and run it with :func:`simulate`, or several strategies on common
random numbers with :func:`compare`. Nothing here imports the rest of fangkong.
"""

from fangkong.analytics.sim.interventions import (
    AreaLockdown,
    CaseIsolation,
    ContactTracing,
    Quarantine,
    QuarantineStage,
    Strategy,
    Testing,
    TestingRounds,
    Vaccination,
)
from fangkong.analytics.sim.parameters import LAYER_NAMES, Duration, LayerValues, Parameters
from fangkong.analytics.sim.population import (
    ContactLayer,
    ContactSettings,
    Population,
    make_population,
    population_from_arrays,
)
from fangkong.analytics.sim.results import SimResult
from fangkong.analytics.sim.run import compare, simulate
from fangkong.analytics.sim.state import DAILY_FIGURES

__all__ = [
    "DAILY_FIGURES",
    "LAYER_NAMES",
    "AreaLockdown",
    "CaseIsolation",
    "ContactLayer",
    "ContactSettings",
    "ContactTracing",
    "Duration",
    "LayerValues",
    "Parameters",
    "Population",
    "Quarantine",
    "QuarantineStage",
    "SimResult",
    "Strategy",
    "Testing",
    "TestingRounds",
    "Vaccination",
    "compare",
    "make_population",
    "population_from_arrays",
    "simulate",
]
