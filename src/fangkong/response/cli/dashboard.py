"""``fangkong response dashboard|recount``: the command dashboard's figures at a terminal, and the
nightly recount that repairs drifted counters (what a scheduler runs after midnight).

``dashboard`` acts as a named user (``--user``, their scope) or, without one, for the platform over the
whole tree; ``recount`` acts for the platform. Both take ``--json``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from fangkong.core.cli import acting_user, echo_json
from fangkong.core.permissions import Permission
from fangkong.core.tables import print_table

app = typer.Typer(no_args_is_help=True)
console = Console()

AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]


def _platform_principal(session: Any) -> Any:
    """The whole real tree, as the platform sees it (no user: a scheduler or an operator's shell)."""
    from sqlalchemy import select

    from fangkong.core.auth import Principal
    from fangkong.core.models import Jurisdiction, Role

    root = session.scalar(
        select(Jurisdiction)
        .where(Jurisdiction.parent_id.is_(None), Jurisdiction.is_sandbox.is_(False))
        .order_by(Jurisdiction.code)
    )
    if root is None:
        console.print("[bold red]error:[/] no jurisdictions yet")
        raise typer.Exit(2)
    return Principal(0, "system", "system", Role.command_centre, root.id, "/", root.name, "token")


def _json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _table(headers: list[str], rows: list[tuple[Any, ...]]) -> None:
    table = Table(*headers)
    for row in rows:
        table.add_row(*(str(v) for v in row))
    print_table(console, table)


def _print(view: Any) -> None:
    console.print(f"[bold]{view.place.name}[/] ({view.place.code}) · {view.on}")
    rt = view.latest_rt
    rows = [
        ("cases reported today", view.cases_today),
        (f"cases in {len(view.days)} days", view.cases_window),
        ("Rt", f"{rt[0]:.2f} ({rt[1]:.2f}-{rt[2]:.2f})" if rt else "-"),
        ("people under management", view.under_measure_total),
        ("quarantine occupied / capacity", f"{view.quarantine['occupied']} / {view.quarantine['capacity']}"),
        ("plan tests due / done / overdue",
         f"{view.testing['due']} / {view.testing['done']} / {view.testing['overdue']}"),
        ("open alerts", view.alerts["open"]),
        ("high / medium risk areas", f"{view.areas['high']} / {view.areas['medium']}"),
        ("overdue tasks", view.overdue_count),
    ]  # fmt: skip
    for key, d in view.timeliness.items():
        within = f"{100 * d.within_target:.0f}%" if d.within_target is not None else "-"
        rows.append((f"{key}: median / p90 h, within target", f"{d.median} / {d.p90}, {within}"))
    _table(["figure", "value"], [(k, str(v)) for k, v in rows])
    if view.children:
        _table(
            ["code", "name", "cases today", "cases window", "under management", "overdue"],
            [
                (c.place.code, c.place.name, c.cases_today, c.cases_window, c.under_measure, c.overdue_tasks)
                for c in view.children
            ],
        )


@app.command("dashboard")
def show_dashboard(
    jurisdiction: Annotated[
        str | None, typer.Option(help="jurisdiction code (default: the user's own)")
    ] = None,
    user: Annotated[str | None, typer.Option("--user", "-u", help="act as this user (their scope)")] = None,
    on: Annotated[str | None, typer.Option(help="local day YYYY-MM-DD (default: today)")] = None,
    as_json: AsJson = False,
) -> None:
    """The command dashboard of a jurisdiction: curve, Rt, people under measure, overdue, timeliness."""
    from fangkong.response.service.dashboard import dashboard

    day = _day(on)
    if user:
        with acting_user(user, Permission.response_read, as_json=as_json) as (session, principal):
            view = dashboard(session, principal, code=jurisdiction, on=day)
    else:
        from fangkong.core.cli import fail, open_database
        from fangkong.core.errors import DomainError

        db = open_database()
        try:
            with db.unit_of_work() as session:
                principal = _platform_principal(session)
                try:
                    view = dashboard(session, principal, code=jurisdiction, on=day)
                except DomainError as exc:
                    if as_json:
                        echo_json({"ok": False, "error": exc.message})
                        raise typer.Exit(2) from None
                    fail(exc)
        finally:
            db.dispose()
    if as_json:
        echo_json(_json(view))
    else:
        _print(view)


def _day(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        console.print(f"[bold red]error:[/] {text!r} is not a day (YYYY-MM-DD)")
        raise typer.Exit(2) from None


@app.command("recount")
def recount_counters(
    day: Annotated[str | None, typer.Option(help="local day YYYY-MM-DD (default: yesterday)")] = None,
    as_json: AsJson = False,
) -> None:
    """Recompute a day's dashboard counters and today's levels from the source records; print what
    had drifted (run nightly, after midnight, for the day that ended)."""
    from fangkong.core import clock
    from fangkong.core.cli import open_database
    from fangkong.response.service.counters import recount

    target = _day(day) or clock.today() - dt.timedelta(days=1)
    db = open_database()
    try:
        with db.unit_of_work() as session:
            changes = recount(session, target)
    finally:
        db.dispose()
    if as_json:
        echo_json({"ok": True, "day": target.isoformat(), "changes": _json(changes)})
        return
    console.print(f"recounted {target}: {len(changes)} counter(s) had drifted")
    if changes:
        _table(
            ["jurisdiction", "metric", "day", "was", "now"],
            [(c.jpath, c.metric, c.day or "", c.before, c.after) for c in changes],
        )
