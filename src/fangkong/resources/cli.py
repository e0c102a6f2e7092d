"""``fangkong resources ...``: staff and the renewal worklist, teams with readiness, deployments, stock
with days left and reorder alerts, and the command's counts; ``consume-ppe`` (nightly) draws the
quarantine sites' protective equipment by their occupied rooms; adding staff, certifying and receiving
supplies act as a named user (``-u``). Every command takes ``--json``. Thin: parse, call the service,
print.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from fangkong.core.cli import acting_user, echo_json, err, system_scope
from fangkong.core.permissions import Permission
from fangkong.core.tables import print_table

app = typer.Typer(no_args_is_help=True)
console = Console()

AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]
Code = Annotated[str, typer.Option("--jurisdiction", help="jurisdiction code (default: the whole tree)")]
User = Annotated[str, typer.Option("--user", "-u", help="act as this user")]


def _print(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title)
    for name in columns:
        table.add_column(name)
    for row in rows:
        table.add_row(*(str(v) for v in row))
    print_table(console, table)


@app.command("staff")
def staff_command(
    jurisdiction: Code = "",
    skill: Annotated[str, typer.Option(help="only people with this skill")] = "",
    as_json: AsJson = False,
) -> None:
    """Staff with their skills, valid certifications and whether they are away on a deployment."""
    from fangkong.resources.service import staff

    with system_scope(jurisdiction) as (session, me):
        rows = staff.list_staff(session, me, skill)
        data: list[dict[str, Any]] = [
            {
                "id": r.staff.id, "name": r.staff.name, "unit": r.staff.unit, "jpath": r.staff.jpath,
                "available": r.staff.available, "deployed_away": r.deployed_away,
                "shift_today": r.shift_today.value if r.shift_today else None, "phone": r.staff.phone_masked,
                "skills": [k.value for k in r.skills], "certified": [k.value for k in r.valid],
            }
            for r in rows
        ]  # fmt: skip
    if as_json:
        echo_json(data)
        return
    _print(
        f"Staff: {len(data)}",
        ["id", "name", "unit", "certified", "status"],
        [
            [d["id"], d["name"], d["unit"], ", ".join(d["certified"]) or "-",
             "away" if d["deployed_away"] else "available" if d["available"] else "not available"]
            for d in data
        ],
    )  # fmt: skip


@app.command("add-staff")
def add_staff_command(
    user: User,
    jurisdiction: Annotated[str, typer.Option("--jurisdiction", help="the jurisdiction code they work for")],
    name: Annotated[str, typer.Option(help="work name as on the duty roster")],
    unit: Annotated[str, typer.Option(help="the unit they belong to")],
    skill: Annotated[list[str] | None, typer.Option(help="a skill (repeat for several)")] = None,
    as_json: AsJson = False,
) -> None:
    """Put a person on the staff list."""
    from fangkong.resources.service import staff

    with acting_user(user, Permission.resources_manage, as_json=as_json) as (session, me):
        person = staff.add_staff(
            session, me, jurisdiction_code=jurisdiction, name=name, unit=unit, skills=skill or []
        )
        data = {"id": person.id, "name": person.name, "jpath": person.jpath}
    if as_json:
        echo_json(data)
    else:
        console.print(f"staff member {data['id']} added: {data['name']}")


@app.command("certify")
def certify_command(
    staff_id: Annotated[int, typer.Argument(min=1, help="the staff member's id")],
    skill: Annotated[str, typer.Argument(help="the skill certified")],
    user: User,
    passed_on: Annotated[str, typer.Option(help="exam day, YYYY-MM-DD (default: today)")] = "",
    valid_days: Annotated[int, typer.Option(min=1, max=3650, help="days it stays valid")] = 365,
    as_json: AsJson = False,
) -> None:
    """Record a certification passed (an exam taken elsewhere)."""
    from fangkong.core import clock
    from fangkong.resources.service import staff

    try:
        day = dt.date.fromisoformat(passed_on) if passed_on else clock.today()
    except ValueError:
        err.print(f"[bold red]error:[/] --passed-on: not a date: {passed_on!r}")
        raise typer.Exit(2) from None
    with acting_user(user, Permission.resources_manage, as_json=as_json) as (session, me):
        cert = staff.certify(session, me, staff_id, skill, day, valid_days=valid_days)
        data = {"id": cert.id, "staff_id": cert.staff_id, "skill": cert.skill.value,
                "passed_on": cert.passed_on.isoformat(),
                "expires_on": cert.expires_on.isoformat()}  # fmt: skip
    if as_json:
        echo_json(data)
    else:
        console.print(f"certified {data['skill']} until {data['expires_on']}")


@app.command("renewals")
def renewals_command(jurisdiction: Code = "", as_json: AsJson = False) -> None:
    """Certifications expired or expiring within 30 days: the renewal worklist."""
    from fangkong.resources.service import staff

    with system_scope(jurisdiction) as (session, me):
        data = [
            {"staff_id": r.staff.id, "name": r.staff.name, "skill": r.skill.value,
             "expires_on": r.expires_on.isoformat(), "expired": r.expired}
            for r in staff.renewals_due(session, me)
        ]  # fmt: skip
    if as_json:
        echo_json(data)
        return
    _print(
        f"Certifications due for renewal: {len(data)}",
        ["staff", "name", "skill", "expires", "status"],
        [
            [d["staff_id"], d["name"], d["skill"], d["expires_on"], "expired" if d["expired"] else "soon"]
            for d in data
        ],
    )


@app.command("teams")
def teams_command(jurisdiction: Code = "", as_json: AsJson = False) -> None:
    """Teams with readiness against their type's standard size."""
    from fangkong.resources.service import teams

    with system_scope(jurisdiction) as (session, me):
        data = [
            {"id": r.team.id, "name": r.team.name, "level": r.team.level.value, "kind": r.team.kind.value,
             "leader": r.leader.name if r.leader else None, "members": r.readiness.members,
             "ready": r.readiness.ready, "standard": r.readiness.standard, "gap": r.readiness.gap,
             "readiness": r.readiness.state.value}
            for r in teams.list_teams(session, me)
        ]  # fmt: skip
    if as_json:
        echo_json(data)
        return
    _print(
        f"Teams: {len(data)}",
        ["id", "team", "type", "members", "ready / standard", "readiness"],
        [
            [d["id"], d["name"], d["kind"], d["members"], f"{d['ready']}/{d['standard']}", d["readiness"]]
            for d in data
        ],
    )


