"""Farrington and farringtonFlexible against R surveillance 1.20.3 outputs.

The first four cases are the reference files of ``reference/surveillance`` (``make_golden.R``); the others
were produced with the same R version by ``tests/fixtures/surveillance/farrington_extra_golden.R``.
R's 1-based ``range = a:b`` is ``range(a - 1, b)`` here; ALGORITHMS.md asks for about 1e-4 relative.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from fangkong.analytics.detection.farrington import (
    FarringtonResult,
    farrington,
    farrington_flexible,
    farrington_flexible_many,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "surveillance"
RTOL = 1e-4
ATOL = 1e-9
YEAR_2011 = range(365, 417)  # R: which(isoWeekYear(epoch(salmNewport))$ISOYear == 2011) = 366:417
AGONA_DEFAULT = range(263, 312)  # R: 264:312, farringtonFlexible's default range with b = 5, w = 3

VIGNETTE_FARRINGTON = {
    "noPeriods": 1,
    "b": 4,
    "w": 3,
    "weightsThreshold": 1.0,
    "pastWeeksNotIncluded": 3,
    "pThresholdTrend": 0.05,
    "thresholdMethod": "delta",
}
VIGNETTE_NOUFAILY = {
    "noPeriods": 10,
    "b": 4,
    "w": 3,
    "weightsThreshold": 2.58,
    "pastWeeksNotIncluded": 26,
    "pThresholdTrend": 1.0,
    "thresholdMethod": "nbPlugin",
}


def _columns(name: str) -> dict[str, np.ndarray]:
    with (FIXTURES / name).open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    out: dict[str, np.ndarray] = {}
    for key in rows[0]:
        values = [r[key] for r in rows]
        try:
            out[key] = np.array([np.nan if v == "NA" else float(v) for v in values])
        except ValueError:
            out[key] = np.array(values)
    return out


def _newport() -> tuple[np.ndarray, np.ndarray]:
    data = _columns("data_salmNewportGermany.csv")
    return data["observed"], data["epoch"]


def _agona() -> np.ndarray:
    return _columns("data_salmonella_agona.csv")["observed"]


def _ha_total() -> np.ndarray:
    return _columns("data_ha_total.csv")["observed"]


def _population() -> np.ndarray:
    return _columns("farrington_population_salmNewportGermany.csv")["population"]


def _newport_missing() -> np.ndarray:
    observed = _newport()[0].copy()
    observed[[*range(299, 305), 329]] = np.nan
    return observed


Case = Callable[[], FarringtonResult]

CASES: dict[str, Case] = {
    "farringtonFlexible_farrington_salmNewportGermany_2011.csv": lambda: farrington_flexible(
        _newport()[0], dates=_newport()[1], range=YEAR_2011, **VIGNETTE_FARRINGTON
    ),
    "farringtonFlexible_noufaily_salmNewportGermany_2011.csv": lambda: farrington_flexible(
        _newport()[0], dates=_newport()[1], range=YEAR_2011, **VIGNETTE_NOUFAILY
    ),
    "farringtonFlexible_muan_salmNewportGermany_2011.csv": lambda: farrington_flexible(
        _newport()[0],
        dates=_newport()[1],
        range=YEAR_2011,
        **{**VIGNETTE_NOUFAILY, "thresholdMethod": "muan"},
    ),
    "ha_total_farrington_209-290.csv": lambda: farrington(_ha_total(), range=range(208, 290), b=3, w=3),
    "farrington_algo_b4w3_salmonella.agona_260-312.csv": lambda: farrington(
        _agona(), range=range(259, 312), b=4, w=3
    ),
    "farrington_algo_default_dates_salmNewportGermany_2011.csv": lambda: farrington(
        _newport()[0], dates=_newport()[1], range=YEAR_2011
    ),
    "farrington_algo_b3w2_sqrt_noreweight_dates_salmNewportGermany_2011.csv": lambda: farrington(
        _newport()[0],
        dates=_newport()[1],
        range=YEAR_2011,
        b=3,
        w=2,
        powertrans="1/2",
        alpha=0.01,
        reweight=False,
    ),
    "farrington_algo_b4w4_none_notrend_dates_salmNewportGermany_2011.csv": lambda: farrington(
        _newport()[0],
        dates=_newport()[1],
        range=YEAR_2011,
        b=4,
        w=4,
        powertrans="none",
        trend=False,
        limit54=(3, 2),
    ),
    "farringtonFlexible_default_salmNewportGermany_2011.csv": lambda: farrington_flexible(
        _newport()[0], dates=_newport()[1], range=YEAR_2011
    ),
    "farringtonFlexible_default_salmonella.agona_264-312.csv": lambda: farrington_flexible(_agona()),
    "farringtonFlexible_p4_none_muan_salmonella.agona_264-312.csv": lambda: farrington_flexible(
        _agona(),
        range=AGONA_DEFAULT,
        noPeriods=4,
        b=5,
        w=2,
        weightsThreshold=1.0,
        alpha=0.01,
        powertrans="none",
        pastWeeksNotIncluded=0,
        thresholdMethod="muan",
    ),
    "farringtonFlexible_noreweight_notrend_sqrt_salmonella.agona_264-312.csv": lambda: farrington_flexible(
        _agona(), range=AGONA_DEFAULT, reweight=False, trend=False, powertrans="1/2", limit54=(2, 3)
    ),
    "farringtonFlexible_p6_nbplugin_b3_salmonella.agona_264-312.csv": lambda: farrington_flexible(
        _agona(),
        range=AGONA_DEFAULT,
        b=3,
        noPeriods=6,
        pThresholdTrend=0.5,
        thresholdMethod="nbPlugin",
        pastWeeksNotIncluded=10,
    ),
    "farringtonFlexible_popoffset_salmNewportGermany_2011.csv": lambda: farrington_flexible(
        _newport()[0],
        dates=_newport()[1],
        range=YEAR_2011,
        b=3,
        w=2,
        noPeriods=3,
        populationOffset=True,
        population=_population(),
        pThresholdTrend=0.2,
    ),
    "farringtonFlexible_missing300-305,330_salmNewportGermany_2011.csv": lambda: farrington_flexible(
        _newport_missing(), dates=_newport()[1], range=YEAR_2011, **VIGNETTE_NOUFAILY
    ),
}


# make_golden.R numbers the rows of these three files within the range (1..52), not in the series.
NUMBERED_WITHIN_RANGE = {
    "farringtonFlexible_farrington_salmNewportGermany_2011.csv",
    "farringtonFlexible_noufaily_salmNewportGermany_2011.csv",
    "farringtonFlexible_muan_salmNewportGermany_2011.csv",
}


def _positions(name: str, ref: dict[str, np.ndarray]) -> np.ndarray:
    if name in NUMBERED_WITHIN_RANGE:
        return np.asarray(YEAR_2011)
    return ref["idx" if "idx" in ref else "week"].astype(int) - 1


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_r_surveillance(name: str) -> None:
    ref = _columns(name)
    result = CASES[name]()
    at = _positions(name, ref)
    np.testing.assert_allclose(result.threshold[at], ref["upperbound"], rtol=RTOL, atol=ATOL)
    np.testing.assert_array_equal(result.alarm[at], ref["alarm"] == 1)
    if "trend" in ref:
        assert result.trend is not None
        np.testing.assert_array_equal(result.trend[at], ref["trend"])
    for mine, theirs in (("expected", "expected"), ("pvalue", "pvalue"), ("score", "score")):
        if theirs in ref:
            np.testing.assert_allclose(getattr(result, mine)[at], ref[theirs], rtol=RTOL, atol=ATOL)
    if "phi" in ref:
        assert result.dispersion is not None
        np.testing.assert_allclose(result.dispersion[at], ref["phi"], rtol=RTOL)
    if "lowertail" in ref:
        assert result.pvalue is not None
        np.testing.assert_allclose(1.0 - result.pvalue[at], ref["lowertail"], rtol=RTOL, atol=ATOL)
    assert result.judged[at].all()
    outside = np.setdiff1d(np.arange(result.observed.shape[0]), at)
    assert not result.judged[outside].any()
    assert np.isnan(result.threshold[outside]).all()


def test_series_r_cannot_fit_gets_no_judgement() -> None:
    # R gives NA bound, score, p-value and trend (and leaves expected at its initial 0).
    data = _columns("farrington_data_noconvergence.csv")
    ref = _columns("farringtonFlexible_noconvergence_697-698.csv")
    result = farrington_flexible(
        data["observed"], dates=data["epoch"], range=range(696, 698), noPeriods=10, alpha=0.01, b=5, w=4,
        pastWeeksNotIncluded=26, pThresholdTrend=1.0, thresholdMethod="nbPlugin", limit54=(4, 5),
    )  # fmt: skip
    assert np.isnan(ref["upperbound"]).all()
    assert np.isnan(ref["score"]).all()
    assert not result.judged.any()
    assert not result.alarm.any()
    assert np.isnan(result.threshold).all()
    assert np.isnan(result.score).all()


def _many_synthetic() -> tuple[np.ndarray, np.ndarray]:
    data = _columns("farrington_data_many_synthetic.csv")
    n_series = int(data["series"].max())
    n_time = int(data["idx"].max())
    return data["observed"].reshape(n_series, n_time), data["epoch"][:n_time]


@pytest.mark.parametrize(
    ("name", "settings"),
    [
        ("farringtonFlexible_many_noufaily_synthetic.csv", VIGNETTE_NOUFAILY),
        ("farringtonFlexible_many_farrington_synthetic.csv", VIGNETTE_FARRINGTON),
    ],
)
def test_batch_matches_r_on_twenty_series(name: str, settings: dict[str, object]) -> None:
    counts, dates = _many_synthetic()
    ref = _columns(name)
    batch = farrington_flexible_many(counts, dates=dates, range=range(211, counts.shape[1]), **settings)
    series = ref["series"].astype(int) - 1
    at = ref["idx"].astype(int) - 1
    np.testing.assert_allclose(batch.threshold[series, at], ref["upperbound"], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(batch.expected[series, at], ref["expected"], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(batch.pvalue[series, at], ref["pvalue"], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(batch.score[series, at], ref["score"], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(batch.dispersion[series, at], ref["phi"], rtol=RTOL)
    np.testing.assert_array_equal(batch.trend[series, at], ref["trend"])
    np.testing.assert_array_equal(batch.alarm[series, at], ref["alarm"] == 1)
    assert batch.alarm.any(), "the planted outbreaks should raise some alarms"
