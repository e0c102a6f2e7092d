"""`fangkong simulate` and `fangkong account` on generated populations: the table, JSON, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fangkong.modeling.cli import app

runner = CliRunner()
SMALL = ["--size", "3000", "--days", "40", "--initial-infections", "10"]


def test_account_prints_the_comparison_table_and_the_cost_lines() -> None:
    result = runner.invoke(
        app,
        ["account", "--arms", "cn-9,cn-10,none", "--seeds", "1,2", "--workers", "1", *SMALL],
        env={"COLUMNS": "220"},
    )
    assert result.exit_code == 0, result.output
    for text in ("The account", "cn-9", "cn-10", "none", "frontier", "Cost lines", "Laboratory tubes"):
        assert text in result.output


def test_account_json_has_every_arm_seed_and_cost_line(tmp_path: Path) -> None:
    out = tmp_path / "account.json"
    result = runner.invoke(
        app,
        ["account", "--arms", "cn-9,none", "--seeds", "3,4", "--workers", "1", "--price", "lab_tube=30",
         "--output", str(out), "--json", *SMALL],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert json.loads(out.read_text(encoding="utf-8")) == data
    assert [a["arm"] for a in data["arms"]] == ["cn-9", "none"]
    assert data["seeds"] == [3, 4] and data["reference"] == "none"
    for entry in data["arms"]:
        assert entry["runs"] == 2
        lab = next(line for line in entry["cost_lines"] if line["key"] == "lab")
        assert lab["price"] == 30.0 and lab["price_basis"] == "override"
        assert sum(line["cost"] for line in entry["cost_lines"]) == __import__("pytest").approx(
            entry["total_cost"]["mean"]
        )
    cn9 = data["arms"][0]
    assert cn9["infections"]["mean"] < data["arms"][1]["infections"]["mean"]


def test_account_refuses_an_unknown_arm_price_or_seed_list() -> None:
    unknown = runner.invoke(app, ["account", "--arms", "cn-99,none", *SMALL])
    assert unknown.exit_code == 2 and "cn-99" in unknown.output
    price = runner.invoke(app, ["account", "--arms", "none", "--price", "caviar=3", *SMALL])
    assert price.exit_code == 2 and "caviar" in price.output
    seeds = runner.invoke(app, ["account", "--arms", "none", "--seeds", "1,x", *SMALL])
    assert seeds.exit_code == 2 and "--seeds" in seeds.output


def test_account_with_a_dask_address_but_no_dask_says_so() -> None:
    import importlib.util

    if importlib.util.find_spec("dask") is not None:
        return  # with dask installed the address would be tried instead
    result = runner.invoke(app, ["account", "--arms", "none", "--seeds", "1", "--scheduler", "tcp://127.0.0.1:9",
                                 *SMALL])  # fmt: skip
    assert result.exit_code == 2
    assert "dask" in result.output.lower()


def test_simulate_prints_totals_and_daily_series() -> None:
    result = runner.invoke(app, ["simulate", "--arm", "cn-9", *SMALL], env={"COLUMNS": "220"})
    assert result.exit_code == 0, result.output
    for text in ("cn-9", "Totals", "infections", "Daily series", "peak"):
        assert text in result.output


def test_simulate_json_has_the_daily_series_of_every_figure() -> None:
    result = runner.invoke(app, ["simulate", "--arm", "none", "--seed", "2", "--json", *SMALL])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["arm"] == "none" and data["days"] == 40 and data["population"] == 3000
    assert len(data["daily"]["new_infections"]) == 40
    assert data["totals"]["infections"] == sum(data["daily"]["new_infections"]) + 10
    assert data["totals"]["tests"] == 0


def test_simulate_refuses_an_unknown_protocol() -> None:
    result = runner.invoke(app, ["simulate", "--arm", "nowhere.yaml", *SMALL])
    assert result.exit_code == 2
