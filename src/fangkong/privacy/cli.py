"""``fangkong privacy ...``: the operator's commands of the personal-data lifecycle.

``nightly`` is what the platform's scheduler runs after midnight (cron or a systemd timer, beside
``fangkong response recount``): the retention rules, then the emergencies whose confirmation period
has passed. ``dry-run`` lists what the rules would take today without writing anything; ``rules`` and
``set-rule`` show and change the rules; ``emergencies`` lists the emergencies with their deletion
reports; ``purge`` purges one closed emergency (``--now`` skips the rest of the confirmation period).
Everything here acts as the system and is audited as such.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from fangkong.core.cli import echo_json, err, open_database
from fangkong.core.tables import print_table

app = typer.Typer(no_args_is_help=True, help="Retention rules, the nightly job, emergency purges.")
console = Console()

AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]


def _run_dict(report: Any) -> dict[str, Any]:
    return {
        "as_of": report.as_of,
        "dry_run": report.dry_run,
        "classes": report.counts(),
        "people_anonymised": report.people_anonymised,
        "merges_finalised": report.merges_finalised,
    }


def _print_run(report: Any) -> None:
    table = Table(
        title=f"Retention as of {report.as_of}" + (" (dry run: nothing written)" if report.dry_run else "")
    )
    for name in ("record class", "action", "period (days)", "before", "records"):
        table.add_column(name)
    for c in report.classes:
        table.add_row(c.record_class, c.action, str(c.period_days), str(c.cutoff), f"{c.records:,}")
    print_table(console, table)
    console.print(f"people whose identity goes: [bold]{report.people_anonymised:,}[/]")


@app.command("rules")
def rules_command(as_json: AsJson = False) -> None:
    """The retention rule of every record class (stored, or the default)."""
    from fangkong.privacy.service import retention

    db = open_database()
    try:
        with db.unit_of_work() as session:
            rules = retention.rules_in_force(session)
    finally:
        db.dispose()
    if as_json:
        echo_json([r.__dict__ for r in rules])
        return
    table = Table(title="Retention rules")
    for name in ("record class", "period (days)", "action", "active"):
        table.add_column(name)
    for r in rules:
        table.add_row(r.record_class, str(r.period_days), r.action, "yes" if r.active else "no")
    print_table(console, table)


@app.command("set-rule")
def set_rule_command(
    record_class: Annotated[str, typer.Argument(help="record class, e.g. cases")],
    period: Annotated[int, typer.Option(help="days kept after the date the class counts from")],
    action: Annotated[str, typer.Option(help="delete or anonymise")],
    inactive: Annotated[bool, typer.Option("--inactive", help="keep the rule but do not apply it")] = False,
    as_json: AsJson = False,
) -> None:
    """Set one record class's retention rule (never below the minimum period)."""
    from fangkong.core import audit
    from fangkong.core.errors import InvalidInput
    from fangkong.privacy.service import retention

    db = open_database()
    try:
        with db.unit_of_work() as session:
            rule = retention.set_rule(session, audit.SYSTEM, record_class, period, action, not inactive)
    except InvalidInput as exc:
        for e in exc.errors:
            err.print(f"[red]{e.field}: {e.message}[/]")
        raise typer.Exit(1) from exc
    finally:
        db.dispose()
    if as_json:
        echo_json(rule.__dict__)
    else:
        console.print(f"{rule.record_class}: {rule.period_days} days, then {rule.action}")


@app.command("dry-run")
def dry_run_command(as_json: AsJson = False) -> None:
    """What the nightly job would delete or anonymise today (nothing is written)."""
    from fangkong.core import audit
    from fangkong.privacy.service import retention

    db = open_database()
    try:
        with db.unit_of_work() as session:
            report = retention.run(session, audit.SYSTEM, dry_run=True)
    finally:
        db.dispose()
    if as_json:
        echo_json(_run_dict(report))
    else:
        _print_run(report)


@app.command("nightly")
def nightly_command(as_json: AsJson = False) -> None:
    """The nightly job: apply the retention rules, then purge the emergencies now due."""
    from fangkong.privacy.service.nightly import run_nightly

    db = open_database()
    try:
        done = run_nightly(db)
    finally:
        db.dispose()
    if as_json:
        echo_json({**_run_dict(done.retention), "purges": [p.as_dict() for p in done.purges]})
        return
    _print_run(done.retention)
    console.print(
        f"merges finalised: {done.retention.merges_finalised}; emergencies purged: {len(done.purges)}"
    )


@app.command("emergencies")
def emergencies_command(as_json: AsJson = False) -> None:
    """Every emergency: opened, closed, when its purge is due, and its deletion report."""
    from fangkong.privacy.service import emergency

    db = open_database()
    try:
        with db.unit_of_work() as session:
            rows: list[dict[str, Any]] = [
                {
                    "id": e.id,
                    "name": e.name,
                    "opened_on": e.opened_on,
                    "closed_at": e.closed_at,
                    "purge_after": e.purge_after,
                    "purged_at": e.purged_at,
                    "report": emergency.deletion_report(e),
                }
                for e in emergency.list_emergencies(session, "/")
            ]
    finally:
        db.dispose()
    if as_json:
        echo_json(rows)
        return
    table = Table(title="Emergencies")
    for name in ("id", "name", "opened", "closed", "purge after", "purged", "people"):
        table.add_column(name)
    for r in rows:
        people = str(r["report"]["people"]) if r["report"] else ""
        table.add_row(
            str(r["id"]), r["name"], str(r["opened_on"]), str(r["closed_at"] or ""),
            str(r["purge_after"] or ""), str(r["purged_at"] or ""), people,
        )  # fmt: skip
    print_table(console, table)


@app.command("purge")
def purge_command(
    emergency_id: Annotated[
        int, typer.Argument(help="the emergency's id (see `fangkong privacy emergencies`)")
    ],
    now: Annotated[bool, typer.Option("--now", help="do not wait out the confirmation period")] = False,
    as_json: AsJson = False,
) -> None:
    """Purge a closed emergency: delete or anonymise everything collected for it, print the report."""
    from fangkong.core import audit
    from fangkong.core.errors import DomainError
    from fangkong.privacy.service import emergency

    db = open_database()
    try:
        with db.unit_of_work() as session:
            report = emergency.purge(session, None, audit.SYSTEM, emergency_id, force=now)
    except DomainError as exc:
        err.print(f"[red]{exc.message}[/]")
        raise typer.Exit(1) from exc
    finally:
        db.dispose()
    if as_json:
        echo_json(report.as_dict())
        return
    table = Table(title=f"Deletion report: {report.name}")
    for name in ("record class", "action", "records"):
        table.add_column(name)
    for code, figures in sorted(report.classes.items()):
        table.add_row(code, str(figures["action"]), f"{figures['records']:,}")
    print_table(console, table)
    console.print(f"people: {report.people:,} ({report.people_action})")
