"""The modelling bench's commands: ``rt``, ``simulate``, ``account`` and ``drill`` (start, status, score...).

Each command is a plain function registered on ``app`` (and the drill commands on ``drill_app``), so the
top-level ``fangkong`` command can register the same functions directly. Numeric kernels, the database
and Rich are imported inside the commands to keep ``fangkong --help`` fast; this module itself needs
only the standard library and Typer.

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
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from fangkong.core.i18n import render_text

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from fangkong.core.auth import Principal
    from fangkong.core.crypto import Vault
    from fangkong.core.db import Database
    from fangkong.core.events import EventBus
    from fangkong.modeling.drills import AdvanceReport, DrillStatusView

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


def _fail(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code=2)


# ============================================================================ simulate and account

# Jurisdiction whose registry ``--region demo`` reads: the demo region's province (core.demo.region).
DEMO_REGION_CODE = "330000"


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace("，", ",").split(",") if part.strip()]


def _pairs(items: list[str], option: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            found[key.strip()] = float(value)
        except ValueError:
            _fail(f"{option} {item!r}: write KEY=NUMBER")
    return found


def _region_population(region: str, seed: int) -> tuple[object, str]:
    """The registry population of a jurisdiction code (``demo``: the demo province), and its name."""
    import numpy as np

    from fangkong.core import jurisdictions
    from fangkong.core.cli import open_database
    from fangkong.core.people import population_arrays
    from fangkong.modeling import population
    from fangkong.vaccination.service.population import protected

    code = DEMO_REGION_CODE if region == "demo" else region
    db = open_database()
    try:
        with db.unit_of_work() as session:
            node = jurisdictions.by_code(session, code)
            if node is None:
                _fail(f"--region {region}: no jurisdiction {code} in the database (load it: fangkong demo)")
            arrays = population_arrays(session, node.path)
            vaccinated = protected(session, arrays.person_id)
            name = node.name
    finally:
        db.dispose()
    if arrays.size == 0:
        _fail(f"--region {region}: nobody is registered in {name} (load the demo region: fangkong demo)")
    return population.from_registry(
        arrays, np.random.default_rng(seed), vaccinated
    ), f"{name} registry, {arrays.size:,} people"


@app.command("simulate")
def simulate(
    arm: Annotated[
        str, typer.Option("--arm", help="Protocol id (cn-9...), a protocol file, or 'none'.")
    ] = "cn-9",
    size: Annotated[int, typer.Option("--size", min=1, help="People of a generated population.")] = 100_000,
    region: Annotated[
        str | None, typer.Option("--region", help="'demo' or a jurisdiction code: its registry's people.")
    ] = None,
    days: Annotated[int, typer.Option("--days", min=1, max=3650)] = 120,
    seed: Annotated[int, typer.Option("--seed", min=0)] = 1,
    initial_infections: Annotated[int, typer.Option("--initial-infections", min=1)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print totals and daily series as JSON.")] = False,
) -> None:
    """Run one strategy arm of the agent-based simulator and summarise its daily series."""
    import numpy as np

    from fangkong.analytics import sim
    from fangkong.modeling import population, strategies
    from fangkong.protocol.loader import ProtocolError

    try:
        mapping = strategies.arm(arm)
    except (ProtocolError, KeyError) as exc:
        _fail(f"--arm {arm}: {exc}")
    if region is not None:
        people, where = _region_population(region, seed)
    else:
        people, where = (
            population.generated(size, np.random.default_rng(seed)),
            f"{size:,} people (census 2020)",
        )
    assert isinstance(people, sim.Population)
    result = sim.simulate(
        people,
        sim.Parameters(initial_infections=initial_infections),
        mapping.strategy,
        days,
        np.random.default_rng(seed),
    )
    totals = result.totals
    if as_json:
        payload = {
            "arm": mapping.arm,
            "label": mapping.label,
            "population": people.size,
            "where": where,
            "days": days,
            "seed": seed,
            "totals": totals,
            "notes": [render_text(note, None) for note in mapping.notes],
            "agent_days_per_s": result.agent_days_per_second,
            "daily": {name: values.tolist() for name, values in result.daily.items()},
        }
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    from fangkong.core.tables import print_table

    console = Console()
    console.print(f"[bold]{mapping.arm}[/] · {mapping.label} · {where} · {days} days · seed {seed}")
    for note in mapping.notes:
        console.print(f"  · {render_text(note, None)}", style="dim")
    summary = Table(title="Totals")
    summary.add_column("figure")
    summary.add_column("value", justify="right")
    for name, value in totals.items():
        summary.add_row(name, f"{value:,.3f}" if isinstance(value, float) and value < 1 else f"{value:,.0f}")
    print_table(console, summary)
    daily = Table(title="Daily series (every 10th day and the peak)")
    columns = ("new_infections", "new_diagnoses", "infectious", "hospital_demand",
               "in_quarantine_centralized", "in_quarantine_home", "in_lockdown", "tests")  # fmt: skip
    daily.add_column("day", justify="right")
    for name in columns:
        daily.add_column(name, justify="right")
    peak = int(np.argmax(result.daily["new_infections"])) if days else 0
    for day in sorted({*range(0, days, 10), peak, days - 1}):
        daily.add_row(
            f"{day}{' (peak)' if day == peak else ''}", *(f"{int(result.daily[n][day]):,}" for n in columns)
        )
    print_table(console, daily)
    console.print(f"{result.agent_days_per_second / 1e6:,.1f} M agent-days per second", style="dim")


@app.command("account")
def account(
    arms: Annotated[
        str, typer.Option("--arms", help="Comma-separated arms: protocol ids, protocol files or 'none'.")
    ] = "cn-9,cn-9-20,cn-9-10,cn-10,none",
    size: Annotated[int, typer.Option("--size", min=1, help="People of a generated population.")] = 100_000,
    region: Annotated[
        str | None, typer.Option("--region", help="'demo' or a jurisdiction code: its registry's people.")
    ] = None,
    days: Annotated[int, typer.Option("--days", min=1, max=3650)] = 120,
    seeds: Annotated[
        str, typer.Option("--seeds", help="Comma-separated seeds, shared by every arm.")
    ] = "1,2,3,4,5",
    initial_infections: Annotated[int, typer.Option("--initial-infections", min=1)] = 20,
    effect: Annotated[
        str, typer.Option("--effect", help="infections, severe or deaths (the frontier's axis).")
    ] = ("infections"),
    price: Annotated[
        list[str], typer.Option("--price", help="Override a price: KEY=VALUE (repeatable).")
    ] = [],  # noqa: B006
    behaviour: Annotated[
        list[str], typer.Option("--behaviour", help="Override behaviour: KEY=VALUE (repeatable).")
    ] = [],  # noqa: B006
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Local processes.")] = 2,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Dask scheduler address: run the ensemble on that cluster."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="Also write the account as JSON here.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the account as JSON.")] = False,
) -> None:
    """The account (总账): every arm's infections, severe cases, deaths, hospital demand and cost lines."""
    import numpy as np

    from fangkong.core.errors import DomainError
    from fangkong.modeling import population, service
    from fangkong.modeling.ensemble import EnsembleError
    from fangkong.protocol.loader import ProtocolError

    try:
        seed_list = tuple(int(s) for s in _split(seeds))
    except ValueError:
        _fail(f"--seeds {seeds!r}: write whole numbers separated by commas")
    request = service.ComparisonRequest(
        arms=tuple(_split(arms)),
        population="registry" if region is not None else "generated",
        size=size,
        days=days,
        seeds=seed_list,
        initial_infections=initial_infections,
        effect=effect,
        price_overrides=_pairs(price, "--price"),
        behaviour=_pairs(behaviour, "--behaviour"),
        workers=workers,
    )
    errors = service.check_comparison(request, allow_files=True)
    if errors:
        _fail("; ".join(f"{e.field}: {e.message}" for e in errors))
    if region is not None:
        people, where = _region_population(region, seed_list[0])
    else:
        people, where = population.generated(size, np.random.default_rng(seed_list[0])), f"{size:,} people"
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    err_console = Console(stderr=True)
    try:
        with Progress(
            TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=err_console, disable=as_json,
        ) as bar:  # fmt: skip
            task = bar.add_task("runs", total=len(request.arms) * len(request.seeds))
            result = service.run_comparison(
                request,
                people,
                scheduler=scheduler,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                allow_files=True,
            )
    except (DomainError, EnsembleError, ProtocolError, KeyError) as exc:
        _fail(getattr(exc, "message", None) or str(exc))
    data = result.to_dict()
    if output is not None:
        try:
            output.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot write {output}: {exc.strerror or exc}")
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    _print_account(data, where)


