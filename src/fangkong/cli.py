"""The ``fangkong`` command: assembles each capability's sub-commands (Typer + Rich)."""

from __future__ import annotations

from typing import Annotated

import typer

from fangkong.areas import cli as areas_cli
from fangkong.core import cli as core_cli
from fangkong.modeling import cli as modeling_cli
from fangkong.privacy import cli as privacy_cli
from fangkong.protocol import cli as protocol_cli
from fangkong.quarantine import cli as quarantine_cli
from fangkong.resources import cli as resources_cli
from fangkong.response import cli as response_cli
from fangkong.surveillance import cli as surveillance_cli
from fangkong.surveillance import cli_ops as surveillance_ops
from fangkong.testing import cli as testing_cli
from fangkong.tracing import cli as tracing_cli
from fangkong.vaccination import cli as vaccination_cli

app = typer.Typer(help="fangkong: epidemic prevention-and-control platform.", no_args_is_help=True)
app.add_typer(core_cli.db_app, name="db")
app.add_typer(core_cli.users_app, name="users")
app.add_typer(core_cli.jurisdictions_app, name="jurisdictions")
app.add_typer(core_cli.people_app, name="people")
app.add_typer(core_cli.audit_app, name="audit")
app.add_typer(protocol_cli.app, name="protocol", help="Control protocols as data, and each person's plan.")
app.add_typer(surveillance_ops.app, name="surveillance", help="Signals, detector runs, alerts, evaluation.")
app.add_typer(tracing_cli.app, name="tracing", help="Cases, contacts, chains: import, export, clusters.")
app.add_typer(
    quarantine_cli.app, name="quarantine", help="Quarantine sites: reserve list, rooms, placement, census."
)
app.add_typer(areas_cli.app, name="areas", help="Risk areas, arrivals, checkpoints, doorstep services.")
app.add_typer(testing_cli.app, name="testing", help="Testing: pool sizes, orders, rounds, lab results.")
app.add_typer(
    response_cli.app, name="response", help="Rapid response: tasks with deadlines, daily closure, dashboard."
)
app.add_typer(
    vaccination_cli.app, name="vaccination", help="Vaccination: doses, coverage, outreach, adverse events."
)
app.add_typer(
    resources_cli.app,
    name="resources",
    help="Resources: staff, certifications, teams, deployments, supplies.",
)
app.add_typer(
    privacy_cli.app, name="privacy", help="Personal data: retention rules, the nightly job, emergency purges."
)
app.command("detect", help="Run an early-warning detector on a count series (CSV in, CSV out).")(
    surveillance_cli.detect
)
app.command("rt", help="Estimate the time-varying reproduction number as EpiEstim does.")(modeling_cli.rt)
app.command("simulate", help="Run the agent-based simulator for one strategy.")(modeling_cli.simulate)
app.command("account", help="Compare strategies by cost and effect (总账).")(modeling_cli.account)
app.add_typer(modeling_cli.drill_app, name="drill", help="Drills: a synthetic outbreak through the platform.")


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    reload: Annotated[bool, typer.Option(help="restart on code changes (development)")] = False,
) -> None:
    """Serve the web pages and the JSON API."""
    import uvicorn

    core_cli.open_database().dispose()
    uvicorn.run("fangkong.app:create_app", factory=True, host=host, port=port, reload=reload)


@app.command()
def demo(
    people: Annotated[int, typer.Option(help="residents to generate")] = 200_000,
    seed: int = 20220628,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="do nothing if the database has people")
    ] = False,
) -> None:
    """Build the demo region (real codes, ~200,000 residents in households, one user per role)."""
    from fangkong.demo import build_demo

    build_demo(
        core_cli.open_database(), people=people, seed=seed, if_empty=if_empty, console=core_cli.console
    )


def main() -> None:
    app()
