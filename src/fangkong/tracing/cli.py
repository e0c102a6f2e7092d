"""``fangkong tracing``: import and export line lists, clusters and KPIs, cluster labels, merging people.

Commands act as a named user (``--user``), so the import lands in that user's jurisdiction and is
audited under their name, exactly as through the web page.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import clock
from fangkong.core.auth import Principal, principal_for
from fangkong.core.errors import DomainError
from fangkong.core.tables import print_table

app = typer.Typer(help="Case investigation and tracing (流调溯源).", no_args_is_help=True)
console = Console()

User = Annotated[str, typer.Option("--user", "-u", help="act as this user (their jurisdiction and role)")]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]


@contextmanager
def _as_user(username: str) -> Iterator[tuple[Session, Principal]]:
    from fangkong.core.cli import fail, open_database
    from fangkong.core.models import User as UserRow

    db = open_database()
    try:
        with db.unit_of_work() as session:
            user = session.scalar(select(UserRow).where(UserRow.username == username))
            if user is None or not user.is_active:
                console.print(f"[bold red]error:[/] no active user {username!r}")
                raise typer.Exit(2)
            yield session, principal_for(session, user, "token")
    except DomainError as exc:
        fail(exc)
    finally:
        db.dispose()


@app.command("import")
def import_command(
    kind: Annotated[str, typer.Argument(help="cases, exposures or contacts")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or Excel file")],
    user: User,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="check every row, write nothing")] = False,
    as_json: AsJson = False,
) -> None:
    """Import a line list, exposures or a contact list; every bad row is listed and nothing is written."""
    from fangkong.core.config import get_settings
    from fangkong.core.crypto import Vault
    from fangkong.core.people_rules import Keys
    from fangkong.tracing import imports
    from fangkong.tracing.spreadsheets import KINDS
    from fangkong.wiring import build_bus

    if kind not in KINDS:
        raise typer.BadParameter(f"one of {', '.join(KINDS)}", param_hint="KIND")
    settings = get_settings()
    keys = Keys(settings.encryption_key, settings.hash_key)
    with _as_user(user) as (session, me):
        report = imports.import_file(
            session,
            Vault(keys.encryption_key, keys.hash_key),
            build_bus(),
            me,
            keys,
            kind,
            file,
            dry_run=dry_run,
        )
    if as_json:
        console.print_json(json.dumps(report.__dict__, default=str))
        return
    table = Table(title=f"{kind} import{' (dry run: nothing written)' if dry_run else ''}")
    table.add_column("")
    table.add_column("", justify="right")
    for name in (
        "rows",
        "cases",
        "exposures",
        "links",
        "people_matched",
        "people_registered",
        "unidentified",
        "seconds",
    ):
        table.add_row(name.replace("_", " "), str(getattr(report, name)))
    for category, count in report.contacts.items():
        table.add_row(category.replace("_", " "), str(count))
    print_table(console, table)


@app.command("export")
def export_command(
    kind: Annotated[str, typer.Argument(help="cases, contacts or exposures")],
    out: Annotated[Path, typer.Argument(dir_okay=False, help="the .xlsx file to write")],
    user: User,
    lang: Annotated[str, typer.Option(help="zh or en column names")] = "zh",
) -> None:
    """Export your jurisdiction's line list, contact list or exposures to Excel (personal data masked)."""
    from fangkong.tracing import exports

    if kind not in ("cases", "contacts", "exposures") or lang not in ("zh", "en"):
        raise typer.BadParameter("kind: cases, contacts or exposures; lang: zh or en")
    with _as_user(user) as (session, me):
        content = exports.export_xlsx(session, me, kind, lang, ip="cli")  # type: ignore[arg-type]
    out.write_bytes(content)
    console.print(f"wrote {out} ({len(content):,} bytes)")


@app.command("template")
def template_command(
    kind: Annotated[str, typer.Argument(help="cases, exposures or contacts")],
    out: Annotated[Path, typer.Argument(dir_okay=False)],
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
) -> None:
    """Write a blank import template (.csv or .xlsx, by the file name)."""
    from fangkong.tracing.spreadsheets import KINDS, template

    fmt: Literal["csv", "xlsx"] = "csv" if out.suffix.lower() == ".csv" else "xlsx"
    if kind not in KINDS or lang not in ("zh", "en"):
        raise typer.BadParameter(f"kind: one of {', '.join(KINDS)}; lang: zh or en")
    content, _media, _name = template(kind, fmt, lang)  # type: ignore[arg-type]
    out.write_bytes(content)
    console.print(f"wrote {out}")


