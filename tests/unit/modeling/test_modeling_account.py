"""The account: cost lines are quantity × price and add up, effects are paired by seed, the frontier flags
dominated strategies."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fangkong.analytics.sim import DAILY_FIGURES, SimResult
from fangkong.core.errors import InvalidInput
from fangkong.modeling.account import (
    COST_RULES,
    ArmInput,
    build_account,
    efficient_frontier,
    run_quantities,
)
from fangkong.modeling.prices import DEFAULT_PRICES, Capacity, PriceList

DAYS = 10


def _run(name: str, *, infections: int, severe: int = 0, deaths: int = 0, **daily: int) -> SimResult:
    """A run whose daily figures are constant per day (``daily``) with the given totals on day 0."""
    figures = {figure: np.zeros(DAYS, dtype=np.int64) for figure in DAILY_FIGURES}
    figures["new_infections"][0] = infections
    figures["new_severe"][0] = severe
    figures["new_deaths"][0] = deaths
    for figure, value in daily.items():
        figures[figure][:] = value
    return SimResult(
        strategy=name, days=DAYS, population_size=10_000, daily=figures, seed_infections=0, run_seconds=1.0
    )


def _arm(name: str, runs: list[SimResult], place: str | None = None) -> ArmInput:
    return ArmInput(arm=name, label=name, results=runs, isolation_place=place)


def test_every_cost_line_is_its_quantity_times_its_price_and_the_lines_add_up() -> None:
    runs = [
        _run("a", infections=100, tests=50, tubes=10, in_quarantine_centralized=20, in_quarantine_home=5,
             in_isolation=3, in_lockdown=400, hospital_demand=4, icu_demand=1, contacts_traced=7),
        _run("a", infections=80, tests=70, tubes=14, in_quarantine_centralized=10, in_quarantine_home=9,
             in_isolation=2, in_lockdown=200, hospital_demand=2, icu_demand=0, contacts_traced=3),
    ]  # fmt: skip
    account = build_account(
        [_arm("a", runs, "centralized"), _arm("none", [_run("n", infections=500)] * 2)],
        DEFAULT_PRICES,
        population=10_000,
        seeds=[1, 2],
        reference="none",
    )
    entry = account.arm("a")
    by_key = {line.key: line for line in entry.cost_lines}
    for line in entry.cost_lines:
        assert line.cost == pytest.approx(line.quantity * line.price)
    assert sum(line.cost for line in entry.cost_lines) == pytest.approx(entry.total_cost.mean)
    # Quantities are the runs' means: tests are samples, tubes are tubes.
    assert by_key["sampling"].quantity == pytest.approx((50 + 70) * DAYS / 2)
    assert by_key["lab"].quantity == pytest.approx((10 + 14) * DAYS / 2)
    assert by_key["quarantine_rooms"].quantity == pytest.approx((20 + 10) * DAYS / 2)
    assert by_key["isolation_beds"].quantity == pytest.approx((3 + 2) * DAYS / 2)
    # Staff lines are staff-hours (person-days × hours per person-day) priced by the staff hour.
    assert by_key["staff_lockdown"].quantity == pytest.approx(
        (400 + 200) * DAYS / 2 * DEFAULT_PRICES.value("hours_per_lockdown_day")
    )
    assert by_key["staff_lockdown"].price == DEFAULT_PRICES.value("staff_hour")
    # Hospital bed-days exclude intensive-care days, which have their own price.
    assert by_key["hospital"].quantity == pytest.approx(((4 - 1) + (2 - 0)) * DAYS / 2)
    assert by_key["icu"].quantity == pytest.approx((1 + 0) * DAYS / 2)
    # Lost output counts lockdown, quarantine and isolation person-days.
    assert by_key["lost_output"].quantity == pytest.approx((400 + 20 + 5 + 3 + 200 + 10 + 9 + 2) * DAYS / 2)


def test_isolation_at_home_costs_no_facility_bed_but_staff_time() -> None:
    run = _run("h", infections=1, in_isolation=10)
    facility = run_quantities(run, "centralized")
    home = run_quantities(run, "home")
    assert facility["facility_isolation_days"] == 10 * DAYS and home["facility_isolation_days"] == 0
    assert home["home_isolation_days"] == 10 * DAYS
    # An arm that isolates no one has no isolation days, whatever the simulator's census of the diagnosed.
    nobody = run_quantities(run, None)
    assert (
        nobody["facility_isolation_days"] == nobody["home_isolation_days"] == nobody["lost_output_days"] == 0
    )


def test_a_building_lockdown_counts_the_buildings_share_of_the_compound() -> None:
    run = _run("b", infections=1, in_lockdown=1000)
    assert run_quantities(run, None, 0.05)["lockdown_days"] == pytest.approx(0.05 * 1000 * DAYS)
    assert run_quantities(run, None)["lockdown_days"] == 1000 * DAYS


def test_averted_is_paired_seed_by_seed_against_the_reference() -> None:
    account = build_account(
        [
            _arm("tt", [_run("tt", infections=10, deaths=1), _run("tt", infections=300, deaths=2)]),
            _arm("none", [_run("n", infections=100, deaths=5), _run("n", infections=400, deaths=9)]),
        ],
        DEFAULT_PRICES,
        population=10_000,
        seeds=[1, 2],
        reference="none",
    )
    averted = account.arm("tt").averted
    assert averted["infections"].mean == pytest.approx(((100 - 10) + (400 - 300)) / 2)
    assert averted["deaths"].mean == pytest.approx(((5 - 1) + (9 - 2)) / 2)
    assert account.arm("none").averted["infections"].mean == 0


def test_a_strategy_that_costs_more_and_buys_less_is_dominated() -> None:
    status, _ = efficient_frontier(
        [("none", 0.0, 0.0), ("cheap", 100.0, 50.0), ("dear_and_worse", 300.0, 40.0), ("best", 400.0, 90.0)],
        reference="none",
    )
    assert status["dear_and_worse"] == "dominated"
    assert status["cheap"] == "frontier" and status["best"] == "frontier"
    assert status["none"] == "reference"


def test_a_strategy_beaten_by_a_mix_of_two_others_is_extendedly_dominated() -> None:
    # middle: 200 per unit over "low"; "high" over middle: 50 per unit → buying "high" is the better deal.
    status, increments = efficient_frontier(
        [("low", 0.0, 0.0), ("middle", 2_000.0, 10.0), ("high", 2_500.0, 20.0)], reference="low"
    )
    assert status["middle"] == "extended_dominance"
    assert status["high"] == "frontier"
    assert increments["high"] == pytest.approx(2_500.0 / 20.0)


def test_the_account_flags_a_dominated_arm() -> None:
    account = build_account(
        [
            _arm("good", [_run("g", infections=10, tests=1)]),
            _arm("wasteful", [_run("w", infections=50, tests=500)]),
            _arm("none", [_run("n", infections=100)]),
        ],
        DEFAULT_PRICES,
        population=10_000,
        seeds=[7],
        reference="none",
    )
    assert account.arm("wasteful").status == "dominated"
    assert account.arm("good").status == "frontier"


def test_overridden_prices_are_used_and_marked_and_bad_ones_refused() -> None:
    prices = DEFAULT_PRICES.with_overrides({"lab_tube": 40.0})
    assert prices.value("lab_tube") == 40.0 and prices["lab_tube"].basis == "override"
    account = build_account(
        [_arm("a", [_run("a", infections=1, tubes=3)]), _arm("none", [_run("n", infections=1)])],
        prices, population=100, seeds=[1], reference="none",
    )  # fmt: skip
    lab = next(line for line in account.arm("a").cost_lines if line.key == "lab")
    assert lab.cost == pytest.approx(3 * DAYS * 40.0)
    with pytest.raises(InvalidInput) as refused:
        DEFAULT_PRICES.with_overrides({"caviar": 1.0, "lab_tube": -2.0})
    assert {e.field for e in refused.value.errors} == {"caviar", "lab_tube"}


def test_the_price_list_holds_every_line_the_account_prices_each_with_a_source() -> None:
    keys = set(DEFAULT_PRICES.keys)
    assert {rule.price_key for rule in COST_RULES} <= keys
    for line in DEFAULT_PRICES.lines:
        assert line.source and line.unit and math.isfinite(line.value) and line.value >= 0
        if line.assumption:
            assert line.source.lower().startswith("assumption")


def test_derived_test_prices_reproduce_the_published_caps() -> None:
    collection, tube = DEFAULT_PRICES.value("sample_collection"), DEFAULT_PRICES.value("lab_tube")
    assert collection + tube == pytest.approx(16.0)  # single tube per person
    assert collection + tube / 10 == pytest.approx(5.0)  # 10-in-1 pool per person
    assert DEFAULT_PRICES.value("lost_output_day") == pytest.approx(85_698 / 365)


def test_capacity_scales_with_the_population() -> None:
    small, large = Capacity.for_population(1_000), Capacity.for_population(1_000_000)
    assert large.hospital_beds == pytest.approx(1000 * small.hospital_beds)
    assert 0 < small.icu_beds < small.hospital_beds


def test_the_reference_must_be_an_arm_and_every_arm_needs_a_run_per_seed() -> None:
    with pytest.raises(ValueError, match="reference"):
        build_account(
            [_arm("a", [_run("a", infections=1)])], PriceList(), population=1, seeds=[1], reference="x"
        )
    with pytest.raises(ValueError, match="runs"):
        build_account(
            [_arm("a", [_run("a", infections=1)])], PriceList(), population=1, seeds=[1, 2], reference="a"
        )
