"""``fangkong protocol ...`` through Typer's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fangkong.protocol.cli import app

FIXTURES = Path(__file__).parents[2] / "fixtures" / "protocol"
runner = CliRunner()


def test_list_json_names_every_shipped_protocol_and_the_default() -> None:
    result = runner.invoke(app, ["list", "--json"])

    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {p["id"] for p in data} == {
        "cn-8",
        "cn-9",
        "cn-9-20",
        "cn-9-10",
        "cn-10",
        "who-2021",
        "who-2022",
        "us-cdc-2021-12-27",
    }
    assert [p["id"] for p in data if p["default"]] == ["cn-9"]


def test_list_prints_a_table() -> None:
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0
    assert "cn-9 (default)" in result.output


def test_show_json_gives_the_whole_protocol() -> None:
    result = runner.invoke(app, ["show", "cn-9-20", "--json"])

    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    stages = data["categories"]["close_contact"]["stages"]
    assert [s["days"] for s in stages] == [5, 3]
    assert data["upgrades"][0]["from"][0] == "close_contact"


def test_show_accepts_a_file_and_parameter_overrides() -> None:
    assert runner.invoke(app, ["show", str(FIXTURES / "minimal.yaml")]).exit_code == 0
    result = runner.invoke(app, ["show", "cn-9", "--param", "clock_event_day=1", "--json"])
    assert json.loads(result.output)["clock_event_day"] == 1


def test_check_accepts_a_valid_file() -> None:
    result = runner.invoke(app, ["check", str(FIXTURES / "minimal.yaml")])
    assert result.exit_code == 0
    assert "OK (test-minimal" in result.output


@pytest.mark.parametrize(
    "fixture", ["unknown_key.yaml", "negative_days.yaml", "test_day_outside_stage.yaml", "upgrade_cycle.yaml"]
)
def test_check_refuses_a_broken_file_with_exit_1_naming_the_line(fixture: str) -> None:
    file = FIXTURES / fixture
    broken = next(
        n
        for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1)
        if "# BROKEN" in line and not line.lstrip().startswith("#")
    )

    text = runner.invoke(app, ["check", str(file)])
    as_json = runner.invoke(app, ["check", str(file), "--json"])

    assert text.exit_code == 1
    assert as_json.exit_code == 1
    assert f"line {broken}:" in text.output
    (error,) = json.loads(as_json.output)["errors"]
    assert error["line"] == broken
    assert error["path"]


def test_diff_json_marks_the_changed_rows() -> None:
    result = runner.invoke(app, ["diff", "cn-9", "cn-9-20", "--json", "--changed-only"])

    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows
    assert all(r["changed"] for r in rows)
    stage = next(r for r in rows if r["subject"] == "close_contact" and r["item"] == "stage 1")
    assert (stage["a"]["days"], stage["b"]["days"]) == (7, 5)
    assert runner.invoke(app, ["diff", "cn-9", "cn-9-20"]).exit_code == 0


@pytest.mark.parametrize(("clock_event_day", "end"), [(0, "2022-07-11"), (1, "2022-07-10")])
def test_plan_json_gives_dates_for_the_day_numbering_chosen(clock_event_day: int, end: str) -> None:
    result = runner.invoke(
        app,
        [
            "plan",
            "--protocol",
            "cn-9",
            "--category",
            "close_contact",
            "--last-exposure",
            "2022-07-01",
            "--on",
            "2022-07-09",
            "--param",
            f"clock_event_day={clock_event_day}",
            "--json",
        ],
    )

    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["end_date"] == end
    assert data["on"]["status"] == "under_management"
    assert data["on"]["stage"] == 2


def test_plan_prints_stages_and_tests() -> None:
    result = runner.invoke(
        app, ["plan", "--protocol", "cn-9-10", "--category", "close_contact", "--last-exposure", "2022-12-08"]
    )
    assert result.exit_code == 0, result.output
    assert "2022-12-13" in result.output  # the day-5 test
    assert "final test negative" in result.output


def test_plan_without_the_date_its_clock_needs_exits_1() -> None:
    result = runner.invoke(app, ["plan", "--protocol", "cn-9", "--category", "inbound_traveller"])
    assert result.exit_code == 1
    assert "counts from arrival" in result.output


def test_plan_for_a_category_not_identified_says_so() -> None:
    result = runner.invoke(
        app,
        [
            "plan",
            "--protocol",
            "cn-9-20",
            "--category",
            "contact_of_contact",
            "--last-exposure",
            "2022-11-12",
        ],
    )
    assert result.exit_code == 0
    assert "not managed" in result.output


def test_plan_uses_the_default_protocol_when_none_is_named() -> None:
    result = runner.invoke(app, ["plan", "--last-exposure", "2022-07-01", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["protocol"], data["category"], data["total_days"]) == ("cn-9", "close_contact", 10)


@pytest.mark.parametrize("protocol_id", ["cn-9", "cn-10", "who-2022"])
def test_check_accepts_the_shipped_protocols(protocol_id: str) -> None:
    assert runner.invoke(app, ["check", protocol_id]).exit_code == 0
