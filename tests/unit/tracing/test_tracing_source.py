"""Ranking candidate infectors: timing inside the incubation window first, direct exposures over places."""

from __future__ import annotations

import datetime as dt

from fangkong.tracing.rules import incubation_window
from fangkong.tracing.source import Evidence, Timing, incubation_density, overlap, rank_candidates

WINDOW = incubation_window(None)
CASE = Timing(1, onset=dt.date(2022, 7, 10), sampling=None, isolated_at=None)


def _timing(case_id: int, onset: dt.date, isolated: dt.datetime | None = None) -> Timing:
    return Timing(case_id, onset=onset, sampling=None, isolated_at=isolated)


def test_a_direct_exposure_at_the_typical_lag_ranks_first() -> None:
    candidates = {
        2: _timing(2, dt.date(2022, 7, 6)),
        3: _timing(3, dt.date(2022, 7, 6)),
        4: _timing(4, dt.date(2022, 7, 6)),
    }
    evidence = [
        Evidence(2, "shared_place_same_time", dt.datetime(2022, 7, 5, 12), "both at 面馆"),
        Evidence(3, "exposure", dt.datetime(2022, 7, 5, 19), "household exposure"),
        Evidence(4, "exposure", dt.datetime(2022, 6, 20, 19), "office exposure"),  # 20 days: outside
    ]
    ranked = rank_candidates(CASE, evidence, candidates, WINDOW, infectious_days_before=4)
    assert [c.case_id for c in ranked] == [3, 2]
    assert ranked[0].score > ranked[1].score
    assert "household exposure on 2022-07-05 19:00, 4 d before onset" in ranked[0].reasons[0]


def test_an_isolated_candidate_cannot_have_infected_afterwards() -> None:
    candidates = {2: _timing(2, dt.date(2022, 7, 3), isolated=dt.datetime(2022, 7, 4, 8))}
    evidence = [Evidence(2, "exposure", dt.datetime(2022, 7, 5, 19), "household exposure")]
    assert rank_candidates(CASE, evidence, candidates, WINDOW, infectious_days_before=4) == []


def test_exposure_before_the_candidates_infectious_window_is_discounted() -> None:
    early = {2: _timing(2, dt.date(2022, 7, 20))}  # their own onset long after
    late = {2: _timing(2, dt.date(2022, 7, 6))}
    item = [Evidence(2, "exposure", dt.datetime(2022, 7, 5, 19), "household exposure")]
    (low,) = rank_candidates(CASE, item, early, WINDOW, infectious_days_before=4)
    (high,) = rank_candidates(CASE, item, late, WINDOW, infectious_days_before=4)
    assert low.score < high.score
    assert "before their infectious window" in low.reasons[0]


def test_several_items_add_up_and_no_anchor_means_no_ranking() -> None:
    candidates = {2: _timing(2, dt.date(2022, 7, 6))}
    one = [Evidence(2, "shared_place_same_day", dt.datetime(2022, 7, 5, 12), "both at 超市")]
    two = [*one, Evidence(2, "shared_place_same_day", dt.datetime(2022, 7, 6, 12), "both at 超市")]
    assert (
        rank_candidates(CASE, two, candidates, WINDOW, 4)[0].score
        > rank_candidates(CASE, one, candidates, WINDOW, 4)[0].score
    )
    assert rank_candidates(Timing(1, None, None, None), one, candidates, WINDOW, 4) == []


def test_the_incubation_density_peaks_near_four_days() -> None:
    values = {d: incubation_density(d, WINDOW) for d in (1, 4, 5, 14)}
    assert values[4] > values[1]
    assert values[4] > values[14]
    assert incubation_density(0, WINDOW) == 0.0


def test_visits_meet_when_their_slots_overlap_or_share_a_day() -> None:
    t = lambda h, d=5: dt.datetime(2022, 7, d, h)  # noqa: E731
    assert overlap(t(12), t(13), t(12), t(14)) == (t(12), True)
    assert overlap(t(9), t(10), t(15), t(16)) == (t(15), False)
    assert overlap(t(9), t(10), t(9, 6), None) is None
