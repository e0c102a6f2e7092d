"""``fangkong vaccination evaluate`` and ``fangkong vaccination coverage``: operator commands.

``evaluate`` rewrites every registry person's status from their doses and contraindications (after a
rules change, or nightly so that postponements that ended and people who turned 3, 18 or 60 are seen);
``coverage`` counts coverage again and prints a jurisdiction's table by band (the province by default).
Both act for the whole registry, as the nightly job does, and are audited as the system.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from fangkong.core.cli import echo_json, err, open_database
from fangkong.core.tables import print_table

app = typer.Typer()
console = Console()

AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@app.command("evaluate")
def evaluate_command(as_json: AsJson = False) -> None:
    """Evaluate every registry person's vaccination status again from the rules."""
    from fangkong.core import audit
    from fangkong.vaccination.rules.schedule import RULES_VERSION
    from fangkong.vaccination.service import status

    db = open_database()
    try:
        with db.unit_of_work() as session:
            written = status.evaluate(session)
            audit.record(
                session,
                audit.SYSTEM,
                "vaccination.evaluate",
                "rules",
                RULES_VERSION,
                detail={"rows": written},
            )
    finally:
        db.dispose()
    if as_json:
        echo_json({"ok": True, "rules_version": RULES_VERSION, "rows": written})
    else:
        console.print(f"evaluated [bold]{written:,}[/] people under rules {RULES_VERSION}")


@app.command("coverage")
def coverage_command(
    jurisdiction: Annotated[str, typer.Option(help="jurisdiction code (default: the top of the tree)")] = "",
    weeks: Annotated[int, typer.Option(min=1, max=104, help="week ends counted besides today")] = 12,
    as_json: AsJson = False,
) -> None:
    """Count coverage again (today and the last week ends), then print one jurisdiction's table by band."""
    from sqlalchemy import select

    from fangkong.core import audit, clock
    from fangkong.core.models import Jurisdiction
    from fangkong.vaccination.rules.coverage import MEASURES
    from fangkong.vaccination.service import coverage

    db = open_database()
    try:
        with db.unit_of_work() as session:
            rows = coverage.refresh(session, clock.today(), weeks, actor=audit.SYSTEM)
            query = select(Jurisdiction).where(Jurisdiction.is_sandbox.is_(False))
            query = (
                query.where(Jurisdiction.code == jurisdiction)
                if jurisdiction
                else query.order_by(Jurisdiction.path).limit(1)
            )
            node = session.scalar(query)
            if node is None:
                err.print(f"[bold red]error:[/] no jurisdiction {jurisdiction!r}")
                raise typer.Exit(2)
            table = coverage.table_for(session, node)
    finally:
        db.dispose()
    bands: list[dict[str, Any]] = []
    for row in table.rows:
        c = row.counts
        entry: dict[str, Any] = {"band": row.band, "denominator": c.denominator, "dropout": c.dropout}
        for i, m in enumerate(MEASURES):
            entry[m] = {"numerator": c.numerators[i], "rate": c.rate(m)}
        bands.append(entry)
    if as_json:
        echo_json(
            {
                "ok": True,
                "rows_written": rows,
                "jurisdiction": table.code,
                "name": table.name,
                "as_of": table.as_of.isoformat() if table.as_of else None,
                "bands": bands,
            }
        )
        return
    out = Table(title=f"{table.name} ({table.code}) coverage as of {table.as_of}")
    for name in ("band", "registered", *MEASURES, "dropout"):
        out.add_column(name, justify="left" if name == "band" else "right")
    for b in bands:
        cells = [f"{b[m]['numerator']:,} ({_pct(b[m]['rate'])})" for m in MEASURES]
        out.add_row(b["band"], f"{b['denominator']:,}", *cells, _pct(b["dropout"]))
    print_table(console, out)
    console.print(f"{rows:,} counts stored")
