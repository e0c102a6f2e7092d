"""The pool-size planner and ``fangkong testing pools``: Dorfman's table, dilution, lab hours, bad input."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fangkong.analytics.pooling import PoolingInputError
from fangkong.testing.cli import app
from fangkong.testing.rules.pool_planner import (
    DEFAULT_POOL_SIZES,
    NormalCt,
    ObservedCt,
    ct_shift,
    parse_collection,
    plan_pools,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pooling"
runner = CliRunner()


def _reference_rows() -> list[dict[str, str]]:
    with (FIXTURES / "dorfman.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("row", _reference_rows(), ids=lambda row: f"p={row['prevalence']}")
def test_planner_reproduces_every_reference_row(row: dict[str, str]) -> None:
    plan = plan_pools(float(row["prevalence"]))
    assert plan.optimal_pool_size == int(row["optimal_pool_size"])
    assert f"{plan.tests_per_person:.6f}" == row["tests_per_person_at_optimum"]
    for size in (5, 10, 20):
        assert f"{plan.option(size).tests_per_person:.6f}" == row[f"tests_per_person_k{size}"]


@pytest.mark.parametrize("row", _reference_rows(), ids=lambda row: f"p={row['prevalence']}")
def test_pools_json_reproduces_every_reference_row(row: dict[str, str]) -> None:
    result = runner.invoke(app, ["pools", "--prevalence", row["prevalence"], "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["optimal_pool_size"] == int(row["optimal_pool_size"])
    assert f"{data['tests_per_person']:.6f}" == row["tests_per_person_at_optimum"]
    by_size = {entry["pool_size"]: entry for entry in data["pool_sizes"]}
    for size in (5, 10, 20):
        assert f"{by_size[size]['tests_per_person']:.6f}" == row[f"tests_per_person_k{size}"]


def test_candidates_are_the_usual_sizes_and_the_optimum_in_order() -> None:
    plan = plan_pools(0.01)
    assert [o.pool_size for o in plan.options] == [1, 5, 10, 11, 20]
    assert [o.pool_size for o in plan.options if o.is_optimal] == [11]
    assert [o.pool_size for o in plan_pools(0.05).options] == list(DEFAULT_POOL_SIZES)


def test_lab_dilution_raises_ct_by_log2_of_the_pool_size() -> None:
    assert ct_shift(1) == 0.0
    assert ct_shift(2) == pytest.approx(1.0)
    assert ct_shift(10) == pytest.approx(3.3219, abs=1e-4)
    assert ct_shift(16, "lab") == pytest.approx(4.0)


def test_swab_pooling_avoids_most_of_the_dilution() -> None:
    assert ct_shift(1, "swab") == 0.0
    assert ct_shift(2, "swab") == pytest.approx(1.0)
    assert ct_shift(10, "swab") == pytest.approx(2.09)
    lab, swab = plan_pools(0.01, collection="lab"), plan_pools(0.01, collection="swab")
    assert swab.option(10).missed_positives < lab.option(10).missed_positives
    assert swab.option(10).tests == lab.option(10).tests


def test_missed_share_by_hand_for_a_normal_ct() -> None:
    # Ct ~ N(30, 5), cut-off 40: P(36.68 < Ct <= 40) / P(Ct <= 40) = (Φ(2) - Φ(1.3356)) / Φ(2)
    # = (0.977250 - 0.909160) / 0.977250 = 0.069674.
    shift = math.log2(10)
    assert NormalCt(30.0, 5.0).missed_share(shift, 40.0) == pytest.approx(0.069674, abs=2e-6)


def test_missed_share_for_observed_ct_values() -> None:
    # 38.5 and 39 pass 40 after +log2(10) = 3.32; 41 is not a positive at cut-off 40 and is left out.
    observed = ObservedCt((22.0, 30.0, 36.0, 38.5, 39.0, 41.0))
    assert observed.missed_share(math.log2(10), 40.0) == pytest.approx(2 / 5)
    plan = plan_pools(0.001, population=100_000, positive_ct=observed)
    assert plan.option(10).missed_positives == pytest.approx(100_000 * 0.001 * 2 / 5)


def test_a_stricter_cut_off_misses_more() -> None:
    at_40, at_35 = plan_pools(0.01, ct_cutoff=40.0), plan_pools(0.01, ct_cutoff=35.0)
    assert at_35.option(10).miss_probability > at_40.option(10).miss_probability


def test_tests_hours_and_missed_positives_scale_with_population_and_capacity() -> None:
    plan = plan_pools(0.01, population=1_000_000, lab_tests_per_hour=2_000.0)
    ten = plan.option(10)
    assert ten.tests == pytest.approx(1_000_000 * ten.tests_per_person)
    assert ten.lab_hours == pytest.approx(ten.tests / 2_000.0)
    assert ten.missed_positives == pytest.approx(1_000_000 * 0.01 * ten.miss_probability)
    single = plan.option(1)
    assert (single.tests, single.ct_shift, single.missed_positives) == (1_000_000.0, 0.0, 0.0)
    assert plan.expected_positives == pytest.approx(10_000.0)


def test_misses_grow_with_pool_size() -> None:
    misses = [o.miss_probability for o in plan_pools(0.001).options]
    assert misses == sorted(misses) and misses[0] == 0.0 and 0.0 < misses[-1] < 0.5


@pytest.mark.parametrize("prevalence", [0.31, 0.5, 0.9, 0.999])
def test_high_prevalence_says_pooling_does_not_pay(prevalence: float) -> None:
    plan = plan_pools(prevalence)
    assert plan.optimal_pool_size == 1 and not plan.pooling_pays
    assert plan.tests_per_person == 1.0
    assert not any(o.pays for o in plan.options)
    result = runner.invoke(app, ["pools", "--prevalence", str(prevalence)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "Pooling does not pay" in result.output


@pytest.mark.parametrize("prevalence", [1e-6, 0.3, 0.7])
def test_any_prevalence_in_the_open_interval_gets_a_plan(prevalence: float) -> None:
    result = runner.invoke(app, ["pools", "--prevalence", str(prevalence), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["optimal_pool_size"] >= 1 and 0.0 < data["tests_per_person"] <= 1.0
    assert data["pooling_pays"] is (data["optimal_pool_size"] > 1)


def test_pools_prints_the_table_with_every_figure() -> None:
    result = runner.invoke(
        app,
        ["pools", "--prevalence", "0.01", "--population", "200000", "--lab-capacity", "1000"],
        env={"COLUMNS": "160"},
    )
    assert result.exit_code == 0, result.output
    assert "optimal pool size 11" in result.output and "0.195571" in result.output
    for text in ("200,000 people", "1,000 tests per hour", "lab hours", "missed positives", "11*", "39,114"):
        assert text in result.output
    assert "Pooling does not pay" not in result.output


def test_pools_table_never_cuts_a_number_on_a_narrow_terminal() -> None:
    result = runner.invoke(app, ["pools", "--prevalence", "0.0001"], env={"COLUMNS": "60"})
    assert result.exit_code == 0, result.output
    assert "5,000,000" in result.output and "0.019951" in result.output


def test_pools_json_names_the_parameters_and_their_sources() -> None:
    result = runner.invoke(
        app, ["pools", "--prevalence", "0.02", "--collection", "swab", "--population", "1000", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["collection"], data["population"], data["ct_cutoff"]) == ("swab", 1000, 40.0)
    assert {"ct_shift_lab", "ct_shift_swab", "ct_cutoff", "positive_ct", "lab_tests_per_hour"} <= set(
        data["sources"]
    )
    assert "Yelin" in data["sources"]["ct_shift_lab"]
    eight = next(e for e in data["pool_sizes"] if e["pool_size"] == 8)
    assert eight["optimal"] and eight["ct_shift"] == pytest.approx(2.09)


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--prevalence", "0"], "prevalence"),
        (["--prevalence", "1"], "prevalence"),
        (["--prevalence", "1.5"], "prevalence"),
        (["--prevalence", "-0.1"], "prevalence"),
        (["--prevalence", "nan"], "prevalence"),
        (["--prevalence", "0.01", "--population", "0"], "population"),
        (["--prevalence", "0.01", "--lab-capacity", "0"], "lab capacity"),
        (["--prevalence", "0.01", "--collection", "air"], "collection"),
        (["--prevalence", "0.01", "--ct-cutoff", "-3"], "Ct cut-off"),
    ],
)
def test_pools_refuses_bad_parameters_naming_them(arguments: list[str], named: str) -> None:
    result = runner.invoke(app, ["pools", *arguments])
    assert result.exit_code == 2
    assert named in result.output
    assert "Traceback" not in result.output


def test_prevalence_is_required() -> None:
    result = runner.invoke(app, ["pools"])
    assert result.exit_code == 2 and "--prevalence" in result.output


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda: plan_pools(0.0), "prevalence"),
        (lambda: plan_pools(1.0), "prevalence"),
        (lambda: plan_pools(0.01, positive_ct=NormalCt(27.0, 0.0)), "positive_ct"),
        (lambda: plan_pools(0.01, positive_ct=ObservedCt(())), "positive_ct"),
        (lambda: plan_pools(0.01, positive_ct=ObservedCt((41.0, 45.0))), "positive_ct"),
        (lambda: plan_pools(0.01, pool_sizes=(0, 5)), "pool sizes"),
        (lambda: ct_shift(0), "pool_size"),
        (lambda: parse_collection("both"), "collection"),
    ],
)
def test_planner_refuses_bad_parameters_naming_them(call: object, named: str) -> None:
    with pytest.raises(PoolingInputError, match=named):
        call()  # type: ignore[operator]
