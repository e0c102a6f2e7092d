"""``fangkong protocol ...``: list, show, check and compare protocols, and compute a person's plan.

Thin over the pure modules; every command prints a Rich table for people and takes ``--json`` for
machines. ``check`` exits 1 and names the key and line of every problem in a refused file.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from fangkong.core.tables import print_table

app = typer.Typer(help="Control protocols: list, show, check, diff, and plans computed from them.")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
ParamOption = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="Override a protocol parameter, NAME=VALUE (e.g. clock_event_day=1)."),
]
DateOption = Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"])]


def _console() -> Console:
    return Console(highlight=False)


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _overrides(params: list[str] | None) -> dict[str, Any]:
    from ruamel.yaml import YAML

    overrides: dict[str, Any] = {}
    for item in params or []:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--param")
        overrides[name.strip()] = YAML(typ="safe").load(raw)
    return overrides


def _load(reference: str, params: list[str] | None = None) -> Any:
    from fangkong.protocol.loader import ProtocolError, load_any

    try:
        return load_any(reference, _overrides(params))
    except ProtocolError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None


@app.command("list")
def list_protocols(json_output: JsonOption = False) -> None:
    """List the protocols shipped with fangkong."""
    from fangkong.protocol.loader import DEFAULT_PROTOCOL_ID, list_builtin

    protocols = list_builtin()
    if json_output:
        _print_json(
            [
                {
                    "id": p.id,
                    "name": p.name,
                    "jurisdiction": p.jurisdiction,
                    "effective": p.effective.isoformat(),
                    "supersedes": p.supersedes,
                    "default": p.id == DEFAULT_PROTOCOL_ID,
                }
                for p in protocols
            ]
        )
        return
    table = Table(title="Shipped protocols")
    for column in ("id", "effective", "jurisdiction", "supersedes", "name"):
        table.add_column(column)
    for p in protocols:
        marker = " (default)" if p.id == DEFAULT_PROTOCOL_ID else ""
        table.add_row(p.id + marker, p.effective.isoformat(), p.jurisdiction, p.supersedes or "", p.name)
    print_table(_console(), table)


@app.command()
def show(
    reference: Annotated[str, typer.Argument(help="A shipped protocol id or a path to a protocol file.")],
    param: ParamOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show a protocol: categories × measures × days × tests, then its other rules and parameters."""
    from fangkong.protocol.diff import protocol_rows

    protocol = _load(reference, param)
    if json_output:
        _print_json(protocol.model_dump(mode="json", by_alias=True))
        return
    console = _console()
    console.print(f"[bold]{protocol.id}[/bold]  {protocol.name}")
    console.print(f"effective {protocol.effective}; {protocol.summary}")
    table = Table(show_lines=False)
    for column in ("section", "subject", "item", "measure", "days", "tests"):
        table.add_column(column)
    for row in protocol_rows(protocol):
        days = "" if row.cell.days is None else str(row.cell.days)
        table.add_row(row.section, row.subject, row.item, row.cell.measure, days, row.cell.tests)
    print_table(console, table)
    if protocol.parameters:
        params = Table(title="Parameters (values the sources leave open)")
        for column in ("name", "value", "default", "tag", "note"):
            params.add_column(column)
        for name, p in protocol.parameters.items():
            params.add_row(name, str(p.effective), str(p.default), p.tag, p.note)
        print_table(console, params)


@app.command()
def check(
    file: Annotated[str, typer.Argument(help="Path to a protocol file (or a shipped protocol id).")],
    json_output: JsonOption = False,
) -> None:
    """Validate a protocol file; exit 1 naming the key and line of every problem."""
    from fangkong.protocol.loader import ProtocolError, load_any

    try:
        protocol = load_any(file)
    except ProtocolError as exc:
        if json_output:
            errors = [{"path": e.path, "line": e.line, "message": e.message} for e in exc.errors]
            _print_json({"ok": False, "file": file, "errors": errors})
        else:
            typer.echo(str(exc))
        raise typer.Exit(1) from None
    if json_output:
        _print_json({"ok": True, "file": file, "id": protocol.id, "categories": list(protocol.categories)})
    else:
        typer.echo(f"{file}: OK ({protocol.id}, {len(protocol.categories)} categories)")


