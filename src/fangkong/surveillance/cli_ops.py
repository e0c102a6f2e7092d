"""Operators' and analysts' surveillance commands (``fangkong surveillance ...``).

Commands: ``evaluate``, ``run``, ``ingest``, ``pull``, ``escalate``, ``notify``, ``stats``.

``run``, ``pull``, ``escalate`` and ``notify`` are what a scheduler calls (e.g. pull and run once a day,
escalate and notify every few minutes, since single-case alerts have a 2-hour clock). They act as the
system user over the whole tree, or over one jurisdiction with ``--jurisdiction``. Heavy modules are
imported inside the commands so that ``fangkong --help`` stays fast. Every command takes ``--json``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from fangkong.analytics.evaluation import Evaluation
    from fangkong.core.db import Database

app = typer.Typer(
    help="Surveillance and early warning: runs, data, alerts, evaluation.", no_args_is_help=True
)

LABELLED_SERIES = ("m1", "m2", "m3", "m4", "m5", "n1", "n2")
"""RKI SurvStat series with outbreak flags, as distributed with R surveillance (see docs/surveillance.md)."""

EVALUATION_SEED = 20_080_421
"""default seed of the simulation study (the date CIDARS went national, 2008-04-21)."""


def _database() -> Database:
    from fangkong.core.cli import open_database

    return open_database()


def _scope(db: Database, code: str | None) -> str:
    if not code:
        return "/"
    from fangkong.core.jurisdictions import by_code

    with db.unit_of_work() as session:
        node = by_code(session, code)
        if node is None:
            raise _fail(f"--jurisdiction: no jurisdiction with code {code}")
        return node.path


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _domain_errors() -> tuple[type[Exception], ...]:
    from fangkong.core.errors import DomainError

    return (DomainError,)


def _report_domain_error(exc: Exception, as_json: bool) -> None:
    from fangkong.core.errors import DomainError, InvalidInput

    assert isinstance(exc, DomainError)
    if as_json:
        errors = [e.__dict__ for e in exc.errors] if isinstance(exc, InvalidInput) else []
        typer.echo(json.dumps({"ok": False, "message": exc.message, "errors": errors}, ensure_ascii=False))
        raise typer.Exit(2)
    from fangkong.core.cli import fail

    fail(exc)


@contextmanager
def _native_output_to_stderr() -> Iterator[None]:
    """Send what native libraries print on file descriptor 1 to stderr while numbers are crunched.

    LAPACK writes diagnostics such as "On entry to DLASCL ..." straight to the process's stdout when a
    model fit fails on a series; they must not end up inside the JSON a command prints.
    """
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no real file descriptor (e.g. a test runner's captured stream)
        yield
        return
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _date(text: str | None, name: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _fail(f"{name}: {text!r} is not a date (YYYY-MM-DD)") from None


# ----------------------------------------------------------------------------- operations


@app.command("run")
def run(
    as_of: Annotated[str | None, typer.Option("--as-of", help="date judged (default: today)")] = None,
    first_date: Annotated[str | None, typer.Option("--first-date", help="backfill from this date")] = None,
    jurisdiction: Annotated[str | None, typer.Option(help="limit to this jurisdiction's subtree")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run every configured detector, fuse signals into alerts and send the notifier outbox."""
    from fangkong.core import audit, clock
    from fangkong.surveillance import alerts, runner
    from fangkong.wiring import build_bus

    db = _database()
    path = _scope(db, jurisdiction)
    now = clock.utcnow()
    day = _date(as_of, "--as-of") or clock.local_day(now)
    try:
        with _native_output_to_stderr(), db.unit_of_work() as session:
            report = runner.run_detection(
                session,
                build_bus(),
                audit.SYSTEM,
                path,
                day,
                now,
                first_date=_date(first_date, "--first-date"),
            )
            summary = {
                "run_id": report.run.id,
                "first_date": report.run.first_date.isoformat(),
                "as_of": day.isoformat(),
                "series": report.run.series,
                "results": report.run.results,
                "signals": report.run.signals,
                "alerts_created": report.created,
                "alerts_updated": report.updated,
                "notes": report.notes,
            }
    except _domain_errors() as exc:
        _report_domain_error(exc, as_json)
        return
    delivered = alerts.deliver_pending(db, clock.utcnow(), path)
    summary["webhooks_sent"] = delivered.sent
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False))
        return
    typer.echo(
        f"run {summary['run_id']}: {summary['series']} series, {summary['signals']} signal(s), "
        f"{len(report.created)} new alert(s), {len(report.updated)} updated; {delivered.sent} webhook(s) sent"
    )
    for note in report.notes:
        typer.echo(f"  note: {note}")