@app.command("clusters")
def clusters_command(
    user: User,
    min_size: Annotated[int, typer.Option(min=2)] = 2,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    as_json: AsJson = False,
) -> None:
    """Linked groups of cases in your jurisdiction, largest first."""
    from fangkong.tracing import clusters

    with _as_user(user) as (session, me):
        rows, total = clusters.list_clusters(session, me, min_size=min_size, size=limit)
    if as_json:
        console.print_json(json.dumps({"total": total, "clusters": [r.__dict__ for r in rows]}, default=str))
        return
    table = Table(title=f"{total} clusters of {min_size}+ cases")
    for name in ("cluster", "first case", "cases", "first onset", "last onset", "found under management"):
        table.add_column(name)
    for r in rows:
        table.add_row(
            str(r.cluster_id),
            r.name,
            str(r.size),
            str(r.first_onset or ""),
            str(r.last_onset or ""),
            str(r.found_under_management),
        )
    print_table(console, table)


@app.command("kpis")
def kpis_command(
    user: User,
    since: Annotated[str, typer.Option(help="first report date (default: 27 days before until)")] = "",
    until: Annotated[str, typer.Option(help="last report date (default: today)")] = "",
    as_json: AsJson = False,
) -> None:
    """The tracing KPIs: found under management, no known source, clusters, assist requests."""
    from fangkong.tracing import clusters

    last = dt.date.fromisoformat(until) if until else clock.today()
    first = dt.date.fromisoformat(since) if since else last - dt.timedelta(days=27)
    with _as_user(user) as (session, me):
        k = clusters.kpis(session, me, first, last)
    data = {**k.__dict__, "managed_share": k.managed_share}
    if as_json:
        console.print_json(json.dumps(data, default=str))
        return
    table = Table(title=f"tracing KPIs {first} .. {last}")
    table.add_column("")
    table.add_column("", justify="right")
    for name, value in data.items():
        table.add_row(name.replace("_", " "), str(value))
    print_table(console, table)


def _day(text: str, option: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)", param_hint=option) from None


@app.command("serial-interval")
def serial_interval_command(
    user: User,
    since: Annotated[str, typer.Option(help="first onset date of the infectees (default: all)")] = "",
    until: Annotated[str, typer.Option(help="last onset date of the infectees (default: all)")] = "",
    as_json: AsJson = False,
) -> None:
    """The serial interval of the transmission links in scope: pairs, mean, sd, negative share, fit."""
    from fangkong.tracing.service import serial_interval, serial_interval_dict

    first, last = _day(since, "--since"), _day(until, "--until")
    with _as_user(user) as (session, me):
        data = serial_interval_dict(serial_interval(session, me, first, last))
    if as_json:
        typer.echo(json.dumps(data))
        return
    table = Table(title=f"serial interval {first or ''} .. {last or ''}")
    table.add_column("")
    table.add_column("", justify="right")
    for name in ("pairs", "mean", "sd", "negative_share", "dropped_share"):
        value = data[name]
        table.add_row(name.replace("_", " "), f"{value:.3f}" if isinstance(value, float) else str(value))
    fit = data["distribution"]
    if isinstance(fit, dict):
        table.add_row("fitted distribution (AIC)", str(fit["family"]))
        table.add_row(
            "fitted mean",
            f"{fit['mean']:.2f} ({fit['mean_interval'][0]:.2f} - {fit['mean_interval'][1]:.2f})",
        )
        table.add_row(
            "fitted sd", f"{fit['sd']:.2f} ({fit['sd_interval'][0]:.2f} - {fit['sd_interval'][1]:.2f})"
        )
    print_table(console, table)


@app.command("recompute-clusters")
def recompute_command(as_json: AsJson = False) -> None:
    """Recompute every cluster label from the chain links (after repairs done outside fangkong)."""
    from fangkong.core.cli import open_database
    from fangkong.tracing.clusters import recompute_clusters

    db = open_database()
    try:
        with db.unit_of_work() as session:
            changed = recompute_clusters(session)
    finally:
        db.dispose()
    if as_json:
        console.print_json(json.dumps({"changed": changed}))
    else:
        console.print(f"{changed} case(s) changed cluster")


@app.command("merge")
def merge_command(user: User, as_json: AsJson = False) -> None:
    """Merge unidentified people whose ID number the registry now knows into their registry record."""
    from fangkong.tracing.persons import merge_by_id_number

    with _as_user(user) as (session, me):
        changed = merge_by_id_number(session, me)
    if as_json:
        console.print_json(json.dumps({"rows": changed}))
    else:
        console.print(f"{changed} tracing row(s) now point at registry people")
