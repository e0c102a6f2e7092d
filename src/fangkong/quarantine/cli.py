"""``fangkong quarantine ...``: sites, room import, placement, census and release from the command line.

Commands act as a named user (``--user``), so what they read is that user's jurisdiction and what they
write is audited under their name, exactly as through the web page. Every command that prints data
takes ``--json``; a bad input prints what is wrong (each bad row of a file named) and exits with 2.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from fangkong.core.cli import acting_user, echo_json
from fangkong.core.permissions import Permission
from fangkong.core.tables import print_table

if TYPE_CHECKING:
    pass

app = typer.Typer(help="Quarantine sites: reserve list, rooms, placement, census.", no_args_is_help=True)
console = Console()

User = Annotated[str, typer.Option("--user", "-u", help="act as this user (their jurisdiction and role)")]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]


def _share(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.0f}%"


@app.command("sites")
def sites_command(
    user: User,
    status: Annotated[str, typer.Option(help="only sites in this status (reserve, open, ...)")] = "",
    as_json: AsJson = False,
) -> None:
    """The reserve list: every site in your jurisdiction, and the reserve standard per jurisdiction."""
    from fangkong.quarantine import service
    from fangkong.quarantine.models import RoomState, SiteStatus

    try:
        wanted = SiteStatus(status) if status else None
    except ValueError:
        raise typer.BadParameter(
            f"one of {', '.join(s.value for s in SiteStatus)}", param_hint="--status"
        ) from None
    with acting_user(user, Permission.quarantine_read, as_json=as_json) as (session, me):
        rows: list[service.sites.SiteRow] = []
        page = 1
        while True:
            result = service.sites.list_sites(
                session, me, status=wanted, page=page, size=service.sites.MAX_PAGE_SIZE
            )
            rows.extend(result.items)
            if page >= result.pages:
                break
            page += 1
        reserve = service.sites.reserve_standard(session, me)
    if as_json:
        echo_json(
            {
                "sites": [
                    {
                        "id": r.id,
                        "name": r.name,
                        "kind": r.kind.value,
                        "status": r.status.value,
                        "tier": r.tier,
                        "jurisdiction": r.jurisdiction_name,
                        "rooms": r.rooms,
                        "in_service": r.in_service,
                        "rooms_by_state": {k.value: v for k, v in r.rooms_by_state.items()},
                        "beds": r.beds,
                        "occupants": r.occupants,
                        "occupancy": r.occupancy,
                        "hours_to_open": r.hours_to_open,
                    }
                    for r in rows
                ],
                "reserve": [
                    {**vars(r), "level": r.level.value, "meets_standard": r.meets_standard} for r in reserve
                ],
            }
        )
        return
    table = Table(title=f"{len(rows)} quarantine sites")
    for name in ("id", "site", "tier", "status", "jurisdiction", "rooms", "free", "occupied", "occupancy"):
        table.add_column(name)
    for r in rows:
        table.add_row(
            str(r.id),
            r.name,
            str(r.tier),
            r.status.value,
            r.jurisdiction_name,
            str(r.rooms),
            str(r.rooms_by_state.get(RoomState.free, 0)),
            str(r.rooms_by_state.get(RoomState.occupied, 0)),
            _share(r.occupancy),
        )
    print_table(console, table)
    standard = Table(title="reserve standard (rooms per 10,000 residents)")
    for name in ("jurisdiction", "residents", "rooms", "per 10,000", "standard", "shortfall"):
        standard.add_column(name)
    for s in reserve:
        standard.add_row(
            s.name,
            f"{s.residents:,}",
            f"{s.rooms:,}",
            "" if s.per_10k is None else f"{s.per_10k:.1f}",
            str(s.standard),
            f"{s.shortfall:,}",
        )
    print_table(console, standard)
    if reserve:
        console.print(f"source: {reserve[0].source}")


@app.command("import-rooms")
def import_rooms_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Excel (.xlsx) or CSV file")],
    site: Annotated[int, typer.Option("--site", min=1, help="the site the rooms belong to (its id)")],
    user: User,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="check every row, write nothing")] = False,
    as_json: AsJson = False,
) -> None:
    """Add a site's rooms from a file; every bad row is named and nothing is written."""
    from fangkong.quarantine import service

    with acting_user(user, Permission.quarantine_manage, as_json=as_json) as (session, me):
        report = service.rooms_import.import_rooms(session, me, site, file, dry_run=dry_run, ip="cli")
    data = {
        "ok": True,
        "site_id": report.site_id,
        "site": report.site_name,
        "rows": report.rows,
        "added": report.added,
        "beds": report.beds,
        "by_kind": {k.value: v for k, v in report.by_kind.items()},
        "floors": report.floors,
        "zones": report.zones,
        "dry_run": report.dry_run,
    }
    if as_json:
        echo_json(data)
        return
    verb = "checked (dry run: nothing written)" if dry_run else "added"
    console.print(f"{report.site_name}: {report.rows:,} rooms {verb}, {report.beds:,} beds")


