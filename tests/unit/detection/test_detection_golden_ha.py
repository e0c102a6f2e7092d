"""CUSUM, Bayes, RKI and CDC against R surveillance 1.20.3 on the ``ha`` total series, weeks 209..290.

R's ``range = 209:290`` (1-based, both ends included) is ``range(208, 290)`` here (0-based).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from fangkong.analytics.detection.base import DetectionResult
from fangkong.analytics.detection.bayes import bayes, negbin_quantile
from fangkong.analytics.detection.cdc import cdc
from fangkong.analytics.detection.cusum import cusum
from fangkong.analytics.detection.rki import rki

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "surveillance"
TOLERANCE = 1e-6  # absolute, ALGORITHMS.md
R_RANGE = range(208, 290)


def _read(name: str) -> list[dict[str, str]]:
    with (FIXTURES / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def _ha_total() -> np.ndarray:
    return np.array([float(r["observed"]) for r in _read("data_ha_total.csv")])


CASES: dict[str, Callable[[np.ndarray], DetectionResult]] = {
    "cusum_default": lambda y: cusum(y, range=R_RANGE),
    "cusum_glm_rossi": lambda y: cusum(y, m="glm", trans="rossi", range=R_RANGE),
    "bayes1": lambda y: bayes(y, preset="bayes1", range=R_RANGE),
    "bayes3": lambda y: bayes(y, preset="bayes3", range=R_RANGE),
    "rki1": lambda y: rki(y, preset="rki1", range=R_RANGE),
    "rki3": lambda y: rki(y, preset="rki3", range=R_RANGE),
    "cdc": lambda y: cdc(y, b=3, m=1, alpha=0.025, range=R_RANGE),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_r_upperbound_and_alarms(name: str) -> None:
    golden = _read(f"ha_total_{name}_209-290.csv")
    positions = np.array([int(r["week"]) - 1 for r in golden])
    assert list(positions) == list(R_RANGE)

    result = CASES[name](_ha_total())

    np.testing.assert_allclose(
        result.threshold[positions], [float(r["upperbound"]) for r in golden], rtol=0, atol=TOLERANCE
    )
    np.testing.assert_array_equal(result.alarm[positions], [r["alarm"] == "1" for r in golden])
    assert result.judged.sum() == len(golden)


def test_golden_set_has_alarms_to_reproduce() -> None:
    # Guard against a golden comparison that passes trivially: most reference runs do alarm.
    alarms = {name: sum(r["alarm"] == "1" for r in _read(f"ha_total_{name}_209-290.csv")) for name in CASES}
    assert sum(v > 0 for v in alarms.values()) >= 6


def test_presets_are_overridable_by_explicit_parameters() -> None:
    y = _ha_total()
    explicit = bayes(y, b=2, w=4, actY=False, range=R_RANGE)
    preset = bayes(y, preset="bayes3", range=R_RANGE)
    np.testing.assert_array_equal(explicit.threshold, preset.threshold)
    assert explicit.params["b"] == 2
    assert explicit.params["actY"] is False


def test_cusum_phase_one_mean_is_the_expected_value() -> None:
    y = _ha_total()
    result = cusum(y, range=R_RANGE)
    assert result.expected[208] == pytest.approx(y[:208].mean())
    # The chart never goes below zero and alarms exactly where it reaches h.
    chart = result.score[list(R_RANGE)]
    assert (chart >= 0).all()
    np.testing.assert_array_equal(result.alarm[list(R_RANGE)], chart >= 2.26)


def test_cdc_score_is_the_current_four_week_sum() -> None:
    y = _ha_total()
    result = cdc(y, b=3, range=R_RANGE)
    assert result.score[250] == y[247:251].sum()


def test_predictive_quantile_and_tail_agree_with_scipy() -> None:
    rng = np.random.default_rng(31)
    size = rng.uniform(0.5, 400.0, 2000)
    for prob in (6 / 7, 10 / 11, 30 / 31):
        np.testing.assert_array_equal(negbin_quantile(0.95, size, prob), stats.nbinom.ppf(0.95, size, prob))
    y = _ha_total()
    result = bayes(y, preset="bayes2", range=R_RANGE)
    counts = y[208:290]
    # bayes2: the 6 weeks before, and weeks t-52-6 .. t-52+6 of last year.
    reference = np.array([np.r_[y[t - 6 : t], y[t - 52 - 6 : t - 52 + 7]] for t in R_RANGE])
    n = reference.shape[1]
    expected_tail = stats.nbinom.sf(counts - 1, reference.sum(axis=1) + 0.5, n / (n + 1))
    assert result.pvalue is not None
    np.testing.assert_allclose(result.pvalue[208:290], expected_tail, rtol=1e-10, atol=1e-14)
    np.testing.assert_array_equal(result.alarm[208:290], result.pvalue[208:290] <= 0.05)
