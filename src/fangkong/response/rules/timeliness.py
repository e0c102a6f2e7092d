"""Timeliness as distributions: how long things took, not only whether a deadline was met.

A share of deadlines met hides the long tail (CIDARS answered 65.7 % of its 2-hour signals within 2 h in
2016, and the rest could have taken a day or a week); the command centre reads the median, the 90th
percentile and a histogram of hours beside the share within the target. Pure: no I/O.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

# Histogram bin edges in hours: fine where the "2+4+24" promises sit, coarse after a day.
DEFAULT_EDGES_HOURS: tuple[float, ...] = (0.0, 1.0, 2.0, 4.0, 8.0, 12.0, 24.0, 48.0)


def quantile(values: Sequence[float], q: float, *, ordered: bool = False) -> float | None:
    """The ``q`` quantile (0..1) by linear interpolation between order statistics (numpy's default,
    R's type 7); None for no values. ``ordered``: the values are sorted already."""
    if not values:
        return None
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile {q} is outside 0..1")
    ordered_values = values if ordered else sorted(values)
    return _interpolated(ordered_values, q)


def _interpolated(ordered: Sequence[float], q: float) -> float:
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def histogram(values: Sequence[float], edges: Sequence[float] = DEFAULT_EDGES_HOURS) -> list[int]:
    """Counts per bin [edges[i], edges[i+1]); the last bin is open ("48 h and more"); values below the
    first edge count in the first bin."""
    if not edges or list(edges) != sorted(edges):
        raise ValueError("bin edges must be given in increasing order")
    counts = [0] * len(edges)
    for value in values:
        # The bin whose lower edge is the last one at or below the value (below the first: the first).
        counts[max(0, bisect.bisect_right(edges, value) - 1)] += 1
    return counts


def share(part: int, whole: int) -> float | None:
    """``part / whole`` as a fraction, None when there is nothing to divide."""
    return part / whole if whole > 0 else None


@dataclass(frozen=True)
class Distribution:
    """A delay's distribution in hours: how many, median, 90th percentile, share within the target,
    the histogram and, apart, how many are still waiting (not done yet: their delay is not known)."""

    n: int
    median: float | None
    p90: float | None
    target_hours: float | None
    within_target: float | None
    edges: tuple[float, ...]
    counts: tuple[int, ...]
    waiting: int = 0
    waiting_late: int = 0


def distribution(
    hours: Sequence[float],
    target_hours: float | None = None,
    *,
    waiting: Sequence[float] = (),
    edges: Sequence[float] = DEFAULT_EDGES_HOURS,
) -> Distribution:
    """The distribution of ``hours`` (finished delays). ``waiting`` are the hours open items have waited
    so far: an open item already past the target counts against the share within it, because leaving
    the overdue ones out would flatter the figure exactly when things go wrong."""
    ordered = sorted(hours)
    return summarised(
        len(ordered),
        quantile(ordered, 0.5, ordered=True),
        quantile(ordered, 0.9, ordered=True),
        bisect.bisect_right(ordered, target_hours) if target_hours is not None else 0,
        histogram(ordered, edges),
        target_hours,
        waiting=waiting,
        edges=edges,
    )


def summarised(
    n: int,
    median: float | None,
    p90: float | None,
    within: int,
    counts: Sequence[int],
    target_hours: float | None,
    *,
    waiting: Sequence[float] = (),
    edges: Sequence[float] = DEFAULT_EDGES_HOURS,
) -> Distribution:
    """A distribution from figures a database summarised (``within``: finished items at or under the
    target), with the open items' waits judged as in :func:`distribution`."""
    late_waiting = sum(1 for w in waiting if target_hours is not None and w > target_hours)
    return Distribution(
        n=n,
        median=_rounded(median),
        p90=_rounded(p90),
        target_hours=target_hours,
        within_target=share(within, n + late_waiting) if target_hours is not None else None,
        edges=tuple(edges),
        counts=tuple(counts),
        waiting=len(waiting),
        waiting_late=late_waiting,
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
