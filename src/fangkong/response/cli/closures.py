"""``fangkong response close|closure|correct|sign-off``: the daily closure (日清日结) from the command line.

``close`` is the cut-off (a scheduled job, run as the platform itself): version 1 of the last ended day
for every county, city and province that has none. The others act as a named user (``--user``/``-u``)
whose role must allow it, exactly as the pages do, and are audited under their name. Every command
that prints data takes ``--json``; a refused input prints what is wrong and exits with 2.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from fangkong.core.cli import acting_user, echo_json, fail, open_database
from fangkong.core.errors import DomainError
from fangkong.core.permissions import Permission
from fangkong.core.tables import print_table

app = typer.Typer(no_args_is_help=True)
console = Console()

User = Annotated[str, typer.Option("--user", "-u", help="act as this user (their jurisdiction and role)")]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]
Code = Annotated[str, typer.Argument(help="the jurisdiction's code (330106)")]
Day = Annotated[str, typer.Argument(help="the local day (YYYY-MM-DD)")]


def _day(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option) from None


def _json(view: Any) -> dict[str, Any]:
    from fangkong.core.clock import as_local

    return {
        "id": view.id,
        "code": view.code,
        "name": view.name,
        "day": view.day.isoformat(),
        "version": view.version,
        "latest_version": view.latest_version,
        "reason": view.reason,
        "published_at": as_local(view.published_at).isoformat(timespec="seconds"),
        "published_by": view.published_by,
        "signed_off_at": as_local(view.signed_off_at).isoformat(timespec="seconds")
        if view.signed_off_at
        else None,
        "signed_off_by": view.signed_off_by,
        "objectives": view.objectives,
        "figures": view.figures,
    }


def _print(view: Any) -> None:
    from fangkong.response.rules import closure as rules

    console.print(
        f"[bold]{view.name}[/] ({view.code}) {view.day} v{view.version}"
        + (f" (v{view.latest_version} is newer)" if view.corrected else "")
    )
    if view.reason:
        console.print(f"reason: {view.reason}")
    table = Table("figure", "value")
    for key, value in rules.flatten(view.figures).items():
        if key.startswith("series."):
            continue
        table.add_row(key, "-" if value is None else str(value))
    print_table(console, table)
    console.print("cases by onset date are provisional; by report date final once published")
    if view.signed_off_at is not None:
        console.print(f"signed off by {view.signed_off_by}: {view.objectives}")


@app.command("close")
def close_command(
    day: Annotated[str, typer.Option(help="close this local day instead of the last ended one")] = "",
    cutoff_hour: Annotated[
        int | None, typer.Option(min=0, max=23, help="hours after local midnight (default: the setting)")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """The cut-off: publish version 1 of the day for every county and above that has none (idempotent)."""
    from fangkong.core import clock
    from fangkong.core.config import get_settings
    from fangkong.response.service import closure

    chosen = _day(day, "--day") if day else None
    db = open_database()
    try:
        with db.unit_of_work() as session:
            hour = get_settings().closure_cutoff_hour if cutoff_hour is None else cutoff_hour
            views = closure.close_due_days(session, clock.utcnow(), day=chosen, cutoff_hour=hour)
            rows = [
                {"code": v.code, "name": v.name, "day": v.day.isoformat(), "version": v.version}
                for v in views
            ]
    except DomainError as exc:
        fail(exc)
    finally:
        db.dispose()
    if as_json:
        echo_json({"published": rows})
        return
    console.print(f"{len(rows)} closures published")
    for row in rows:
        console.print(f"  {row['day']}  {row['code']}  {row['name']}")


@app.command("closure")
def closure_command(
    code: Code,
    day: Day,
    user: User,
    version: Annotated[int | None, typer.Option(min=1, help="this version (default: the newest)")] = None,
    as_json: AsJson = False,
) -> None:
    """One published version of a jurisdiction's day (the newest without --version)."""
    from fangkong.response.service import closure

    wanted = _day(day, "DAY")
    with acting_user(user, Permission.response_read, as_json=as_json) as (session, me):
        place = closure.place_by_code(session, me, code)
        view = closure.get_closure(session, me, place.id, wanted, version)
    if as_json:
        echo_json(_json(view))
        return
    _print(view)


@app.command("correct")
def correct_command(
    code: Code,
    day: Day,
    user: User,
    reason: Annotated[str, typer.Option(help="why the day is corrected (required)")],
    as_json: AsJson = False,
) -> None:
    """A correction of a published day: a new version with the figures as they stand now and the reason."""
    from fangkong.response.service import closure

    wanted = _day(day, "DAY")
    with acting_user(user, Permission.closure_publish, as_json=as_json) as (session, me):
        place = closure.place_by_code(session, me, code)
        before = closure.get_closure(session, me, place.id, wanted)
        view = closure.publish(session, me, place.id, wanted, reason=reason, ip="cli")
        changes = closure.diff(session, me, place.id, wanted, before.version, view.version).changes
        rows = [{"figure": c.key, "old": c.old, "new": c.new, "change": c.change} for c in changes]
    if as_json:
        echo_json({**_json(view), "changes": rows})
        return
    console.print(f"published v{view.version} of {view.code} {view.day}; {len(rows)} figures changed")
    table = Table("figure", "old", "new", "change")
    for row in rows:
        table.add_row(*(str("-" if row[k] is None else row[k]) for k in ("figure", "old", "new", "change")))
    print_table(console, table)


@app.command("sign-off")
def sign_off_command(
    code: Code,
    day: Day,
    user: User,
    objectives: Annotated[str, typer.Option(help="the next operational period's objectives")],
    version: Annotated[int | None, typer.Option(min=1, help="this version (default: the newest)")] = None,
    as_json: AsJson = False,
) -> None:
    """The command centre signs a version off with the next operational period's objectives."""
    from fangkong.response.service import closure

    wanted = _day(day, "DAY")
    with acting_user(user, Permission.closure_publish, as_json=as_json) as (session, me):
        place = closure.place_by_code(session, me, code)
        found = closure.get_closure(session, me, place.id, wanted, version)
        view = closure.sign_off(session, me, found.id, objectives, ip="cli")
    if as_json:
        echo_json(_json(view))
        return
    console.print(f"signed off v{view.version} of {view.code} {view.day}")
