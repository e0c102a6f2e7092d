"""The transmission graph as arrays: clusters agree with a union-find, generations, serial intervals."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fangkong.tracing.chains import (
    NO_GENERATION,
    cluster_labels,
    generations,
    layered_layout,
    serial_intervals,
    summarise_intervals,
)


def _union_find(ids: list[int], links: list[tuple[int, int]]) -> dict[int, int]:
    parent = {i: i for i in ids}

    def root(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in links:
        ra, rb = root(a), root(b)
        parent[max(ra, rb)] = min(ra, rb)
    return {i: min(j for j in ids if root(j) == root(i)) for i in ids}


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_clusters_are_the_connected_groups_labelled_by_their_smallest_case(data: st.DataObject) -> None:
    ids = sorted(data.draw(st.sets(st.integers(1, 500), min_size=1, max_size=40)))
    links = data.draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)), max_size=60))
    labels = cluster_labels(
        np.array(ids, dtype=np.int64),
        np.array([a for a, _ in links], dtype=np.int64),
        np.array([b for _, b in links], dtype=np.int64),
    )
    assert dict(zip(ids, labels.tolist(), strict=True)) == _union_find(ids, links)


def test_generations_count_links_from_the_roots() -> None:
    # 0 → 1 → 2, 0 → 3, 4 alone, 5 ↔ 6 a cycle that no root reaches.
    src = np.array([0, 1, 0, 5, 6])
    dst = np.array([1, 2, 3, 6, 5])
    assert generations(7, src, dst).tolist() == [1, 2, 3, 2, 1, NO_GENERATION, NO_GENERATION]


def test_serial_intervals_and_their_summary() -> None:
    onset = np.array([0.0, 4.0, np.nan, 3.0])
    intervals = serial_intervals(onset, np.array([0, 0, 1]), np.array([1, 2, 3]))
    assert intervals[0] == 4.0
    assert np.isnan(intervals[1])
    assert intervals[2] == -1.0
    summary = summarise_intervals(intervals)
    assert (summary.n, summary.mean, summary.negative, summary.median) == (2, 1.5, 1, 1.5)
    assert summarise_intervals(np.array([np.nan])).n == 0


def test_the_layered_layout_puts_each_generation_in_its_column() -> None:
    gen = np.array([1, 2, 2, 3, NO_GENERATION])
    x, y = layered_layout(gen, np.array([0.0, 5.0, 3.0, 9.0, 1.0]))
    assert x.tolist() == [120.0, 240.0, 240.0, 360.0, 0.0]
    assert y[2] < y[1]  # the earlier onset is drawn first in its column
    assert y[1] == -y[2]


def test_ten_thousand_cases_in_one_chain_are_cheap() -> None:
    n = 10_000
    rng = np.random.default_rng(7)
    dst = np.arange(1, n)
    src = (rng.random(n - 1) * dst).astype(np.int64)
    ids = np.arange(1, n + 1, dtype=np.int64)
    assert set(cluster_labels(ids, ids[src], ids[dst]).tolist()) == {1}
    assert generations(n, src, dst).min() == 1
