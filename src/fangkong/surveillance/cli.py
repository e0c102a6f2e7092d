"""The analysts' ``fangkong detect`` command: run one temporal detector over a count series in a CSV file.

Input: a CSV file with the columns ``date`` (ISO ``YYYY-MM-DD``) and ``observed`` (a count per day or
per week, oldest first; other columns are ignored). Whether the series is daily or weekly is read from
the dates unless ``--freq`` says it; a weekly series counts 52 weeks a year back, as R
``surveillance`` does. Output: one row per time point with ``date, observed, expected, threshold,
score, alarm`` (and ``pvalue`` for the methods that define one); cells of time points the method
did not judge are empty. Bad input is reported by row (the header is row 1) and column, with exit
code 2 and no traceback.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TextIO

import typer

if TYPE_CHECKING:
    from fangkong.analytics.detection.base import DetectionResult

app = typer.Typer(help="Outbreak signal detection on count series.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Outbreak signal detection on count series."""


DAILY_FREQ = 365
"""time points a year for daily series (R surveillance ``freq = 365``)."""

WEEKLY_FREQ = 52
"""time points a year for weekly series; R surveillance counts 52 weeks a year back."""

DAYS_APART = {1: DAILY_FREQ, 7: WEEKLY_FREQ}
"""days between consecutive rows -> time points a year."""

MAX_ERRORS_SHOWN = 20
"""input errors listed before the rest are summarised in one line."""

COLUMNS = ("date", "observed")


@dataclass(frozen=True)
class InputProblem:
    """One problem in the input file; rows count the header as row 1, as spreadsheets do."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.message}"


class SeriesInputError(Exception):
    """The input file cannot be used; carries every problem found."""

    def __init__(self, problems: list[InputProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems[:3]))
        self.problems = problems


@dataclass(frozen=True)
class Series:
    dates: list[dt.date]
    observed: list[float]


def read_series(text: str) -> Series:
    """Dates and counts from CSV text, checked row by row; raises SeriesInputError listing every problem."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise SeriesInputError([InputProblem(1, "*", "the file is empty")]) from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise SeriesInputError([InputProblem(1, c, "column is missing from the header") for c in missing])
    at = {c: header.index(c) for c in COLUMNS}
    problems: list[InputProblem] = []
    dates: list[dt.date] = []
    observed: list[float] = []
    dated: list[dt.date] = []  # every readable date, for the order checks even when its count is bad
    rows: list[int] = []
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) <= max(at.values()):
            problems.append(
                InputProblem(number, "*", f"has {len(values)} columns, the header has {len(header)}")
            )
            continue
        date_text = values[at["date"]].strip()
        count_text = values[at["observed"]].strip()
        try:
            day = dt.date.fromisoformat(date_text)
        except ValueError:
            problems.append(InputProblem(number, "date", f"{date_text!r} is not a date (YYYY-MM-DD)"))
            day = None
        count = _parse_count(number, count_text, problems)
        if day is not None:
            dated.append(day)
            rows.append(number)
        if day is not None and count is not None:
            dates.append(day)
            observed.append(count)
    problems.extend(_order_problems(dated, rows))
    if not problems and not dates:
        problems.append(InputProblem(2, "*", "the file has no data rows"))
    if problems:
        raise SeriesInputError(sorted(problems, key=lambda p: p.row))
    return Series(dates, observed)


def _parse_count(row: int, text: str, problems: list[InputProblem]) -> float | None:
    if not text:
        problems.append(InputProblem(row, "observed", "is empty"))
        return None
    try:
        value = float(text)
    except ValueError:
        problems.append(InputProblem(row, "observed", f"{text!r} is not a number"))
        return None
    if not math.isfinite(value):
        problems.append(InputProblem(row, "observed", f"{text!r} is not a finite number"))
        return None
    if value < 0:
        problems.append(InputProblem(row, "observed", f"{text} is negative; counts cannot be"))
        return None
    return value


