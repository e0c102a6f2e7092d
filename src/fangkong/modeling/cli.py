"""The modelling bench's commands for analysts: ``fangkong rt`` (later also ``simulate`` and ``account``).

Each command is a plain function registered on ``app``, so the top-level ``fangkong`` command can
register the same function directly. Numeric kernels are imported inside the commands to keep
``fangkong --help`` fast; this module itself needs only the standard library and Typer.

Bad input never produces a traceback: the command prints one line naming the file, line and column at
fault and exits with code 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, NoReturn

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False)

# Estimation window, days (EpiEstim's default weekly window; equals analytics.rt.DEFAULT_WINDOW_DAYS,
# repeated here so that loading this module does not load numpy and scipy).
DEFAULT_WINDOW_DAYS = 7
# Columns after EpiEstim's own: the calendar labels of each window's first and last day.
DATE_COLUMNS = ("date_start", "date_end")

# Accepted header names (compared case-insensitively) for each role in a case file; the I_* spellings
# are those of EpiEstim's own exports.
_DATE_NAMES = frozenset({"date", "dates"})
_LOCAL_NAMES = frozenset({"local", "i_local"})
_IMPORTED_NAMES = frozenset({"imported", "i_imported"})
_TOTAL_NAMES = frozenset({"i"})


class InputFileError(Exception):
    """A file the user gave cannot be used; the message names the file, line and column."""


@app.callback()
def modeling() -> None:
    """Modelling bench: reproduction number, scenarios and the account of strategies."""


@app.command("rt")
def rt(
    input_path: Annotated[
        Path,
        typer.Option(
            "--input",
            help="Daily cases CSV: columns date, local[, imported] or date, I (one row per day).",
            dir_okay=False,
        ),
    ],
    output: Annotated[Path, typer.Option("--output", help="Where to write the Rt table (CSV).")],
    si_mean: Annotated[
        float | None, typer.Option("--si-mean", help="Mean serial interval, days (gamma, offset 1 day).")
    ] = None,
    si_sd: Annotated[float | None, typer.Option("--si-sd", help="SD of the serial interval, days.")] = None,
    si_distr: Annotated[
        Path | None,
        typer.Option(
            "--si-distr",
            help="One-column CSV of serial-interval probabilities for 0, 1, 2... days (header allowed).",
            dir_okay=False,
        ),
    ] = None,
    window: Annotated[int, typer.Option("--window", help="Width of the sliding window, days.")] = (
        DEFAULT_WINDOW_DAYS
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
) -> None:
    """Estimate the time-varying reproduction number Rt (Cori et al. 2013, as R EpiEstim)."""
    from fangkong.analytics.rt import EPIESTIM_COLUMNS, RtInputError, estimate_r

    try:
        if si_distr is not None and (si_mean is not None or si_sd is not None):
            raise InputFileError("give either --si-distr or --si-mean with --si-sd, not both")
        if si_distr is None and (si_mean is None or si_sd is None):
            raise InputFileError("give the serial interval: --si-mean and --si-sd, or --si-distr")
        if window < 1:
            raise InputFileError(f"--window must be at least 1 day, got {window}")
        cases = read_cases(input_path)
        probabilities = read_si_distr(si_distr) if si_distr is not None else None
        if len(cases.dates) < window + 1:
            raise InputFileError(
                f"{input_path}: {len(cases.dates)} days are too few for a {window}-day window "
                "(windows start on day 2)"
            )
        estimate = estimate_r(
            cases.local,
            cases.imported,
            si_distr=probabilities,
            mean_si=si_mean,
            std_si=si_sd,
            window=window,
        )
    except (InputFileError, RtInputError) as exc:
        _fail(str(exc))

    table = estimate.epiestim_columns()
    rows: list[dict[str, object]] = []
    for i in range(estimate.t_start.size):
        row: dict[str, object] = {name: table[name][i].item() for name in EPIESTIM_COLUMNS}
        row["date_start"] = cases.dates[int(estimate.t_start[i]) - 1]
        row["date_end"] = cases.dates[int(estimate.t_end[i]) - 1]
        rows.append(row)
    columns = [*EPIESTIM_COLUMNS, *DATE_COLUMNS]
    try:
        _write_table(output, columns, rows)
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}")

    covered = float(estimate.si_distr[: len(cases.dates)].sum())
    if covered < 0.99:
        typer.echo(
            f"warning: the serial interval is longer than the series; only {covered:.0%} of it falls within "
            f"{len(cases.dates)} days, so early infectors are under-counted",
            err=True,
        )
    if not rows:
        typer.echo(
            f"warning: no window ends after the serial interval's mean ({estimate.si_mean:.2f} days); "
            "nothing was estimated",
            err=True,
        )
    if as_json:
        summary = {
            "method": estimate.method,
            "window_days": window,
            "serial_interval": {"mean_days": estimate.si_mean, "sd_days": estimate.si_std},
            "output": str(output),
            "rows": rows,
        }
        typer.echo(json.dumps(summary, ensure_ascii=False))
    else:
        _print_table(rows, output)


@dataclass(frozen=True)
class Cases:
    """Daily cases read from a file: one entry per day, oldest first."""

    dates: list[str]
    local: list[float]
    imported: list[float]


def read_cases(path: Path) -> Cases:
    """Read a daily case file, checking every cell; raises :class:`InputFileError` naming the cell."""
    header, body = _read_csv(path)
    roles = _column_roles(path, header)
    if "date" not in roles:
        raise InputFileError(f"{path}: missing column 'date'")
    if "local" not in roles and "total" not in roles:
        raise InputFileError(f"{path}: missing column 'local' (or 'I' for all cases)")
    if "imported" in roles and "local" not in roles:
        raise InputFileError(f"{path}: column 'imported' needs a column 'local' beside it")

    dates: list[str] = []
    local: list[float] = []
    imported: list[float] = []
    for line, row in body:
        if len(row) != len(header):
            raise InputFileError(f"{path}, line {line}: {len(row)} fields, the header has {len(header)}")

        counts = {role: _count(path, line, header[i], row[i]) for role, i in roles.items() if role != "date"}
        dates.append(row[roles["date"]].strip())
        if "local" in roles:
            local.append(counts["local"])
            imported.append(counts.get("imported", 0.0))
            if "total" in roles and counts["total"] != local[-1] + imported[-1]:
                raise InputFileError(
                    f"{path}, line {line}, column '{header[roles['total']]}': "
                    f"{row[roles['total']].strip()} is not local + imported "
                    f"({local[-1]:g} + {imported[-1]:g})"
                )
        else:
            local.append(counts["total"])
            imported.append(0.0)
    if not dates:
        raise InputFileError(f"{path}: no rows of cases")
    _check_consecutive_days(path, header[roles["date"]], [line for line, _ in body], dates)
    return Cases(dates=dates, local=local, imported=imported)


def read_si_distr(path: Path) -> list[float]:
    """Read serial-interval probabilities for 0, 1, 2... days.

    One column, optionally under a header line. EpiEstim's export (columns ``t, si_distr``) is read
    as well, with ``t`` required to run 0, 1, 2...
    """
    lines = _read_rows(path)
    if not lines:
        raise InputFileError(f"{path}: empty file")
    first_line, first_row = lines[0]
    has_header = any(not _is_number(cell) for cell in first_row)
    width = len(first_row)
    day_column = has_header and width == 2 and first_row[0].strip().lower() == "t"
    if width != 1 and not day_column:
        raise InputFileError(
            f"{path}, line {first_line}: expected one column of probabilities, found {width}"
        )
    name = first_row[-1].strip() if has_header else "probability"
    probabilities: list[float] = []
    for line, row in lines[1:] if has_header else lines:
        if len(row) != width:
            raise InputFileError(f"{path}, line {line}: {len(row)} fields, expected {width}")
        if day_column and _number(path, line, first_row[0].strip(), row[0]) != len(probabilities):
            raise InputFileError(
                f"{path}, line {line}, column '{first_row[0].strip()}': expected day {len(probabilities)}"
            )
        value = _number(path, line, name, row[-1])
        if value < 0:
            raise InputFileError(f"{path}, line {line}, column '{name}': probability {value:g} is negative")
        probabilities.append(value)
    if not probabilities:
        raise InputFileError(f"{path}: no probabilities")
    data_lines = [line for line, _ in (lines[1:] if has_header else lines)]
    if probabilities[0] != 0:
        raise InputFileError(
            f"{path}, line {data_lines[0]}, column '{name}': the probability of a 0-day serial interval "
            f"must be 0, got {probabilities[0]:g}"
        )
    total = math.fsum(probabilities)
    # EpiEstim's tolerance (check_si_distr), also analytics.rt.SI_DISTR_SUM_TOLERANCE.
    if abs(total - 1.0) > 0.01:
        raise InputFileError(f"{path}, column '{name}': probabilities sum to {total:.6g}, not 1")
    return probabilities


def _read_rows(path: Path) -> list[tuple[int, list[str]]]:
    """Non-blank CSV rows with their 1-based line numbers."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise InputFileError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    reader = csv.reader(text.splitlines())
    rows: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise InputFileError(f"{path}, line {reader.line_num}: {exc}") from None
    return rows


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    rows = _read_rows(path)
    if not rows:
        raise InputFileError(f"{path}: empty file")
    return [name.strip() for name in rows[0][1]], rows[1:]


