"""Timeliness as distributions: quantiles as numpy's default (R type 7), histogram bins, shares, and open
items past the target counting against the share within it."""

from __future__ import annotations

import numpy as np
import pytest

from fangkong.response.rules.timeliness import DEFAULT_EDGES_HOURS, distribution, histogram, quantile, share


@pytest.mark.parametrize(
    "values", [[1.0], [3.0, 1.0], [0.5, 2.0, 2.5, 7.0, 30.0], list(np.linspace(0, 50, 37))]
)
@pytest.mark.parametrize("q", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_quantile_agrees_with_numpy(values: list[float], q: float) -> None:
    assert quantile(values, q) == pytest.approx(float(np.quantile(values, q)))


def test_quantile_of_nothing_and_out_of_range() -> None:
    assert quantile([], 0.5) is None
    with pytest.raises(ValueError, match="outside"):
        quantile([1.0], 1.5)


def test_histogram_bins_are_half_open_and_the_last_is_open_ended() -> None:
    assert histogram([0.0, 0.99, 1.0, 2.0, 3.9, 4.0, 47.0, 48.0, 500.0, -1.0]) == [3, 1, 2, 1, 0, 0, 1, 2]
    assert sum(histogram([5.0] * 7)) == 7 and len(histogram([], DEFAULT_EDGES_HOURS)) == len(
        DEFAULT_EDGES_HOURS
    )
    with pytest.raises(ValueError, match="increasing"):
        histogram([1.0], [2.0, 1.0])


def test_share() -> None:
    assert share(1, 4) == 0.25 and share(0, 0) is None


def test_distribution_counts_open_items_past_the_target_as_missed() -> None:
    d = distribution([1.0, 3.0], 2.0, waiting=[5.0, 0.5])
    assert (d.n, d.median, d.p90, d.target_hours) == (2, 2.0, 2.8, 2.0)
    assert d.within_target == pytest.approx(
        1 / 3
    )  # 1 h met; 3 h missed; waiting 5 h missed; 0.5 h not judged
    assert (d.waiting, d.waiting_late) == (2, 1)
    assert d.counts[1] == 1 and d.counts[2] == 1
    empty = distribution([], 2.0)
    assert (empty.median, empty.p90, empty.within_target) == (None, None, None)
    assert distribution([1.0]).within_target is None