def _basis(basis: object) -> str:
    return "" if basis == "published" else str(basis)


def _print_account(data: dict[str, object], where: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from fangkong.core.tables import print_table

    arms = data["arms"]
    assert isinstance(arms, list)
    effect = str(data["effect"])
    console = Console()
    table = Table(
        title=f"The account: {where}, {data['days']} days, seeds {data['seeds']} (mean, 90% range); "
        f"averted against {data['reference']}"
    )
    for name in ("arm", "frontier", "infections", "severe", "deaths", "peak hospital / beds",
                 f"{effect} averted", "total cost (CNY)", "cost per averted (incr.)"):  # fmt: skip
        table.add_column(name, justify="left" if name in ("arm", "frontier") else "right")

    def rng(s: dict[str, float]) -> str:
        return f"{s['mean']:,.0f} ({s['low']:,.0f}-{s['high']:,.0f})"

    for a in arms:
        increment = a["incremental_cost_per_averted"]
        table.add_row(
            a["arm"],
            a["status"],
            rng(a["infections"]),
            rng(a["severe"]),
            rng(a["deaths"]),
            f"{a['peak_hospital']['mean']:,.0f} / {a['hospital_capacity']:,.0f}",
            rng(a["averted"][effect]),
            f"{a['total_cost']['mean']:,.0f}",
            f"{increment:,.0f}" if increment is not None else "-",
        )
    print_table(console, table)
    lines = Table(title="Cost lines (quantity x price = cost, CNY)")
    lines.add_column("line")
    lines.add_column("price", justify="right")
    for a in arms:
        lines.add_column(a["arm"], justify="right")
    for k, line in enumerate(arms[0]["cost_lines"]):
        lines.add_row(
            f"{line['label']} ({line['unit']})",
            f"{line['price']:,.2f} {_basis(line['price_basis'])}".strip(),
            *(f"{a['cost_lines'][k]['quantity']:,.0f} x = {a['cost_lines'][k]['cost']:,.0f}" for a in arms),
        )
    print_table(console, lines)


# ============================================================================ drills

drill_app = typer.Typer(no_args_is_help=True, add_completion=False, help="Drills (实战演练) in a sandbox.")
app.add_typer(drill_app, name="drill")


@dataclass(frozen=True)
class _DrillTools:
    db: Database
    vault: Vault
    bus: EventBus
    principal: Principal


def _as_principal(session: Session, username: str) -> Principal:
    from sqlalchemy import select

    from fangkong.core.auth import principal_for
    from fangkong.core.models import User

    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        _fail(f"--as {username}: no such active user")
    return principal_for(session, user, "cli")


def _drill_tools(drill_id: int, username: str | None) -> _DrillTools:
    """What a drill command needs; the principal defaults to the user who started the drill."""
    from fangkong.core.cli import open_database
    from fangkong.core.config import get_settings
    from fangkong.core.crypto import Vault
    from fangkong.core.models import User
    from fangkong.modeling.models import Drill
    from fangkong.wiring import build_bus

    settings = get_settings()
    db = open_database(settings)
    with db.unit_of_work() as session:
        drill = session.get(Drill, drill_id)
        if drill is None:
            _fail(f"no drill {drill_id}")
        name = username
        if name is None:
            starter = session.get(User, drill.created_by)
            name = starter.username if starter is not None else ""
        principal = _as_principal(session, name)
    return _DrillTools(db, Vault(settings.encryption_key, settings.hash_key), build_bus(), principal)


@drill_app.command("start")
def drill_start(
    as_user: Annotated[str, typer.Option("--as", help="Username the drill runs as (its records name them).")],
    people: Annotated[int, typer.Option("--people", min=200, max=20_000, help="Synthetic residents.")] = 3000,
    days: Annotated[int, typer.Option("--days", min=7, max=90)] = 30,
    protocol: Annotated[str, typer.Option("--protocol")] = "cn-9",
    county: Annotated[
        str | None, typer.Option("--county", help="County code (default: the user's own).")
    ] = None,
    name: Annotated[str, typer.Option("--name")] = "",
    speed: Annotated[float, typer.Option("--speed", help="Drill hours per real hour.")] = 1440.0,
    seed: Annotated[int, typer.Option("--seed", min=0)] = 1,
    autopilot: Annotated[bool, typer.Option("--autopilot", help="The drill plays the teams too.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create a sandbox with synthetic residents and an outbreak, and schedule what the drill feeds."""
    from fangkong.core import jurisdictions
    from fangkong.core.cli import open_database
    from fangkong.core.config import get_settings
    from fangkong.core.crypto import Vault
    from fangkong.core.errors import DomainError
    from fangkong.core.people_rules import Keys
    from fangkong.modeling import drills

    settings = get_settings()
    db = open_database(settings)
    try:
        with db.unit_of_work() as session:
            principal = _as_principal(session, as_user)
            county_id = None
            if county is not None:
                node = jurisdictions.by_code(session, county)
                if node is None:
                    _fail(f"--county {county}: no such jurisdiction")
                county_id = node.id
            request = drills.DrillRequest(
                people=people, days=days, protocol_id=protocol, name=name, county_id=county_id, speed=speed,
                seed=seed, autopilot=autopilot, realtime=False,
            )  # fmt: skip
            drill = drills.start_drill(
                session, Vault(settings.encryption_key, settings.hash_key),
                Keys(settings.encryption_key, settings.hash_key), principal, request, ip="cli",
            )  # fmt: skip
            drill_id, summary = drill.id, json.loads(drill.summary)
    except DomainError as exc:
        _fail(exc.message)
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps({"drill_id": drill_id, **summary}, ensure_ascii=False))
        return
    typer.echo(
        f"drill {drill_id} started: {summary['cases']} cases to report ({summary['infections']} infections), "
        f"{summary['key_contacts']} close contacts in the answer key"
    )
    typer.echo(
        f"advance it with: fangkong drill status {drill_id} (feeds what is due) or drill advance {drill_id}"
    )


def _print_status(view: DrillStatusView, report: AdvanceReport | None) -> None:
    from rich.console import Console
    from rich.table import Table

    from fangkong.core.tables import print_table

    console = Console()
    drill = view.drill
    console.print(
        f"drill {drill.id} 【演练】{drill.name}: {drill.status.value}, day {view.day} "
        f"({view.hours:.1f} / {view.end_hours:.0f} drill hours)"
    )
    table = Table()
    for column in ("what", "fed", "scheduled", "refused"):
        table.add_column(column, justify="left" if column == "what" else "right")
    for k in view.kinds:
        table.add_row(k.kind, str(k.fed), str(k.due), str(k.failed))
    print_table(console, table)
    for kind, message in view.errors:
        console.print(f"  refused {kind}: {message}", style="red")
    if report is not None:
        console.print(f"fed {report.fed} now ({report.failed} refused)", style="dim")


@drill_app.command("status")
def drill_status(
    drill_id: Annotated[int, typer.Argument(min=1)],
    as_user: Annotated[
        str | None, typer.Option("--as", help="Username (default: the drill's starter).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Feed what has come due on the drill clock, then show what was fed."""
    from fangkong.modeling import drills

    tools = _drill_tools(drill_id, as_user)
    report = drills.advance(tools.db, tools.vault, tools.bus, drill_id)
    with tools.db.unit_of_work() as session:
        view = drills.status(session, tools.principal, drill_id)
        if as_json:
            typer.echo(
                json.dumps(
                    {"drill_id": drill_id, "status": view.drill.status.value, "drill_hours": view.hours,
                     "day": view.day, "events": [k.__dict__ for k in view.kinds],
                     "errors": [list(e) for e in view.errors], "fed_now": report.fed},
                    ensure_ascii=False,
                )
            )  # fmt: skip
        else:
            _print_status(view, report)


@drill_app.command("advance")
def drill_advance(
    drill_id: Annotated[int, typer.Argument(min=1)],
    hours: Annotated[float | None, typer.Option("--hours", min=0, help="Jump this many drill hours.")] = None,
    to_end: Annotated[bool, typer.Option("--to-end", help="Jump to the end of the drill.")] = False,
    as_user: Annotated[str | None, typer.Option("--as")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Jump the drill clock ahead, feeding every event on the way at its own drill time."""
    from fangkong.modeling import drills

    tools = _drill_tools(drill_id, as_user)
    with tools.db.unit_of_work() as session:
        drill = drills.get_drill(session, tools.principal, drill_id)
        now = drills.drill_hours(session, drill)
        target = drill.days * 24.0 + 1 if to_end else now + (hours if hours is not None else 24.0)
    report = drills.advance(tools.db, tools.vault, tools.bus, drill_id, to_hours=target)
    if as_json:
        typer.echo(json.dumps(report.__dict__, ensure_ascii=False))
        return
    with tools.db.unit_of_work() as session:
        _print_status(drills.status(session, tools.principal, drill_id), report)


@drill_app.command("score")
def drill_score_command(
    drill_id: Annotated[int, typer.Argument(min=1)],
    as_user: Annotated[str | None, typer.Option("--as")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Score the drill from the records: each measure, or why it is not available yet."""
    from rich.console import Console
    from rich.table import Table

    from fangkong.core.tables import print_table
    from fangkong.modeling import drill_score

    tools = _drill_tools(drill_id, as_user)
    with tools.db.unit_of_work() as session:
        result = drill_score.score(session, tools.principal, drill_id)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    table = Table(title=f"drill {drill_id} at drill hour {result.hours:.0f}: score "
                        f"{'-' if result.total is None else f'{result.total:.0f}'}")  # fmt: skip
    for column in ("measure", "value", "target", "points", "detail"):
        table.add_column(column, justify="right" if column in ("value", "points") else "left")
    for m in result.measures:
        value = "-" if m.value is None else f"{m.value:.1f} {m.unit}"
        points = "-" if m.points is None else f"{m.points:.0f}"
        detail = render_text(m.detail, None)  # a stored message, in English here
        if m.status == "not_available":
            detail = f"not available: {detail}"
        table.add_row(m.label, value, m.target, points, detail)
    print_table(Console(), table)


@drill_app.command("stop")
def drill_stop(
    drill_id: Annotated[int, typer.Argument(min=1)],
    as_user: Annotated[str | None, typer.Option("--as")] = None,
) -> None:
    """Stop a drill: its clock stands still and nothing more is fed."""
    from fangkong.modeling import drills

    tools = _drill_tools(drill_id, as_user)
    with tools.db.unit_of_work() as session:
        drills.stop_drill(session, tools.principal, drill_id, ip="cli")
    typer.echo(f"drill {drill_id} stopped")