@app.command("ingest")
def ingest(
    file: Annotated[
        Path, typer.Argument(help="CSV (UTF-8) or .xlsx with channel, jurisdiction, date, value")
    ],
    jurisdiction: Annotated[str | None, typer.Option(help="accept rows of this subtree only")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Load observations from a file; every bad row is reported and then nothing is written."""
    from fangkong.core import audit, clock
    from fangkong.surveillance import observations
    from fangkong.surveillance.ingest import read_upload

    try:
        content = file.read_bytes()
    except OSError as exc:
        raise _fail(f"{file}: cannot read the file ({exc.strerror or exc})") from None
    db = _database()
    path = _scope(db, jurisdiction)
    try:
        with db.unit_of_work() as session:
            records = read_upload(file.name, content)
            report = observations.ingest(
                session, audit.SYSTEM, path, records, f"file:{file.name}", clock.utcnow()
            )
    except _domain_errors() as exc:
        _report_domain_error(exc, as_json)
        return
    result = {
        "batch_id": report.batch_id,
        "rows": report.rows,
        "created": report.created,
        "revised": report.revised,
        "unchanged": report.unchanged,
    }
    if as_json:
        typer.echo(json.dumps(result))
    else:
        typer.echo(
            f"{file.name}: {report.rows} rows, {report.created} new, {report.revised} corrected, "
            f"{report.unchanged} unchanged"
        )


@app.command("pull")
def pull(
    source: Annotated[
        list[str] | None, typer.Option("--source", help="only this source (repeatable)")
    ] = None,
    jurisdiction: Annotated[str | None, typer.Option(help="only sources of this subtree")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Read every active pull source (late and corrected values of recent days come again as revisions)."""
    from fangkong.core import audit, clock
    from fangkong.surveillance import observations

    db = _database()
    outcomes = observations.pull_all(db, audit.SYSTEM, _scope(db, jurisdiction), clock.utcnow(), source or ())
    rows = [
        {
            "source": o.name,
            "ok": o.ok,
            "message": o.message,
            **(
                {"created": o.report.created, "revised": o.report.revised, "rows": o.report.rows}
                if o.report
                else {}
            ),
        }
        for o in outcomes
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
    else:
        for r in rows:
            typer.echo(f"{r['source']}: {'ok' if r['ok'] else 'FAILED'} - {r['message']}")
        if not rows:
            typer.echo("no active pull source")
    if any(not o.ok for o in outcomes):
        raise typer.Exit(1)


@app.command("escalate")
def escalate(
    jurisdiction: Annotated[str | None, typer.Option(help="only alerts of this subtree")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Move alerts nobody answered in time to the parent jurisdiction, then send the notifier outbox."""
    from fangkong.core import audit, clock
    from fangkong.surveillance import alerts

    db = _database()
    path = _scope(db, jurisdiction)
    with db.unit_of_work() as session:
        moved = [a.id for a in alerts.escalate_overdue(session, audit.SYSTEM, path, clock.utcnow())]
    delivered = alerts.deliver_pending(db, clock.utcnow(), "/")
    if as_json:
        typer.echo(json.dumps({"escalated": moved, "webhooks_sent": delivered.sent}))
    else:
        typer.echo(f"{len(moved)} alert(s) escalated; {delivered.sent} webhook(s) sent")


@app.command("notify")
def notify(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Send the notifier outbox (webhooks); failures are retried on the next call."""
    from fangkong.core import clock
    from fangkong.surveillance import alerts

    report = alerts.deliver_pending(_database(), clock.utcnow())
    result = {"sent": report.sent, "failed": report.failed, "retrying": report.retrying}
    typer.echo(
        json.dumps(result)
        if as_json
        else f"{report.sent} sent, {report.retrying} to retry, {report.failed} failed"
    )


@app.command("stats")
def stats(
    start: Annotated[str | None, typer.Option(help="first day (default: 30 days ago)")] = None,
    end: Annotated[str | None, typer.Option(help="last day (default: today)")] = None,
    jurisdiction: Annotated[str | None, typer.Option(help="only alerts of this subtree")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Response statistics as CIDARS reports them: response rate, median time, within 2 h and 24 h."""
    from dataclasses import asdict

    from fangkong.core import clock
    from fangkong.surveillance import alerts

    db = _database()
    path = _scope(db, jurisdiction)
    now = clock.utcnow()
    last = _date(end, "--end") or clock.local_day(now)
    first = _date(start, "--start") or last - dt.timedelta(days=29)
    with db.unit_of_work() as session:
        figures = alerts.statistics(session, path, first, last, now)
    document = {
        "start": first.isoformat(),
        "end": last.isoformat(),
        "overall": asdict(figures.overall),
        "single_case": asdict(figures.single_case),
        "temporal": asdict(figures.temporal),
    }
    if as_json:
        typer.echo(json.dumps(document))
        return
    from rich.console import Console
    from rich.table import Table

    from fangkong.core.tables import print_table

    table = Table(title=f"alert response {first} to {last}")
    for column in (
        "",
        "alerts",
        "response rate",
        "median h (P25-P75)",
        "within 2 h",
        "within 24 h",
        "confirmed",
    ):
        table.add_column(column)
    for label in ("overall", "single_case", "temporal"):
        s = getattr(figures, label)
        table.add_row(
            label,
            str(s.alerts),
            _pct(s.response_rate),
            "-"
            if s.median_response_hours is None
            else f"{s.median_response_hours:.1f} ({s.p25_response_hours:.1f}-{s.p75_response_hours:.1f})",
            _pct(s.within_2h),
            _pct(s.within_24h),
            str(s.confirmed),
        )
    print_table(Console(), table)


def _pct(value: float | None) -> str:
    return (
        "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.1f} %"
    )


# ----------------------------------------------------------------------------- evaluation


def read_labelled(path: Path) -> tuple[list[float], list[bool]]:
    """Counts and outbreak flags from an R surveillance ``sts`` export (``observed__*``, ``state__*``)."""
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise ValueError(f"{path}: no rows")
    header = list(rows[0])
    observed = next((h for h in header if h.startswith("observed")), None)
    state = next((h for h in header if h.startswith("state")), None)
    if observed is None or state is None:
        raise ValueError(f"{path}: needs an observed... and a state... column")
    return [float(r[observed]) for r in rows], [r[state].strip() in ("1", "TRUE", "true") for r in rows]


def _number(value: float | None, digits: int = 3) -> Any:
    """Rounded to ``digits`` significant figures (an alpha of 1e-9 must not print as 0)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(f"{float(value):.{digits}g}")


def _finite(value: Any) -> Any:
    """NaN (nothing to measure) as JSON null."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _evaluation_row(e: Evaluation) -> dict[str, Any]:
    q = e.quality
    return {
        "method": e.method,
        "dataset": e.dataset,
        "knob": e.knob,
        "knob_value": _number(e.knob_value, 4),
        "calibrated_false_alarm_rate": _number(e.calibrated_false_alarm_rate, 4),
        "sensitivity": _number(q.sensitivity),
        "specificity": _number(q.specificity),
        "probability_of_detection": _number(q.probability_of_detection),
        "time_to_detection": _number(q.time_to_detection),
        "false_alarms_per_year": _number(q.false_alarms_per_year),
        "outbreaks": q.outbreaks,
        "error": e.error,
    }


def _print_table(title: str, rows: list[dict[str, Any]], calibrated: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    from fangkong.core.tables import print_table

    table = Table(title=title)
    columns = ["dataset", "method"]
    if calibrated:
        columns += ["knob", "FPR cal."]
    columns += ["sens.", "spec.", "POD", "TTD", "FA/year"]
    for column in columns:
        table.add_column(column, justify="left" if column in ("dataset", "method", "knob") else "right")

    def cell(value: Any) -> str:
        return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)

    for r in rows:
        if r["error"]:
            table.add_row(
                r["dataset"], r["method"], *(["", ""] if calibrated else []), r["error"][:60], "", "", "", ""
            )
            continue
        knob = (
            [
                f"{r['knob']}={cell(r['knob_value'])}" if r["knob"] else "(fixed rule)",
                cell(r["calibrated_false_alarm_rate"]),
            ]
            if calibrated
            else []
        )
        table.add_row(
            r["dataset"],
            r["method"],
            *knob,
            cell(r["sensitivity"]),
            cell(r["specificity"]),
            cell(r["probability_of_detection"]),
            cell(r["time_to_detection"]),
            cell(r["false_alarms_per_year"]),
        )
    print_table(Console(), table)


def _study(
    methods: list[str],
    replicates: int,
    calibration_replicates: int,
    target_fpr: float,
    seed: int,
    labelled: Path | None,
    simulate: bool,
) -> dict[str, Any]:
    import numpy as np

    from fangkong.analytics import evaluation

    document: dict[str, Any] = {}
    series = {}
    if labelled is not None:
        for name in LABELLED_SERIES:
            try:
                counts, state = read_labelled(labelled / f"{name}.csv")
            except (OSError, ValueError) as exc:
                raise _fail(f"--labelled: {exc}") from None
            series[name] = (np.asarray(counts), np.asarray(state))
    if simulate:
        design = evaluation.SimulationDesign(
            replicates=replicates, calibration_replicates=calibration_replicates, target=target_fpr
        )
        simulated = evaluation.evaluate_simulated(np.random.default_rng(seed), methods, design)
        document["simulated"] = [_evaluation_row(e) for e in simulated]
        document["simulated_by_method"] = evaluation.pooled(simulated)
    if series:
        last = min(len(c) for c, _ in series.values())
        judged = np.arange(evaluation.LABELLED_FIRST_JUDGED, last, dtype=np.int64)
        found = evaluation.evaluate_labelled(series, methods, judged, evaluation.LABELLED_PARAMS)
        document["labelled"] = [_evaluation_row(e) for e in found]
        document["labelled_by_method"] = evaluation.pooled(found)
    return document


@app.command("evaluate")
def evaluate(
    methods: Annotated[
        str, typer.Option(help="comma-separated method names (default: every temporal one)")
    ] = "",
    replicates: Annotated[int, typer.Option(min=1, help="replicates with an outbreak per scenario")] = 100,
    calibration_replicates: Annotated[
        int, typer.Option(min=1, help="outbreak-free replicates per scenario")
    ] = 50,
    target_fpr: Annotated[
        float, typer.Option(min=1e-6, max=0.5, help="false alarms per quiet time point")
    ] = 0.01,
    seed: Annotated[int, typer.Option(help="seed of the simulation")] = EVALUATION_SEED,
    labelled: Annotated[
        Path | None,
        typer.Option(help="folder with m1..m5, n1, n2 CSV exports (e.g. tests/fixtures/surveillance_eval)"),
    ] = None,
    simulate: Annotated[bool, typer.Option(help="run the simulation study")] = True,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Calibrate each detector to a false-alarm rate on simulated baselines, then measure sensitivity,
    specificity, probability and time of detection and false alarms per year; also on labelled RKI series."""
    from fangkong.analytics.detection.registry import METHOD_NAMES

    chosen = [m.strip() for m in methods.split(",") if m.strip()] or list(METHOD_NAMES)
    unknown = [m for m in chosen if m not in METHOD_NAMES]
    if unknown:
        raise _fail(f"--methods: unknown {', '.join(unknown)}; known: {', '.join(METHOD_NAMES)}")
    document: dict[str, Any] = {"seed": seed, "target_false_alarm_rate": target_fpr}
    with _native_output_to_stderr():
        document.update(
            _study(chosen, replicates, calibration_replicates, target_fpr, seed, labelled, simulate)
        )
    if as_json:
        typer.echo(json.dumps(_finite(document), ensure_ascii=False, allow_nan=False, default=str))
        return
    if "simulated" in document:
        _print_table(
            f"simulated weekly series, calibrated to {target_fpr:g} false alarms per quiet week",
            document["simulated"],
            calibrated=True,
        )
    if "labelled" in document:
        _print_table(
            "RKI SurvStat series with outbreak flags, R default parameters (b = 1)",
            document["labelled"],
            calibrated=False,
        )
