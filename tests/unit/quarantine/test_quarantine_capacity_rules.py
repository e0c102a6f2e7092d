"""Pure capacity rules: reserve standard, site transitions, the projection, days until full, activation."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.quarantine.models import SiteStatus
from fangkong.quarantine.rules.capacity import (
    RESERVE_ROOMS_PER_10K,
    RESERVE_STANDARD_SOURCE,
    TRANSITIONS,
    ActivationDecision,
    DayFlow,
    ReserveSite,
    days_until,
    days_until_full,
    decide_activation,
    project,
    reserve_figures,
    threshold_problem,
    transition_problem,
)

DAY = dt.date(2026, 12, 7)


def test_the_standard_is_20_rooms_per_10000_with_its_source() -> None:
    assert RESERVE_ROOMS_PER_10K == 20
    assert "S19" in RESERVE_STANDARD_SOURCE
    assert "2021-09-29" in RESERVE_STANDARD_SOURCE


def test_reserve_figures_by_hand() -> None:
    # 200,000 residents need 400 rooms; 350 rooms are 17.5 per 10,000, 50 short.
    figures = reserve_figures(200_000, 350)
    assert figures.required == 400
    assert figures.per_10k == pytest.approx(17.5)
    assert figures.shortfall == 50
    assert not figures.meets_standard
    # 15,001 residents need 30.002 rooms: 30 rooms fall short by one.
    assert reserve_figures(15_001, 30).shortfall == 1
    assert reserve_figures(15_000, 30).meets_standard
    assert reserve_figures(10_000, 45).shortfall == 0
    nobody = reserve_figures(0, 3)
    assert nobody.per_10k is None
    assert nobody.required == 0
    assert nobody.meets_standard


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (SiteStatus.reserve, SiteStatus.preparing),
        (SiteStatus.preparing, SiteStatus.open),
        (SiteStatus.open, SiteStatus.closing),
        (SiteStatus.closing, SiteStatus.reserve),
        (SiteStatus.closing, SiteStatus.closed),
        (SiteStatus.reserve, SiteStatus.closed),
        (SiteStatus.preparing, SiteStatus.closed),
    ],
)
def test_allowed_transitions(current: SiteStatus, target: SiteStatus) -> None:
    assert transition_problem("甲酒店", current, target) is None


def test_every_other_transition_is_refused_with_a_message() -> None:
    refused = [(a, b) for a in SiteStatus for b in SiteStatus if b not in TRANSITIONS[a]]
    assert (SiteStatus.reserve, SiteStatus.open) in refused
    assert (SiteStatus.open, SiteStatus.reserve) in refused
    assert (SiteStatus.open, SiteStatus.closed) in refused
    for current, target in refused:
        problem = transition_problem("甲酒店", current, target)
        assert problem is not None
        assert "甲酒店" in str(problem)
    assert "cannot become open" in str(transition_problem("甲酒店", SiteStatus.reserve, SiteStatus.open))
    assert "closed for good" in str(transition_problem("甲酒店", SiteStatus.closed, SiteStatus.reserve))


def _flows(*pairs: tuple[int, int]) -> list[DayFlow]:
    return [DayFlow(DAY + dt.timedelta(days=i), a, r) for i, (a, r) in enumerate(pairs)]


def test_projection_adds_arrivals_and_takes_releases() -> None:
    days = project(6, 10, _flows((3, 1), (0, 4), (2, 0), (0, 20)))
    assert [d.occupied for d in days] == [8, 4, 6, 0]
    assert days[0].share == pytest.approx(0.8)
    assert days[0].day == DAY
    # Demand beyond the capacity stays visible: it is what the next tier must hold.
    over = project(9, 10, _flows((5, 0)))
    assert over[0].occupied == 14
    assert over[0].share == pytest.approx(1.4)
    assert project(0, 0, _flows((1, 0)))[0].share is None


def test_days_until_full() -> None:
    days = project(6, 10, _flows((1, 0), (2, 0), (1, 0), (5, 0)))  # 7, 9, 10, 15
    assert days_until_full(days, 6, 10) == 2
    assert days_until(days, 6, 8) == 1
    assert days_until_full(days, 10, 10) == 0  # full already
    assert days_until_full(project(2, 10, _flows((0, 0), (1, 1))), 2, 10) is None
    # No open room: any demand is "full now"; none at all is not full.
    assert days_until_full(project(0, 0, _flows((1, 0))), 0, 0) == 0
    assert days_until_full(project(0, 0, _flows((0, 0))), 0, 0) is None


def _reserve() -> list[ReserveSite]:
    return [
        ReserveSite(1, "二级甲", 2, 24, 40),
        ReserveSite(2, "二级乙", 2, 12, 30),
        ReserveSite(3, "三级", 3, 48, 100),
    ]


def _decide(
    occupied: int,
    capacity: int,
    flows: list[DayFlow],
    *,
    waiting: int = 0,
    threshold: float = 0.8,
    forecast_hours: int = 48,
    reserve: list[ReserveSite] | None = None,
) -> ActivationDecision:
    projection = project(occupied, capacity, flows)
    return decide_activation(
        occupied=occupied,
        capacity=capacity,
        waiting=waiting,
        threshold=threshold,
        forecast_hours=forecast_hours,
        projection=projection,
        hours_ahead=[0.0, 4.0, 28.0, 52.0, 76.0][: len(projection)],
        reserve=_reserve() if reserve is None else reserve,
    )


def test_activation_when_the_threshold_is_crossed_names_the_next_tier() -> None:
    decision = _decide(80, 100, _flows((0, 0)))
    assert decision.activate
    assert decision.occupancy == pytest.approx(0.8)
    assert decision.next_tier == 2
    # Quickest to open first.
    assert [s.name for s in decision.sites] == ["二级乙", "二级甲"]
    text = " ".join(str(r) for r in decision.reasons)
    assert "80% occupied (80 of 100)" in text
    assert "tier 2 is next: 2 sites in reserve with 70 rooms" in text


def test_no_activation_below_the_threshold_and_a_calm_forecast() -> None:
    decision = _decide(79, 100, _flows((0, 0), (1, 2), (0, 0)))
    assert not decision.activate
    assert decision.hours_until_threshold is None
    assert "below the threshold of 80%" in str(decision.reasons[0])


def test_the_forecast_triggers_within_the_horizon_only() -> None:
    # 70 now; +5 tomorrow (4 h ahead) is 75, +6 the day after (28 h ahead) is 81 ≥ 80.
    flows = _flows((0, 0), (5, 0), (6, 0))
    decision = _decide(70, 100, flows)
    assert decision.activate
    assert decision.hours_until_threshold == pytest.approx(28.0)
    assert "in about 28 h, within the horizon of 48 h" in str(decision.reasons[0])
    later = _decide(70, 100, flows, forecast_hours=24)
    assert not later.activate
    assert "beyond the horizon of 24 h" in str(later.reasons[0])


def test_nothing_open_and_people_waiting_opens_tier_one_first() -> None:
    reserve = [*_reserve(), ReserveSite(9, "一级", 1, 6, 20)]
    decision = _decide(0, 0, _flows((3, 0)), waiting=3, reserve=reserve)
    assert decision.activate
    assert decision.next_tier == 1
    assert [s.site_id for s in decision.sites] == [9]
    assert "no room is open and 3 people are waiting" in str(decision.reasons[0])


def test_triggered_with_no_reserve_left_says_so() -> None:
    decision = _decide(95, 100, _flows((0, 0)), reserve=[])
    assert not decision.activate
    assert decision.next_tier is None
    assert "no site is left in reserve" in str(decision.reasons[-1])


def test_rule_values_are_checked() -> None:
    assert threshold_problem(0.8, 48) == []
    assert [name for name, _ in threshold_problem(1.5, 48)] == ["occupancy_threshold"]
    assert [name for name, _ in threshold_problem(0, 200)] == ["occupancy_threshold", "forecast_hours"]
