"""`fangkong rt` on EpiEstim's example files, compared with EpiEstim's own output files, and bad input."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from fangkong.analytics.rt import DEFAULT_WINDOW_DAYS
from fangkong.modeling import cli
from fangkong.modeling.cli import app

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rt"
runner = CliRunner()
# EpiEstim's Examples 2 and 3: parametric serial interval, mean 2.6 and sd 1.5 days (Flu2009).
PARAMETRIC = ["--si-mean", "2.6", "--si-sd", "1.5"]
EXAMPLE_SI = {
    1: ["--si-distr", str(FIXTURES / "Example1_si_distr.csv")],
    2: PARAMETRIC,
    3: PARAMETRIC,
}


def _read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def _assert_same_table(produced: Path, reference: Path) -> None:
    header, rows = _read_table(produced)
    ref_header, ref_rows = _read_table(reference)
    assert header == ref_header
    assert len(rows) == len(ref_rows)
    for row, ref_row in zip(rows, ref_rows, strict=True):
        for name, value, expected in zip(header, row, ref_row, strict=True):
            if name.startswith(("t_", "date_")):
                assert value == expected, name
            else:
                assert float(value) == pytest.approx(float(expected), rel=0, abs=1e-6), name


def _run(*args: str) -> Result:
    return runner.invoke(app, ["rt", *args])


@pytest.mark.parametrize("example", [1, 2, 3])
def test_example_files_give_epiestims_table(example: int, tmp_path: Path) -> None:
    output = tmp_path / "R.csv"
    result = runner.invoke(
        app,
        [
            "rt",
            "--input",
            str(FIXTURES / f"Example{example}_incidence.csv"),
            *EXAMPLE_SI[example],
            "--output",
            str(output),
        ],
    )
    assert result.exit_code == 0, result.output
    _assert_same_table(output, FIXTURES / f"Example{example}_R.csv")
    assert "Rt by window" in result.stdout


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _fixture_rows(name: str) -> list[dict[str, str]]:
    with (FIXTURES / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_date_and_total_columns_with_a_one_column_serial_interval(tmp_path: Path) -> None:
    cases = "date,I\n" + "".join(f"{r['dates']},{r['I']}\n" for r in _fixture_rows("Example1_incidence.csv"))
    probabilities = [r["si_distr"] for r in _fixture_rows("Example1_si_distr.csv")]
    for header in ("si_distr\n", ""):
        si_file = _write(tmp_path / "si.csv", header + "\n".join(probabilities) + "\n")
        output = tmp_path / "R.csv"
        result = _run(
            "--input",
            str(_write(tmp_path / "cases.csv", cases)),
            "--si-distr",
            str(si_file),
            "--output",
            str(output),
        )
        assert result.exit_code == 0, result.output
        _assert_same_table(output, FIXTURES / "Example1_R.csv")


def test_local_and_imported_columns(tmp_path: Path) -> None:
    rows = _fixture_rows("Example2_incidence.csv")
    cases = "date,local,imported\n" + "".join(
        f"{r['dates']},{r['I_local']},{r['I_imported']}\n" for r in rows
    )
    output = tmp_path / "R.csv"
    result = _run("--input", str(_write(tmp_path / "cases.csv", cases)), *PARAMETRIC, "--output", str(output))
    assert result.exit_code == 0, result.output
    _assert_same_table(output, FIXTURES / "Example2_R.csv")


def test_json_prints_the_rows_written(tmp_path: Path) -> None:
    output = tmp_path / "R.csv"
    result = _run(
        "--input", str(FIXTURES / "Example3_incidence.csv"), *PARAMETRIC, "--output", str(output), "--json"
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["method"] == "parametric_si"
    assert printed["serial_interval"]["mean_days"] == pytest.approx(2.6, abs=0.01)
    header, rows = _read_table(output)
    assert len(printed["rows"]) == len(rows)
    for record, row in zip(printed["rows"], rows, strict=True):
        assert list(record) == header
        assert [str(value) for value in record.values()] == row


def test_window_option(tmp_path: Path) -> None:
    output = tmp_path / "R.csv"
    result = _run(
        "--input",
        str(FIXTURES / "Example3_incidence.csv"),
        *PARAMETRIC,
        "--window",
        "14",
        "--output",
        str(output),
    )
    assert result.exit_code == 0, result.output
    _, rows = _read_table(output)
    assert [int(row[0]) for row in rows] == list(range(2, 32 - 14 + 2))
    assert all(int(row[1]) - int(row[0]) == 13 for row in rows)
    assert rows[0][-2:] == ["2009-04-28", "2009-05-11"]


GOOD_DAYS = "".join(f"2022-03-{day:02d},{day % 4},0\n" for day in range(1, 21))


@pytest.mark.parametrize(
    ("cases", "si_args", "expected"),
    [
        ("date,cases\n2022-03-01,1\n", PARAMETRIC, "missing column 'local'"),
        ("local\n1\n2\n", PARAMETRIC, "missing column 'date'"),
        (
            "date,local,imported\n" + GOOD_DAYS.replace("2022-03-03,3,0", "2022-03-03,-3,0"),
            PARAMETRIC,
            "line 4, column 'local': negative count -3",
        ),
        (
            "date,local,imported\n" + GOOD_DAYS.replace("2022-03-02,2,0", "2022-03-02,two,0"),
            PARAMETRIC,
            "line 3, column 'local': 'two' is not a number",
        ),
        (
            "date,local,imported\n" + GOOD_DAYS.replace("2022-03-05,1,0", "2022-03-05,1,0.5"),
            PARAMETRIC,
            "line 6, column 'imported': 0.5 is not a whole count",
        ),
        (
            "date,local,imported\n" + GOOD_DAYS.replace("2022-03-05,1,0", "2022-03-05,,0"),
            PARAMETRIC,
            "line 6, column 'local': empty",
        ),
        (
            "date,local,imported\n" + GOOD_DAYS.replace("2022-03-05,1,0", "2022-03-05,1"),
            PARAMETRIC,
            "line 6: 2 fields, the header has 3",
        ),
        (
            "date,local,imported\n" + GOOD_DAYS.replace("2022-03-05", "2022-03-06"),
            PARAMETRIC,
            "line 6, column 'date'",
        ),
        (
            "date,local,imported\n" + GOOD_DAYS.replace("2022-03-05", "5 March"),
            PARAMETRIC,
            "line 6, column 'date': '5 March' is not a date",
        ),
        (
            "date,local,imported,I\n2022-03-01,1,0,1\n2022-03-02,2,1,2\n",
            PARAMETRIC,
            "line 3, column 'I': 2 is not local + imported",
        ),
        ("date,local,imported\n" + GOOD_DAYS, [], "give the serial interval"),
        ("date,local,imported\n" + GOOD_DAYS, ["--si-mean", "2.6"], "give the serial interval"),
        ("date,local,imported\n" + GOOD_DAYS, ["--si-mean", "0.5", "--si-sd", "1"], "mean must be > 1 day"),
        (
            "date,local,imported\n" + "".join(GOOD_DAYS.splitlines(keepends=True)[:7]),
            PARAMETRIC,
            "7 days are too few",
        ),
        ("", PARAMETRIC, "empty file"),
    ],
)
def test_bad_cases_exit_2_naming_the_row_and_column(
    tmp_path: Path, cases: str, si_args: list[str], expected: str
) -> None:
    result = _run(
        "--input", str(_write(tmp_path / "cases.csv", cases)), *si_args, "--output", str(tmp_path / "R.csv")
    )
    assert result.exit_code == 2
    assert expected in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    ("si_text", "expected"),
    [
        ("0\n0.5\n0.4\n", "sum to 0.9, not 1"),
        (
            "si_distr\n0.2\n0.5\n0.3\n",
            "line 2, column 'si_distr': the probability of a 0-day serial interval must be 0",
        ),
        ("0\n1.2\n-0.2\n", "line 3, column 'probability': probability -0.2 is negative"),
        ("si_distr\n0\nhalf\n0.5\n", "line 3, column 'si_distr': 'half' is not a number"),
        ("0,0.5\n1,0.5\n", "expected one column of probabilities, found 2"),
        ("t,si_distr\n0,0\n2,1\n", "line 3, column 't': expected day 1"),
        ("si_distr\n", "no probabilities"),
    ],
)
def test_bad_serial_interval_files_exit_2(tmp_path: Path, si_text: str, expected: str) -> None:
    result = _run(
        "--input",
        str(FIXTURES / "Example1_incidence.csv"),
        "--si-distr",
        str(_write(tmp_path / "si.csv", si_text)),
        "--output",
        str(tmp_path / "R.csv"),
    )
    assert result.exit_code == 2
    assert expected in result.output
    assert "Traceback" not in result.output


def test_serial_interval_given_twice_is_refused(tmp_path: Path) -> None:
    result = _run(
        "--input",
        str(FIXTURES / "Example1_incidence.csv"),
        *EXAMPLE_SI[1],
        *PARAMETRIC,
        "--output",
        str(tmp_path / "R.csv"),
    )
    assert result.exit_code == 2
    assert "not both" in result.output
    assert not (tmp_path / "R.csv").exists()


def test_missing_input_file_and_unwritable_output_exit_2(tmp_path: Path) -> None:
    missing = _run("--input", str(tmp_path / "nope.csv"), *PARAMETRIC, "--output", str(tmp_path / "R.csv"))
    assert missing.exit_code == 2
    assert "nope.csv" in missing.output
    unwritable = _run(
        "--input",
        str(FIXTURES / "Example3_incidence.csv"),
        *PARAMETRIC,
        "--output",
        str(tmp_path / "no" / "R.csv"),
    )
    assert unwritable.exit_code == 2
    assert "cannot write" in unwritable.output
    assert "Traceback" not in unwritable.output


def test_serial_interval_longer_than_the_series_is_reported(tmp_path: Path) -> None:
    cases = _write(tmp_path / "cases.csv", "date,I\n" + "".join(f"{day},{day}\n" for day in range(10)))
    si_file = _write(tmp_path / "si.csv", "\n".join(["0"] * 20 + ["1"]) + "\n")
    output = tmp_path / "R.csv"
    result = _run("--input", str(cases), "--si-distr", str(si_file), "--window", "3", "--output", str(output))
    assert result.exit_code == 0, result.output
    assert "only 0% of it falls within 10 days" in result.output
    assert "nothing was estimated" in result.output
    header, rows = _read_table(output)
    assert header[-2:] == ["date_start", "date_end"]
    assert rows == []


def test_rt_can_be_registered_on_the_top_level_command(tmp_path: Path) -> None:
    top = typer.Typer()
    top.command("rt")(cli.rt)
    top.command("other")(lambda: None)
    output = tmp_path / "R.csv"
    result = runner.invoke(
        top, ["rt", "--input", str(FIXTURES / "Example3_incidence.csv"), *PARAMETRIC, "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    _assert_same_table(output, FIXTURES / "Example3_R.csv")


def test_default_window_agrees_with_the_kernel() -> None:
    assert cli.DEFAULT_WINDOW_DAYS == DEFAULT_WINDOW_DAYS


def test_loading_the_command_does_not_load_numpy_or_scipy() -> None:
    probe = "import sys, fangkong.modeling.cli; print(sorted({'numpy', 'scipy'} & set(sys.modules)))"
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"
