"""The evaluation harness: simulated baselines with outbreaks, calibration, quality measures, RKI series."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from fangkong.analytics import evaluation as ev

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "surveillance_eval"


def test_baselines_have_the_mean_and_overdispersion_asked_for() -> None:
    scenario = ev.Scenario("flat", theta=np.log(20.0), dispersion=3.0)
    sim = ev.simulate(np.random.default_rng(1), scenario, 200, outbreaks=False)
    assert sim.counts.shape == (200, ev.HISTORY_YEARS * 52 + ev.EVALUATED_WEEKS)
    assert not sim.state.any()
    assert sim.counts.mean() == pytest.approx(20.0, rel=0.02)
    assert sim.counts.var() / sim.counts.mean() == pytest.approx(3.0, rel=0.05)


def test_seasonality_follows_the_harmonic() -> None:
    scenario = ev.Scenario("seasonal", theta=np.log(10.0), gamma1=0.8)
    sim = ev.simulate(np.random.default_rng(2), scenario, 300, outbreaks=False)
    weeks = np.arange(sim.counts.shape[1]) % 52
    assert sim.counts[:, weeks == 0].mean() / sim.counts[:, weeks == 26].mean() == pytest.approx(
        np.exp(1.6), rel=0.1
    )


def test_each_replicate_gets_one_outbreak_in_the_judged_year() -> None:
    scenario = ev.Scenario("flat", theta=np.log(5.0), dispersion=1.5, outbreak_k=8.0)
    rng = np.random.default_rng(3)
    sim = ev.simulate(rng, scenario, 100)
    first = sim.evaluated[0]
    assert ((sim.outbreak_start >= first) & (sim.outbreak_start <= sim.outbreak_end)).all()
    assert not sim.state[:, :first].any()
    for r in range(5):
        assert sim.state[r, sim.outbreak_start[r] : sim.outbreak_end[r] + 1].all()
        assert sim.state[r].sum() == sim.outbreak_end[r] - sim.outbreak_start[r] + 1
    # Outbreak cases come on top of the baseline: judged-year outbreak weeks are busier than quiet ones.
    assert sim.counts[sim.state].mean() > 2 * sim.counts[:, first:][~sim.state[:, first:]].mean()


def test_the_same_seed_gives_the_same_study() -> None:
    a = ev.simulate(np.random.default_rng(9), ev.DEFAULT_SCENARIOS[1], 5)
    b = ev.simulate(np.random.default_rng(9), ev.DEFAULT_SCENARIOS[1], 5)
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_array_equal(a.outbreak_start, b.outbreak_start)


def test_quality_measures_match_a_hand_count() -> None:
    state = np.array([[0, 0, 1, 1, 1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 1, 1, 0, 0]], dtype=bool)
    alarm = np.array([[1, 0, 0, 1, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]], dtype=bool)
    judged = np.ones_like(state)
    q = ev.quality(alarm, judged, state, freq=10)
    assert q.sensitivity == pytest.approx(1 / 5)  # one of five outbreak points
    assert q.specificity == pytest.approx(13 / 15)  # two false alarms among fifteen quiet points
    assert q.probability_of_detection == pytest.approx(1 / 2)
    assert q.time_to_detection == pytest.approx(1.0)  # found one point after it started
    assert q.false_alarms_per_year == pytest.approx(2 / 15 * 10)
    assert q.outbreaks == 2


def test_unjudged_points_do_not_count() -> None:
    state = np.array([[1, 1, 0, 0]], dtype=bool)
    alarm = np.array([[1, 0, 1, 0]], dtype=bool)
    judged = np.array([[False, True, True, True]])
    q = ev.quality(alarm, judged, state)
    assert q.sensitivity == 0.0
    assert q.probability_of_detection == 0.0
    assert math.isnan(q.time_to_detection)


def test_calibration_brings_the_false_alarm_rate_to_the_target() -> None:
    rng = np.random.default_rng(4)
    quiet = ev.simulate(rng, ev.Scenario("flat", theta=np.log(30.0), dispersion=1.2), 40, outbreaks=False)
    loose = ev.calibrate("ears_c1", {}, quiet.counts, quiet.evaluated, target=0.05)
    strict = ev.calibrate("ears_c1", {}, quiet.counts, quiet.evaluated, target=0.005)
    assert loose.knob == "alpha"
    assert loose.false_alarm_rate == pytest.approx(0.05, abs=0.01)
    assert strict.false_alarm_rate == pytest.approx(0.005, abs=0.004)
    assert loose.value is not None
    assert strict.value is not None
    assert loose.value > strict.value
    # Raising h makes CUSUM quieter: the knob moves the other way.
    cusum = ev.calibrate("cusum", {"freq": 52}, quiet.counts, quiet.evaluated, target=0.02)
    assert cusum.knob == "h"
    assert cusum.false_alarm_rate <= 0.03


def test_a_rule_without_a_knob_is_measured_as_it_is() -> None:
    quiet = ev.simulate(np.random.default_rng(5), ev.Scenario("flat", theta=2.0), 10, outbreaks=False)
    result = ev.calibrate("rki", {"freq": 52}, quiet.counts, quiet.evaluated)
    assert (result.knob, result.value) == (None, None)
    assert 0.0 <= result.false_alarm_rate < 0.2


def test_a_small_simulation_study_finds_big_outbreaks() -> None:
    design = ev.SimulationDesign(
        scenarios=[ev.Scenario("busy", theta=np.log(40.0), dispersion=1.5, outbreak_k=10.0)],
        replicates=30,
        calibration_replicates=20,
        target=0.01,
    )
    found = ev.evaluate_simulated(np.random.default_rng(6), ["ears_c2", "farrington_flexible"], design)
    assert [e.method for e in found] == ["ears_c2", "farrington_flexible"]
    for e in found:
        assert e.error == ""
        assert e.calibrated_false_alarm_rate is not None
        assert e.calibrated_false_alarm_rate <= 0.03
        assert e.quality.probability_of_detection > 0.5
        assert e.quality.specificity > 0.95


def _labelled(name: str) -> tuple[np.ndarray, np.ndarray]:
    with (FIXTURES / f"{name}.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    return (
        np.array([float(r["observed__observed1"]) for r in rows]),
        np.array([r["state__observed1"] == "1" for r in rows]),
    )


def test_the_rki_series_are_scored_against_their_outbreak_flags() -> None:
    series = {name: _labelled(name) for name in ("m4", "m5", "n2")}
    judged = np.arange(ev.LABELLED_FIRST_JUDGED, 209)
    found = ev.evaluate_labelled(series, ["ears_c3", "farrington"], judged, ev.LABELLED_PARAMS)
    assert len(found) == 6
    by = {(e.dataset, e.method): e for e in found}
    m5 = by[("m5", "farrington")]
    assert m5.quality.outbreaks == 1
    assert m5.quality.probability_of_detection == 1.0
    assert m5.quality.judged_points == judged.size
    summary = ev.pooled(found)
    assert set(summary) == {"ears_c3", "farrington"}
    assert 0.0 <= summary["farrington"]["specificity"] <= 1.0


def test_a_detector_that_fails_on_a_series_is_reported_not_fatal() -> None:
    def broken(method, params, counts, judged):  # type: ignore[no-untyped-def]
        raise np.linalg.LinAlgError("SVD did not converge")

    found = ev.evaluate_labelled({"m1": _labelled("m1")}, ["glrnb"], np.arange(100, 209), runner=broken)
    assert found[0].error.startswith("LinAlgError")