def _order_problems(dates: list[dt.date], rows: list[int]) -> list[InputProblem]:
    problems = []
    for i in range(1, len(dates)):
        if dates[i] == dates[i - 1]:
            problems.append(
                InputProblem(rows[i], "date", f"{dates[i]} repeats the date of row {rows[i - 1]}")
            )
        elif dates[i] < dates[i - 1]:
            problems.append(
                InputProblem(
                    rows[i],
                    "date",
                    f"{dates[i]} comes before {dates[i - 1]} (row {rows[i - 1]}); sort the rows by date",
                )
            )
    return problems


def infer_freq(dates: list[dt.date]) -> int:
    """52 for a weekly series, 365 for a daily one, read from the spacing of the dates."""
    if len(dates) < 2:
        raise SeriesInputError(
            [InputProblem(2, "date", "one row cannot tell daily from weekly; pass --freq")]
        )
    first_gap = (dates[1] - dates[0]).days
    if first_gap not in DAYS_APART:
        raise SeriesInputError(
            [
                InputProblem(
                    3,
                    "date",
                    f"rows are {first_gap} days apart; expected 1 (daily) or 7 (weekly), or pass --freq",
                )
            ]
        )
    for i in range(1, len(dates)):
        gap = (dates[i] - dates[i - 1]).days
        if gap != first_gap:
            raise SeriesInputError(
                [
                    InputProblem(
                        i + 2,
                        "date",
                        f"{dates[i]} is {gap} days after the previous row, the series steps by {first_gap} "
                        "(missing or extra dates?); pass --freq to accept it as is",
                    )
                ]
            )
    return DAYS_APART[first_gap]


def parse_params(items: list[str]) -> dict[str, str]:
    """``["k=1.5", "trans=rossi"]`` -> ``{"k": "1.5", "trans": "rossi"}``."""
    parsed: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"--param {item!r}: expected name=value")
        if key in parsed:
            raise ValueError(f"--param {key}: given twice")
        parsed[key] = value.strip()
    return parsed


def _cell(value: float) -> str:
    return "" if math.isnan(value) else repr(float(value))


def result_rows(series: Series, result: DetectionResult) -> list[dict[str, object]]:
    """One dict per time point, NaN as None, ``alarm`` None where the method did not judge."""
    rows: list[dict[str, object]] = []
    for i, day in enumerate(series.dates):
        row: dict[str, object] = {
            "date": day.isoformat(),
            "observed": float(result.observed[i]),
            "expected": _none_if_nan(result.expected[i]),
            "threshold": _none_if_nan(result.threshold[i]),
            "score": _none_if_nan(result.score[i]),
            "alarm": bool(result.alarm[i]) if result.judged[i] else None,
        }
        if result.pvalue is not None:
            row["pvalue"] = _none_if_nan(result.pvalue[i])
        rows.append(row)
    return rows


def _none_if_nan(value: float) -> float | None:
    number = float(value)
    return None if math.isnan(number) else number


def write_csv(rows: list[dict[str, object]], stream: TextIO) -> None:
    """The result rows as CSV: empty cells for undefined values, alarm as 1/0."""
    columns = ["date", "observed", "expected", "threshold", "score", "alarm"]
    if rows and "pvalue" in rows[0]:
        columns.append("pvalue")
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        cells = []
        for column in columns:
            value = row[column]
            if value is None:
                cells.append("")
            elif column == "alarm":
                cells.append("1" if value else "0")
            elif isinstance(value, float):
                cells.append(_cell(value))
            else:
                cells.append(str(value))
        writer.writerow(cells)


def _fail(lines: list[str]) -> NoReturn:
    typer.echo(f"error: {lines[0]}", err=True)
    for line in lines[1:]:
        typer.echo(f"  {line}", err=True)
    raise typer.Exit(2)


