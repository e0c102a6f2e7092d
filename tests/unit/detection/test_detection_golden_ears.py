"""EARS C1/C2/C3 against R surveillance 1.20.3 ``earsC`` on salmNewport (Germany), ISO year 2011."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from fangkong.analytics.detection.base import DetectorParameterError
from fangkong.analytics.detection.ears import ears_c1, ears_c2, ears_c3

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "surveillance"
TOLERANCE = 1e-6  # absolute, ALGORITHMS.md "Tolerances that a faithful port reaches"


def _read(name: str) -> list[dict[str, str]]:
    with (FIXTURES / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def _series() -> tuple[np.ndarray, list[str]]:
    rows = _read("data_salmNewportGermany.csv")
    return np.array([float(r["observed"]) for r in rows]), [r["epoch"] for r in rows]


DETECTORS = {"C1": ears_c1, "C2": ears_c2, "C3": ears_c3}


@pytest.mark.parametrize("method", ["C1", "C2", "C3"])
@pytest.mark.parametrize("alpha_label", ["alpha0.05", "defaultalpha"])
def test_ears_matches_r_upperbound_and_alarms(method: str, alpha_label: str) -> None:
    observed, epochs = _series()
    golden = _read(f"earsC_{method}_{alpha_label}_salmNewportGermany_2011.csv")
    positions = [epochs.index(r["epoch"]) for r in golden]
    if alpha_label == "alpha0.05":
        result = DETECTORS[method](observed, alpha=0.05, range=positions)
    else:
        result = DETECTORS[method](observed, range=positions)

    np.testing.assert_allclose(
        result.threshold[positions], [float(r["upperbound"]) for r in golden], rtol=0, atol=TOLERANCE
    )
    np.testing.assert_array_equal(result.alarm[positions], [r["alarm"] == "1" for r in golden])
    np.testing.assert_array_equal(result.observed[positions], [float(r["observed"]) for r in golden])
    assert result.alarm.sum() == sum(r["alarm"] == "1" for r in golden)  # nothing outside the range


def test_c3_textbook_rule_alarms_more_often_on_the_reference_year() -> None:
    # ALGORITHMS.md: on salmNewport 2011 (alpha 0.05) R's rule gives 6 alarms, the textbook rule 11.
    observed, epochs = _series()
    positions = [epochs.index(r["epoch"]) for r in _read("earsC_C3_alpha0.05_salmNewportGermany_2011.csv")]
    r_rule = ears_c3(observed, alpha=0.05, range=positions)
    textbook = ears_c3(observed, alpha=0.05, rule="textbook", range=positions)
    assert r_rule.alarm.sum() == 6
    assert textbook.alarm.sum() == 11


def test_c3_rules_differ_on_when_a_spike_alarms() -> None:
    # Flat-ish baseline, one spike at index 20: the textbook C3 alarms on the spike itself, R's C3 only
    # once the spike has become one of the two lagged terms (and the current count is positive).
    observed = np.array([3.0, 4.0, 5.0, 4.0, 3.0, 4.0, 5.0] * 4)
    observed[20] = 40.0
    textbook = ears_c3(observed, rule="textbook")
    r_rule = ears_c3(observed)
    assert textbook.alarm[20]
    assert not r_rule.alarm[20]
    assert r_rule.alarm[21]
    assert r_rule.alarm[22]


def test_c1_by_hand() -> None:
    observed = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 20.0])
    result = ears_c1(observed, alpha=0.05)
    mean, sd = 4.0, np.std(observed[:7], ddof=1)
    assert result.expected[7] == pytest.approx(mean)
    assert result.threshold[7] == pytest.approx(mean + 1.6448536269514722 * sd)
    assert result.score[7] == pytest.approx((20.0 - mean) / sd)
    assert result.alarm[7]
    assert not result.judged[:7].any()
    assert np.isnan(result.threshold[:7]).all()


def test_range_that_reaches_before_the_baseline_is_refused() -> None:
    with pytest.raises(DetectorParameterError, match="range"):
        ears_c2(np.arange(20.0), range=range(5, 20))


def test_baseline_shorter_than_three_is_refused() -> None:
    with pytest.raises(DetectorParameterError, match="baseline"):
        ears_c1(np.arange(20.0), baseline=2)
