"""``fangkong surveillance evaluate``: the simulation study and the RKI series from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fangkong.surveillance.cli_ops import app

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "surveillance_eval"


def test_evaluate_reports_every_measure_per_method_and_dataset() -> None:
    args = ["evaluate", "--methods", "ears_c1,rki", "--replicates", "8", "--calibration-replicates", "6"]
    result = CliRunner().invoke(app, [*args, "--labelled", str(FIXTURES), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    simulated = document["simulated"]
    assert {(r["dataset"], r["method"]) for r in simulated} == {
        (s, m)
        for s in ("sparse, flat", "moderate, seasonal", "busy, seasonal, overdispersed")
        for m in ("ears_c1", "rki")
    }
    ears = [r for r in simulated if r["method"] == "ears_c1"]
    assert all(r["knob"] == "alpha" for r in ears)
    for row in simulated:
        for measure in ("sensitivity", "specificity", "probability_of_detection", "false_alarms_per_year"):
            assert row[measure] is None or 0.0 <= row[measure] <= 52.0
    labelled = document["labelled"]
    assert {r["dataset"] for r in labelled} == {"m1", "m2", "m3", "m4", "m5", "n1", "n2"}
    assert set(document["labelled_by_method"]) == {"ears_c1", "rki"}


def test_the_same_seed_gives_the_same_figures() -> None:
    args = [
        "evaluate",
        "--methods",
        "ears_c2",
        "--replicates",
        "5",
        "--calibration-replicates",
        "5",
        "--json",
    ]
    first = CliRunner().invoke(app, args).output
    assert first == CliRunner().invoke(app, args).output


def test_an_unknown_method_is_refused() -> None:
    result = CliRunner().invoke(app, ["evaluate", "--methods", "ears_c9"])
    assert result.exit_code == 2
    assert "ears_c9" in result.output