def _column_roles(path: Path, header: list[str]) -> dict[str, int]:
    roles: dict[str, int] = {}
    for index, name in enumerate(header):
        key = name.lower()
        for role, names in (
            ("date", _DATE_NAMES),
            ("local", _LOCAL_NAMES),
            ("imported", _IMPORTED_NAMES),
            ("total", _TOTAL_NAMES),
        ):
            if key in names:
                if role in roles:
                    raise InputFileError(
                        f"{path}: columns '{header[roles[role]]}' and '{name}' both give the {role} cases"
                        if role != "date"
                        else f"{path}: columns '{header[roles[role]]}' and '{name}' both give the date"
                    )
                roles[role] = index
    return roles


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _number(path: Path, line: int, column: str, text: str) -> float:
    stripped = text.strip()
    if not stripped:
        raise InputFileError(f"{path}, line {line}, column '{column}': empty")
    try:
        value = float(stripped)
    except ValueError:
        raise InputFileError(
            f"{path}, line {line}, column '{column}': '{stripped}' is not a number"
        ) from None
    if not math.isfinite(value):
        raise InputFileError(f"{path}, line {line}, column '{column}': '{stripped}' is not a finite number")
    return value


def _count(path: Path, line: int, column: str, text: str) -> float:
    value = _number(path, line, column, text)
    if value < 0:
        raise InputFileError(f"{path}, line {line}, column '{column}': negative count {text.strip()}")
    if value != int(value):
        raise InputFileError(f"{path}, line {line}, column '{column}': {text.strip()} is not a whole count")
    return value


