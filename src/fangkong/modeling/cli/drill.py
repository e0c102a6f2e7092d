"""``drill`` start, status, advance, score and stop: a drill (实战演练) in a sandbox, run as a user."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from fangkong.core.i18n import render_text
from fangkong.modeling.cli.common import _fail

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from fangkong.core.auth import Principal
    from fangkong.core.crypto import Vault
    from fangkong.core.db import Database
    from fangkong.core.events import EventBus
    from fangkong.modeling.drills import AdvanceReport, DrillStatusView


@dataclass(frozen=True)
class _DrillTools:
    db: Database
    vault: Vault
    bus: EventBus
    principal: Principal


def _as_principal(session: Session, username: str) -> Principal:
    from sqlalchemy import select

    from fangkong.core.auth import principal_for
    from fangkong.core.models import User

    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        _fail(f"--as {username}: no such active user")
    return principal_for(session, user, "cli")


def _drill_tools(drill_id: int, username: str | None) -> _DrillTools:
    """What a drill command needs; the principal defaults to the user who started the drill."""
    from fangkong.core.cli import open_database
    from fangkong.core.config import get_settings
    from fangkong.core.crypto import Vault
    from fangkong.core.models import User
    from fangkong.modeling.models import Drill
    from fangkong.wiring import build_bus

    settings = get_settings()
    db = open_database(settings)
    with db.unit_of_work() as session:
        drill = session.get(Drill, drill_id)
        if drill is None:
            _fail(f"no drill {drill_id}")
        name = username
        if name is None:
            starter = session.get(User, drill.created_by)
            name = starter.username if starter is not None else ""
        principal = _as_principal(session, name)
    return _DrillTools(db, Vault(settings.encryption_key, settings.hash_key), build_bus(), principal)


def drill_start(
    as_user: Annotated[str, typer.Option("--as", help="Username the drill runs as (its records name them).")],
    people: Annotated[int, typer.Option("--people", min=200, max=20_000, help="Synthetic residents.")] = 3000,
    days: Annotated[int, typer.Option("--days", min=7, max=90)] = 30,
    protocol: Annotated[str, typer.Option("--protocol")] = "cn-9",
    county: Annotated[
        str | None, typer.Option("--county", help="County code (default: the user's own).")
    ] = None,
    name: Annotated[str, typer.Option("--name")] = "",
    speed: Annotated[float, typer.Option("--speed", help="Drill hours per real hour.")] = 1440.0,
    seed: Annotated[int, typer.Option("--seed", min=0)] = 1,
    autopilot: Annotated[bool, typer.Option("--autopilot", help="The drill plays the teams too.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create a sandbox with synthetic residents and an outbreak, and schedule what the drill feeds."""
    from fangkong.core import jurisdictions
    from fangkong.core.cli import open_database
    from fangkong.core.config import get_settings
    from fangkong.core.crypto import Vault
    from fangkong.core.errors import DomainError
    from fangkong.core.people_rules import Keys
    from fangkong.modeling import drills

    settings = get_settings()
    db = open_database(settings)
    try:
        with db.unit_of_work() as session:
            principal = _as_principal(session, as_user)
            county_id = None
            if county is not None:
                node = jurisdictions.by_code(session, county)
                if node is None:
                    _fail(f"--county {county}: no such jurisdiction")
                county_id = node.id
            request = drills.DrillRequest(
                people=people, days=days, protocol_id=protocol, name=name, county_id=county_id, speed=speed,
                seed=seed, autopilot=autopilot, realtime=False,
            )  # fmt: skip
            drill = drills.start_drill(
                session, Vault(settings.encryption_key, settings.hash_key),
                Keys(settings.encryption_key, settings.hash_key), principal, request, ip="cli",
            )  # fmt: skip
            drill_id, summary = drill.id, json.loads(drill.summary)
    except DomainError as exc:
        _fail(exc.message)
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps({"drill_id": drill_id, **summary}, ensure_ascii=False))
        return
    typer.echo(
        f"drill {drill_id} started: {summary['cases']} cases to report ({summary['infections']} infections), "
        f"{summary['key_contacts']} close contacts in the answer key"
    )
    typer.echo(
        f"advance it with: fangkong drill status {drill_id} (feeds what is due) or drill advance {drill_id}"
    )


