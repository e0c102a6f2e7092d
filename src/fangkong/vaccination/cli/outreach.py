"""``fangkong vaccination outreach``: the outreach worklist (60+ unvaccinated or due, oldest first), the
day's reminders or the gaps ranking of communities, for the whole tree or one jurisdiction's subtree
(``--jurisdiction``), acting as the system like the coverage command; ``--export`` writes the Excel
workbook. Takes ``--json``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from fangkong.core.cli import echo_json, system_scope
from fangkong.core.tables import print_table

app = typer.Typer()
console = Console()

AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]
Code = Annotated[str, typer.Option("--jurisdiction", help="jurisdiction code (default: the whole tree)")]


def _day(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def _item_json(item: Any) -> dict[str, Any]:
    return {
        "person_id": item.person_id,
        "name": item.name,
        "age": item.age,
        "community": item.community,
        "community_code": item.community_code,
        "state": item.state.value,
        "next_kind": item.next_kind,
        "due_on": _day(item.due_on) or None,
        "attempts": item.attempts,
        "last_on": _day(item.last_on) or None,
        "last_outcome": item.last_outcome.value if item.last_outcome else None,
        "appointment_on": _day(item.appointment_on) or None,
        "next_reminder": _day(item.next_reminder) or None,
        "reminder": item.reminder.value if item.reminder else None,
    }


@app.command("outreach")
def outreach_command(
    jurisdiction: Code = "",
    min_age: Annotated[int, typer.Option("--min-age", min=60, max=120)] = 60,
    reminders: Annotated[
        dt.datetime | None,
        typer.Option("--reminders", formats=["%Y-%m-%d"], help="the reminders of this day"),
    ] = None,
    gaps: Annotated[bool, typer.Option("--gaps", help="rank communities by unvaccinated people 60+")] = False,
    export: Annotated[
        Path | None, typer.Option("--export", help="write the whole list to this .xlsx")
    ] = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    size: Annotated[int, typer.Option(min=1, max=200)] = 50,
    as_json: AsJson = False,
) -> None:
    """The outreach worklist, oldest first (or the day's reminders, or the gaps ranking)."""
    from fangkong.vaccination.service import outreach

    with system_scope(jurisdiction) as (session, principal):
        path = principal.jpath
        if export is not None:
            data = outreach.export_xlsx(session, principal, jpath=path, min_age=min_age)
            export.write_bytes(data)
            if as_json:
                echo_json({"ok": True, "file": str(export), "bytes": len(data)})
            else:
                console.print(f"wrote {export} ({len(data):,} bytes)")
            return
        if gaps:
            found_gaps = outreach.gaps(session, principal, path, page=page, size=size)
            rows: list[dict[str, Any]] = [
                {
                    "code": r.code,
                    "name": r.name,
                    "people_60": r.gap.people_60,
                    "unvaccinated_60": r.gap.unvaccinated_60,
                    "unvaccinated_80": r.gap.unvaccinated_80,
                    "due_60": r.gap.due_60,
                    "share": r.share,
                    "plans": [p.value for p in r.plans],
                }
                for r in found_gaps.items
            ]
            if as_json:
                echo_json(
                    {
                        "items": rows,
                        "total": found_gaps.total,
                        "page": found_gaps.page,
                        "pages": found_gaps.pages,
                        "unvaccinated_60": found_gaps.unvaccinated_60,
                        "unvaccinated_80": found_gaps.unvaccinated_80,
                    }
                )
                return
            table = Table(
                title=f"Gaps: {found_gaps.total} communities (page {found_gaps.page} of {found_gaps.pages})"
            )
            for column in ("code", "community", "60+", "unvaccinated 60+", "unvaccinated 80+", "due", "plan"):
                table.add_column(column)
            for r in rows:
                table.add_row(
                    r["code"],
                    r["name"],
                    str(r["people_60"]),
                    str(r["unvaccinated_60"]),
                    str(r["unvaccinated_80"]),
                    str(r["due_60"]),
                    ", ".join(r["plans"]),
                )
            print_table(console, table)
            return
        if reminders is not None:
            found = outreach.reminders(session, principal, reminders.date(), jpath=path, page=page, size=size)
            title = f"Reminders on {reminders.date().isoformat()}"
        else:
            found = outreach.worklist(session, principal, jpath=path, min_age=min_age, page=page, size=size)
            title = "Outreach worklist"
        if as_json:
            echo_json(
                {
                    "items": [_item_json(i) for i in found.items],
                    "total": found.total,
                    "page": found.page,
                    "pages": found.pages,
                }
            )
            return
        table = Table(title=f"{title}: {found.total} people (page {found.page} of {found.pages})")
        for column in ("person", "name", "age", "community", "state", "due", "last contact", "next reminder"):
            table.add_column(column)
        for i in found.items:
            last = f"{_day(i.last_on)} {i.last_outcome.value}" if i.last_outcome else ""
            table.add_row(
                str(i.person_id),
                i.name,
                str(i.age),
                i.community,
                i.state.value,
                _day(i.due_on),
                last,
                i.reminder.value if i.reminder else _day(i.next_reminder),
            )
        print_table(console, table)