@app.command()
def diff(
    a: Annotated[str, typer.Argument(help="Protocol id or file (left column).")],
    b: Annotated[str, typer.Argument(help="Protocol id or file (right column).")],
    changed_only: Annotated[bool, typer.Option("--changed-only", help="Only rows that differ.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Compare two protocols side by side."""
    from fangkong.protocol.diff import diff_protocols

    left, right = _load(a), _load(b)
    rows = diff_protocols(left, right, changed_only=changed_only)
    if json_output:
        _print_json(
            [
                {
                    "section": r.section,
                    "subject": r.subject,
                    "item": r.item,
                    "changed": r.changed,
                    "a": {"measure": r.a.measure, "days": r.a.days, "tests": r.a.tests},
                    "b": {"measure": r.b.measure, "days": r.b.days, "tests": r.b.tests},
                }
                for r in rows
            ]
        )
        return
    table = Table(title=f"{left.id} ↔ {right.id}")
    for column in ("section", "subject", "item", left.id, right.id):
        table.add_column(column)
    for r in rows:
        style = "bold" if r.changed else None
        table.add_row(r.section, r.subject, r.item, r.a.text, r.b.text, style=style)
    print_table(_console(), table)


@app.command()
def plan(
    protocol_ref: Annotated[
        str | None, typer.Option("--protocol", help="Protocol id or file (default: the default protocol).")
    ] = None,
    category: Annotated[str, typer.Option(help="Person category, e.g. close_contact.")] = "close_contact",
    last_exposure: DateOption = None,
    arrival: DateOption = None,
    area_departure: DateOption = None,
    diagnosis: DateOption = None,
    duty_end: DateOption = None,
    on: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Show the stage on this date.")
    ] = None,
    param: ParamOption = None,
    json_output: JsonOption = False,
) -> None:
    """Compute a person's management plan from the facts."""
    from fangkong.protocol.loader import DEFAULT_PROTOCOL_ID
    from fangkong.protocol.plan import PlanError, PlanFacts, compute_plan, describe_rule

    protocol = _load(protocol_ref or DEFAULT_PROTOCOL_ID, param)
    facts = PlanFacts(
        last_exposure=last_exposure.date() if last_exposure else None,
        arrival=arrival.date() if arrival else None,
        area_departure=area_departure.date() if area_departure else None,
        diagnosis=diagnosis.date() if diagnosis else None,
        duty_end=duty_end.date() if duty_end else None,
    )
    try:
        result = compute_plan(protocol, category, facts)
    except PlanError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    day = on.date() if on else None
    current = result.stage_on(day) if day else None
    if json_output:
        data = result.to_dict()
        if day is not None:
            data["on"] = {
                "date": day.isoformat(),
                "status": result.status_on(day),
                "plan_day": result.day_number(day),
                "stage": current.number if current else None,
            }
        _print_json(data)
        return
    console = _console()
    console.print(f"[bold]{category}[/bold] under [bold]{protocol.id}[/bold]")
    if not result.managed:
        reason = result.template.note or ("not identified" if not result.template.identified else "no stages")
        console.print(f"not managed: {reason}")
        if result.template.screening is not None:
            screening = result.template.screening
            console.print(f"routine screening: {screening.method} every {screening.every_days} d")
        return
    console.print(
        f"clock: {result.template.clock} on {result.clock_date} (day {result.template.clock_event_day}); "
        f"ends {result.end_date} after {result.total_days} days"
    )
    stages = Table(title="Stages")
    for column in ("stage", "measure", "place", "from", "to", "days", "leave home"):
        stages.add_column(column)
    for s in result.stages:
        stages.add_row(
            str(s.number),
            s.type,
            s.place,
            str(s.start),
            str(s.end),
            str(s.days),
            "yes" if s.may_leave_home else "no",
        )
    print_table(console, stages)
    tests = Table(title="Tests due")
    for column in ("date", "plan day", "stage", "stage day", "method", "specimen"):
        tests.add_column(column)
    for t in result.tests:
        tests.add_row(
            str(t.due), str(t.plan_day), str(t.stage_number), str(t.stage_day), t.method, t.specimen or ""
        )
    print_table(console, tests)
    for rule in result.release:
        console.print(f"release: {describe_rule(rule)}")
    if day is not None:
        where = f"stage {current.number} ({current.type})" if current else result.status_on(day)
        console.print(f"on {day}: day {result.day_number(day)}, {where}")
