"""What a run returns: daily figures, totals, and per-person counters."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from fangkong.analytics.sim.state import DAILY_FIGURES


@dataclass
class SimResult:
    """Daily figures (one array per name in ``DAILY_FIGURES``), totals, and per-person counters.

    ``agents`` holds, per person: ``quarantine_days`` (days spent in quarantine), ``times_quarantined``,
    ``tests`` (samples taken), ``infected_day``, ``diagnosed_day`` and ``vaccinated_day`` (-1 if never;
    people vaccinated before the run have a negative day).
    """

    strategy: str
    days: int
    population_size: int
    daily: dict[str, NDArray[np.int64]]
    seed_infections: int
    run_seconds: float
    agents: dict[str, NDArray[np.int32]] = field(default_factory=dict)

    @property
    def totals(self) -> dict[str, float]:
        d = self.daily
        infections = int(d["new_infections"].sum()) + self.seed_infections
        return {
            "infections": infections,
            "attack_rate": infections / self.population_size if self.population_size else 0.0,
            "symptomatic": int(d["new_symptomatic"].sum()),
            "severe": int(d["new_severe"].sum()),
            "critical": int(d["new_critical"].sum()),
            "deaths": int(d["new_deaths"].sum()),
            "diagnoses": int(d["new_diagnoses"].sum()),
            "tests": int(d["tests"].sum()),
            "tubes": int(d["tubes"].sum()),
            "people_quarantined": int(d["new_quarantined"].sum()),
            "quarantine_person_days": int(
                d["in_quarantine_centralized"].sum() + d["in_quarantine_home"].sum()
            ),
            "centralized_quarantine_person_days": int(d["in_quarantine_centralized"].sum()),
            "isolation_person_days": int(d["in_isolation"].sum()),
            "lockdown_person_days": int(d["in_lockdown"].sum()),
            "contacts_traced": int(d["contacts_traced"].sum()),
            "vaccine_doses": int(d["vaccine_doses"].sum()),
            "peak_hospital_demand": int(d["hospital_demand"].max()) if self.days else 0,
            "peak_icu_demand": int(d["icu_demand"].max()) if self.days else 0,
        }

    @property
    def agent_days_per_second(self) -> float:
        return self.population_size * self.days / self.run_seconds if self.run_seconds > 0 else float("inf")

    def table(self) -> NDArray[np.int64]:
        """The daily figures as a (days, figures) array, columns in ``DAILY_FIGURES`` order."""
        return np.stack([self.daily[name] for name in DAILY_FIGURES], axis=1)
