"""Rules of regional rounds: site sizing, deadlines, the stop rule and the round-frequency rule."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.testing.rules.rounds import (
    FrequencyReason,
    RoundOutcome,
    RuleError,
    StopPhase,
    check_pool_size,
    round_deadline_hours,
    round_frequency,
    size_sites,
    stop_advice,
)

D = dt.date(2022, 4, 1)


def day(n: int) -> dt.date:
    return D + dt.timedelta(days=n)


def rounds(*positives: int, start: int = 0, every: int = 1) -> list[RoundOutcome]:
    return [RoundOutcome(day(start + i * every), p) for i, p in enumerate(positives)]


# ----------------------------------------------------------------------------------------------- sites


@pytest.mark.parametrize(
    ("population", "sites", "samplers"),
    [
        (0, 0, 0),
        (1, 1, 1),
        (360, 1, 1),
        (361, 1, 2),
        (2_000, 1, 6),  # 2,000 / 360 = 5.6 → 6 samplers
        (3_000, 1, 9),
        (3_001, 2, 9),  # cannot be split into shares of 2,000-3,000: two smaller sites, never one of 3,001
        (6_000, 2, 17),
        (10_000, 4, 28),  # 2,500 a site
        (10_000_000, 3_334, 27_778),
    ],
)
def test_sites_and_samplers_follow_the_rule(population: int, sites: int, samplers: int) -> None:
    sizing = size_sites(population)
    assert (sizing.sites, sizing.samplers) == (sites, samplers)
    assert sum(sizing.people_per_site) == population
    assert sum(sizing.samplers_per_site) == samplers
    assert all(n <= 3_000 for n in sizing.people_per_site)
    if population >= 6_000:
        assert all(2_000 <= n <= 3_000 for n in sizing.people_per_site)
    assert all(s >= 1 for s in sizing.samplers_per_site)


def test_a_hand_made_community_gets_even_sites() -> None:
    sizing = size_sites(7_400)  # three sites of 2,467 / 2,467 / 2,466; 21 samplers (7,400 / 360 = 20.6)
    assert sizing.people_per_site == (2_467, 2_467, 2_466)
    assert sizing.samplers_per_site == (7, 7, 7)


def test_a_negative_population_is_refused() -> None:
    with pytest.raises(RuleError):
        size_sites(-1)


def test_deadlines_by_protocol_version() -> None:
    assert round_deadline_hours(10_000_000) == 24
    assert round_deadline_hours(4_000_000, "cn-rt-2") == 48
    assert round_deadline_hours(6_000_000, "cn-rt-2") == 72
    with pytest.raises(RuleError):
        round_deadline_hours(1, "cn-rt-9")


def test_pool_sizes() -> None:
    for size in (1, 5, 10, 20):
        check_pool_size(size)
    with pytest.raises(RuleError, match="1, 5, 10, 20"):
        check_pool_size(8)


# ------------------------------------------------------------------------------------------- stop rule


def test_before_any_round_test_today() -> None:
    advice = stop_advice([], day(0))
    assert (advice.phase, advice.clean_streak, advice.next_round_on) == (StopPhase.daily, 0, day(0))


def test_three_clean_daily_rounds_then_wait_three_days() -> None:
    advice = stop_advice(rounds(2, 1, 0, 0), day(3))
    assert advice.phase is StopPhase.daily and advice.clean_streak == 2
    assert advice.next_round_on == day(4)
    advice = stop_advice(rounds(2, 1, 0, 0, 0), day(4))
    assert advice.phase is StopPhase.waiting and advice.clean_streak == 3
    assert advice.next_round_on == day(7)  # the third clean round was on day 4: three days on


def test_the_round_after_the_wait_stops_when_clean() -> None:
    done = [*rounds(2, 0, 0, 0), RoundOutcome(day(6), 0)]
    advice = stop_advice(done, day(6))
    assert advice.stop and advice.next_round_on is None


def test_a_positive_round_resets_the_count() -> None:
    done = [*rounds(0, 0, 0), RoundOutcome(day(5), 1)]
    advice = stop_advice(done, day(5))
    assert advice.phase is StopPhase.daily and advice.clean_streak == 0
    assert advice.next_round_on == day(6)
    # ... and the count starts again after it.
    done += rounds(0, 0, 0, start=6)
    advice = stop_advice(done, day(8))
    assert advice.phase is StopPhase.waiting and advice.next_round_on == day(11)


def test_daily_rounds_during_the_wait_do_not_stop_early() -> None:
    advice = stop_advice(rounds(0, 0, 0, 0, 0), day(4))  # five clean daily rounds: days 0-4
    assert advice.phase is StopPhase.waiting and advice.next_round_on == day(5)
    assert stop_advice(rounds(0, 0, 0, 0, 0, 0), day(5)).stop  # day 5 is three days after day 2


def test_the_next_round_is_never_in_the_past() -> None:
    advice = stop_advice(rounds(0, 0, 0), day(20))
    assert advice.next_round_on == day(20)


def test_round_order_does_not_matter() -> None:
    done = list(reversed([*rounds(1, 0, 0, 0), RoundOutcome(day(6), 0)]))
    assert stop_advice(done, day(6)).stop


# ------------------------------------------------------------------------------------------- frequency


def test_early_rounds_when_the_source_is_unknown() -> None:
    advice = round_frequency(rounds(0, 0), day(1), source_unknown=True)
    assert (advice.interval_days, advice.reason) == (1, FrequencyReason.source_unknown_early)
    advice = round_frequency(rounds(0, 0, 0), day(2), source_unknown=True)
    # Three rounds done and nothing found: the other clauses decide.
    assert (advice.interval_days, advice.reason) == (5, FrequencyReason.no_cases_in_14_days)


def test_daily_with_cases_in_the_last_three_rounds() -> None:
    advice = round_frequency(rounds(1, 0, 0), day(2))
    assert (advice.interval_days, advice.reason) == (1, FrequencyReason.cases_in_recent_rounds)
    assert advice.next_round_on == day(3)


def test_every_other_day_with_cases_within_14_days() -> None:
    advice = round_frequency(rounds(1, 0, 0, 0), day(3))
    assert (advice.interval_days, advice.reason) == (2, FrequencyReason.cases_within_14_days)
    assert advice.next_round_on == day(5)


def test_every_five_days_without_cases_in_14_days() -> None:
    advice = round_frequency(rounds(1, 0, 0, 0, every=5), day(15))
    # The positive round was on day 0: 15 days ago.
    assert (advice.interval_days, advice.reason) == (5, FrequencyReason.no_cases_in_14_days)
    assert advice.next_round_on == day(20)


def test_a_case_found_elsewhere_counts() -> None:
    advice = round_frequency(rounds(0, 0, 0), day(2), last_case_on=day(-3))
    assert advice.reason is FrequencyReason.cases_within_14_days
    advice = round_frequency(rounds(0, 0, 0), day(2), last_case_on=day(-20))
    assert advice.reason is FrequencyReason.no_cases_in_14_days


def test_no_rounds_yet_means_today() -> None:
    advice = round_frequency([], day(0), source_unknown=True)
    assert advice.next_round_on == day(0) and advice.interval_days == 1
