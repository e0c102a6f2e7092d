"""``fangkong testing``: the testing capability's commands. For now ``pools``, the pool-size planner.

``pools`` needs no database: it plans a round from the prevalence, the population and the labs'
capacity (``testing.rules.pool_planner``), prints a Rich table for people and takes ``--json`` for
machines. Bad input never produces a traceback: one line naming the option, exit code 2.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, NoReturn

import typer

from fangkong.analytics.pooling import PoolingInputError
from fangkong.testing.rules import pool_planner as planner

app = typer.Typer(help="Testing: pooled rounds, lab results.", no_args_is_help=True, add_completion=False)


@app.callback()
def testing() -> None:
    """Testing: test orders, regional rounds in pooled tubes, lab results."""


@app.command("pools")
def pools(
    prevalence: Annotated[
        float,
        typer.Option("--prevalence", help="Expected share of positives among the people tested, in (0, 1)."),
    ],
    population: Annotated[
        int, typer.Option("--population", help="People to test in the round.")
    ] = planner.DEFAULT_POPULATION,
    lab_capacity: Annotated[
        float, typer.Option("--lab-capacity", help="Tests (tubes) the labs run per hour.")
    ] = planner.DEFAULT_LAB_TESTS_PER_HOUR,
    collection: Annotated[
        str,
        typer.Option(
            "--collection",
            help="Where samples are mixed: lab (equal volumes of single tubes) or swab (混采).",
        ),
    ] = "lab",
    ct_cutoff: Annotated[
        float,
        typer.Option("--ct-cutoff", help="The assay's Ct cut-off: a tube reading above it is negative."),
    ] = planner.DEFAULT_CT_CUTOFF,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Optimal pool size by prevalence (Dorfman), with tests, lab hours and missed positives per pool size."""
    try:
        plan = planner.plan_pools(
            prevalence,
            population=population,
            lab_tests_per_hour=lab_capacity,
            collection=planner.parse_collection(collection),
            ct_cutoff=ct_cutoff,
        )
    except PoolingInputError as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(_as_dict(plan), ensure_ascii=False, indent=2))
        return
    _print(plan)


def _as_dict(plan: planner.PoolPlan) -> dict[str, Any]:
    return {
        "prevalence": plan.prevalence,
        "optimal_pool_size": plan.optimal_pool_size,
        "tests_per_person": plan.tests_per_person,
        "pooling_pays": plan.pooling_pays,
        "population": plan.population,
        "expected_positives": plan.expected_positives,
        "lab_tests_per_hour": plan.lab_tests_per_hour,
        "collection": plan.collection,
        "ct_cutoff": plan.ct_cutoff,
        "positive_ct": plan.positive_ct.describe(),
        "pool_sizes": [
            {
                "pool_size": o.pool_size,
                "optimal": o.is_optimal,
                "tests_per_person": o.tests_per_person,
                "tests": o.tests,
                "lab_hours": o.lab_hours,
                "ct_shift": o.ct_shift,
                "miss_probability": o.miss_probability,
                "missed_positives": o.missed_positives,
            }
            for o in plan.options
        ],
        "sources": planner.SOURCES,
    }


def _print(plan: planner.PoolPlan) -> None:
    from rich.console import Console
    from rich.table import Table

    from fangkong.core.tables import print_table

    console = Console(highlight=False)
    console.print(
        f"Prevalence {plan.prevalence:g}: optimal pool size [bold]{plan.optimal_pool_size}[/bold], "
        f"{plan.tests_per_person:.6f} tests per person (Dorfman)"
    )
    if not plan.pooling_pays:
        console.print(
            "[bold]Pooling does not pay at this prevalence[/bold]: every pool size costs more than one test "
            "per person; test single tubes."
        )
    mixing = "swabs pooled at collection" if plan.collection == "swab" else "samples mixed in the lab"
    table = Table(
        title=f"{plan.population:,} people, {plan.lab_tests_per_hour:,.0f} tests per hour, {mixing}",
        caption=(
            f"* Dorfman's optimum. Missed: a positive's pool reads above Ct {plan.ct_cutoff:g}; "
            f"Ct of positives {plan.positive_ct.describe()}. "
            f"Expected positives: {plan.expected_positives:,.1f}."
        ),
    )
    for column in (
        "pool size",
        "tests per person",
        "tests",
        "lab hours",
        "Ct shift",
        "missed",
        "missed positives",
    ):
        table.add_column(column, justify="left" if column == "pool size" else "right")
    for o in plan.options:
        table.add_row(
            f"{o.pool_size}{'*' if o.is_optimal else ''}",
            f"{o.tests_per_person:.6f}",
            f"{o.tests:,.0f}",
            f"{o.lab_hours:,.1f}",
            f"{o.ct_shift:.2f}",
            f"{o.miss_probability:.1%}",
            f"{o.missed_positives:,.1f}",
        )
    print_table(console, table)


def _fail(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code=2)