@app.command("deployments")
def deployments_command(
    jurisdiction: Code = "",
    open_only: Annotated[bool, typer.Option("--open", help="only deployments still out")] = False,
    as_json: AsJson = False,
) -> None:
    """Deployments (支援) sent from or received into the area, with who is checked in."""
    from fangkong.resources.service import deployments

    with system_scope(jurisdiction) as (session, me):
        data = [
            {"id": r.deployment.id, "team": r.team.name, "to": r.to_name, "outbreak": r.deployment.outbreak,
             "commander": r.deployment.commander, "state": r.deployment.state.value,
             "members": len(r.members), "checked_in": r.checked_in, "checked_out": r.checked_out}
            for r in deployments.list_deployments(session, me, open_only=open_only)
        ]  # fmt: skip
    if as_json:
        echo_json(data)
        return
    _print(
        f"Deployments: {len(data)}",
        ["id", "team", "to", "state", "in / members"],
        [[d["id"], d["team"], d["to"], d["state"], f"{d['checked_in']}/{d['members']}"] for d in data],
    )


@app.command("stock")
def stock_command(
    jurisdiction: Code = "",
    alerts: Annotated[
        bool, typer.Option("--alerts", help="only stores below their reorder threshold")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Stock on hand with the learned rate, days left and reorder alerts."""
    from fangkong.resources.service import supplies

    with system_scope(jurisdiction) as (session, me):
        data = [
            {"id": r.stock.id, "store": f"{r.jurisdiction_name} {r.stock.site}".strip(),
             "jpath": r.stock.jpath,
             "kind": r.stock.kind.value, "unit": r.unit, "on_hand": r.stock.on_hand,
             "rate_per_day": round(r.rate, 2),
             "days_left": None if r.days_left is None else round(r.days_left, 1),
             "reorder_days": r.stock.reorder_days, "reorder": r.reorder,
             "reorder_quantity": r.reorder_quantity}
            for r in supplies.list_stock(session, me, alerts_only=alerts)
        ]  # fmt: skip
    if as_json:
        echo_json(data)
        return
    _print(
        f"Stock: {len(data)} store(s)",
        ["id", "store", "supply", "on hand", "per day", "days left", "reorder"],
        [
            [d["id"], d["store"], d["kind"], f"{d['on_hand']:,}", d["rate_per_day"],
             "-" if d["days_left"] is None else d["days_left"],
             f"order {d['reorder_quantity']:,}" if d["reorder"] else "-"]
            for d in data
        ],
    )  # fmt: skip


@app.command("receive")
def receive_command(
    kind: Annotated[
        str, typer.Argument(help="ppe, swab, tube, reagent, antigen_test, disinfectant, medicine")
    ],
    quantity: Annotated[int, typer.Argument(min=1, max=10_000_000, help="units received")],
    user: User,
    jurisdiction: Annotated[str, typer.Option("--jurisdiction", help="the jurisdiction code of the store")],
    site: Annotated[str, typer.Option(help="a named site of the jurisdiction (default: its store)")] = "",
    as_json: AsJson = False,
) -> None:
    """Record a receipt of supplies into a store."""
    from fangkong.resources.service import supplies

    with acting_user(user, Permission.supplies_manage, as_json=as_json) as (session, me):
        stock = supplies.receive(
            session, me, jurisdiction_code=jurisdiction, kind=kind, quantity=quantity, site=site
        )
        data = {"id": stock.id, "kind": stock.kind.value, "on_hand": stock.on_hand, "jpath": stock.jpath}
    if as_json:
        echo_json(data)
    else:
        console.print(f"stock {data['id']} ({data['kind']}): {data['on_hand']:,} on hand")


@app.command("roster")
def roster_command(
    jurisdiction: Code = "",
    day: Annotated[str, typer.Option(help="the day, YYYY-MM-DD (default: today)")] = "",
    as_json: AsJson = False,
) -> None:
    """Who is on duty (值班) or on call (备班) on a day, by team, from the duty roster."""
    from fangkong.core import clock
    from fangkong.resources.service import roster

    try:
        wanted = dt.date.fromisoformat(day) if day else clock.today()
    except ValueError:
        err.print(f"[bold red]error:[/] --day: not a date: {day!r}")
        raise typer.Exit(2) from None
    with system_scope(jurisdiction) as (session, me):
        data = [
            {"staff_id": r.staff.id, "name": r.staff.name, "kind": r.kind.value,
             "phone": r.staff.phone_masked, "team_id": r.team.id if r.team else None,
             "team": r.team.name if r.team else None}
            for r in roster.today_lines(session, me.jpath, wanted)
        ]  # fmt: skip
    if as_json:
        echo_json({"day": wanted.isoformat(), "shifts": data})
        return
    _print(
        f"Roster {wanted.isoformat()}: {len(data)}",
        ["team", "staff", "name", "shift", "phone"],
        [[d["team"] or "-", d["staff_id"], d["name"], d["kind"], d["phone"] or "-"] for d in data],
    )


@app.command("roster-import")
def roster_import_command(
    path: Annotated[str, typer.Argument(help="a .csv or .xlsx file: 人员编号, 日期, 班次, 队伍编号")],
    user: User,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="check the file, write nothing")] = False,
    as_json: AsJson = False,
) -> None:
    """Import the duty roster (all or nothing: a bad row names its row and column, nothing is written)."""
    from pathlib import Path

    from fangkong.resources.service import roster

    with acting_user(user, Permission.resources_manage, as_json=as_json) as (session, me):
        report = roster.import_roster(session, me, Path(path), dry_run=dry_run, ip="cli")
        data = {"rows": report.rows, "written": report.written, "dry_run": report.dry_run,
                "days": [d.isoformat() for d in report.days]}  # fmt: skip
    if as_json:
        echo_json(data)
    else:
        console.print(f"{data['rows']:,} shifts checked, {data['written']:,} written")


@app.command("counts")
def counts_command(jurisdiction: Code = "", as_json: AsJson = False) -> None:
    """Staff on duty, teams deployed, readiness gaps and reorder alerts."""
    from fangkong.resources.service import overview

    with system_scope(jurisdiction) as (session, me):
        data = overview.counts(session, me.jpath)
    if as_json:
        echo_json(data)
        return
    _print("Resources", ["figure", "value"], [[k.replace("_", " "), f"{v:,}"] for k, v in data.items()])


@app.command("consume-ppe")
def consume_ppe_command(as_json: AsJson = False) -> None:
    """Draw today's protective equipment of every quarantine site by its occupied rooms (nightly job)."""
    from fangkong.core import clock
    from fangkong.resources.service import supplies

    with system_scope("") as (session, _me):
        sets = supplies.consume_quarantine_ppe(session)
    day = clock.today().isoformat()
    if as_json:
        echo_json({"ok": True, "day": day, "ppe_sets": sets})
    else:
        console.print(f"{day}: {sets:,} protective suit sets drawn for occupied quarantine rooms")


@app.command("postings")
def postings_command(jurisdiction: Code = "", as_json: AsJson = False) -> None:
    """Staff posted now, and to come, at the sites (quarantine and sampling) of a subtree."""
    from fangkong.resources.schemas import posting_public
    from fangkong.resources.service import postings

    with system_scope(jurisdiction) as (session, me):
        data = [posting_public(r).model_dump(mode="json") for r in postings.list_postings(session, me)]
    if as_json:
        echo_json(data)
        return
    _print(
        f"Postings: {len(data)}",
        ["id", "site", "name", "post", "from", "until"],
        [
            [d["id"], d["site_name"], d["staff_name"], d["role"], d["starts_at"], d["ends_at"] or "-"]
            for d in data
        ],
    )


@app.command("post")
def post_command(
    site_id: Annotated[int, typer.Argument(min=1, help="the quarantine site's id")],
    staff_id: Annotated[int, typer.Argument(min=1, help="the staff member's id")],
    role: Annotated[str, typer.Argument(help="lead, medical, security, cleaning or support")],
    user: User,
    until: Annotated[str, typer.Option(help="last day, YYYY-MM-DD (default: open-ended)")] = "",
    as_json: AsJson = False,
) -> None:
    """Post a staff member to a quarantine site (from now); refused with the reason for someone not
    available, deployed elsewhere, not certified for the post or already posted."""
    from fangkong.quarantine.service import staffing

    try:
        ends_on = dt.date.fromisoformat(until) if until else None
    except ValueError:
        err.print(f"[bold red]error:[/] --until: not a date: {until!r}")
        raise typer.Exit(2) from None
    with acting_user(user, Permission.quarantine_manage, as_json=as_json) as (session, me):
        posting_id = staffing.post_staff(session, me, site_id, staff_id, role, ends_on=ends_on)
        on_duty = staffing.staffing(session, me, site_id).on_duty
        data = {"id": posting_id, "site_id": site_id, "staff_id": staff_id, "role": role, "on_duty": on_duty}
    if as_json:
        echo_json(data)
    else:
        console.print(f"posting {posting_id}: staff {staff_id} posted as {role}; {on_duty} on duty there")
