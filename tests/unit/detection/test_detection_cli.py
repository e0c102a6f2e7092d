"""``fangkong detect`` through Typer's test runner, on real CSV files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from fangkong.surveillance.cli import app

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "surveillance"
WEEKLY_FILE = FIXTURES / "salmNewportGermany_date_observed.csv"

runner = CliRunner()


def _read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _golden(name: str) -> list[dict[str, str]]:
    with (FIXTURES / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_detect_is_registered_on_the_app() -> None:
    names = [
        command.name or command.callback.__name__ for command in app.registered_commands if command.callback
    ]
    assert "detect" in names


def test_weekly_file_reproduces_r_ears_c1(tmp_path: Path) -> None:
    golden = _golden("earsC_C1_alpha0.05_salmNewportGermany_2011.csv")
    dates = [row["date"] for row in _read_csv(WEEKLY_FILE.read_text())]
    start = dates.index(golden[0]["epoch"])
    out = tmp_path / "c1.csv"

    result = runner.invoke(
        app,
        [
            "detect",
            str(WEEKLY_FILE),
            "-m",
            "ears_c1",
            "-p",
            "alpha=0.05",
            "-p",
            f"range={start}:{start + 52}",
            "-o",
            str(out),
        ],
    )

    assert result.exit_code == 0, result.output
    rows = _read_csv(out.read_text())
    assert len(rows) == len(dates)
    assert list(rows[0]) == ["date", "observed", "expected", "threshold", "score", "alarm", "pvalue"]
    judged = [r for r in rows if r["alarm"] != ""]
    assert [r["date"] for r in judged] == [g["epoch"] for g in golden]
    np.testing.assert_allclose(
        [float(r["threshold"]) for r in judged], [float(g["upperbound"]) for g in golden], rtol=0, atol=1e-6
    )
    assert [r["alarm"] for r in judged] == [g["alarm"] for g in golden]
    assert rows[0]["threshold"] == ""
    assert rows[0]["alarm"] == ""
    assert "alarm(s)" in result.output


def test_json_output_and_weekly_frequency(tmp_path: Path) -> None:
    result = runner.invoke(app, ["detect", str(WEEKLY_FILE), "-m", "bayes", "-p", "preset=bayes2", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["freq"] == 52
    assert document["params"]["freq"] == 52
    assert document["params"]["b"] == 1
    assert document["time_points"] == len(document["rows"]) == 528
    assert document["alarms"] == sum(1 for row in document["rows"] if row["alarm"])
    first = document["rows"][0]
    assert first["expected"] is None
    assert first["alarm"] is None
    judged = [row for row in document["rows"] if row["alarm"] is not None]
    assert len(judged) == document["judged"]
    assert all(row["threshold"] is not None for row in judged)


def test_daily_file_is_recognised_and_printed_as_csv(tmp_path: Path) -> None:
    rng = np.random.default_rng(99)
    start = dt.date(2020, 1, 1)
    counts = rng.poisson(3.0, 365 * 3 + 40)
    counts[-1] = 40
    lines = ["date,observed,district"] + [
        f"{start + dt.timedelta(days=i)},{c},Minhang" for i, c in enumerate(counts)
    ]
    path = _write(tmp_path / "daily.csv", lines)

    as_json = runner.invoke(app, ["detect", str(path), "-m", "mpm", "--json"])
    assert as_json.exit_code == 0, as_json.output
    document = json.loads(as_json.stdout)
    assert document["freq"] == 365
    assert document["rows"][-1]["alarm"] is True

    as_csv = runner.invoke(app, ["detect", str(path), "-m", "ewma"])
    assert as_csv.exit_code == 0, as_csv.output
    rows = _read_csv(as_csv.stdout)
    assert len(rows) == len(counts)
    assert rows[-1]["alarm"] == "1"
    assert "pvalue" in rows[0]


def test_freq_option_overrides_the_dates(tmp_path: Path) -> None:
    copy = shutil.copy(WEEKLY_FILE, tmp_path / "weekly.csv")
    result = runner.invoke(app, ["detect", str(copy), "-m", "rki", "--freq", "26", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["params"]["freq"] == 26


BAD_INPUTS = {
    "missing_column": (["date,count", "2020-01-06,1", "2020-01-13,2"], "row 1, observed: column is missing"),
    "not_a_number": (
        ["date,observed", "2020-01-06,1", "2020-01-13,two"],
        "row 3, observed: 'two' is not a number",
    ),
    "negative": (["date,observed", "2020-01-06,1", "2020-01-13,-4"], "row 3, observed: -4 is negative"),
    "empty_count": (["date,observed", "2020-01-06,", "2020-01-13,2"], "row 2, observed: is empty"),
    "bad_date": (
        ["date,observed", "06/01/2020,1", "2020-01-13,2"],
        "row 2, date: '06/01/2020' is not a date",
    ),
    "unsorted": (
        ["date,observed", "2020-01-13,1", "2020-01-06,2"],
        "row 3, date: 2020-01-06 comes before 2020-01-13 (row 2)",
    ),
    "duplicate": (
        ["date,observed", "2020-01-06,1", "2020-01-06,2"],
        "row 3, date: 2020-01-06 repeats the date of row 2",
    ),
    "gap": (
        ["date,observed", "2020-01-06,1", "2020-01-13,2", "2020-01-27,2"],
        "row 4, date: 2020-01-27 is 14 days after the previous row",
    ),
    "no_rows": (["date,observed"], "the file has no data rows"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_reported_by_row_and_column(tmp_path: Path, case: str) -> None:
    lines, message = BAD_INPUTS[case]
    path = _write(tmp_path / f"{case}.csv", lines)
    result = runner.invoke(app, ["detect", str(path), "-m", "ears_c1"])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-m", "c4"], "unknown method 'c4'"),
        (["-m", "cusum", "-p", "kk=1"], "kk: unknown parameter of cusum"),
        (["-m", "cusum", "-p", "k"], "expected name=value"),
        (["-m", "cusum", "-p", "range=0:10"], "range: time point 0 (0-based) has too little history"),
        (["-m", "rki", "--freq", "52", "-p", "freq=52"], "give it once"),
    ],
)
def test_bad_options_exit_2_without_traceback(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["detect", str(WEEKLY_FILE), *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["detect", str(tmp_path / "nope.csv"), "-m", "fixed"])
    assert result.exit_code == 2
    assert "cannot read the file" in result.stderr


def test_farrington_runs_through_the_cli_with_dates() -> None:
    pytest.importorskip("fangkong.analytics.detection.farrington")
    result = runner.invoke(app, ["detect", str(WEEKLY_FILE), "-m", "farrington_flexible", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["judged"] > 0
    assert document["freq"] == 52