def _print_status(view: DrillStatusView, report: AdvanceReport | None) -> None:
    from rich.console import Console
    from rich.table import Table

    from fangkong.core.tables import print_table

    console = Console()
    drill = view.drill
    console.print(
        f"drill {drill.id} 【演练】{drill.name}: {drill.status.value}, day {view.day} "
        f"({view.hours:.1f} / {view.end_hours:.0f} drill hours)"
    )
    table = Table()
    for column in ("what", "fed", "scheduled", "refused"):
        table.add_column(column, justify="left" if column == "what" else "right")
    for k in view.kinds:
        table.add_row(k.kind, str(k.fed), str(k.due), str(k.failed))
    print_table(console, table)
    for kind, message in view.errors:
        console.print(f"  refused {kind}: {message}", style="red")
    if report is not None:
        console.print(f"fed {report.fed} now ({report.failed} refused)", style="dim")


def drill_status(
    drill_id: Annotated[int, typer.Argument(min=1)],
    as_user: Annotated[
        str | None, typer.Option("--as", help="Username (default: the drill's starter).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Feed what has come due on the drill clock, then show what was fed."""
    from fangkong.modeling import drills

    tools = _drill_tools(drill_id, as_user)
    report = drills.advance(tools.db, tools.vault, tools.bus, drill_id)
    with tools.db.unit_of_work() as session:
        view = drills.status(session, tools.principal, drill_id)
        if as_json:
            typer.echo(
                json.dumps(
                    {"drill_id": drill_id, "status": view.drill.status.value, "drill_hours": view.hours,
                     "day": view.day, "events": [k.__dict__ for k in view.kinds],
                     "errors": [list(e) for e in view.errors], "fed_now": report.fed},
                    ensure_ascii=False,
                )
            )  # fmt: skip
        else:
            _print_status(view, report)


def drill_advance(
    drill_id: Annotated[int, typer.Argument(min=1)],
    hours: Annotated[float | None, typer.Option("--hours", min=0, help="Jump this many drill hours.")] = None,
    to_end: Annotated[bool, typer.Option("--to-end", help="Jump to the end of the drill.")] = False,
    as_user: Annotated[str | None, typer.Option("--as")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Jump the drill clock ahead, feeding every event on the way at its own drill time."""
    from fangkong.modeling import drills

    tools = _drill_tools(drill_id, as_user)
    with tools.db.unit_of_work() as session:
        drill = drills.get_drill(session, tools.principal, drill_id)
        now = drills.drill_hours(session, drill)
        target = drill.days * 24.0 + 1 if to_end else now + (hours if hours is not None else 24.0)
    report = drills.advance(tools.db, tools.vault, tools.bus, drill_id, to_hours=target)
    if as_json:
        typer.echo(json.dumps(report.__dict__, ensure_ascii=False))
        return
    with tools.db.unit_of_work() as session:
        _print_status(drills.status(session, tools.principal, drill_id), report)


def drill_score_command(
    drill_id: Annotated[int, typer.Argument(min=1)],
    as_user: Annotated[str | None, typer.Option("--as")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Score the drill from the records: each measure, or why it is not available yet."""
    from rich.console import Console
    from rich.table import Table

    from fangkong.core.tables import print_table
    from fangkong.modeling import drill_score

    tools = _drill_tools(drill_id, as_user)
    with tools.db.unit_of_work() as session:
        result = drill_score.score(session, tools.principal, drill_id)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    table = Table(title=f"drill {drill_id} at drill hour {result.hours:.0f}: score "
                        f"{'-' if result.total is None else f'{result.total:.0f}'}")  # fmt: skip
    for column in ("measure", "value", "target", "points", "detail"):
        table.add_column(column, justify="right" if column in ("value", "points") else "left")
    for m in result.measures:
        value = "-" if m.value is None else f"{m.value:.1f} {m.unit}"
        points = "-" if m.points is None else f"{m.points:.0f}"
        detail = render_text(m.detail, None)  # a stored message, in English here
        if m.status == "not_available":
            detail = f"not available: {detail}"
        table.add_row(m.label, value, m.target, points, detail)
    print_table(Console(), table)


def drill_stop(
    drill_id: Annotated[int, typer.Argument(min=1)],
    as_user: Annotated[str | None, typer.Option("--as")] = None,
) -> None:
    """Stop a drill: its clock stands still and nothing more is fed."""
    from fangkong.modeling import drills

    tools = _drill_tools(drill_id, as_user)
    with tools.db.unit_of_work() as session:
        drills.stop_drill(session, tools.principal, drill_id, ip="cli")
    typer.echo(f"drill {drill_id} stopped")
