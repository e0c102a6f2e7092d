"""``fangkong response report CODE DAY``: the daily report of a published closure, from the command line.

Without a file option it prints the report's headline and sections (``--json``: the report as the API
gives it); ``--pdf FILE`` and ``--xlsx FILE`` write the same PDF and workbook as the page's download
links. It reads as a named user (``--user``), so the jurisdiction must lie in that user's scope.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fangkong.core.cli import acting_user, echo_json
from fangkong.core.permissions import Permission
from fangkong.core.tables import print_table

app = typer.Typer(no_args_is_help=True)
console = Console()


@app.command("report")
def report_command(
    code: Annotated[str, typer.Argument(help="jurisdiction code")],
    day: Annotated[dt.datetime, typer.Argument(formats=["%Y-%m-%d"], help="the closure's day, YYYY-MM-DD")],
    user: Annotated[
        str, typer.Option("--user", "-u", help="read as this user (their jurisdiction and role)")
    ],
    pdf: Annotated[Path | None, typer.Option("--pdf", help="write the report as PDF to this file")] = None,
    xlsx: Annotated[
        Path | None, typer.Option("--xlsx", help="write the report as Excel workbook to this file")
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="zh or en")] = "zh",
    version: Annotated[
        int | None, typer.Option("--version", min=1, help="a version (default: the latest)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The daily report of a jurisdiction's published closure: printed, or written as PDF/Excel."""
    from fangkong.response.service import report

    with acting_user(user, Permission.response_read, as_json=as_json) as (session, principal):
        jid = report.jurisdiction_id_for(session, principal, code)
        context = report.report_context(session, principal, jid, day.date(), version, lang)
    # The files are rendered after the unit of work: WeasyPrint takes seconds and needs no database.
    written: dict[str, str] = {}
    if pdf is not None:
        pdf.write_bytes(report.context_pdf(context))
        written["pdf"] = str(pdf)
    if xlsx is not None:
        xlsx.write_bytes(report.context_xlsx(context))
        written["xlsx"] = str(xlsx)
    if as_json:
        echo_json({**context, "written": written})
        return
    console.print(f"[bold]{context['title']}[/] (v{context['version']}, {context['published_at']})")
    for section in context["sections"]:
        table = Table(title=section["label"], show_header=False)
        for figure in section["figures"]:
            table.add_row(figure["label"], "—" if figure["value"] is None else str(figure["value"]))
        print_table(console, table)
    for kind, path in written.items():
        console.print(f"{kind}: {path}")
