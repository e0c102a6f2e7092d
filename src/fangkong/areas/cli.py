"""``fangkong areas ...``: risk areas, arrivals, checkpoints and doorstep services from the command line.

Commands act as a named user (``--user``/``-u``), so what they read is that user's jurisdiction and what
they write is audited under their name, exactly as through the pages. Every command that prints data
takes ``--json``; a refused input prints what is wrong (each field named) and exits with 2.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from fangkong.core.cli import acting_user, echo_json
from fangkong.core.permissions import Permission
from fangkong.core.tables import print_table

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from fangkong.core.auth import Principal
    from fangkong.core.config import Settings

app = typer.Typer(help="Risk areas, arrivals, checkpoints, doorstep services.", no_args_is_help=True)
console = Console()

User = Annotated[str, typer.Option("--user", "-u", help="act as this user (their jurisdiction and role)")]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]


@contextmanager
def _as_user(
    username: str, needs: Permission, *, as_json: bool = False
) -> Iterator[tuple[Session, Principal, Settings]]:
    """:func:`fangkong.core.cli.acting_user` with the settings beside (the vault and the public cache
    need them)."""
    from fangkong.core.config import get_settings

    settings = get_settings()
    with acting_user(username, needs, as_json=as_json, settings=settings) as (session, principal):
        yield session, principal, settings


def _bus() -> Any:
    from fangkong.wiring import build_bus

    return build_bus()


def _english(value: Any) -> str:
    from fangkong.core.i18n import render_text

    return render_text(value, "en")


def _area_json(area: Any) -> dict[str, Any]:
    return {
        "id": area.id,
        "name": area.name,
        "level": area.level.value,
        "state": area.state.value,
        "unit_kind": area.unit_kind.value,
        "jurisdiction_id": area.jurisdiction_id,
        "county_id": area.county_id,
        "protocol_id": area.protocol_id,
        "reason": _english(area.reason),
        "designated_at": area.designated_at.isoformat() if area.designated_at else None,
        "approved_by": area.approved_by,
        "level_since": area.level_since.isoformat() if area.level_since else None,
        "last_case_on": area.last_case_on.isoformat() if area.last_case_on else None,
    }


def _areas_table(title: str, areas: list[Any]) -> None:
    table = Table(title=title)
    for name in ("id", "name", "level", "unit", "state", "since", "approved by"):
        table.add_column(name)
    for a in areas:
        table.add_row(
            str(a.id),
            a.name,
            a.level.value,
            a.unit_kind.value,
            a.state.value,
            str(a.level_since or ""),
            a.approved_by or "",
        )
    print_table(console, table)


def _day(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option) from None


def _enum(kind: Any, value: str, option: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise typer.BadParameter(f"one of {', '.join(k.value for k in kind)}", param_hint=option) from None


# ------------------------------------------------------------------------------------------ areas


@app.command("propose")
def propose_command(
    user: User,
    since: Annotated[str, typer.Option(help="only cases reported on or after this day (YYYY-MM-DD)")] = "",
    as_json: AsJson = False,
) -> None:
    """Proposals from the cases in your jurisdiction, as the protocol in force allows."""
    from fangkong.areas import service

    day = _day(since, "--since") if since else None
    with _as_user(user, Permission.areas_propose, as_json=as_json) as (session, me, _settings):
        created = service.designation.propose_from_cases(session, me, since=day)
        notice = service.designation.proposal_notice(session, me)
        rows = [_area_json(a) for a in created]
    if as_json:
        echo_json({"created": rows, "notice": _english(notice) if notice is not None else None})
        return
    if notice is not None:
        console.print(_english(notice))
    console.print(f"{len(rows)} proposals made")
    for row in rows:
        console.print(f"  {row['id']}  {row['level']:<6} {row['name']}")


@app.command("approve")
def approve_command(
    area_id: Annotated[int, typer.Argument(min=1, max=2**31 - 1, help="the proposed area's id")],
    user: User,
    level: Annotated[str, typer.Option(help="designate at this level (high, medium)")] = "",
    unit: Annotated[str, typer.Option(help="with this unit (compound, building, ...)")] = "",
    name: Annotated[str, typer.Option(help="under this name")] = "",
    as_json: AsJson = False,
) -> None:
    """The command centre designates a proposal, as proposed or adjusted."""
    from fangkong.areas import service
    from fangkong.areas.models import RiskLevel, UnitKind

    chosen_level = _enum(RiskLevel, level, "--level") if level else None
    chosen_unit = _enum(UnitKind, unit, "--unit") if unit else None
    with _as_user(user, Permission.areas_approve, as_json=as_json) as (session, me, _settings):
        area = service.designation.approve(
            session,
            _bus(),
            me,
            area_id,
            level=chosen_level,
            unit_kind=chosen_unit,
            name=name or None,
            ip="cli",
        )
        row = _area_json(area)
    if as_json:
        echo_json(row)
        return
    console.print(f"designated {row['id']} {row['name']}: {row['level']}")


@app.command("list")
def list_command(
    user: User,
    state: Annotated[str, typer.Option(help="proposed, in_force, lifted, rejected (default: all)")] = "",
    as_json: AsJson = False,
) -> None:
    """Areas in your jurisdiction, newest first."""
    from fangkong.areas import service
    from fangkong.areas.models import AreaState

    wanted = _enum(AreaState, state, "--state") if state else None
    with _as_user(user, Permission.areas_read, as_json=as_json) as (session, me, _settings):
        areas: list[Any] = []
        page = 1
        while True:
            found = service.designation.list_areas(
                session,
                me,
                service.designation.AreaFilter(state=wanted),
                page=page,
                size=service.designation.MAX_PAGE_SIZE,
            )
            areas.extend(found.items)
            if page >= found.pages:
                break
            page += 1
        rows = [_area_json(a) for a in areas]
        if not as_json:
            _areas_table(f"{len(areas)} risk areas", areas)
    if as_json:
        echo_json({"areas": rows})


@app.command("due")
def due_command(
    user: User,
    on: Annotated[str, typer.Option(help="the day (YYYY-MM-DD; default today)")] = "",
    as_json: AsJson = False,
) -> None:
    """Each change falling due by the day, with what blocks it."""
    from fangkong.areas import service
    from fangkong.core import clock

    day = _day(on, "--on") if on else clock.today()
    with _as_user(user, Permission.areas_read, as_json=as_json) as (session, me, _settings):
        due = service.designation.due_changes(session, me, day)
    rows: list[dict[str, Any]] = [
        {
            "area_id": d.area_id,
            "name": d.name,
            "from_level": d.from_level.value,
            "to_level": d.to_level.value,
            "due_on": d.due_on.isoformat(),
            "reason": _english(d.reason),
            "blockers": [_english(b) for b in d.blockers],
            "blocker_kinds": list(d.blocker_kinds),
            "ready": d.ready,
        }
        for d in due
    ]
    if as_json:
        echo_json({"on": day.isoformat(), "due": rows})
        return
    table = Table(title=f"changes due by {day}")
    for name in ("area", "name", "change", "due on", "blocked by"):
        table.add_column(name)
    for r in rows:
        table.add_row(
            str(r["area_id"]),
            r["name"],
            f"{r['from_level']} → {r['to_level']}",
            r["due_on"],
            "; ".join(r["blockers"]) or "ready",
        )
    print_table(console, table)


@app.command("apply")
def apply_command(
    area_id: Annotated[int, typer.Argument(min=1, max=2**31 - 1, help="the area's id")],
    user: User,
    to: Annotated[str, typer.Option("--to", help="the level it goes to (medium, low)")],
    as_json: AsJson = False,
) -> None:
    """Apply the change due today (refused, naming why, if it is not due or something blocks it)."""
    from fangkong.areas import service
    from fangkong.areas.models import RiskLevel

    level = _enum(RiskLevel, to, "--to")
    with _as_user(user, Permission.areas_approve, as_json=as_json) as (session, me, _settings):
        area = service.designation.apply_change(session, _bus(), me, area_id, level, ip="cli")
        row = _area_json(area)
    if as_json:
        echo_json(row)
        return
    console.print(f"{row['id']} {row['name']}: now {row['level']} ({row['state']})")


# ------------------------------------------------------------------------------------------ arrivals


@app.command("arrivals")
def arrivals_command(
    user: User,
    state: Annotated[str, typer.Option(help="new, contacted, plan_applied, closed (default: all)")] = "",
    as_json: AsJson = False,
) -> None:
    """The arrivals worklist of your jurisdiction (masked), one row a trip."""
    from fangkong.areas import service
    from fangkong.areas.models import WorklistState

    wanted = _enum(WorklistState, state, "--state") if state else None
    with _as_user(user, Permission.arrivals_manage, as_json=as_json) as (session, me, _settings):
        items: list[Any] = []
        page = 1
        while True:
            found = service.arrivals.worklist(
                session, me, state=wanted, page=page, size=service.arrivals.MAX_PAGE_SIZE
            )
            items.extend(found.items)
            if page >= found.pages:
                break
            page += 1
    rows = [
        {
            "id": a.id,
            "name": a.name,
            "id_number": a.id_number,
            "phone": a.phone,
            "origin_county_code": a.origin_county_code,
            "origin_county_name": a.origin_county_name,
            "origin_area_name": a.origin_area_name,
            "departed_on": a.departed_on.isoformat(),
            "arrived_on": a.arrived_on.isoformat(),
            "destination": a.destination_name,
            "category": a.category,
            "state": a.state,
            "reports": a.reports,
        }
        for a in items
    ]
    if as_json:
        echo_json({"arrivals": rows})
        return
    table = Table(title=f"{len(rows)} arrivals")
    for name in ("id", "name", "ID number", "from", "departed", "arrived", "staying in", "category", "state"):
        table.add_column(name)
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["name"],
            r["id_number"],
            f"{r['origin_county_name']} {r['origin_area_name']}".strip(),
            r["departed_on"],
            r["arrived_on"],
            r["destination"],
            r["category"],
            r["state"],
        )
    print_table(console, table)


@app.command("lookup")
def lookup_command(
    id_number: Annotated[str, typer.Argument(help="the traveller's full ID number")],
    user: User,
    checkpoint: Annotated[str, typer.Option("--checkpoint", help="the checkpoint's name")],
    as_json: AsJson = False,
) -> None:
    """A checkpoint's look-up (audited): masked name, category, measure, valid until."""
    from fangkong.areas import service
    from fangkong.core.crypto import Vault

    with _as_user(user, Permission.checkpoint_lookup, as_json=as_json) as (session, me, settings):
        vault = Vault(settings.encryption_key, settings.hash_key)
        answer = service.checkpoints.lookup(session, vault, me, id_number, checkpoint=checkpoint, ip="cli")
    row = {
        "found": answer.found,
        "name": answer.name,
        "category": answer.category,
        "measure": answer.measure,
        "valid_until": answer.valid_until.isoformat() if answer.valid_until else None,
    }
    if as_json:
        echo_json(row)
        return
    if not answer.found:
        console.print("no registered arrival with this ID number in your jurisdiction")
        return
    console.print(
        f"{row['name']}: {row['category']}, {row['measure'] or 'no measure'}"
        f" until {row['valid_until'] or '-'}"
    )


