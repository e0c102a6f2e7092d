"""``fangkong response tasks|sweep|templates``: the task list as a user sees it, the deadline sweeper
(what a scheduler calls every few minutes, like ``fangkong surveillance escalate``) and the templates.

``tasks`` acts as a named user (``--user``), so it lists that user's scope; ``sweep`` and ``templates``
act for the platform. Every command takes ``--json``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from fangkong.core.cli import acting_user, echo_json
from fangkong.core.permissions import Permission
from fangkong.core.tables import print_table

app = typer.Typer(no_args_is_help=True)
console = Console()

User = Annotated[str, typer.Option("--user", "-u", help="act as this user (their jurisdiction and role)")]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]


def _task_json(task: Any) -> dict[str, Any]:
    from fangkong.core.i18n import render_text

    def text(value: str | None) -> str | None:
        return render_text(value, None) if value is not None else None

    return {
        "id": task.id,
        "code": task.code,
        "trigger": task.trigger.value,
        "title": task.title_en,
        "subject": task.subject_ref,
        "jurisdiction_id": task.jurisdiction_id,
        "owner_role": task.owner_role,
        "state": task.state.value,
        "opened_at": task.opened_at.isoformat(),
        "due_at": task.due_at.isoformat(),
        "late": task.late,
        "escalations": task.escalations,
        "closed_at": task.closed_at.isoformat() if task.closed_at else None,
        "evidence": text(task.evidence),
        "cancel_reason": text(task.cancel_reason),
    }


@app.command("tasks")
def list_tasks(
    user: User,
    state: Annotated[
        str | None, typer.Option(help="open, in_progress, done, cancelled or unfinished")
    ] = None,
    late: Annotated[bool, typer.Option("--late", help="only late tasks")] = False,
    mine: Annotated[
        bool, typer.Option("--mine", help="only tasks assigned to the user or their role here")
    ] = False,
    page: Annotated[int, typer.Option(min=1)] = 1,
    size: Annotated[int, typer.Option(min=1, max=200)] = 50,
    as_json: AsJson = False,
) -> None:
    """Tasks owned in the user's jurisdiction or that happened there: unfinished first by deadline."""
    from fangkong.core.clock import as_local
    from fangkong.response.service import tasks

    with acting_user(user, Permission.response_read, as_json=as_json) as (session, principal):
        filters = tasks.TaskFilter(state=state, late=True if late else None, mine=mine)
        found = tasks.list_tasks(session, principal, filters, page=page, size=size)
        if as_json:
            echo_json(
                {
                    "items": [_task_json(t) for t in found.items],
                    "total": found.total,
                    "page": found.page,
                    "pages": found.pages,
                    "counts": found.counts,
                }
            )
            return
        table = Table(title=f"Tasks ({found.total}; page {found.page} of {found.pages})")
        for column in ("id", "task", "subject", "owner", "due", "state", "late"):
            table.add_column(column)
        for t in found.items:
            table.add_row(
                str(t.id),
                t.title_en,
                t.subject_ref,
                t.owner_role,
                as_local(t.due_at).strftime("%Y-%m-%d %H:%M"),
                t.state.value,
                "late" if t.late else "",
            )
        print_table(console, table)


@app.command("sweep")
def sweep(as_json: AsJson = False) -> None:
    """Fire the task deadline clocks (warn, notify the supervisor, escalate) and follow overdue tests."""
    from fangkong.core.cli import open_database
    from fangkong.response.service import sweeper

    db = open_database()
    try:
        with db.unit_of_work() as session:
            report = sweeper.sweep(session)
    finally:
        db.dispose()
    if as_json:
        echo_json(report.as_dict())
    elif report.skipped:
        typer.echo("another sweep is running; nothing done")
    else:
        typer.echo(
            f"{len(report.warned)} warned, {len(report.notified)} supervisor(s) notified, "
            f"{len(report.escalated)} escalated, {len(report.opened)} opened, {len(report.closed)} closed"
        )


@app.command("templates")
def list_templates(as_json: AsJson = False) -> None:
    """The task templates: what each event opens, its deadline, owner and source."""
    from fangkong.core.cli import open_database
    from fangkong.response.service import templates

    db = open_database()
    try:
        with db.unit_of_work() as session:
            rows = [
                {
                    "code": t.code,
                    "trigger": t.trigger.value,
                    "title": t.title_en,
                    "minutes": t.minutes,
                    "warn_minutes": t.warn_minutes,
                    "owner_role": t.owner_role,
                    "levels_up": t.levels_up,
                    "fulfilment": t.fulfilment.value,
                    "depends_on": t.depends_on,
                    "active": t.active,
                    "source": t.source,
                }
                for t in templates.list_templates(session)
            ]
    finally:
        db.dispose()
    if as_json:
        echo_json(rows)
        return
    table = Table(title="Task templates")
    for column in ("code", "trigger", "minutes", "warn", "owner", "levels up", "active"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r["code"]),
            str(r["trigger"]),
            str(r["minutes"]),
            str(r["warn_minutes"]),
            str(r["owner_role"]),
            str(r["levels_up"]),
            "yes" if r["active"] else "no",
        )
    print_table(console, table)