def _check_consecutive_days(path: Path, column: str, lines: list[int], labels: list[str]) -> None:
    """Dates are ISO calendar dates or day numbers, one row per day with no gap or repeat."""
    first = _day_number(labels[0])
    if first is None:
        raise InputFileError(
            f"{path}, line {lines[0]}, column '{column}': '{labels[0]}' is neither a date (YYYY-MM-DD) "
            "nor a day number"
        )
    kind = _day_kind(labels[0])
    previous = first
    for line, label in zip(lines[1:], labels[1:], strict=True):
        day = _day_number(label) if _day_kind(label) == kind else None
        if day is None:
            expected = "a date (YYYY-MM-DD)" if kind == "date" else "a day number"
            raise InputFileError(f"{path}, line {line}, column '{column}': '{label}' is not {expected}")
        if day != previous + 1:
            raise InputFileError(
                f"{path}, line {line}, column '{column}': {label} does not follow the previous row's day "
                "(one row per consecutive day, oldest first)"
            )
        previous = day


def _day_kind(label: str) -> str:
    return "number" if label.lstrip("+-").isdigit() else "date"


def _day_number(label: str) -> int | None:
    if _day_kind(label) == "number":
        return int(label)
    try:
        return dt.date.fromisoformat(label).toordinal()
    except ValueError:
        return None


def _write_table(path: Path, columns: list[str], rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_format_cell(row[name]) for name in columns])


def _format_cell(value: object) -> str:
    # repr keeps every digit of a float, so the file round-trips the estimate exactly.
    return repr(value) if isinstance(value, float) else str(value)


def _print_table(rows: list[dict[str, object]], output: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Rt by window (written to {output})")
    for name in ("t_start", "t_end", "date_start", "date_end", "Mean(R)", "95% CrI"):
        table.add_column(name, justify="right")
    for row in rows:
        interval = f"{row['Quantile.0.025(R)']:.2f}-{row['Quantile.0.975(R)']:.2f}"
        table.add_row(
            str(row["t_start"]),
            str(row["t_end"]),
            str(row["date_start"]),
            str(row["date_end"]),
            f"{row['Mean(R)']:.2f}",
            interval,
        )
    Console().print(table)


def _fail(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code=2)
