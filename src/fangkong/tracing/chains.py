"""The transmission graph as arrays: clusters, generations, serial intervals and a drawable layout.

Pure numpy/scipy: node ids and edge lists in, arrays out. Clusters are the weakly connected components
of the infector → infectee graph (scipy.sparse.csgraph, linear in the number of links), labelled by the
smallest case id in each so that a label is stable however often it is recomputed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, shortest_path

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

NO_GENERATION = -1
"""Generation of a case that no chain root reaches (it sits on a cycle of links)."""


def _index(node_ids: IntArray, ids: IntArray) -> IntArray:
    """Positions of ``ids`` in the sorted ``node_ids`` (every id must be present)."""
    positions = np.searchsorted(node_ids, ids)
    if len(ids) and (positions.max(initial=0) >= len(node_ids) or np.any(node_ids[positions] != ids)):
        raise ValueError("a link names a case that is not among the nodes")
    return positions.astype(np.int64)


def cluster_labels(node_ids: IntArray, infectors: IntArray, infectees: IntArray) -> IntArray:
    """For each node (``node_ids`` sorted ascending), the smallest node id of its connected component."""
    n = len(node_ids)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    src = _index(node_ids, infectors)
    dst = _index(node_ids, infectees)
    graph = coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n)).tocsr()
    count, component = connected_components(graph, directed=True, connection="weak")
    smallest = np.full(count, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(smallest, component, node_ids)
    labels: IntArray = smallest[component]
    return labels


def generations(n: int, src: IntArray, dst: IntArray) -> IntArray:
    """Generation of each node (1 for a chain's roots, the shortest link count from a root plus one).

    ``src``/``dst`` are node positions. A node only reachable through a cycle gets ``NO_GENERATION``.
    """
    if n == 0:
        return np.empty(0, dtype=np.int64)
    has_infector = np.zeros(n, dtype=bool)
    has_infector[dst] = True
    roots = np.flatnonzero(~has_infector)
    # One search from a virtual root joined to every real root: generation = distance from it.
    virtual = n
    rows = np.concatenate([src, np.full(len(roots), virtual)])
    cols = np.concatenate([dst, roots])
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n + 1, n + 1)).tocsr()
    distance = shortest_path(graph, method="D", directed=True, unweighted=True, indices=virtual)[:n]
    result = np.full(n, NO_GENERATION, dtype=np.int64)
    finite = np.isfinite(distance)
    result[finite] = distance[finite].astype(np.int64)
    return result


def serial_intervals(onset_days: FloatArray, src: IntArray, dst: IntArray) -> FloatArray:
    """Days from infector onset to infectee onset for each link whose two onsets are known (NaN else)."""
    values: FloatArray = onset_days[dst] - onset_days[src]
    return values


@dataclass(frozen=True, slots=True)
class IntervalSummary:
    n: int
    mean: float | None
    sd: float | None
    median: float | None
    negative: int

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "n": self.n,
            "mean": self.mean,
            "sd": self.sd,
            "median": self.median,
            "negative": self.negative,
        }


def summarise_intervals(values: FloatArray) -> IntervalSummary:
    """Mean, sd and median of the known intervals; ``negative`` counts infectees with the earlier onset
    (pre-symptomatic transmission, as Tindale et al. 2020 found in Singapore and Tianjin)."""
    known = values[np.isfinite(values)]
    if len(known) == 0:
        return IntervalSummary(0, None, None, None, 0)
    sd = float(np.std(known, ddof=1)) if len(known) > 1 else None
    return IntervalSummary(
        n=len(known),
        mean=round(float(np.mean(known)), 2),
        sd=round(sd, 2) if sd is not None and math.isfinite(sd) else None,
        median=float(np.median(known)),
        negative=int(np.sum(known < 0)),
    )


def layered_layout(generation: IntArray, order_key: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Positions for a large graph drawn without a force simulation: one column per generation, nodes of
    a column ordered by ``order_key`` (e.g. onset day) and centred."""
    n = len(generation)
    x = np.zeros(n)
    y = np.zeros(n)
    if n == 0:
        return x, y
    column = np.where(generation == NO_GENERATION, 0, generation).astype(np.int64)
    order = np.lexsort((order_key, column))
    sorted_columns = column[order]
    starts = np.searchsorted(sorted_columns, sorted_columns, side="left")
    rank = np.arange(n) - starts
    sizes = np.bincount(column)
    y[order] = rank - (sizes[sorted_columns] - 1) / 2.0
    x[:] = column * 120.0
    y *= 24.0
    return x, y