@app.command("detect")
def detect(
    input: Annotated[Path, typer.Argument(help="CSV file with columns date (YYYY-MM-DD) and observed")],
    method: Annotated[
        str,
        typer.Option(
            "--method",
            "-m",
            help="fixed, mpm, ears_c1, ears_c2, ears_c3, cusum, bayes, rki, cdc, farrington, "
            "farrington_flexible, glrnb, ewma",
        ),
    ],
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            help="method parameter name=value, repeatable, R surveillance names: -p alpha=0.05; "
            "range is 0-based start:stop (stop excluded), e.g. -p range=52: judges from the 53rd date on",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write the result CSV here (default: print it)")
    ] = None,
    freq: Annotated[
        int | None,
        typer.Option(help="time points a year: 52 weekly, 365 daily (default: read from the dates)"),
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Run a detector over a daily or weekly count series: expected value, threshold and alarm per date."""
    import json as json_module

    from fangkong.analytics.detection.base import DetectorParameterError
    from fangkong.analytics.detection.registry import METHOD_NAMES, accepts_parameter, run_detector

    if method not in METHOD_NAMES:
        _fail([f"--method: unknown method {method!r}; known: {', '.join(METHOD_NAMES)}"])
    try:
        text = input.read_text(encoding="utf-8-sig")
    except OSError as exc:
        _fail([f"{input}: cannot read the file ({exc.strerror or exc})"])
    except UnicodeDecodeError:
        _fail([f"{input}: is not UTF-8 text"])
    try:
        params: dict[str, object] = dict(parse_params(param or []))
    except ValueError as exc:
        _fail([str(exc)])
    if freq is not None and "freq" in params:
        _fail(["freq given both as --freq and as --param freq; give it once"])
    try:
        series = read_series(text)
        if freq is None and "freq" not in params:
            used_freq = infer_freq(series.dates)
        else:
            used_freq = freq if freq is not None else int(str(params["freq"]))
    except SeriesInputError as exc:
        shown = [str(p) for p in exc.problems[:MAX_ERRORS_SHOWN]]
        more = len(exc.problems) - MAX_ERRORS_SHOWN
        _fail(
            [
                f"{input}: {len(exc.problems)} problem(s) in the input",
                *shown,
                *([f"... and {more} more"] if more > 0 else []),
            ]
        )
    except ValueError:
        _fail([f"--param freq: {params.get('freq')!r} is not a whole number"])
    if used_freq < 1:
        _fail([f"--freq: must be a positive number of time points a year, got {used_freq}"])
    if accepts_parameter(method, "freq"):
        params["freq"] = used_freq
    if method in ("farrington", "farrington_flexible") and "dates" not in params:
        # Given dates, the Farrington detectors find reference weeks by calendar date, as R does.
        params["dates"] = [d.isoformat() for d in series.dates]
    try:
        result = run_detector(method, series.observed, params)
    except (DetectorParameterError, ValueError) as exc:
        # ValueError too: a detector refusing a value it cannot use is the user's to fix, not a crash.
        _fail([f"{method}: {exc}"])
    rows = result_rows(series, result)
    alarms = int(result.alarm.sum())
    if output is not None:
        try:
            with output.open("w", encoding="utf-8", newline="") as handle:
                write_csv(rows, handle)
        except OSError as exc:
            _fail([f"{output}: cannot write the file ({exc.strerror or exc})"])
    if json:
        shown_params = {k: v for k, v in result.params.items() if k not in ("dates",)}
        document = {
            "method": method,
            "freq": used_freq,
            "params": _jsonable(shown_params),
            "time_points": len(rows),
            "judged": int(result.judged.sum()),
            "alarms": alarms,
            "rows": _jsonable(rows),
        }
        typer.echo(json_module.dumps(document, ensure_ascii=False))
    elif output is None:
        write_csv(rows, sys.stdout)
    else:
        typer.echo(
            f"{method}: {len(rows)} time points, {int(result.judged.sum())} judged, "
            f"{alarms} alarm(s) -> {output}"
        )


def _jsonable(value: object) -> object:
    """Plain JSON values: numpy scalars and arrays unwrapped, NaN and infinities as null."""
    tolist = getattr(value, "tolist", None)
    if tolist is not None and not isinstance(value, str | int | float | bool):
        value = tolist()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
