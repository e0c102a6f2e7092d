"""``simulate``: one strategy arm of the agent-based simulator, with its totals and daily series."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from fangkong.core.i18n import render_text
from fangkong.modeling.cli.common import _fail
from fangkong.modeling.cli.region import _region_population


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
