"""``account``: the account (总账) of several strategy arms over shared seeds, their effects and cost
lines, printed as tables or JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from fangkong.modeling.cli.common import _fail
from fangkong.modeling.cli.region import _region_population


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