# ------------------------------------------------------------------------------------------ doorstep


def _request_json(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "area_id": r.area_id,
        "area_name": r.area_name,
        "kind": r.kind.value,
        "detail": r.detail,
        "state": r.state.value,
        "deadline_at": r.deadline_at.isoformat(),
        "taken_by": r.taken_by,
        "late": r.late,
        "escalated_at": r.escalated_at.isoformat() if r.escalated_at else None,
    }


@app.command("doorstep")
def doorstep_command(user: User, as_json: AsJson = False) -> None:
    """Per area: requests open, late, done; and the open requests, emergencies first."""
    from fangkong.areas import service

    with _as_user(user, Permission.doorstep_manage, as_json=as_json) as (session, me, _settings):
        board = service.doorstep.board(session, me)
        requests = service.doorstep.list_requests(session, me, open_only=True)
    rows = [vars(r) for r in board]
    open_rows = [_request_json(r) for r in requests]
    if as_json:
        echo_json({"board": rows, "open": open_rows})
        return
    table = Table(title="doorstep services per area")
    for name in ("area", "open", "late", "emergencies open", "done"):
        table.add_column(name)
    for r in board:
        table.add_row(
            r.area_name or "(outside any area)",
            str(r.open),
            str(r.late),
            str(r.emergencies_open),
            str(r.done),
        )
    print_table(console, table)
    for q in open_rows:
        late = " LATE" if q["late"] else ""
        console.print(f"  {q['id']} {q['kind']} {q['area_name'] or ''} due {q['deadline_at']}{late}")


@app.command("escalate")
def escalate_command(user: User, as_json: AsJson = False) -> None:
    """Escalate every open request past its deadline (once), emergencies first; prints those in your
    jurisdiction (the scheduler runs this every minute)."""
    from fangkong.areas import service

    with _as_user(user, Permission.doorstep_manage, as_json=as_json) as (session, me, _settings):
        escalated = service.doorstep.escalate_late(session)
        mine = {r.id for r in service.doorstep.list_requests(session, me)}
        rows = [_request_json(r) for r in escalated if r.id in mine]
    if as_json:
        echo_json({"escalated": rows})
        return
    console.print(f"{len(rows)} requests escalated")
    for q in rows:
        console.print(f"  {q['id']} {q['kind']} {q['area_name'] or ''} due {q['deadline_at']}")
