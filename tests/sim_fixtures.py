"""Fixtures of the simulator tests (small populations, strategies); a plugin of tests/conftest.py."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from fangkong.analytics import sim
from fangkong.analytics.sim.parameters import COVASIM_AGE_BAND_LOWER, COVASIM_AGE_SHARES


@pytest.fixture(scope="session")
def small_population() -> sim.Population:
    """Six thousand people with Covasim's age pyramid, areas of 500 people."""
    settings = sim.ContactSettings(area_size=500)
    return sim.make_population(
        6000, COVASIM_AGE_BAND_LOWER, COVASIM_AGE_SHARES, np.random.default_rng(11), settings=settings
    )


@pytest.fixture(scope="session")
def params() -> sim.Parameters:
    return sim.Parameters(initial_infections=30)


@pytest.fixture(scope="session")
def make_tt() -> Callable[..., sim.Strategy]:
    """Factory of testing-and-tracing strategies with the cn-9 close-contact plan."""
    return _testing_and_tracing


def _testing_and_tracing(
    symptomatic: float = 0.2, asymptomatic: float = 0.0, name: str = "tt"
) -> sim.Strategy:
    return sim.Strategy(
        name=name,
        testing=sim.Testing(symptomatic_daily_prob=symptomatic, asymptomatic_daily_prob=asymptomatic),
        tracing=sim.ContactTracing(
            trace_prob=sim.LayerValues(1.0, 0.5, 0.5, 0.1), trace_delay_days=(0, 1, 1, 2), daily_capacity=None
        ),
    )
