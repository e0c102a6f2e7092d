"""``fangkong vaccination aefi``: adverse events per 100,000 doses by product and by lot with the lot
signals, and the cards past their deadline (``--overdue``), for the whole tree or one jurisdiction's
subtree, acting as the system. Takes ``--json``.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from fangkong.core.cli import echo_json, system_scope
from fangkong.core.tables import print_table
from fangkong.vaccination.cli.outreach import Code

app = typer.Typer()
console = Console()

AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


@app.command("aefi")
def aefi_command(
    jurisdiction: Code = "",
    overdue: Annotated[
        bool, typer.Option("--overdue", help="the cards past their deadline, not sent")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """AEFI rates per 100,000 doses by product and lot, and the lots that stand out."""
    from fangkong.core.clock import as_local
    from fangkong.vaccination.service import aefi

    with system_scope(jurisdiction) as (session, principal):
        path = principal.jpath
        if overdue:
            late = aefi.overdue(session, jpath=path)
            if as_json:
                echo_json(
                    [
                        {
                            "id": e.id,
                            "product": e.product,
                            "lot": e.lot,
                            "severity": e.severity.value,
                            "cluster": e.cluster,
                            "found_at": as_local(e.found_at).isoformat(),
                            "report_due_at": as_local(e.report_due_at).isoformat(),
                        }
                        for e in late
                    ]
                )
                return
            table = Table(title=f"AEFI cards past their deadline: {len(late)}")
            for column in ("card", "vaccine", "lot", "severity", "due"):
                table.add_column(column)
            for e in late:
                table.add_row(
                    f"AEFI-{e.id}",
                    e.product,
                    e.lot,
                    e.severity.value,
                    as_local(e.report_due_at).strftime("%Y-%m-%d %H:%M"),
                )
            print_table(console, table)
            return
        rates = aefi.rates(session, principal, path)
        signals = aefi.lot_signals(session, principal, path)
        if as_json:
            data: dict[str, Any] = {
                "products": [dataclasses.asdict(r) for r in rates.products],
                "lots": [dataclasses.asdict(r) for r in rates.lots],
                "signals": [dataclasses.asdict(s) for s in signals],
            }
            echo_json(data)
            return
        for title, rows in (
            ("AEFI per 100,000 doses by vaccine", rates.products),
            ("... by lot", rates.lots),
        ):
            table = Table(title=title)
            for column in (
                "vaccine",
                "lot",
                "doses",
                "events",
                "per 100,000",
                "serious",
                "serious per 100,000",
            ):
                table.add_column(column)
            for r in rows:
                table.add_row(
                    r.product,
                    r.lot or "",
                    str(r.doses),
                    str(r.events),
                    _rate(r.rate),
                    str(r.serious),
                    _rate(r.serious_rate),
                )
            print_table(console, table)
        table = Table(title="Lot signals (one-sided Poisson test against the vaccine's other lots)")
        for column in ("vaccine", "lot", "doses", "events", "expected", "p", "signal"):
            table.add_column(column)
        for s in signals:
            table.add_row(
                s.product,
                s.lot,
                str(s.doses),
                str(s.events),
                f"{s.expected:.2f}",
                f"{s.p_value:.4f}",
                "SIGNAL" if s.signal else "",
            )
        print_table(console, table)