@app.command("place")
def place_command(
    user: User,
    person: Annotated[
        list[int] | None, typer.Option("--person", min=1, help="only this person (repeat)")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Place everyone on your to-place list (or the people given) in rooms, in one action."""
    from fangkong.quarantine import service

    with acting_user(user, Permission.quarantine_manage, as_json=as_json) as (session, me):
        report = service.placement.place_people(session, me, person or None, ip="cli")
    unplaced = [
        {"person_id": u.person_id, "name": u.name, "reason": u.reason, "message": str(u.text)}
        for u in report.unplaced
    ]
    if as_json:
        echo_json(
            {
                "placed": report.placed,
                "by_site": [{"site_id": s, "site": n, "placed": c} for s, n, c in report.by_site],
                "unplaced": unplaced,
                "own_county_share": report.own_county_share,
                "seconds": report.seconds,
            }
        )
        return
    console.print(f"placed {report.placed:,}; unplaced {len(unplaced):,}")
    if report.by_site:
        table = Table(title="placed by site")
        table.add_column("site")
        table.add_column("people", justify="right")
        for _sid, name, count in report.by_site:
            table.add_row(name, f"{count:,}")
        print_table(console, table)
    if unplaced:
        table = Table(title="unplaced")
        for name in ("person", "name", "reason"):
            table.add_column(name)
        for u in unplaced:
            table.add_row(str(u["person_id"]), str(u["name"]), str(u["message"]))
        print_table(console, table)


@app.command("census")
def census_command(
    user: User,
    days: Annotated[int, typer.Option(min=1, max=31, help="days of forecast")] = 7,
    as_json: AsJson = False,
) -> None:
    """Occupancy by site and tier now, and the forecast of arrivals, releases and rooms occupied."""
    from fangkong.quarantine import service

    with acting_user(user, Permission.quarantine_read, as_json=as_json) as (session, me):
        c = service.census.census(session, me, days_ahead=days)
    if as_json:
        echo_json(
            {
                "today": c.today,
                "occupied": c.occupied,
                "capacity_open": c.capacity_open,
                "capacity_all": c.capacity_all,
                "share": c.share,
                "waiting": c.waiting,
                "threshold": c.threshold,
                "days_until_full": c.days_until_full,
                "days_until_threshold": c.days_until_threshold,
                "sites": [{**vars(s), "status": s.status.value, "share": s.share} for s in c.sites],
                "tiers": [{**vars(t), "share": t.share} for t in c.tiers],
                "projection": [vars(d) for d in c.projection],
            }
        )
        return
    full = "not within the forecast" if c.days_until_full is None else f"in {c.days_until_full} day(s)"
    console.print(
        f"{c.today}: {c.occupied:,} of {c.capacity_open:,} rooms in open sites occupied "
        f"({_share(c.share) or '-'}); {c.waiting:,} waiting; full {full}; "
        f"activation threshold {_share(c.threshold)}"
    )
    tiers = Table(title="by tier")
    for name in ("tier", "sites", "open sites", "rooms", "open rooms", "occupied", "occupancy"):
        tiers.add_column(name)
    for t in c.tiers:
        tiers.add_row(
            str(t.tier),
            str(t.sites),
            str(t.open_sites),
            f"{t.rooms:,}",
            f"{t.open_rooms:,}",
            f"{t.occupied:,}",
            _share(t.share),
        )
    print_table(console, tiers)
    ahead = Table(title="forecast")
    for name in ("day", "arrivals", "releases", "occupied", "capacity", "occupancy"):
        ahead.add_column(name)
    for d in c.projection:
        ahead.add_row(
            str(d.day),
            f"{d.arrivals:,}",
            f"{d.releases:,}",
            f"{d.occupied:,}",
            f"{d.capacity:,}",
            _share(d.share),
        )
    print_table(console, ahead)


@app.command("release-due")
def release_due_command(
    user: User,
    on: Annotated[str, typer.Option(help="release everyone due on or before this day (default: today)")] = "",
    as_json: AsJson = False,
) -> None:
    """Check out everyone whose plan's release day has come; their rooms go to cleaning."""
    from fangkong.quarantine import service

    try:
        day = dt.date.fromisoformat(on) if on else None
    except ValueError:
        raise typer.BadParameter(f"{on!r} is not a date (YYYY-MM-DD)", param_hint="--on") from None
    with acting_user(user, Permission.quarantine_manage, as_json=as_json) as (session, me):
        released = service.stays.release_due(session, me, on=day, ip="cli")
    if as_json:
        echo_json({"released": released})
    else:
        console.print(f"{released:,} stay(s) ended")
