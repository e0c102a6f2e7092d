"""The shared kernel's ``fangkong`` sub-commands: db, users, jurisdictions, people, audit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from fangkong.core.config import Settings, get_settings
from fangkong.core.db import Database
from fangkong.core.errors import DomainError, Forbidden, InvalidInput
from fangkong.core.permissions import Permission

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from fangkong.core.auth import Principal

console = Console()
err = Console(stderr=True)

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
jurisdictions_app = typer.Typer(help="Administrative divisions.", no_args_is_help=True)
people_app = typer.Typer(help="The people registry.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)


def open_database(settings: Settings | None = None, *, migrate: bool = True) -> Database:
    settings = settings or get_settings()
    url = settings.resolved_database_url()
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if migrate:
        from fangkong.core.migrate import upgrade

        upgrade(url)
    return Database(url)


def fail(exc: DomainError) -> None:
    """Print a use-case error for a person at a terminal and exit 2 (no traceback)."""
    err.print(f"[bold red]error:[/] {exc.message}")
    if isinstance(exc, InvalidInput):
        for e in exc.errors[:50]:
            err.print(f"  row {e.row}, {e.field}: {e.message}")
        if len(exc.errors) > 50:
            err.print(f"  ... and {len(exc.errors) - 50} more")
    raise typer.Exit(2)


def echo_json(data: Any) -> None:
    """One JSON document on stdout (``--json``): non-ASCII kept, dates and decimals as text."""
    typer.echo(json.dumps(data, ensure_ascii=False, default=str))


@contextmanager
def acting_user(
    username: str, needs: Permission, *, as_json: bool = False, settings: Settings | None = None
) -> Iterator[tuple[Session, Principal]]:
    """A unit of work as ``username``, whose role must have ``needs`` (as the API's routes ask), for
    a capability's commands; a use-case error is printed (as JSON with ``as_json``) and the command
    exits with 2."""
    from sqlalchemy import select

    from fangkong.core.auth import principal_for
    from fangkong.core.models import User

    db = open_database(settings)
    try:
        with db.unit_of_work() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None or not user.is_active:
                err.print(f"[bold red]error:[/] no active user {username!r}")
                raise typer.Exit(2)
            principal = principal_for(session, user, "token")
            if not principal.can(needs):
                raise Forbidden(f"your role lacks the permission {needs.value}")
            yield session, principal
    except DomainError as exc:
        if as_json:
            errors = (
                [{"row": e.row, "field": e.field, "message": e.message} for e in exc.errors]
                if isinstance(exc, InvalidInput)
                else []
            )
            echo_json({"ok": False, "error": exc.message, "errors": errors})
            raise typer.Exit(2) from None
        fail(exc)
    finally:
        db.dispose()


@contextmanager
def system_scope(code: str) -> Iterator[tuple[Session, Principal]]:
    """A unit of work as the system, with the command centre's reach, over ``code``'s subtree (or the
    whole real tree without one), for the scheduled jobs' read commands that act as no user."""
    from sqlalchemy import select

    from fangkong.core.auth import Principal
    from fangkong.core.models import Jurisdiction, Role

    db = open_database()
    try:
        with db.unit_of_work() as session:
            query = select(Jurisdiction).where(Jurisdiction.is_sandbox.is_(False))
            node = session.scalar(
                query.where(Jurisdiction.code == code) if code else query.order_by(Jurisdiction.path).limit(1)
            )
            if node is None:
                err.print(f"[bold red]error:[/] --jurisdiction: no jurisdiction {code or '(none yet)'}")
                raise typer.Exit(2)
            path = node.path if code else "/"
            yield (
                session,
                Principal(0, "system", "system", Role.command_centre, node.id, path, node.name, "token"),
            )
    finally:
        db.dispose()


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Bring the database schema up to date (SQLite file or PostgreSQL)."""
    from fangkong.core.migrate import upgrade

    settings = get_settings()
    open_database(settings, migrate=False).dispose()
    upgrade(settings.resolved_database_url(), revision)
    console.print(f"database at [bold]{revision}[/]")


@users_app.command("create")
def users_create(
    username: str,
    role: Annotated[str, typer.Option(help="administrator, command_centre, investigator, ...")],
    jurisdiction: Annotated[str, typer.Option(help="jurisdiction code")],
    display_name: Annotated[str, typer.Option()] = "",
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)] = "",
) -> None:
    """Create a user (the first administrator is made this way)."""
    from fangkong.core import audit, users

    db = open_database()
    try:
        with db.unit_of_work() as session:
            user = users.create_user(
                session,
                audit.SYSTEM,
                "/",
                username=username,
                display_name=display_name or username,
                role=role,
                jurisdiction_code=jurisdiction,
                password=password,
            )
            console.print(f"created user [bold]{user.username}[/] ({user.role.value})")
    except DomainError as exc:
        fail(exc)


@jurisdictions_app.command("import")
def jurisdictions_import(
    file: Annotated[Path | None, typer.Argument(help="CSV: code,name,level,parent_code")] = None,
    national: Annotated[bool, typer.Option(help="load the national province/city/county tree")] = False,
) -> None:
    """Import the national tree, or lower levels (townships, communities) from a CSV file."""
    from fangkong.core import audit, jurisdictions
    from fangkong.core.jurisdiction_csv import parse_jurisdiction_csv

    if file is None and not national:
        err.print("give a CSV file or --national")
        raise typer.Exit(2)
    db = open_database()
    try:
        with db.unit_of_work() as session:
            if national:
                from fangkong.core.national import national_rows

                rows = national_rows()
                created = jurisdictions.import_tree(session, audit.SYSTEM, rows, skip_existing=True)
                console.print(f"national tree: {created} jurisdictions created")
            if file is not None:
                rows = parse_jurisdiction_csv(file.read_text(encoding="utf-8-sig"))
                created = jurisdictions.import_tree(session, audit.SYSTEM, rows)
                console.print(f"{file.name}: {created} jurisdictions created")
    except DomainError as exc:
        fail(exc)


@people_app.command("import")
def people_import(
    file: Path,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="check every row, write nothing")] = False,
    workers: Annotated[int, typer.Option(min=1, max=16)] = 2,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Import residents from CSV: all rows or none; every bad row is listed."""
    from fangkong.core import audit
    from fangkong.core.people_import import import_people_csv
    from fangkong.core.people_rules import Keys

    settings = get_settings()
    db = open_database(settings)
    total = max(sum(1 for _ in file.open("rb")) - 1, 0)
    try:
        with (
            db.unit_of_work() as session,
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=err,
                disable=as_json,
            ) as progress,
        ):
            task = progress.add_task("importing", total=total)
            report = import_people_csv(
                session,
                Keys(settings.encryption_key, settings.hash_key),
                audit.SYSTEM,
                "/",
                file,
                dry_run=dry_run,
                workers=workers,
                progress=lambda n: progress.advance(task, n),
            )
    except DomainError as exc:
        if as_json and isinstance(exc, InvalidInput):
            print(json.dumps({"ok": False, "errors": [e.__dict__ for e in exc.errors]}, ensure_ascii=False))
            raise typer.Exit(2) from None
        fail(exc)
    result = {
        "ok": True,
        "rows": report.rows,
        "created": report.created,
        "households_created": report.households_created,
        "dry_run": dry_run,
    }
    if as_json:
        print(json.dumps(result))
    else:
        verb = "checked" if dry_run else "imported"
        console.print(
            f"{verb} {report.rows:,} rows; {report.created:,} people, "
            f"{report.households_created:,} households"
        )


@audit_app.command("verify")
def audit_verify(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Check the audit log's hash chain; exit 1 and name the first broken entry if it was tampered with."""
    from fangkong.core import audit

    db = open_database(migrate=False)
    with db.unit_of_work() as session:
        report = audit.verify(session)
    if as_json:
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "checked": report.checked,
                    "first_broken_id": report.first_broken_id,
                    "reason": report.reason,
                }
            )
        )
    elif report.ok:
        console.print(f"[green]audit chain intact[/]: {report.checked:,} entries checked")
    else:
        console.print(f"[bold red]audit chain broken at entry {report.first_broken_id}[/]: {report.reason}")
    if not report.ok:
        raise typer.Exit(1)
