"""Counter-based random numbers and the strategy compiler."""

from __future__ import annotations

import numpy as np
import pytest

from fangkong.analytics import sim
from fangkong.analytics.sim import streams
from fangkong.analytics.sim.interventions import compile_strategy


def test_uniforms_are_uniform_and_keyed() -> None:
    u = streams.uniforms(7, streams.ROUTINE_TEST, 3, np.arange(200_000))
    assert u.min() >= 0.0
    assert u.max() < 1.0
    assert u.mean() == pytest.approx(0.5, abs=0.005)
    counts, _ = np.histogram(u, bins=20, range=(0, 1))
    assert counts.min() > 0.95 * 10_000
    again = streams.uniforms(7, streams.ROUTINE_TEST, 3, np.arange(5))
    np.testing.assert_array_equal(again, u[:5])
    for other in (
        streams.uniforms(8, streams.ROUTINE_TEST, 3, np.arange(5)),
        streams.uniforms(7, streams.TEST_RESULT, 3, np.arange(5)),
        streams.uniforms(7, streams.ROUTINE_TEST, 4, np.arange(5)),
    ):
        assert not np.any(other == u[:5])


def test_neighbouring_keys_are_not_correlated() -> None:
    u = streams.uniforms(1, streams.TRANSMISSION, 0, np.arange(100_000))
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.02


def test_quarantine_plan_days_and_tests() -> None:
    strategy = sim.Strategy(tracing=sim.ContactTracing())
    compiled = compile_strategy(strategy)
    # cn-9: days 1-7 centralized (stage 0), 8-10 home (stage 1); tests d1,2,3,5,7 then home d3 = day 10.
    assert compiled.quarantine_total == 10
    assert compiled.stage_of_day[1:].tolist() == [0] * 7 + [1] * 3
    tests = [k for k in range(0, 11) if compiled.next_test_day[k] == k]
    assert tests == [1, 2, 3, 5, 7, 10]
    assert compiled.next_test_day[4] == 5
    assert compiled.next_test_day[11] > 10
    assert compiled.stage_place.tolist() == [2, 1]
    # Centralized: every layer cut by 80 %; home: household cut by 40 %.
    np.testing.assert_allclose(compiled.stage_factors[0], [0.2, 0.2, 0.2, 0.2])
    np.testing.assert_allclose(compiled.stage_factors[1], [0.6, 0.2, 0.2, 0.2])


def test_bad_plans_are_refused() -> None:
    stage = sim.QuarantineStage(days=3, test_days=(5,))
    with pytest.raises(ValueError, match="test day 5"):
        compile_strategy(sim.Strategy(tracing=sim.ContactTracing(quarantine=sim.Quarantine(stages=(stage,)))))
    with pytest.raises(ValueError, match=r"trace_prob\.school"):
        compile_strategy(sim.Strategy(tracing=sim.ContactTracing(trace_prob=sim.LayerValues(1, 2, 0, 0))))
