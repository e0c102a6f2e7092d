"""The disease model against known epidemiology: SEIR final size, severity by age."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np

from fangkong.analytics import sim

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sim"


def _final_size_table() -> tuple[np.ndarray, np.ndarray]:
    with (FIXTURES / "final_size.csv").open() as f:
        rows = list(csv.DictReader(f))
    return np.array([float(r["R0"]) for r in rows]), np.array([float(r["attack_fraction"]) for r in rows])


def _mean_infectious_days(
    params: sim.Parameters, band: int, rng: np.random.Generator, n: int = 400_000
) -> float:
    """Mean days infectious for one age band, by Monte Carlo from the parameter definitions alone."""

    def days(d: sim.Duration, size: int) -> np.ndarray:
        mu, sigma = d.underlying_normal()
        return np.round(rng.lognormal(mu, sigma, size))

    symptomatic = rng.random(n) < params.symptomatic_prob[band]
    severe = symptomatic & (rng.random(n) < params.severe_prob[band] / params.symptomatic_prob[band])
    critical = severe & (rng.random(n) < params.critical_prob[band] / params.severe_prob[band])
    dies = critical & (rng.random(n) < params.death_prob[band] / params.critical_prob[band])
    total = np.where(
        symptomatic, days(params.infectious_to_symptomatic, n), days(params.asymptomatic_to_recovered, n)
    )
    mild = symptomatic & ~severe
    total += np.where(mild, days(params.mild_to_recovered, n), 0)
    total += np.where(severe, days(params.symptomatic_to_severe, n), 0)
    total += np.where(severe & ~critical, days(params.severe_to_recovered, n), 0)
    total += np.where(critical, days(params.severe_to_critical, n), 0)
    total += np.where(critical & ~dies, days(params.critical_to_recovered, n), 0)
    total += np.where(dies, days(params.critical_to_death, n), 0)
    return float(total.mean())


def test_attack_rate_in_a_well_mixed_population_matches_seir_final_size() -> None:
    # Everyone aged 30 (one susceptibility, one severity band), living alone, in one area, with 150
    # random community contacts: close to mass action. Flat viral load and near-equal infectiousness
    # so R0 = beta * community weight * contacts * mean infectious days.
    n = 20_000
    contacts = 150.0
    rng = np.random.default_rng(3)
    settings = sim.ContactSettings(work_ages=(0, 0), school_ages=(0, 0), community_contacts=contacts,
                                   community_local_share=0.0)  # fmt: skip
    pop = sim.population_from_arrays(
        np.full(n, 30), np.arange(n), np.zeros(n, dtype=int), rng, settings=settings
    )
    realised_contacts = pop.layers[3].mean_contacts()
    base = sim.Parameters(high_load_ratio=1.0, transmissibility_dispersion=1e4, initial_infections=40)
    mean_days = _mean_infectious_days(base, band=3, rng=np.random.default_rng(4))
    r0_values, fractions = _final_size_table()
    for r0 in (1.5, 2.5):
        beta = r0 / (base.layer_beta.community * realised_contacts * mean_days)
        params = dataclasses.replace(base, beta=beta)
        result = sim.simulate(pop, params, sim.Strategy(), 400, np.random.default_rng(9))
        expected = float(np.interp(r0, r0_values, fractions))
        # Loose tolerance (0.06): a static contact network, whole-day durations and 20,000 people are
        # only close to the mass-action SEIR the final-size relation describes.
        assert abs(result.totals["attack_rate"] - expected) < 0.06, (
            r0,
            result.totals["attack_rate"],
            expected,
        )
        assert result.daily["new_infections"][-30:].sum() == 0


def test_severity_rises_with_age(small_population: sim.Population, params: sim.Parameters) -> None:
    result = sim.simulate(small_population, params, sim.Strategy(), 120, np.random.default_rng(2))
    infected = result.agents["infected_day"] >= 0
    assert infected.sum() > 1000
    totals = result.totals
    assert totals["severe"] >= totals["critical"] >= totals["deaths"] > 0
    # Hospital demand is the people severe or critical; it is positive while the epidemic runs.
    assert result.daily["hospital_demand"].max() == totals["peak_hospital_demand"] > 0


def test_epidemic_accounting_is_consistent(small_population: sim.Population, params: sim.Parameters) -> None:
    result = sim.simulate(small_population, params, sim.Strategy(), 100, np.random.default_rng(6))
    d = result.daily
    by_layer = d["infections_household"] + d["infections_school"] + d["infections_workplace"]
    np.testing.assert_array_equal(by_layer + d["infections_community"], d["new_infections"])
    infected = int((result.agents["infected_day"] >= 0).sum())
    assert infected == result.totals["infections"]
    assert d["new_recoveries"].sum() + d["new_deaths"].sum() <= infected
    # Symptomatic share follows the age-specific probabilities (0.5 to 0.9), not 0 or 1.
    share = result.totals["symptomatic"] / infected
    assert 0.5 < share < 0.85
