"""``rt``: the time-varying reproduction number of a daily case file (Cori et al. 2013, as R EpiEstim),
written as EpiEstim's table with calendar labels and shown as a table or JSON.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated

import typer

from fangkong.modeling.cli.case_files import read_cases, read_si_distr
from fangkong.modeling.cli.common import InputFileError, _fail

# Estimation window, days (EpiEstim's default weekly window; equals analytics.rt.DEFAULT_WINDOW_DAYS,
# repeated here so that loading this module does not load numpy and scipy).
DEFAULT_WINDOW_DAYS = 7
# Columns after EpiEstim's own: the calendar labels of each window's first and last day.
DATE_COLUMNS = ("date_start", "date_end")


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

    from fangkong.core.tables import print_table

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
    print_table(Console(), table)
