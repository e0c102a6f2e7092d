"""The nowcast matches R surveillance::nowcast (method "bayes.notrunc.bnb") on a fixed line list.

The line list, the reference and the R script that made them are in tests/fixtures/nowcast/
(``make_reference.R``). Tolerance: the counts (reported, median, interval bounds) are whole numbers and
must be equal; the estimated delay distribution within 1e-12 (floating point only).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from fangkong.analytics.nowcast import NowcastError, nowcast

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "nowcast"
START = dt.date(2020, 3, 1)
NOW = dt.date(2020, 4, 29)
CDF_TOLERANCE = 1e-12


def _days(text: str) -> int:
    return (dt.date.fromisoformat(text) - START).days


def _line_list() -> tuple[list[int], list[int]]:
    with (FIXTURES / "linelist.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [_days(r["onset"]) for r in rows], [_days(r["report"]) for r in rows]


def test_nowcast_matches_r_surveillance_on_the_committed_reference() -> None:
    onset, report = _line_list()
    result = nowcast(onset, report, _days(NOW.isoformat()), max_delay=15)
    with (FIXTURES / "reference.csv").open(encoding="utf-8") as handle:
        reference = list(csv.DictReader(handle))
    assert len(reference) == 21
    for row in reference:
        t = _days(row["date"])
        ours = (result.reported[t], result.median[t], result.lower[t], result.upper[t])
        assert tuple(int(v) for v in ours) == tuple(
            int(row[k]) for k in ("reported", "median", "lower", "upper")
        ), row["date"]
    with (FIXTURES / "delay_cdf.csv").open(encoding="utf-8") as handle:
        cdf = [float(r["cdf"]) for r in csv.DictReader(handle)]
    np.testing.assert_allclose(result.delay_cdf, cdf, rtol=0, atol=CDF_TOLERANCE)


def test_reported_counts_are_what_was_reported_by_now_and_never_changed() -> None:
    onset, report = _line_list()
    now = _days(NOW.isoformat())
    result = nowcast(onset, report, now)
    known = np.bincount(
        [o for o, r in zip(onset, report, strict=True) if r <= now and 0 <= o <= now], minlength=now + 1
    )
    np.testing.assert_array_equal(result.reported, known)
    # The band never lies below what is already known; old days are complete.
    assert np.all(result.lower >= result.reported)
    assert np.all(result.median >= result.reported)
    assert np.all(result.upper >= result.median)
    old = ~result.corrected
    np.testing.assert_array_equal(result.upper[old], result.reported[old])
    assert result.corrected.sum() == 15


def test_the_last_days_are_raised_where_the_delay_hides_cases() -> None:
    # Every case is reported exactly 3 days after onset: the last 3 days are empty by now.
    onset = np.repeat(np.arange(40), 10)
    report = onset + 3
    result = nowcast(onset, report, 39, max_delay=5)
    assert list(result.reported[-3:]) == [0, 0, 0]
    assert np.all(result.median[-3:] > 0)
    assert list(result.reported[:-3]) == [10] * 37


def test_bad_settings_are_refused() -> None:
    with pytest.raises(NowcastError, match="too few"):
        nowcast([0, 1], [1, 2], 5, max_delay=15)
    with pytest.raises(NowcastError, match="before its onset"):
        nowcast([3], [1], 20, max_delay=5)
    with pytest.raises(NowcastError, match="one day per case"):
        nowcast([3, 4], [5], 20, max_delay=5)
