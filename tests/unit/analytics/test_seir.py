"""SEIR ODE and final size against the reference table and the model's own analytic relations."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fangkong.analytics.seir import SeirInputError, final_size, simulate_seir

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "seir"
# A COVID-like natural history for the runs below: mean latent and infectious periods, days.
LATENT_DAYS = 3.0
INFECTIOUS_DAYS = 5.0
POPULATION = 1_000_000.0


def _reference() -> list[tuple[float, float]]:
    with (FIXTURES / "final_size.csv").open(newline="") as handle:
        return [(float(row["R0"]), float(row["attack_fraction"])) for row in csv.DictReader(handle)]


def test_final_size_matches_reference() -> None:
    r0, expected = np.array(_reference()).T
    np.testing.assert_allclose(final_size(r0), expected, rtol=0, atol=1e-8)


@pytest.mark.parametrize(("r0", "expected"), _reference())
def test_long_run_attack_fraction_is_the_final_size(r0: float, expected: float) -> None:
    # Near R0 = 1 the epidemic grows and fades slowly, so it needs a longer run to finish.
    n_days = 6000 if r0 < 1.3 else 1500
    run = simulate_seir(
        POPULATION,
        1.0,
        r0=r0,
        latent_days=LATENT_DAYS,
        infectious_days=INFECTIOUS_DAYS,
        n_days=n_days,
    )
    assert run.infectious[-1].sum() < 1e-3
    assert run.attack_fraction() == pytest.approx(expected, abs=1e-3)


def test_compartments_add_up_and_incidence_is_the_fall_in_susceptibles() -> None:
    run = simulate_seir(
        [4e5, 6e5],
        [5.0, 0.0],
        r0=2.5,
        latent_days=LATENT_DAYS,
        infectious_days=INFECTIOUS_DAYS,
        n_days=200,
        contact_matrix=[[12.0, 4.0], [4.0, 6.0]],
    )
    totals = run.susceptible + run.exposed + run.infectious + run.removed
    np.testing.assert_allclose(totals, np.broadcast_to(run.population, totals.shape), rtol=1e-9)
    assert run.day[0] == 0
    assert run.day[-1] == 200
    assert np.all(run.incidence[0] == 0)
    assert np.all(run.incidence >= -1e-6)
    np.testing.assert_allclose(run.incidence.sum(axis=0), run.susceptible[0] - run.susceptible[-1], rtol=1e-9)


def test_early_growth_rate_is_the_seir_euler_lotka_root() -> None:
    r0 = 2.0
    run = simulate_seir(
        POPULATION, 1.0, r0=r0, latent_days=LATENT_DAYS, infectious_days=INFECTIOUS_DAYS, n_days=60
    )
    # With exponential latent and infectious periods R0 = (1 + r L)(1 + r D) (Wallinga & Lipsitch 2007).
    a, b, c = LATENT_DAYS * INFECTIOUS_DAYS, LATENT_DAYS + INFECTIOUS_DAYS, 1.0 - r0
    growth = (-b + np.sqrt(b * b - 4 * a * c)) / (2 * a)
    observed = np.log(run.infectious[50, 0] / run.infectious[30, 0]) / 20.0
    assert observed == pytest.approx(growth, rel=1e-3)


def test_equal_activity_proportionate_mixing_is_the_homogeneous_model() -> None:
    sizes = np.array([2e5, 5e5, 3e5])
    # Everyone makes 10 contacts a day, spread over groups in proportion to their size.
    contacts = np.tile(10.0 * sizes / sizes.sum(), (3, 1))
    grouped = simulate_seir(
        sizes,
        sizes / sizes.sum(),
        r0=1.8,
        latent_days=LATENT_DAYS,
        infectious_days=INFECTIOUS_DAYS,
        n_days=1500,
        contact_matrix=contacts,
    )
    single = simulate_seir(
        sizes.sum(), 1.0, r0=1.8, latent_days=LATENT_DAYS, infectious_days=INFECTIOUS_DAYS, n_days=1500
    )
    np.testing.assert_allclose(grouped.incidence.sum(axis=1), single.incidence[:, 0], rtol=1e-5, atol=1e-3)
    assert grouped.attack_fraction() == pytest.approx(float(final_size(1.8)), abs=1e-3)


def test_age_structured_final_sizes_satisfy_the_multigroup_relation() -> None:
    sizes = np.array([2e5, 5e5, 3e5])
    contacts = np.array([[10.0, 3.0, 1.0], [3.0, 8.0, 2.0], [1.0, 2.0, 4.0]])
    seeds = np.array([10.0, 10.0, 10.0])
    run = simulate_seir(
        sizes,
        seeds,
        r0=2.0,
        latent_days=LATENT_DAYS,
        infectious_days=INFECTIOUS_DAYS,
        n_days=1500,
        contact_matrix=contacts,
    )
    # -ln(S_i(∞)/S_i(0)) = β D Σ_j C_ij (everyone of group j who was ever infectious) / N_j.
    ever_infectious = run.susceptible[0] - run.susceptible[-1] + seeds
    lhs = -np.log(run.susceptible[-1] / run.susceptible[0])
    rhs = run.beta * INFECTIOUS_DAYS * contacts @ (ever_infectious / sizes)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-4)
    # The group with most contacts is hit hardest, and heterogeneity lowers the overall attack fraction.
    shares = 1 - run.susceptible[-1] / sizes
    assert shares[0] > shares[1] > shares[2]
    assert run.attack_fraction() < float(final_size(2.0))


@given(st.floats(1.0001, 20.0))
def test_final_size_solves_its_equation(r0: float) -> None:
    z = float(final_size(r0))
    assert 0 < z < 1
    assert z - 1 + np.exp(-r0 * z) == pytest.approx(0.0, abs=1e-12)


@given(st.floats(0.0, 1.0))
def test_no_epidemic_without_r0_above_one(r0: float) -> None:
    assert float(final_size(r0)) == 0.0


@given(st.floats(1.01, 10.0), st.floats(1.01, 10.0))
def test_final_size_grows_with_r0(r0_a: float, r0_b: float) -> None:
    low, high = sorted((r0_a, r0_b))
    assert float(final_size(low)) <= float(final_size(high))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"population": [1e5, -1.0], "initial_infectious": 1.0}, "population"),
        ({"population": 100.0, "initial_infectious": 101.0}, "exceed"),
        ({"population": [1e5, 1e5], "initial_infectious": 1.0, "contact_matrix": np.ones((3, 3))}, "shape"),
        ({"population": 1e5, "initial_infectious": 1.0, "r0": -2.0}, "r0"),
        ({"population": [1e5, 1e5], "initial_infectious": 1.0, "contact_matrix": np.zeros((2, 2))}, "radius"),
    ],
)
def test_rejects_bad_inputs(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "r0": 2.0,
        "latent_days": LATENT_DAYS,
        "infectious_days": INFECTIOUS_DAYS,
        "n_days": 10,
    }
    arguments.update(kwargs)
    with pytest.raises(SeirInputError, match=message):
        simulate_seir(**arguments)  # type: ignore[arg-type]
