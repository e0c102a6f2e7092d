"""Prospective space-time permutation scan statistic (Kulldorff et al. 2005), as SaTScan runs it.

ALGORITHM (source: Kulldorff M, Heffernan R, Hartman J, Assunção R, Mostashari F. "A space-time
permutation scan statistic for disease outbreak detection". PLoS Medicine 2005;2(3):e59; and
reference/surveillance/ALGORITHMS.md section 3, read from SaTScan ``SpaceTimePermutationModel.cpp``):

* Data: c[z, d] cases in area z on day d, C = sum of all. Only case counts are needed: the model
  conditions on both margins, so no population is used.
* Expected counts: mu[z, d] = (sum_d c[z, d]) * (sum_z c[z, d]) / C, i.e. what each cell would hold if
  where and when cases occur were independent.
* Cylinders: a circular zone (a centre area and its nearest neighbours by centroid distance, growing
  until the maximum spatial size) crossed with a time window. Prospective: every window ends on the
  last day, length 1..``max_days``. A circle must contain every area at its radius (ties are taken
  together), as in SaTScan. mu_A = sum of mu over the cylinder = zone total * window total / C.
* Score: for c_A > mu_A the log generalised likelihood ratio
  LLR = c_A log(c_A / mu_A) + (C - c_A) log((C - c_A) / (C - mu_A)), else 0 (only excesses count).
  The most likely cluster maximises it; SaTScan also requires at least ``min_cases`` cases.
* Inference: Monte Carlo over random permutations of the case dates among cases (locations kept),
  which keeps both margins. With R replicates and the observed LLR ranked among them,
  p = (1 + #{replicate maxima >= LLR}) / (R + 1). For a daily analysis the recurrence interval is 1/p
  days (how often a cluster at least this strong arises by chance).
* Secondary clusters: cylinders in decreasing LLR order that share no area with a cluster already
  reported (SaTScan's default "no geographical overlap"), each with a p-value against the same
  distribution of replicate maxima (conservative, as in SaTScan).

Only the last ``max_days`` days enter a prospective window, so a replicate only needs which cases
land on those days: a uniform random ordered sample of cases, without replacement, split into the
day totals of the last days, is the same permutation distribution restricted to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from fangkong.analytics.detection.base import DetectorParameterError
from fangkong.analytics.detection.stscan_kernel import replicate_max_llr, scan_zones

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

REPLICATES = 999
"""Monte Carlo replicates (count); SaTScan default ``MonteCarloReps=999``."""
MAX_CASE_SHARE = 0.5
"""Largest share of all cases whose areas a circle may hold (fraction); SaTScan default maximum spatial
cluster size, 50 percent of the population at risk (for this model, the cases)."""
MAX_PERIOD_SHARE = 0.5
"""Longest window as a share of the study period when ``max_days`` is not given (fraction); SaTScan
default maximum temporal cluster size, 50 percent of the study period."""
MIN_CASES = 2
"""Fewest cases in a reported cluster (cases); SaTScan 9.x default minimum cases in high-rate clusters."""
MAX_CLUSTERS = 10
"""Most clusters reported, the most likely one included (count)."""
REPLICATE_BATCH_CELLS = 2_000_000
"""Replicate draws held in memory at once (cases x replicates); bounds memory, not results."""


@dataclass(frozen=True)
class SpaceTimeCluster:
    """One cluster: its areas (indices, centre first), days (indices, both ends included) and statistics."""

    areas: IntArray
    centre: int
    radius: float
    start_day: int
    end_day: int
    observed: int
    expected: float
    llr: float
    pvalue: float
    recurrence_interval_days: float

    @property
    def observed_over_expected(self) -> float:
        return self.observed / self.expected


@dataclass(frozen=True)
class SpaceTimeScan:
    """Clusters found (most likely first), expected counts per area and day, replicate maxima."""

    clusters: tuple[SpaceTimeCluster, ...]
    expected: FloatArray
    replicate_llr: FloatArray
    params: dict[str, object] = field(default_factory=dict)

    @property
    def most_likely(self) -> SpaceTimeCluster | None:
        return self.clusters[0] if self.clusters else None


@dataclass(frozen=True)
class _Zones:
    order: IntArray
    distance: FloatArray
    length: IntArray
    complete: BoolArray


def _case_matrix(cases: npt.ArrayLike) -> FloatArray:
    arr = np.asarray(cases, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise DetectorParameterError(f"cases must be a non-empty (areas, days) array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr != np.round(arr)):
        raise DetectorParameterError("cases must hold whole, non-negative case counts")
    return arr


def _centroid_matrix(centroids: npt.ArrayLike, n_areas: int) -> FloatArray:
    arr = np.asarray(centroids, dtype=np.float64)
    if arr.shape != (n_areas, 2):
        raise DetectorParameterError(f"centroids must have shape ({n_areas}, 2), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise DetectorParameterError("centroids must be finite")
    return arr


def _zones(
    xy: FloatArray,
    area_total: FloatArray,
    total: float,
    max_share: float,
    max_neighbours: int | None,
    max_radius: float | None,
) -> _Zones:
    """Areas of every circle around every centre, nearest first, cut at the size limits."""
    n = xy.shape[0]
    dist = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
    order = np.argsort(dist, axis=1, kind="stable")
    sorted_dist = np.take_along_axis(dist, order, axis=1)
    allowed = np.cumsum(area_total[order], axis=1) <= max_share * total + 1e-9
    if max_neighbours is not None:
        allowed &= np.arange(n)[None, :] < max_neighbours
    if max_radius is not None:
        allowed &= sorted_dist <= max_radius
    length = np.where(allowed.all(axis=1), n, np.argmin(allowed, axis=1)).astype(np.int64)
    width = int(length.max()) if n else 0
    complete = np.ones((n, width), dtype=np.bool_)
    if n > 1:
        complete[:, : min(width, n - 1)] = (sorted_dist[:, 1:] > sorted_dist[:, :-1])[:, :width]
    return _Zones(
        order=np.ascontiguousarray(order[:, :width]),
        distance=np.ascontiguousarray(sorted_dist[:, :width]),
        length=length,
        complete=complete,
    )


def _replicate_maxima(
    rng: np.random.Generator,
    replicates: int,
    case_area: IntArray,
    late_counts: IntArray,
    n_areas: int,
    area_total: FloatArray,
    recent_total: FloatArray,
    total: float,
    zones: _Zones,
    min_cases: float,
) -> FloatArray:
    late = int(late_counts.sum())
    day_start = np.concatenate([[0], np.cumsum(late_counts)]).astype(np.int64)
    out = np.zeros(replicates)
    batch = max(1, REPLICATE_BATCH_CELLS // max(late, 1))
    for first in range(0, replicates, batch):
        rows = min(batch, replicates - first)
        draws = np.empty((rows, late), dtype=np.int64)
        for r in range(rows):
            draws[r] = case_area[rng.choice(case_area.shape[0], size=late, replace=False)]
        chunk = np.empty(rows)
        replicate_max_llr(
            draws, day_start, n_areas, area_total, recent_total, total,
            zones.order, zones.length, zones.complete, min_cases, chunk,
        )  # fmt: skip
        out[first : first + rows] = chunk
    return out


def space_time_permutation_scan(
    cases: npt.ArrayLike,
    centroids: npt.ArrayLike,
    *,
    rng: np.random.Generator,
    replicates: int = REPLICATES,
    max_share: float = MAX_CASE_SHARE,
    max_neighbours: int | None = None,
    max_radius: float | None = None,
    max_days: int | None = None,
    min_cases: int = MIN_CASES,
    max_clusters: int = MAX_CLUSTERS,
) -> SpaceTimeScan:
    """Find space-time clusters that end on the last day (see the module docstring).

    ``cases`` is (areas, days), oldest day first; ``centroids`` (areas, 2) in any planar unit (the
    unit of ``max_radius``). A circle may hold at most ``max_share`` of all cases, and, if given, at
    most ``max_neighbours`` areas and radius ``max_radius``. Windows last 1..``max_days`` days
    (default: half the study period). ``rng`` drives the Monte Carlo permutations.
    """
    counts = _case_matrix(cases)
    n_areas, n_days = counts.shape
    xy = _centroid_matrix(centroids, n_areas)
    if not isinstance(rng, np.random.Generator):
        raise DetectorParameterError("rng must be a numpy.random.Generator")
    if replicates < 0:
        raise DetectorParameterError(f"replicates must be >= 0, got {replicates}")
    if not 0.0 < max_share <= 1.0:
        raise DetectorParameterError(f"max_share must lie in (0, 1], got {max_share}")
    if max_neighbours is not None and max_neighbours < 1:
        raise DetectorParameterError(f"max_neighbours must be >= 1, got {max_neighbours}")
    if max_radius is not None and max_radius < 0:
        raise DetectorParameterError(f"max_radius must be >= 0, got {max_radius}")
    days = max(1, int(MAX_PERIOD_SHARE * n_days)) if max_days is None else max_days
    if not 1 <= days <= n_days:
        raise DetectorParameterError(f"max_days must lie in 1..{n_days}, got {max_days}")
    if min_cases < 0 or max_clusters < 1:
        raise DetectorParameterError("min_cases must be >= 0 and max_clusters >= 1")
    params: dict[str, object] = {
        "replicates": replicates,
        "max_share": max_share,
        "max_neighbours": max_neighbours,
        "max_radius": max_radius,
        "max_days": days,
        "min_cases": min_cases,
        "max_clusters": max_clusters,
    }

    total = float(counts.sum())
    area_total = counts.sum(axis=1)
    day_total = counts.sum(axis=0)
    expected = np.outer(area_total, day_total) / total if total > 0 else np.zeros_like(counts)
    if total == 0:
        return SpaceTimeScan(
            clusters=(), expected=expected, replicate_llr=np.zeros(replicates), params=params
        )
    # recent[:, d]: cases in the last d + 1 days
    recent = np.ascontiguousarray(np.cumsum(counts[:, ::-1][:, :days], axis=1))
    recent_total = recent.sum(axis=0)
    zones = _zones(xy, area_total, total, max_share, max_neighbours, max_radius)

    best_llr = np.zeros(zones.order.shape)
    best_days = np.full(zones.order.shape, -1, dtype=np.int64)
    scan_zones(
        recent, area_total, recent_total, total, zones.order, zones.length, zones.complete,
        float(min_cases), best_llr, best_days,
    )  # fmt: skip

    case_area = np.repeat(np.arange(n_areas, dtype=np.int64), area_total.astype(np.int64))
    late_counts = day_total[::-1][:days].astype(np.int64)
    maxima = _replicate_maxima(
        rng, replicates, case_area, late_counts, n_areas, area_total, recent_total, total, zones,
        float(min_cases),
    )  # fmt: skip

    clusters: list[SpaceTimeCluster] = []
    used = np.zeros(n_areas, dtype=np.bool_)
    width = zones.order.shape[1]
    flat = np.flatnonzero(best_llr.ravel() > 0)
    for pos in flat[np.argsort(-best_llr.ravel()[flat], kind="stable")]:
        i, j = divmod(int(pos), width)
        areas = zones.order[i, : j + 1]
        if used[i] or used[areas].any():
            continue
        d = int(best_days[i, j])
        llr = float(best_llr[i, j])
        pvalue = (1.0 + np.count_nonzero(maxima >= llr)) / (replicates + 1.0) if replicates else np.nan
        clusters.append(
            SpaceTimeCluster(
                areas=areas.copy(),
                centre=i,
                radius=float(zones.distance[i, j]),
                start_day=n_days - 1 - d,
                end_day=n_days - 1,
                observed=int(recent[areas, d].sum()),
                expected=float(area_total[areas].sum() * recent_total[d] / total),
                llr=llr,
                pvalue=float(pvalue),
                recurrence_interval_days=float(1.0 / pvalue),
            )
        )
        used[areas] = True
        if len(clusters) == max_clusters:
            break
    return SpaceTimeScan(clusters=tuple(clusters), expected=expected, replicate_llr=maxima, params=params)
