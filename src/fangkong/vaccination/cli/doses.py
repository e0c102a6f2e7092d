"""``fangkong vaccination import``: load a vaccination system's export of doses (CSV or Excel) as a
named user, all rows or none; ``template`` writes the blank CSV to fill in."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from fangkong.core.cli import acting_user, echo_json
from fangkong.core.permissions import Permission
from fangkong.core.tables import print_table

app = typer.Typer()
console = Console()

User = Annotated[str, typer.Option("--user", "-u", help="act as this user (their jurisdiction and role)")]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or Excel file of doses")],
    user: User,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="check every row, write nothing")] = False,
    as_json: AsJson = False,
) -> None:
    """Import doses; every bad row is listed (row and column as the file names it) and nothing is written."""
    from fangkong.core.config import get_settings
    from fangkong.core.crypto import Vault
    from fangkong.vaccination.service.doses_import import import_doses
    from fangkong.wiring import build_bus

    settings = get_settings()
    with acting_user(user, Permission.doses_import, as_json=as_json, settings=settings) as (session, me):
        report = import_doses(
            session,
            me,
            build_bus(),
            Vault(settings.encryption_key, settings.hash_key),
            file.read_bytes(),
            file.name,
            dry_run=dry_run,
            ip="cli",
        )
    if as_json:
        echo_json(
            {
                "ok": True,
                "rows": report.rows,
                "doses": report.doses,
                "people": report.people,
                "dry_run": report.dry_run,
                "by_kind": report.by_kind,
                "by_platform": report.by_platform,
                "first_day": report.first_day,
                "last_day": report.last_day,
                "ignored_columns": report.ignored_columns,
                "seconds": report.seconds,
            }
        )
        return
    table = Table(title=f"doses import{' (dry run: nothing written)' if dry_run else ''}")
    table.add_column("")
    table.add_column("", justify="right")
    table.add_row("rows", f"{report.rows:,}")
    table.add_row("doses" + (" that would be written" if dry_run else " written"), f"{report.doses:,}")
    table.add_row("people", f"{report.people:,}")
    for kind, n in report.by_kind.items():
        table.add_row(kind.replace("_", " "), f"{n:,}")
    for platform, n in report.by_platform.items():
        table.add_row(platform, f"{n:,}")
    table.add_row("given from", str(report.first_day or ""))
    table.add_row("given to", str(report.last_day or ""))
    if report.ignored_columns:
        table.add_row("columns ignored", ", ".join(report.ignored_columns))
    table.add_row("seconds", f"{report.seconds:.1f}")
    print_table(console, table)


@app.command("doses-template")
def template_command(
    out: Annotated[Path, typer.Argument(dir_okay=False, help="the .csv file to write")],
    lang: Annotated[str, typer.Option(help="zh or en column names")] = "zh",
) -> None:
    """Write the blank doses import template (CSV)."""
    from fangkong.vaccination.service.doses_files import template_csv

    if lang not in ("zh", "en"):
        raise typer.BadParameter("zh or en", param_hint="--lang")
    language: Literal["zh", "en"] = "zh" if lang == "zh" else "en"
    out.write_bytes(template_csv(language))
    console.print(f"wrote {out}")
